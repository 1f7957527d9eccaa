/**
 * Appends of 1 event per command, each to a new member: the raw driver (one
 * parameterized INSERT, autocommit), Emmett (`appendToStream` to a new
 * stream) and Lethe (`register` with a name and an e-mail: 3 events, 2 data
 * keys, the directory row, in one transaction). With 1 writer on SQLite
 * (synchronous FULL and NORMAL) and PostgreSQL, and with 8 writers on
 * PostgreSQL (8 loops sharing one pool of 8 connections). With 1 writer the
 * raw driver is measured a second time writing Lethe's own rows of a
 * registration in one transaction (`registrationRows`, issue 21): the floor
 * of Lethe's data model, beside the floor of an append.
 *
 * @module
 */
import type { Backend } from "../backends.js"
import { postgresBackend, sqliteBackend } from "../backends.js"
import type { Contestant, Sampler } from "../compare.js"
import { compare } from "../compare.js"
import type { BenchContext } from "../context.js"
import { nextKey, person, registered, tenantId } from "../fixtures.js"
import { inLoops, perSecond, timeMs } from "../measure.js"
import type { Figure } from "../results.js"
import { registrationRows } from "../results.js"
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

const appenders = (
  backend: Backend,
): Record<"raw" | "rows" | "emmett" | "lethe", () => Promise<Appender>> => ({
  raw: async () => logAppender(await backend.openRaw()),
  rows: async () => {
    const rows = await backend.openRawRows()
    return { append: () => rows.register(), close: () => rows.close() }
  },
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
  options: {
    readonly case: string
    readonly count: number
    readonly writers: number
    readonly runs: number
    /** Whether the raw driver also writes Lethe's own rows of a registration. */
    readonly rows: boolean
  },
): Promise<ReadonlyArray<Figure>> => {
  const open = appenders(backend)
  const { warmup } = context.settings.append
  const start = (appender: keyof typeof open) =>
    sampler(open[appender], options.count, warmup, options.writers)
  const contestants: ReadonlyArray<Contestant> = [
    { contender: "raw", label: backend.labels.raw, start: start("raw") },
    ...(options.rows
      ? [{ contender: "raw", label: registrationRows, start: start("rows") } satisfies Contestant]
      : []),
    { contender: "emmett", label: backend.labels.emmett, start: start("emmett") },
    { contender: "lethe", label: backend.labels.lethe, start: start("lethe") },
  ]
  return compare(
    {
      case: options.case,
      variant: backend.variant,
      unit: "appends/s",
      runs: options.runs,
      ...(backend.unavailable === undefined ? {} : { unavailable: backend.unavailable }),
      contestants,
    },
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
  const single = { case: appendCase, writers: 1, runs, rows: true }
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
    rows: false,
  })
}
