/**
 * Forget, then purge after the restore window, of a member with few and
 * with many events (a registration with a name and an e-mail, then club
 * visits). Lethe's `forget` scrubs the directory row; `purge` destroys the
 * member's data keys and redacts what they sealed. The raw driver's floor of
 * an erasure is deleting the stream's rows. Emmett has no erasure. Each run
 * works on a new member.
 *
 * @module
 */
import type { Backend } from "../backends.js"
import { postgresBackend, sqliteBackend } from "../backends.js"
import { movableClock } from "../clock.js"
import type { Contestant, Sampler } from "../compare.js"
import { compare } from "../compare.js"
import type { BenchContext } from "../context.js"
import { admin, memberEvents, nextKey } from "../fixtures.js"
import { timeMs } from "../measure.js"
import type { Figure } from "../results.js"
import { memberWithVisits } from "../seed/members.js"
import { appendChunked } from "../subjects/event-log.js"

/** The case name. */
export const purgeCase = "forget + purge"

/** The figure labels of Lethe's two steps. */
export const letheForget = "Lethe forget"
export const lethePurge = "Lethe purge (after the restore window)"

/** The variant naming `backend`'s figures for members of `events` events. */
export const purgeVariant = (backendVariant: string, events: number): string =>
  `${backendVariant}, ${events.toLocaleString("en-US")} events`

const dayMs = 86_400_000

const rawEraser = (backend: Backend, events: number) => async (): Promise<Sampler> => {
  const log = await backend.openRaw()
  return {
    sample: async () => {
      const key = nextKey()
      const streamId = `member-${key}`
      await appendChunked(log, streamId, memberEvents(key, events))
      return timeMs(() => log.erase(streamId))
    },
    close: () => log.close(),
  }
}

/**
 * Lethe's two contestants over one database: `forget` makes a new member and
 * forgets it; `purge`, whose turn comes next in the same round, purges it
 * once the clock has passed its restore window.
 */
const letheSteps = (backend: Backend, events: number) => {
  const clock = movableClock()
  const forgotten: Array<string> = []
  let opening: ReturnType<Backend["openLethe"]> | undefined
  const open = () => {
    opening ??= backend.openLethe(clock.now)
    return opening
  }
  const forget = async (): Promise<Sampler> => {
    const opened = await open()
    return {
      sample: async () => {
        const memberId = await memberWithVisits(opened, events)
        await opened.settle()
        const ms = await timeMs(() => opened.lethe.forget(memberId, { actor: admin }))
        forgotten.push(memberId)
        return ms
      },
      close: () => opened.close(),
    }
  }
  const purge = async (): Promise<Sampler> => {
    const opened = await open()
    const windowMs = (opened.lethe.config.restoreWindowDays + 1) * dayMs
    return {
      sample: async () => {
        const memberId = forgotten.shift()
        if (memberId === undefined) throw new Error("no forgotten member to purge (forget failed)")
        clock.advance(windowMs)
        return timeMs(async () => {
          const { erasure } = await opened.lethe.purge(memberId, { actor: admin })
          if (erasure === null) throw new Error("purge destroyed no key")
        })
      },
      close: async () => {},
    }
  }
  return { forget, purge }
}

const purgeOn = async (context: BenchContext, backend: Backend): Promise<ReadonlyArray<Figure>> => {
  const { runs, small, large } = context.settings.purge
  const figures: Array<Figure> = []
  for (const events of [small, large]) {
    const lethe = letheSteps(backend, events)
    const contestants: ReadonlyArray<Contestant> = [
      {
        contender: "raw",
        label: `${backend.labels.raw} (DELETE the stream)`,
        start: rawEraser(backend, events),
      },
      {
        contender: "emmett",
        label: backend.labels.emmett,
        start: { skip: "Emmett has no erasure: its API neither deletes nor shreds a stream's events" },
      },
      { contender: "lethe", label: letheForget, start: lethe.forget },
      { contender: "lethe", label: lethePurge, start: lethe.purge },
    ]
    figures.push(
      ...(await compare(
        {
          case: purgeCase,
          variant: purgeVariant(backend.variant, events),
          unit: "ms",
          runs,
          ...(backend.unavailable === undefined ? {} : { unavailable: backend.unavailable }),
          contestants,
        },
        context.progress,
      )),
    )
  }
  return figures
}

/** Forget and purge on SQLite (FULL) and PostgreSQL. */
export const runPurge = async (context: BenchContext): Promise<ReadonlyArray<Figure>> => [
  ...(await purgeOn(context, sqliteBackend(context, "full"))),
  ...(await purgeOn(context, postgresBackend(context))),
]
