/**
 * Read and decide: on a member with a mixed history, and on members with
 * few and with many club visits, the time of one read and one command (each
 * run the mean of a few). Lethe:
 * `get` then `recordActivity`, warm (the same instance, after a first
 * command) and cold (the first command of an instance just opened on the
 * database). The raw driver and Emmett: read the stream, fold it, append one
 * event at the version read.
 *
 * @module
 */
import type { Backend } from "../backends.js"
import { postgresBackend, sqliteBackend } from "../backends.js"
import type { Contestant, Sampler } from "../compare.js"
import { compare } from "../compare.js"
import type { BenchContext } from "../context.js"
import { memberEvents, nextKey, visit, visited } from "../fixtures.js"
import { timeMs } from "../measure.js"
import type { Figure } from "../results.js"
import { memberWithMix, memberWithVisits } from "../seed/members.js"
import type { EventLog, PlainEvent } from "../subjects/event-log.js"
import { appendChunked } from "../subjects/event-log.js"
import type { OpenedLethe } from "../subjects/lethe.js"

/** The case name. */
export const decideCase = "read and decide"

/** The histories a member may have: a mix of everything, or few or many visits. */
export type History = "mix" | "small" | "large"

const historyLabel = (history: History, events: number): string =>
  `${events.toLocaleString("en-US")} ${history === "mix" ? "mixed events" : "events, visits"}`

/** The variant naming `backend`'s figures for `history`, as the tables and the targets find them. */
export const decideVariant = (context: BenchContext, backendVariant: string, history: History): string =>
  `${backendVariant}, ${historyLabel(history, eventsOf(context, history))}`

const eventsOf = (context: BenchContext, history: History): number => {
  const { mixEvents, small, large } = context.settings.decide
  return history === "mix" ? mixEvents : history === "small" ? small : large
}

/** The figure labels of Lethe's warm and cold measurements. */
export const letheWarm = "Lethe (warm)"
export const letheCold = "Lethe (cold: first command after open)"

const seedStream = async (log: EventLog, events: number): Promise<string> => {
  const key = nextKey()
  await appendChunked(log, `member-${key}`, memberEvents(key, events))
  return `member-${key}`
}

/** What a raw or Emmett decider folds: the number of visits. */
const fold = (events: ReadonlyArray<PlainEvent>): number =>
  events.filter((event) => event.type === "ActivityRecorded").length

/** The mean time of `times` runs of `timed` (each returns its own time in ms). */
const meanOf = async (times: number, timed: () => Promise<number>): Promise<number> => {
  let total = 0
  for (let i = 0; i < times; i++) total += await timed()
  return total / times
}

const logDecider = (log: EventLog, streamId: string, perRun: number): Sampler => ({
  sample: () =>
    meanOf(perRun, () =>
      timeMs(async () => {
        const events = await log.read(streamId)
        fold(events)
        await log.append(streamId, events.length, [visited()])
      }),
    ),
  close: async () => {},
})

const decideOnce = (lethe: OpenedLethe["lethe"], memberId: string) => async () => {
  await lethe.get(memberId)
  await lethe.recordActivity(memberId, visit)
}

const warmDecider = async (opened: OpenedLethe, memberId: string, perRun: number): Promise<Sampler> => {
  await decideOnce(opened.lethe, memberId)()
  return {
    sample: () => meanOf(perRun, () => timeMs(decideOnce(opened.lethe, memberId))),
    close: async () => {},
  }
}

const coldDecider = (opened: OpenedLethe, memberId: string, perRun: number): Sampler => ({
  sample: () =>
    meanOf(perRun, async () => {
      const lethe = await opened.reopen()
      try {
        return await timeMs(decideOnce(lethe, memberId))
      } finally {
        await lethe.close()
      }
    }),
  close: async () => {},
})

interface Seeded<A> {
  readonly handle: A
  readonly ids: Readonly<Record<History, string>>
}

const histories: ReadonlyArray<History> = ["mix", "small", "large"]

const seedAll = async <A>(handle: A, seed: (history: History) => Promise<string>): Promise<Seeded<A>> => {
  const ids: Partial<Record<History, string>> = {}
  for (const history of histories) ids[history] = await seed(history)
  return { handle, ids: ids as Record<History, string> }
}

/** Opens `open`'s database and seeds the three members, or records why it could not. */
const opening = async <A extends { close(): Promise<void> }>(
  open: () => Promise<A>,
  seed: (handle: A, history: History) => Promise<string>,
): Promise<Seeded<A> | { readonly error: string }> => {
  let handle: A | undefined
  try {
    handle = await open()
    const opened = handle
    return await seedAll(opened, (history) => seed(opened, history))
  } catch (error) {
    await handle?.close().catch(() => undefined)
    return { error: error instanceof Error ? error.message : String(error) }
  }
}

type Opening<A> = Seeded<A> | { readonly error: string }

interface SeededContenders {
  readonly raw: Opening<EventLog>
  readonly emmett: Opening<EventLog>
  readonly lethe: Opening<OpenedLethe>
}

const seedContenders = async (context: BenchContext, backend: Backend): Promise<SeededContenders> => {
  const { mixEvents, variedEvents } = context.settings.decide
  context.progress(`${decideCase} · ${backend.variant}: seeding the members...`)
  const seedLog = (log: EventLog, history: History) => seedStream(log, eventsOf(context, history))
  return {
    raw: await opening(() => backend.openRaw(), seedLog),
    emmett: await opening(() => backend.openEmmett(), seedLog),
    lethe: await opening(
      () => backend.openLethe(),
      (opened, history) =>
        history === "mix"
          ? memberWithMix(opened, mixEvents, variedEvents)
          : memberWithVisits(opened, eventsOf(context, history)),
    ),
  }
}

const starter =
  <A>(seeded: Opening<A> | undefined, sampler: (handle: A, id: string) => Sampler | Promise<Sampler>) =>
  (history: History): Contestant["start"] =>
  async () => {
    if (seeded === undefined || "error" in seeded)
      throw new Error(`seeding failed: ${seeded === undefined ? "not seeded" : seeded.error}`)
    return sampler(seeded.handle, seeded.ids[history])
  }

const decideOn = async (context: BenchContext, backend: Backend): Promise<ReadonlyArray<Figure>> => {
  const seeded = backend.unavailable === undefined ? await seedContenders(context, backend) : undefined
  const { perRun } = context.settings.decide
  const raw = starter(seeded?.raw, (log: EventLog, id) => logDecider(log, id, perRun))
  const emmett = starter(seeded?.emmett, (log: EventLog, id) => logDecider(log, id, perRun))
  const warm = starter(seeded?.lethe, (opened: OpenedLethe, id) => warmDecider(opened, id, perRun))
  const cold = starter(seeded?.lethe, (opened: OpenedLethe, id) => coldDecider(opened, id, perRun))
  try {
    const figures: Array<Figure> = []
    for (const history of histories)
      figures.push(
        ...(await compare(
          {
            case: decideCase,
            variant: decideVariant(context, backend.variant, history),
            unit: "ms",
            runs: context.settings.decide.runs,
            ...(backend.unavailable === undefined ? {} : { unavailable: backend.unavailable }),
            contestants: [
              { contender: "raw", label: backend.labels.raw, start: raw(history) },
              { contender: "emmett", label: backend.labels.emmett, start: emmett(history) },
              { contender: "lethe", label: letheWarm, start: warm(history) },
              { contender: "lethe", label: letheCold, start: cold(history) },
            ],
          },
          context.progress,
        )),
      )
    return figures
  } finally {
    for (const opening of seeded === undefined ? [] : [seeded.raw, seeded.emmett, seeded.lethe])
      if (!("error" in opening)) await opening.handle.close()
  }
}

/** Read and decide on SQLite (FULL) and PostgreSQL. */
export const runDecide = async (context: BenchContext): Promise<ReadonlyArray<Figure>> => [
  ...(await decideOn(context, sqliteBackend(context, "full"))),
  ...(await decideOn(context, postgresBackend(context))),
]
