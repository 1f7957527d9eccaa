/**
 * Conformance of durability: what a store holds survives closing it and
 * opening the same database again, and the reopened store goes on where the
 * closed one stopped. These cases need the adapter's `reopen`.
 *
 * @module
 */
import type { LetheStore } from "@lethe/core"
import { expect } from "vitest"
import {
  chainedEvents,
  erased,
  eventsOf,
  forgottenRow,
  memberRow,
  newEvent,
  sealed,
  storedKey,
  wholeLog,
  writeRow,
} from "../fixtures.js"
import { adminActor, days } from "../given-when-then.js"
import type { CaseGroup } from "./case.js"
import { append, expectRejection } from "./helpers.js"
import { openLethe, outcomeOf, testClock } from "./world.js"

/** Everything the directory answers about rows m1..m4 and messages msg-1..msg-2. */
const directoryState = async (store: LetheStore) => ({
  rows: await Promise.all(["m1", "m2", "m3", "m4"].map((id) => store.directory.get(id))),
  byEmail: await store.directory.findByEmail("t1", "ek-m1"),
  restorable: await store.directory.findRestorable("t1", "ek-m2"),
  search: await store.directory.search("t1", "name", { limit: 10 }),
  due: await store.directory.requestsDueBefore({ before: 100, limit: 10 }),
  window: await store.directory.restoreWindowEndedBefore({ before: 1_000, limit: 10 }),
  invoices: await store.directory.invoicesHeldSince({ before: 1_000, limit: 10 }),
  messages: await Promise.all(["msg-1", "msg-2"].map((id) => store.directory.messageOwner(id))),
})

/** Durability cases, by stable name. */
export const durabilityCases = {
  "durability/events": {
    title: "events survive close and reopen exactly, and appends go on from the same versions and positions",
    needsReopen: true,
    run: async ({ open, reopen }) => {
      const store = await open()
      await append(store, "a", "no_stream", chainedEvents("a", [{ n: 1 }, { text: "Łucja 😀" }]))
      await append(store, "b", "no_stream", eventsOf("b", 1))
      const before = await wholeLog(store)
      const again = await reopen(store)
      expect(await wholeLog(again)).toEqual(before)
      expect(await again.events.readStream("a")).toEqual(before.filter((e) => e.streamId === "a"))
      await expectRejection(append(again, "a", "no_stream", eventsOf("x", 1)), "ConcurrencyConflict")
      expect(await append(again, "a", 2, eventsOf("a", 1))).toEqual({ version: 3, position: 4 })
      expect(await append(again, "c", "no_stream", eventsOf("c", 1))).toEqual({ version: 1, position: 5 })
    },
  },

  "durability/keys": {
    title: "keys and tombstones survive close and reopen; a destroyed id still cannot be put again",
    needsReopen: true,
    run: async ({ open, reopen }) => {
      const store = await open()
      await store.keys.put(storedKey("k1"))
      await store.keys.put(storedKey("k2", { category: "identity" }))
      await store.keys.destroy("k2", 77)
      const before = await store.keys.listForMember("m1")
      const again = await reopen(store)
      expect(await again.keys.listForMember("m1")).toEqual(before)
      expect(await again.keys.get("k1")).toEqual({ _tag: "Live", key: storedKey("k1") })
      await expectRejection(again.keys.put(storedKey("k2")), "KeyDestroyed", { keyId: "k2" })
      await expectRejection(again.keys.put(storedKey("k1")), "KeyExists", { keyId: "k1" })
    },
  },

  "durability/directory": {
    title: "directory rows and message owners survive close and reopen, and every query answers the same",
    needsReopen: true,
    run: async ({ open, reopen }) => {
      const store = await open()
      await store.events.append({
        streamId: "member-m1",
        expectedVersion: "no_stream",
        events: [newEvent()],
        directory: {
          member: memberRow("m1", {
            openRequests: [{ requestId: "r1", kind: "erasure", receivedAt: 1, dueBy: 50 }],
          }),
          messages: [{ messageId: "msg-1", memberId: "m1", tenantId: "t1", sentAt: 5 }],
        },
      })
      await writeRow(store, forgottenRow("m2"))
      await writeRow(
        store,
        memberRow("m3", { status: "anonymized", anonymizedAt: 9, holdsInvoiceData: true, customer: true }),
      )
      await writeRow(
        store,
        memberRow("m4", { status: "purged", purgedAt: 8, holdsInvoiceData: true, customer: true }),
      )
      const before = await directoryState(store)
      expect(before.invoices.map((row) => row.memberId)).toEqual(["m3", "m4"])
      const again = await reopen(store)
      expect(await directoryState(again)).toEqual(before)
    },
  },

  "durability/redaction": {
    title: "a redaction survives close and reopen: the erased form is what the database holds",
    needsReopen: true,
    run: async ({ open, reopen }) => {
      const store = await open()
      await append(store, "s", "no_stream", [
        newEvent({ email: sealed("k1", "contact", "d1"), keep: sealed("k2") }),
      ])
      expect(await store.events.redact("s", ["k1"])).toBe(1)
      const again = await reopen(store)
      expect((await again.events.readStream("s"))[0]?.data).toEqual({
        email: erased("contact", "d1"),
        keep: sealed("k2"),
      })
      expect(await again.events.redact("s", ["k1"])).toBe(0)
    },
  },

  "durability/facade": {
    title: "members written through the facade read the same through a new facade on the reopened store",
    needsReopen: true,
    run: async ({ open, reopen }) => {
      const clock = testClock()
      const store = await open()
      const lethe = await openLethe(store, clock)
      const anna = await lethe.register({
        tenantId: "t1",
        personal: { name: "Anna Nowak", email: "anna@example.org", phone: "+48 600 100 200" },
        source: "form",
      })
      await lethe.giveConsent(anna.memberId, { purpose: "newsletter", method: "checkbox", source: "form" })
      await lethe.creditWallet(anna.memberId, { amount: 500 })
      const bob = await lethe.register({
        tenantId: "t1",
        personal: { email: "bob@example.org" },
        source: "form",
      })
      await lethe.forget(bob.memberId, { actor: adminActor })
      clock.advance(days(1))
      const ask = async (client: typeof lethe) => ({
        anna: await outcomeOf(() => client.get(anna.memberId)),
        bob: await outcomeOf(() => client.get(bob.memberId)),
        byEmail: await outcomeOf(() => client.findByEmail("t1", "ANNA@example.org")),
        search: await outcomeOf(() => client.search("t1", "nowak")),
        requests: await outcomeOf(() => client.openRequests()),
      })
      const before = await ask(lethe)
      const again = await reopen(store)
      await lethe.close()
      const reopened = await openLethe(again, clock)
      try {
        expect(await ask(reopened)).toEqual(before)
        const restored = await reopened.subscribe({
          tenantId: "t1",
          email: "bob@example.org",
          purpose: "newsletter",
          source: "form",
        })
        expect(restored.outcome).toBe("restored")
        expect((await reopened.creditWallet(anna.memberId, { amount: 1 })).version).toBe(
          (await again.events.readStream(`member-${anna.memberId}`)).length,
        )
      } finally {
        await reopened.close()
      }
    },
  },
} satisfies CaseGroup
