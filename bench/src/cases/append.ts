/**
 * Appends of 1 event per command, each to a new member: the raw driver (one
 * parameterized INSERT, autocommit), Emmett (`appendToStream` to a new
 * stream) and Lethe (`register` with a name and an e-mail: 3 events, 2 data
 * keys, the directory row, in one transaction). With 1 writer on SQLite
 * (synchronous FULL and NORMAL) and PostgreSQL, and with 8 writers on
 * PostgreSQL (8 loops sharing one pool of 8 connections).
 *
 * @module
 */
import type { Backend } from "../backends.js"
import { postgresBackend, sqliteBackend } from "../backends.js"
import type { Sampler } from "../compare.js"
import { compareOn } from "../compare.js"
import type { BenchContext } from "../context.js"
import { nextKey, person, registered, tenantId } from "../fixtures.js"
import { inLoops, perSecond, timeMs } from "../measure.js"
import type { Figure } from "../results.js"
import type { EventLog } from "../subjects/event-log.js"

/** One command that appends a new member. */
interface Appender {
  append(key: string): Promise<unknown>
  close(): Promise<void>
}

const logAppender = (log: EventLog): Appender => ({
  append: (key) => log.append(`member-${key}`, 0, [registered(key)]),
  close: () => log.close(),
})

const appenders = (backend: Backend): Record<"raw" | "emmett" | "lethe", () => Promise<Appender>> => ({
  raw: async () => logAppender(await backend.openRaw()),
  emmett: async () => logAppender(await backend.openEmmett()),
  lethe: async () => {
    const opened = await backend.openLethe()
    return {
      append: (key) => opened.lethe.register({ tenantId, personal: person(key), source: "import" }),
      close: () => opened.close(),
    }
  },
})

/** Each round: `warmup` untimed appends, then `count` timed ones by `writers` concurrent loops. */
const sampler =
  (open: () => Promise<Appender>, count: number, warmup: number, writers: number) =>
  async (): Promise<Sampler> => {
    const appender = await open()
    return {
      sample: async () => {
        for (let i = 0; i < warmup; i++) await appender.append(nextKey())
        const ms = await timeMs(() => inLoops(count, writers, () => appender.append(nextKey())))
        return perSecond(count, ms)
      },
      close: () => appender.close(),
    }
  }

const appendOn = (
  context: BenchContext,
  backend: Backend,
  options: { readonly case: string; readonly count: number; readonly writers: number; readonly runs: number },
): Promise<ReadonlyArray<Figure>> => {
  const open = appenders(backend)
  const { warmup } = context.settings.append
  return compareOn(
    backend,
    { case: options.case, unit: "appends/s", runs: options.runs },
    (contender) => sampler(open[contender], options.count, warmup, options.writers),
    context.progress,
  )
}

/** The case name of single-writer appends. */
export const appendCase = "append, 1 writer"
/** The case name of concurrent appends. */
export const concurrentCase = "append, 8 writers"

/** Appends with 1 writer on SQLite FULL, SQLite NORMAL and PostgreSQL. */
export const runAppend = async (context: BenchContext): Promise<ReadonlyArray<Figure>> => {
  const { runs, sqlite, postgres } = context.settings.append
  const single = { case: appendCase, writers: 1, runs }
  return [
    ...(await appendOn(context, sqliteBackend(context, "full"), { ...single, count: sqlite })),
    ...(await appendOn(context, sqliteBackend(context, "normal"), { ...single, count: sqlite })),
    ...(await appendOn(context, postgresBackend(context), { ...single, count: postgres })),
  ]
}

/** Appends with 8 concurrent writers sharing one pool of 8 on PostgreSQL. */
export const runConcurrent = (context: BenchContext): Promise<ReadonlyArray<Figure>> => {
  const { runs, writers, appends } = context.settings.concurrent
  return appendOn(context, postgresBackend(context, writers), {
    case: concurrentCase,
    count: appends,
    writers,
    runs,
  })
}
