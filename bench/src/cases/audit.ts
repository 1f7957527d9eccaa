/**
 * Audit: a generated `lethe export-log` file of 40,000 members is audited
 * (`auditLog`, as `lethe audit log.jsonl` does) in a child process, for its
 * speed and its peak memory (RSS), at two log sizes with the same members:
 * a peak that does not grow with the log is memory independent of its size.
 * The raw floor reads and parses the same file and does nothing else;
 * Emmett has no audit.
 *
 * @module
 */
import { execFile } from "node:child_process"
import { rmSync, statSync } from "node:fs"
import { createRequire } from "node:module"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { promisify } from "node:util"
import { dayMs } from "@lethe/core/domain"
import type { PassResult } from "../audit/child.js"
import { generate, members } from "../audit/generate.js"
import type { Contestant, Sampler } from "../compare.js"
import { compare, describe, format } from "../compare.js"
import type { BenchContext } from "../context.js"
import { summarize } from "../measure.js"
import type { Contender, Figure } from "../results.js"
import { skipped } from "../results.js"

/** The case names: speed, and peak memory. */
export const auditCase = "audit replay"
export const auditMemoryCase = "audit peak memory (RSS)"

/** The variant of a log of `events` events. */
export const auditVariant = (events: number): string => `${events.toLocaleString("en-US")} events`

export const letheAudit = "Lethe auditLog"
const rawParse = "read + JSON.parse each line (floor)"
const emmettSkip = { skip: "Emmett has no audit or replay check of a log" } as const

const childPath = fileURLToPath(new URL("../audit/child.ts", import.meta.url))
const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href

const pass = async (args: ReadonlyArray<string>): Promise<PassResult> => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--conditions=@lethe/source", "--import", tsx, childPath, ...args],
    { encoding: "utf8", maxBuffer: 1 << 24 },
  )
  const result = JSON.parse(stdout) as PassResult
  if (!result.clean)
    throw new Error(`the generated log did not audit clean: ${JSON.stringify(result.firstFindings)}`)
  return result
}

/**
 * A contender whose runs are passes of `args`; it keeps each pass's peak
 * memory in `peaks`, and notes its speed per second of CPU, which depends
 * much less than wall time on what else the machine runs.
 */
const passes = (args: ReadonlyArray<string>, peaks: Array<number>) => async (): Promise<Sampler> => {
  const perCpuSecond: Array<number> = []
  return {
    sample: async () => {
      const result = await pass(args)
      peaks.push(result.peakRssMiB)
      perCpuSecond.push(result.events / result.cpuSeconds)
      return result.events / result.seconds
    },
    note: () =>
      perCpuSecond.length === 0
        ? undefined
        : `${format(summarize(perCpuSecond).median)} events per second of CPU time`,
    close: async () => {},
  }
}

const memoryFigure = (
  variant: string,
  contender: Contender,
  label: string,
  peaks: ReadonlyArray<number>,
): Figure => ({
  case: auditMemoryCase,
  variant,
  contender,
  label,
  unit: "MiB",
  outcome:
    peaks.length === 0
      ? { status: "failed", reason: "no pass finished" }
      : { status: "measured", summary: summarize(peaks) },
})

const auditOf = async (context: BenchContext, events: number): Promise<ReadonlyArray<Figure>> => {
  const file = join(context.dir, `audit-${events}.jsonl`)
  try {
    const started = Date.now()
    const log = await generate(file, events)
    const mib = Math.round(statSync(file).size / 2 ** 20)
    context.progress(
      `${auditCase}: generated ${log.events.toLocaleString("en-US")} events of ${members.toLocaleString("en-US")} members (${mib} MiB) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    )
    const asOf = String(log.lastAt + dayMs)
    const variant = auditVariant(events)
    const peaks = { raw: [] as Array<number>, lethe: [] as Array<number> }
    const contestants: ReadonlyArray<Contestant> = [
      { contender: "raw", label: rawParse, start: passes(["parse", file], peaks.raw) },
      { contender: "emmett", label: "Emmett", start: emmettSkip },
      { contender: "lethe", label: letheAudit, start: passes(["audit", file, asOf], peaks.lethe) },
    ]
    const speed = await compare(
      { case: auditCase, variant, unit: "events/s", runs: context.settings.audit.runs, contestants },
      context.progress,
    )
    const memory: ReadonlyArray<Figure> = [
      memoryFigure(variant, "raw", rawParse, peaks.raw),
      { ...memoryFigure(variant, "emmett", "Emmett", []), outcome: skipped(emmettSkip.skip) },
      memoryFigure(variant, "lethe", letheAudit, peaks.lethe),
    ]
    for (const figure of memory) context.progress(describe(figure))
    return [...speed, ...memory]
  } finally {
    rmSync(file, { force: true })
  }
}

/** The audit of the smaller log, then of the full-size one. */
export const runAudit = async (context: BenchContext): Promise<ReadonlyArray<Figure>> => {
  const { events, smallEvents } = context.settings.audit
  return [...(await auditOf(context, smallEvents)), ...(await auditOf(context, events))]
}
