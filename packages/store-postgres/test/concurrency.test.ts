/**
 * Issue 5, concurrency: 8 pooled writers, each a `createLethe` of its own
 * (as separate processes would be) over one `pg` Pool, issue 1,000 commands
 * on one shared member, then 1,000 on members of their own. No event is
 * lost, each stream's versions are 1..n, every rejected append is a
 * `ConcurrencyConflict` that the facade's `retries` option retried, and a
 * reader paging `readAll` while the writers write misses nothing.
 *
 * On the real server when `LETHE_PG_URL` is set. Otherwise on PGlite, which
 * is one connection: the writers interleave at each round trip instead of
 * running in parallel (conflicts still happen: a writer reads, another
 * appends, the first appends on a stale version), and each case runs 100
 * commands to keep the run short.
 *
 * Throughput (commands per second through the facade, 1 writer and 8) is
 * printed, never asserted (docs/design.md §5).
 */

import type { LetheClient, LetheStore } from "@lethe/core"
import { createLethe, keyringFromSecret } from "@lethe/core"
import type { AppendRequest, StoredEvent } from "@lethe/core/spi"
import { readAllEvents } from "@lethe/core/spi"
import { postgresStore } from "@lethe/store-postgres"
import { describe, expect, it } from "vitest"
import type { TestDatabase } from "./fixtures.js"
import { pgliteDatabase, serverDatabase, serverUrl } from "./fixtures.js"

const writers = 8
const database: TestDatabase = serverUrl === undefined ? pgliteDatabase() : serverDatabase(serverUrl, writers)
const commands = database.name === "server" ? 1_000 : 100
/** Enough for 8 writers on one stream: each round of attempts lets at least one of them through. */
const retries = 100
const keyring = keyringFromSecret("store-postgres concurrency test secret, long enough")
const admin = { id: "staff:admin", roles: ["admin"] } as const

/** What the writers' appends met: every rejection's tag and stream, as the facade saw it. */
interface Observed {
  appends: number
  readonly rejections: Array<{ readonly tag: string; readonly streamId: string }>
}

/** `store`, with each append counted and each rejection recorded. */
const observing = (store: LetheStore, observed: Observed): LetheStore => ({
  ...store,
  events: {
    ...store.events,
    append: async (request: AppendRequest) => {
      // Members' appends only: a signed checkpoint (R41) goes to its own reserved stream.
      if (!request.streamId.startsWith("member-")) return store.events.append(request)
      observed.appends++
      try {
        return await store.events.append(request)
      } catch (error) {
        observed.rejections.push({
          tag: (error as { readonly _tag?: string })._tag ?? String(error),
          streamId: request.streamId,
        })
        throw error
      }
    },
  },
})

/**
 * Reads `readAll` page by page until stopped and then to the end: what a
 * projection tailing the log sees. `stop` resolves to what it saw; `abandon`
 * ends it without a last pass (a test that failed).
 */
const tail = (store: LetheStore, after: number) => {
  const seen: Array<StoredEvent> = []
  let stopped = false
  let abandoned = false
  const done = (async () => {
    let position = after
    while (!abandoned) {
      const wasStopped = stopped
      const page = await store.events.readAll({ after: position, limit: 37 })
      seen.push(...page.events)
      position = page.next
      if (page.done && wasStopped) break
      if (page.done) await new Promise((resolve) => setTimeout(resolve, 25))
    }
    return seen
  })()
  return {
    stop: () => {
      stopped = true
      return done
    },
    abandon: async () => {
      abandoned = true
      await done.catch(() => undefined)
    },
  }
}

/** The events appended after `after`, by stream. */
const streamsOf = (events: ReadonlyArray<StoredEvent>): Map<string, Array<StoredEvent>> => {
  const streams = new Map<string, Array<StoredEvent>>()
  for (const event of events) streams.set(event.streamId, [...(streams.get(event.streamId) ?? []), event])
  return streams
}

interface Run {
  /** How many writers, each a Lethe of its own. */
  readonly writers: number
  readonly commands: number
  /** The member command `i` of writer `w` goes to. */
  readonly target: (i: number, w: number, members: Members) => string
  /** Members each writer owns (besides the one shared by all). */
  readonly ownMembers: number
}

interface Members {
  readonly shared: string
  readonly own: ReadonlyArray<ReadonlyArray<string>>
}

/** Runs `run.commands` `recordActivity` commands from `run.writers` writers and checks the log they leave. */
const runWriters = async (run: Run) => {
  const schema = database.freshSchema()
  const setup = await createLethe({ store: await postgresStore({ pool: database.pool, schema }), keyring })
  const register = async (name: string) =>
    (await setup.register({ tenantId: "gym", personal: { name }, source: { kind: "import" } })).memberId
  const shared = await register("Shared Member")
  const own: Array<Array<string>> = []
  for (let w = 0; w < run.writers; w++) {
    const mine: Array<string> = []
    for (let m = 0; m < run.ownMembers; m++) mine.push(await register(`Member ${w}.${m}`))
    own.push(mine)
  }
  await setup.close()
  const members: Members = { shared, own }

  const reader = await postgresStore({ pool: database.pool, schema })
  const before = (await reader.events.readAll({ limit: 10_000 })).events
  const last = before.at(-1)?.position ?? 0
  const observed: Observed = { appends: 0, rejections: [] }
  const clients: Array<LetheClient> = []
  for (let w = 0; w < run.writers; w++)
    clients.push(
      await createLethe({
        store: observing(await postgresStore({ pool: database.pool, schema }), observed),
        keyring,
        retries,
      }),
    )

  const tailer = tail(reader, last)
  const succeeded = new Map<string, string>()
  const failed: Array<{ readonly command: string; readonly tag: string }> = []
  let next = 0
  const started = performance.now()
  let tailed: ReadonlyArray<StoredEvent>
  let seconds: number
  try {
    await Promise.all(
      clients.map(async (lethe, w) => {
        for (let i = next++; i < run.commands; i = next++) {
          const memberId = run.target(i, w, members)
          const clubId = `club-${i}`
          await lethe.recordActivity(memberId, { kind: "visit", clubId, actor: admin }).then(
            () => succeeded.set(clubId, memberId),
            (error: { readonly _tag?: string }) => failed.push({ command: clubId, tag: String(error._tag) }),
          )
        }
      }),
    )
    seconds = (performance.now() - started) / 1_000
    tailed = await tailer.stop()
  } finally {
    await tailer.abandon()
    for (const lethe of clients) await lethe.close()
  }

  const log: Array<StoredEvent> = []
  for await (const event of readAllEvents(reader.events, { pageSize: 101 })) log.push(event)
  // The members' events: a signed checkpoint (R41) may land in its own reserved stream among them.
  const appended = log.filter((event) => event.position > last && event.streamId.startsWith("member-"))
  await reader.close()

  // Every command succeeded, or failed only with a conflict that outlived its retries.
  expect(failed.filter((f) => f.tag !== "ConcurrencyConflict")).toEqual([])
  expect(succeeded.size + failed.length).toBe(run.commands)
  // One event per successful command, on the member it named, and none for a failed one.
  expect(appended).toHaveLength(succeeded.size)
  for (const event of appended) {
    expect(event.type).toBe("ActivityRecorded")
    const clubId = String((event.data as { readonly clubId?: unknown }).clubId)
    expect(succeeded.get(clubId), clubId).toBe(event.streamId.replace(/^member-/, ""))
  }
  expect(new Set(appended.map((e) => (e.data as { readonly clubId?: unknown }).clubId)).size).toBe(
    succeeded.size,
  )
  // Each stream's versions are 1..n, continuing from before the run.
  for (const [streamId, events] of streamsOf(log))
    expect(
      events.map((e) => e.version),
      streamId,
    ).toEqual(events.map((_, i) => i + 1))
  // Global positions strictly increase, and a reader paging during the run saw every event once, in order.
  for (let i = 1; i < log.length; i++) expect(log[i]?.position).toBeGreaterThan(log[i - 1]?.position ?? 0)
  expect(
    tailed
      .filter((e) => e.streamId.startsWith("member-"))
      .map((e) => `${e.position} ${e.streamId}@${e.version}`),
  ).toEqual(appended.map((e) => `${e.position} ${e.streamId}@${e.version}`))
  // Every rejected append was a conflict; the facade retried it (succeeded or counted in `failed`).
  expect(observed.rejections.filter((r) => r.tag !== "ConcurrencyConflict")).toEqual([])
  expect(observed.appends).toBe(succeeded.size + observed.rejections.length)

  const rate = Math.round(succeeded.size / seconds)
  console.info(
    `${database.name}: ${run.writers} writer(s), ${run.commands} commands in ${seconds.toFixed(1)} s: ${rate} commands/s; ${observed.rejections.length} conflicts retried, ${failed.length} commands failed after ${retries} retries`,
  )
  return { members, conflicts: observed.rejections, failed }
}

describe(`postgres store on ${database.name}: ${writers} pooled writers through createLethe`, () => {
  it(`C: ${commands} commands from ${writers} writers on one shared member: no lost event, versions 1..n, every conflict a ConcurrencyConflict retried by the facade`, async () => {
    const { members, conflicts } = await runWriters({
      writers,
      commands,
      ownMembers: 0,
      target: (_, __, m) => m.shared,
    })
    expect(conflicts.length, "writers on one member did conflict").toBeGreaterThan(0)
    expect(new Set(conflicts.map((c) => c.streamId))).toEqual(new Set([`member-${members.shared}`]))
  }, 120_000)

  it(`C: ${commands} commands from ${writers} writers on members of their own: no lost event, versions 1..n, and no conflict at all (appends to different streams never wait for or refuse each other)`, async () => {
    const { conflicts, failed } = await runWriters({
      writers,
      commands,
      ownMembers: 4,
      target: (i, w, m) => m.own[w]?.[i % 4] ?? "",
    })
    expect(conflicts).toEqual([])
    expect(failed).toEqual([])
  }, 120_000)

  it(`C: baseline, ${commands / 4} commands from 1 writer (throughput only)`, async () => {
    const { conflicts } = await runWriters({
      writers: 1,
      commands: commands / 4,
      ownMembers: 4,
      target: (i, w, m) => m.own[w]?.[i % 4] ?? "",
    })
    expect(conflicts).toEqual([])
  }, 120_000)
})
