/**
 * Conformance of a store as a whole: its name, a fresh store is empty and
 * shares nothing with another, and `close`.
 *
 * @module
 */
import type { LetheStore } from "@lethe/core"
import { expect } from "vitest"
import { eventsOf, memberRow, newEvent, storedKey, writeRow } from "../fixtures.js"
import type { CaseGroup } from "./case.js"
import { append, expectClosed } from "./helpers.js"

/** Every operation of the SPI, called with harmless arguments. */
const everyOperation = (store: LetheStore): Readonly<Record<string, () => Promise<unknown>>> => {
  const page = { limit: 10 }
  const query = { before: 10, limit: 10 }
  return {
    "events.append": () =>
      store.events.append({ streamId: "s", expectedVersion: "any", events: [newEvent()] }),
    "events.readStream": () => store.events.readStream("s"),
    "events.readAll": () => store.events.readAll(),
    "events.redact": () => store.events.redact("s", ["k1"]),
    "keys.put": () => store.keys.put(storedKey("k2")),
    "keys.get": () => store.keys.get("k1"),
    "keys.destroy": () => store.keys.destroy("k1", 0),
    "keys.listForMember": () => store.keys.listForMember("m1"),
    "directory.get": () => store.directory.get("m1"),
    "directory.findByEmail": () => store.directory.findByEmail("t1", "ek-m1"),
    "directory.findRestorable": () => store.directory.findRestorable("t1", "ek-m1"),
    "directory.search": () => store.directory.search("t1", "a", page),
    "directory.contractsEndedBefore": () => store.directory.contractsEndedBefore(query),
    "directory.inactiveSince": () => store.directory.inactiveSince(query),
    "directory.coldLeadsSince": () => store.directory.coldLeadsSince(query),
    "directory.restoreWindowEndedBefore": () => store.directory.restoreWindowEndedBefore(query),
    "directory.invoicesHeldSince": () => store.directory.invoicesHeldSince(query),
    "directory.requestsDueBefore": () => store.directory.requestsDueBefore(query),
    "directory.messageOwner": () => store.directory.messageOwner("msg-1"),
  }
}

/** Store lifecycle cases, by stable name. */
export const lifecycleCases = {
  "store/name": {
    title: "a store has a short, non-empty name for reports",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        expect(typeof store.name).toBe("string")
        expect(store.name.trim().length).toBeGreaterThan(0)
      }),
  },

  "store/starts-empty": {
    title: "a fresh store holds no event, key, row or message",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        expect(await store.events.readAll()).toEqual({ events: [], next: 0, done: true })
        expect(await store.events.readStream("member-m1")).toEqual([])
        expect(await store.keys.get("k1")).toBeUndefined()
        expect(await store.keys.listForMember("m1")).toEqual([])
        expect(await store.directory.get("m1")).toBeUndefined()
        expect(await store.directory.inactiveSince({ before: Number.MAX_SAFE_INTEGER, limit: 10 })).toEqual(
          [],
        )
        expect(
          await store.directory.requestsDueBefore({ before: Number.MAX_SAFE_INTEGER, limit: 10 }),
        ).toEqual([])
        expect(await store.directory.messageOwner("msg-1")).toBeUndefined()
      }),
  },

  "store/independent": {
    title: "two stores from makeStore share nothing",
    run: async ({ open }) => {
      const a = await open()
      const b = await open()
      await a.events.append({
        streamId: "member-m1",
        expectedVersion: "no_stream",
        events: eventsOf("a", 1),
        directory: {
          member: memberRow("m1"),
          messages: [{ messageId: "msg-1", memberId: "m1", tenantId: "t1", sentAt: 1 }],
        },
      })
      await a.keys.put(storedKey("k1"))
      expect(await b.events.readAll()).toEqual({ events: [], next: 0, done: true })
      expect(await b.directory.get("m1")).toBeUndefined()
      expect(await b.directory.messageOwner("msg-1")).toBeUndefined()
      expect(await b.keys.get("k1")).toBeUndefined()
      expect(await append(b, "member-m1", "no_stream", eventsOf("b", 1))).toEqual({ version: 1, position: 1 })
    },
  },

  "store/closed-rejects": {
    title: "after close, every operation rejects with StoreError",
    run: async ({ open }) => {
      const store = await open()
      await append(store, "s", "no_stream", eventsOf("s", 1))
      await store.keys.put(storedKey("k1"))
      await writeRow(store, memberRow("m1"))
      await store.close()
      await expectClosed(everyOperation(store))
    },
  },

  "store/close-twice": {
    title: "closing a closed store again resolves",
    run: async ({ open }) => {
      const store = await open()
      await store.close()
      await expect(store.close()).resolves.toBeUndefined()
    },
  },
} satisfies CaseGroup
