import type { AppendRequest, LetheClient, LetheStore } from "@lethe/core"
import { createLethe, keyringFromSecret, readAllEvents } from "@lethe/core"
import { postgresStore } from "@lethe/store-postgres"
import { describe, expect, it } from "vitest"
import { noServerReason, serverDatabase, serverUrl } from "./fixtures.js"

const writers = 8
const commands = 1_000
const keyring = keyringFromSecret("store-postgres concurrency test secret, long enough")

/** `store` with its appends' rejections recorded (tag and stream), as the facade sees them. */
const counting = (store: LetheStore, rejections: Array<{ tag: string; streamId: string }>): LetheStore => ({
  ...store,
  events: {
    ...store.events,
    append: async (request: AppendRequest) => {
      try {
        return await store.events.append(request)
      } catch (error) {
        rejections.push({
          tag: (error as { readonly _tag?: string })._tag ?? String(error),
          streamId: request.streamId,
        })
        throw error
      }
    },
  },
})

/** Every stream of the log with its versions, and the log's positions. */
const logOf = async (store: LetheStore) => {
  const streams = new Map<string, Array<number>>()
  const positions: Array<number> = []
  for await (const event of readAllEvents(store.events)) {
    positions.push(event.position)
    streams.set(event.streamId, [...(streams.get(event.streamId) ?? []), event.version])
  }
  return { streams, positions }
}

describe.skipIf(serverUrl === undefined)(
  `postgres store: ${writers} pooled writers through createLethe${serverUrl === undefined ? ` [skipped: ${noServerReason}]` : ""}`,
  () => {
    it("C: 1,000 commands from 8 writers, on one shared member and on each writer's own member: no lost event, contiguous versions, every conflict a retried ConcurrencyConflict on the shared member", async () => {
      const database = serverDatabase(serverUrl ?? "", writers)
      const schema = database.freshSchema()
      const rejections: Array<{ tag: string; streamId: string }> = []
      // One Lethe per writer, as in separate processes, over one pool of `writers` connections.
      const clients: Array<LetheClient> = []
      for (let w = 0; w < writers; w++) {
        const store = counting(await postgresStore({ pool: database.pool, schema }), rejections)
        clients.push(await createLethe({ store, keyring, retries: 1_000 }))
      }
      const register = (name: string) =>
        (clients[0] as LetheClient).register({
          tenantId: "gym",
          personal: { name },
          source: { kind: "import" },
        })
      const shared = (await register("Shared Member")).memberId
      const own: Array<string> = []
      for (let w = 0; w < writers; w++) own.push((await register(`Member ${w}`)).memberId)
      const reader = await postgresStore({ pool: database.pool, schema })
      const before = await logOf(reader)

      let next = 0
      const onShared = new Map<string, number>()
      await Promise.all(
        clients.map(async (lethe, w) => {
          for (let i = next++; i < commands; i = next++) {
            // Every fourth command goes to the shared member: those race; the others do not.
            const memberId = i % 4 === 0 ? shared : (own[w] as string)
            await lethe.recordActivity(memberId, { kind: "visit", clubId: `club-${i}` })
            if (memberId === shared) onShared.set(String(w), (onShared.get(String(w)) ?? 0) + 1)
          }
        }),
      )
      for (const lethe of clients) await lethe.close()

      const after = await logOf(reader)
      expect(after.positions.length - before.positions.length, "one event per command").toBe(commands)
      expect(after.positions).toEqual(after.positions.map((_, i) => i + 1))
      for (const [streamId, versions] of after.streams)
        expect(versions, streamId).toEqual(versions.map((_, i) => i + 1))
      expect(onShared.size, "several writers used the shared member").toBeGreaterThan(1)
      // Every rejected append was a conflict, and all were retried (every command landed above).
      expect(rejections.filter((r) => r.tag !== "ConcurrencyConflict")).toEqual([])
      expect(rejections.length, "writers on the shared member did conflict").toBeGreaterThan(0)
      const sharedStreams = new Set(rejections.map((r) => r.streamId))
      expect(
        [...sharedStreams].every((streamId) => streamId.includes(shared)),
        `conflicts only on the shared member's streams: ${[...sharedStreams].join(", ")}`,
      ).toBe(true)
      await reader.close()
    }, 120_000)
  },
)
