/**
 * Conformance of what an append checks besides the version (see
 * `AppendRequest`): the data keys it brings, stored with it or not at all,
 * and one e-mail key per tenant, checked in the documented order.
 *
 * @module
 */
import type { StoredKey } from "@lethe/core/spi"
import { expect } from "vitest"
import { appendFor, forgottenRow, memberRow, rejection, storedKey } from "../fixtures.js"
import type { CaseGroup } from "./case.js"
import { expectNothingOf, expectRejection } from "./helpers.js"

/** Append-rule cases, by stable name. */
export const appendRuleCases = {
  "append/keys-stored": {
    title: "the keys an append brings are stored with its events, live and listed for their member",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        const identity = storedKey("dk:m1:identity", { category: "identity" })
        const contact = storedKey("dk:m1:contact")
        await store.events.append(appendFor(memberRow("m1"), [identity, contact], "no_stream"))
        expect(await store.keys.get(identity.keyId)).toEqual({ _tag: "Live", key: identity })
        expect(await store.keys.get(contact.keyId)).toEqual({ _tag: "Live", key: contact })
        expect(await store.keys.listForMember("m1")).toEqual([
          { _tag: "Live", key: contact },
          { _tag: "Live", key: identity },
        ])
        expect(await store.events.readStream("member-m1")).toHaveLength(1)
      }),
  },

  "append/keys-not-stored-on-conflict": {
    title: "an append refused for its version stores none of its keys",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await store.events.append(appendFor(memberRow("m1"), [], "no_stream"))
        const key = storedKey("dk:m1:contact")
        await expectRejection(
          store.events.append(appendFor(memberRow("m1"), [key], "no_stream")),
          "ConcurrencyConflict",
          { streamId: "member-m1", actual: 1 },
        )
        expect(await store.keys.get(key.keyId)).toBeUndefined()
        expect(await store.events.readStream("member-m1")).toHaveLength(1)
      }),
  },

  "append/keys-taken": {
    title:
      "an append bringing a live key id fails with KeyExists, a destroyed one with KeyDestroyed, a repeated one with KeyExists; nothing of it is written",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await store.keys.put(storedKey("live"))
        await store.keys.put(storedKey("gone"))
        await store.keys.destroy("gone", 5)
        const fresh = storedKey("fresh", { memberId: "m2" })
        const cases: ReadonlyArray<[string, string, ReadonlyArray<StoredKey>]> = [
          ["KeyExists", "live", [fresh, storedKey("live", { memberId: "m2", wrappedKey: "other" })]],
          ["KeyDestroyed", "gone", [fresh, storedKey("gone", { memberId: "m2" })]],
          ["KeyExists", "twice", [storedKey("twice"), storedKey("twice", { wrappedKey: "other" })]],
        ]
        for (const [tag, keyId, keys] of cases) {
          await expectRejection(store.events.append(appendFor(memberRow("m2"), keys)), tag, { keyId })
          await expectNothingOf(store, "m2", ["fresh", "twice"])
        }
        expect(await store.keys.get("live")).toEqual({ _tag: "Live", key: storedKey("live") })
      }),
  },

  "append/email-taken": {
    title:
      "an append giving a member an e-mail key another member of the tenant holds fails with EmailTaken naming the holder, and writes nothing",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await store.events.append(appendFor(memberRow("m1", { emailKey: "ek" })))
        await expectRejection(
          store.events.append(appendFor(memberRow("m2", { emailKey: "ek" }), [storedKey("dk:m2:contact")])),
          "EmailTaken",
          { tenantId: "t1", memberId: "m1" },
        )
        await expectNothingOf(store, "m2", ["dk:m2:contact"])
        // Another tenant may hold the same key; the holder may write its own row again.
        await store.events.append(appendFor(memberRow("m3", { emailKey: "ek", tenantId: "t2" })))
        await store.events.append(appendFor(memberRow("m1", { emailKey: "ek", name: "Renamed" })))
        expect(await store.directory.get("m1")).toMatchObject({ name: "Renamed", emailKey: "ek" })
        // Once the holder lets it go (forgotten: the key moves to restoreKey), another may take it.
        await store.events.append(appendFor(forgottenRow("m1", { restoreKey: "ek" })))
        await store.events.append(appendFor(memberRow("m2", { emailKey: "ek" })))
        expect((await store.directory.findByEmail("t1", "ek")).map((r) => r.memberId)).toEqual(["m2"])
        expect((await store.directory.findRestorable("t1", "ek")).map((r) => r.memberId)).toEqual(["m1"])
      }),
  },

  "append/email-race": {
    title: "of twelve concurrent appends giving different members one e-mail key, exactly one is stored",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        const ids = Array.from({ length: 12 }, (_, i) => `m${String(i).padStart(2, "0")}`)
        const outcomes = await Promise.allSettled(
          ids.map((id) =>
            store.events.append(appendFor(memberRow(id, { emailKey: "same" }), [storedKey(`dk:${id}`)])),
          ),
        )
        const won = ids.filter((_, i) => outcomes[i]?.status === "fulfilled")
        expect(won).toHaveLength(1)
        for (const [i, outcome] of outcomes.entries())
          if (outcome.status === "rejected") {
            expect(outcome.reason).toMatchObject({ _tag: "EmailTaken", tenantId: "t1", memberId: won[0] })
            await expectNothingOf(store, ids[i] as string, [`dk:${ids[i]}`])
          }
        expect((await store.directory.findByEmail("t1", "same")).map((r) => r.memberId)).toEqual(won)
      }),
  },

  "append/check-order": {
    title: "the version is checked before the e-mail, and the e-mail before the keys",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await store.keys.put(storedKey("live"))
        await store.events.append(appendFor(memberRow("m1", { emailKey: "ek" })))
        await store.events.append(appendFor(memberRow("m2"), [], "no_stream"))
        const everything = appendFor(memberRow("m2", { emailKey: "ek" }), [storedKey("live")], "no_stream")
        expect((await rejection(store.events.append(everything)))._tag).toBe("ConcurrencyConflict")
        const emailAndKey = { ...everything, expectedVersion: 1 }
        expect((await rejection(store.events.append(emailAndKey)))._tag).toBe("EmailTaken")
        expect(await store.events.readStream("member-m2")).toHaveLength(1)
      }),
  },
} satisfies CaseGroup
