/**
 * Projection catch-up (R36, issue 19): a projection of visits per club per
 * month, added to a SQLite log of a million events (members registered
 * through the facade with a name and an e-mail, then club visits), caught
 * up from the log's start by `catchUpProjection` in batches of 1,000: each
 * batch read, its members' events decoded (personal values opened), applied
 * and committed with the checkpoint in one transaction. Each pass runs in a
 * child process, for its speed and its peak memory (RSS); a peak that does
 * not grow with the log is memory independent of its length. The floor
 * reads the same log with `readAllEvents` and does nothing else. Emmett is
 * not measured here.
 *
 * @module
 */
import { execFile } from "node:child_process"
import { rmSync } from "node:fs"
import { createRequire } from "node:module"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { promisify } from "node:util"
import { memberStream } from "@lethe/core/spi"
import type { Contestant, Sampler } from "../compare.js"
import { compare, describe, format } from "../compare.js"
import type { BenchContext } from "../context.js"
import { visit } from "../fixtures.js"
import { summarize } from "../measure.js"
import type { ProjectionPass } from "../projection/child.js"
import type { Contender, Figure } from "../results.js"
import { skipped } from "../results.js"
import { appendCopies } from "../seed/copies.js"
import { registerMember } from "../seed/members.js"
import { letheOnSqlite } from "../subjects/lethe.js"

/** The case names: speed, and peak memory. */
export const projectionCase = "projection catch-up"
export const projectionMemoryCase = "projection catch-up peak memory (RSS)"

const letheLabel = "Lethe catchUpProjection (SQLite)"
const rawLabel = "readAllEvents, nothing decoded (floor)"
const emmettSkip = { skip: "not measured: Emmett's projections are not compared in this case" } as const

const childPath = fileURLToPath(new URL("../projection/child.ts", import.meta.url))
const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href

const pass = async (args: ReadonlyArray<string>): Promise<ProjectionPass> => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--conditions=@lethe/source", "--import", tsx, childPath, ...args],
    { encoding: "utf8", maxBuffer: 1 << 24 },
  )
  return JSON.parse(stdout) as ProjectionPass
}

/** A contender whose runs are passes of `args(round)`, keeping each pass's peak memory in `peaks`. */
const passes =
  (args: (round: number) => ReadonlyArray<string>, expected: number, peaks: Array<number>) =>
  async (): Promise<Sampler> => {
    const perCpuSecond: Array<number> = []
    return {
      sample: async (round) => {
        const result = await pass(args(round))
        if (result.events < expected)
          throw new Error(`a pass read ${result.events} events of the ${expected} seeded`)
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

/** Seeds `file` with `members` members and `events` events in all (registrations, then visits). */
const seed = async (file: string, events: number, members: number): Promise<number> => {
  const opened = await letheOnSqlite(file, "normal")
  try {
    let written = 0
    for (let i = 0; i < members; i++) {
      const memberId = await registerMember(opened)
      const { version } = await opened.lethe.recordActivity(memberId, visit)
      written += version
      const share = Math.floor((events - written) / (members - i))
      const template = (
        await opened.store.events.readStream(memberStream(memberId), { fromVersion: version })
      )[0]
      if (template === undefined) throw new Error("recordActivity appended nothing")
      if (share > 0) await appendCopies(opened.store, template, share)
      written += Math.max(0, share)
    }
    await opened.settle()
    return written
  } finally {
    await opened.close()
  }
}

const memoryFigure = (
  variant: string,
  contender: Contender,
  label: string,
  peaks: ReadonlyArray<number>,
): Figure => ({
  case: projectionMemoryCase,
  variant,
  contender,
  label,
  unit: "MiB",
  outcome:
    peaks.length === 0
      ? { status: "failed", reason: "no pass finished" }
      : { status: "measured", summary: summarize(peaks) },
})

/** The projection case's figures. */
export const runProjection = async (context: BenchContext): Promise<ReadonlyArray<Figure>> => {
  const { events, members, runs } = context.settings.projection
  const file = join(context.dir, "projection.db")
  try {
    const started = Date.now()
    const seeded = await seed(file, events, members)
    context.progress(
      `${projectionCase}: seeded ${seeded.toLocaleString("en-US")} events of ${members.toLocaleString("en-US")} members in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    )
    const variant = `${seeded.toLocaleString("en-US")} events, SQLite`
    const peaks = { raw: [] as Array<number>, lethe: [] as Array<number> }
    const contestants: ReadonlyArray<Contestant> = [
      { contender: "raw", label: rawLabel, start: passes(() => ["read", file], seeded, peaks.raw) },
      { contender: "emmett", label: "Emmett", start: emmettSkip },
      {
        contender: "lethe",
        label: letheLabel,
        // A new projection each round, so each pass catches up from the log's start.
        start: passes((round) => ["catch-up", file, `visits-${round}`], seeded, peaks.lethe),
      },
    ]
    const speed = await compare(
      { case: projectionCase, variant, unit: "events/s", runs, contestants },
      context.progress,
    )
    const memory: ReadonlyArray<Figure> = [
      memoryFigure(variant, "raw", rawLabel, peaks.raw),
      { ...memoryFigure(variant, "emmett", "Emmett", []), outcome: skipped(emmettSkip.skip) },
      memoryFigure(variant, "lethe", letheLabel, peaks.lethe),
    ]
    for (const figure of memory) context.progress(describe(figure))
    return [...speed, ...memory]
  } finally {
    for (const suffix of ["", "-wal", "-shm"]) rmSync(`${file}${suffix}`, { force: true })
  }
}
