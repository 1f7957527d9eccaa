/**
 * Where a run goes: `bench/results/<date>.json` (`<date>-quick.json` for a
 * quick run), and the generated section of `docs/performance.md` between its
 * `<!-- bench:start -->` and `<!-- bench:end -->` markers (full runs only, so
 * a smoke run never replaces the published figures).
 *
 * @module
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import type { Run } from "./report.js"

const resultsDir = fileURLToPath(new URL("../results/", import.meta.url))
const performanceDoc = fileURLToPath(new URL("../../docs/performance.md", import.meta.url))

export const startMarker = "<!-- bench:start -->"
export const endMarker = "<!-- bench:end -->"

/** Writes the run's JSON document; returns its path. */
export const writeResults = (run: Run): string => {
  mkdirSync(resultsDir, { recursive: true })
  const path = `${resultsDir}${run.date.slice(0, 10)}${run.quick ? "-quick" : ""}${run.cases === undefined ? "" : "-partial"}.json`
  writeFileSync(path, `${JSON.stringify(run, null, 2)}\n`)
  return path
}

/** Replaces the generated section of docs/performance.md with `markdown`; returns the doc's path. */
export const writePerformanceDoc = (markdown: string): string => {
  const doc = readFileSync(performanceDoc, "utf8")
  const start = doc.indexOf(startMarker)
  const end = doc.indexOf(endMarker)
  if (start === -1 || end < start)
    throw new Error(`${performanceDoc} has no ${startMarker} ... ${endMarker} section to fill`)
  writeFileSync(
    performanceDoc,
    `${doc.slice(0, start + startMarker.length)}\n\n${markdown.trim()}\n\n${doc.slice(end)}`,
  )
  return performanceDoc
}
