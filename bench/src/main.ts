/**
 * `npm run bench`: issue 8's side-by-side benchmark. In one process run,
 * every case for the raw driver, Emmett and Lethe; then the tables, the
 * ratios and the targets are printed, written to
 * `bench/results/<date>.json`, and (full runs) to docs/performance.md.
 *
 * Environment: `LETHE_PG_URL` (the PostgreSQL cases are skipped, with the
 * reason, without it), `LETHE_BENCH_QUICK=1` (a smoke run), and
 * `LETHE_BENCH_NOTE` (a sentence recorded with the run, e.g. what else the
 * machine was doing) and `LETHE_BENCH_CASES` (a semicolon-separated list of case
 * names or their starts, e.g. `audit;append, 1`: only those run, and the run is
 * not published to docs/performance.md).
 *
 * @module
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { runAppend, runConcurrent } from "./cases/append.js"
import { runAudit } from "./cases/audit.js"
import { runBulk } from "./cases/bulk.js"
import { runDecide } from "./cases/decide.js"
import { runProjection } from "./cases/projection.js"
import { runPurge } from "./cases/purge.js"
import { runRetention } from "./cases/retention.js"
import type { BenchContext } from "./context.js"
import { loadAverage, machine } from "./machine.js"
import { writePerformanceDoc, writeResults } from "./output.js"
import type { PostgresAvailability } from "./postgres.js"
import { connectPostgres } from "./postgres.js"
import { ratiosOf } from "./ratios.js"
import type { Run } from "./report.js"
import { renderMarkdown } from "./report.js"
import type { Figure } from "./results.js"
import { settingsFromEnv } from "./settings.js"
import { emmettSqliteVersion, emmettVersions } from "./subjects/emmett.js"
import { checkTargets } from "./targets.js"

const cases: ReadonlyArray<readonly [string, (context: BenchContext) => Promise<ReadonlyArray<Figure>>]> = [
  ["append, 1 writer", runAppend],
  ["append, 8 writers", runConcurrent],
  ["bulk import", runBulk],
  ["read and decide", runDecide],
  ["forget + purge", runPurge],
  ["audit", runAudit],
  ["retention planning", runRetention],
  ["projection catch-up", runProjection],
]

const say = (line: string) => process.stdout.write(`${line}\n`)

const commit = (): string => {
  const root = fileURLToPath(new URL("../..", import.meta.url))
  try {
    const git = (...args: Array<string>) =>
      execFileSync("git", ["-C", root, ...args], { encoding: "utf8" }).trim()
    const dirty = git("status", "--porcelain") !== ""
    return `commit ${git("rev-parse", "--short", "HEAD")}${dirty ? " with uncommitted changes" : ""}`
  } catch {
    return "an unknown commit (no git)"
  }
}

const postgresLine = (postgres: PostgresAvailability): string =>
  postgres.available
    ? `${postgres.server.where} (server ${postgres.server.version}), one schema per contender, dropped afterwards`
    : `SKIPPED: ${postgres.reason}`

const optional = <A>(work: () => Promise<A>): Promise<A | undefined> => work().catch(() => undefined)

/** The cases `LETHE_BENCH_CASES` selects: every case when it is unset or empty. */
const selectedCases = (wanted: string | undefined) => {
  const names = (wanted ?? "")
    .split(";")
    .map((name) => name.trim())
    .filter((name) => name !== "")
  if (names.length === 0) return cases
  const unknown = names.filter((name) => !cases.some(([c]) => c.startsWith(name)))
  if (unknown.length > 0)
    throw new Error(
      `LETHE_BENCH_CASES names no case: ${unknown.join(", ")} (cases: ${cases.map(([c]) => c).join(", ")})`,
    )
  return cases.filter(([c]) => names.some((name) => c.startsWith(name)))
}

const main = async (): Promise<number> => {
  const settings = settingsFromEnv()
  const selected = selectedCases(process.env.LETHE_BENCH_CASES)
  const partial = selected.length < cases.length
  const started = Date.now()
  const loadAtStart = loadAverage()
  const note = process.env.LETHE_BENCH_NOTE
  const postgres = await connectPostgres()
  const dir = mkdtempSync(join(tmpdir(), "lethe-bench-"))
  const cleanup = async () => {
    if (postgres.available) await postgres.server.close()
    rmSync(dir, { recursive: true, force: true })
  }
  process.once("SIGINT", () => {
    say("interrupted: dropping the bench's schemas and files")
    void cleanup().finally(() => process.exit(130))
  })
  say(`Lethe side-by-side benchmark: ${settings.quick ? "QUICK smoke run (LETHE_BENCH_QUICK)" : "full run"}`)
  say(`PostgreSQL: ${postgresLine(postgres)}`)
  if (note !== undefined) say(`Note: ${note}`)
  const figures: Array<Figure> = []
  const failures: Array<string> = []
  try {
    const context: BenchContext = { settings, dir, postgres, progress: say }
    if (partial) say(`Cases: ${selected.map(([c]) => c).join(", ")} (LETHE_BENCH_CASES)`)
    for (const [name, run] of selected) {
      say(`\n== ${name}`)
      try {
        figures.push(...(await run(context)))
      } catch (error) {
        failures.push(`${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
        say(`${name} FAILED: ${error instanceof Error ? error.message : String(error)}`)
      }
    }
  } finally {
    await cleanup()
  }
  const sqliteOfEmmett = await optional(emmettSqliteVersion)
  const run: Run = {
    benchmark: "lethe-side-by-side",
    date: new Date(started).toISOString(),
    quick: settings.quick,
    ...(partial ? { cases: selected.map(([c]) => c) } : {}),
    ...(note === undefined ? {} : { note }),
    commit: commit(),
    machine: machine({
      ...(postgres.available ? { postgres: postgres.server.version } : {}),
      ...(sqliteOfEmmett === undefined ? {} : { sqliteOfEmmett }),
    }),
    emmett: emmettVersions(),
    postgres: postgresLine(postgres),
    loadAverage: { start: loadAtStart, end: loadAverage() },
    seconds: (Date.now() - started) / 1000,
    settings,
    figures: figures.map((figure) => ({ ...figure, ratios: ratiosOf(figures, figure) })),
    targets: checkTargets({ settings, dir, postgres, progress: say }, figures),
    failures,
  }
  const markdown = renderMarkdown(run)
  say(`\n${markdown}`)
  say(`results written to ${writeResults(run)}`)
  if (settings.quick || partial)
    say("quick or partial run: docs/performance.md left as it is (only full runs publish figures)")
  else say(`tables written to ${writePerformanceDoc(markdown)}`)
  const failed = figures.filter((f) => f.outcome.status === "failed").length + failures.length
  if (failed > 0) say(`${failed} figure(s) or case(s) FAILED: see above`)
  return failed > 0 ? 1 : 0
}

process.exitCode = await main()
