/**
 * Conformance of `KeyStore`: put, get, destroy with a tombstone, no
 * resurrection, listing a member's keys, copies, and racing puts.
 *
 * @module
 */
import fc from "fast-check"
import { expect } from "vitest"
import { storedKey } from "../fixtures.js"
import type { CaseGroup } from "./case.js"
import { expectRejection, mutable, tamper } from "./helpers.js"

/** Key store cases, by stable name. */
export const keyStoreCases = {
  "keys/put-get": {
    title: "put then get returns the live key as it was put; an unknown id is undefined",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        const key = storedKey("k1", { tenantId: "t2", memberId: "m7", category: "health", createdAt: 1_234 })
        await store.keys.put(key)
        expect(await store.keys.get("k1")).toEqual({ _tag: "Live", key })
        expect(await store.keys.get("k2")).toBeUndefined()
      }),
  },

  "keys/put-existing": {
    title: "put under a live id rejects with KeyExists and keeps the first key",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await store.keys.put(storedKey("k1"))
        await expectRejection(store.keys.put(storedKey("k1", { wrappedKey: "other" })), "KeyExists", {
          keyId: "k1",
        })
        expect(await store.keys.get("k1")).toEqual({ _tag: "Live", key: storedKey("k1") })
      }),
  },

  "keys/destroy-tombstone": {
    title: "destroy drops the key material and leaves a tombstone with the time",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await store.keys.put(storedKey("k1", { tenantId: "t2", memberId: "m7", category: "health" }))
        await store.keys.put(storedKey("k2"))
        await store.keys.destroy("k1", 5_000)
        const entry = await store.keys.get("k1")
        expect(entry).toEqual({
          _tag: "Destroyed",
          tombstone: { keyId: "k1", tenantId: "t2", memberId: "m7", category: "health", destroyedAt: 5_000 },
        })
        expect(JSON.stringify(entry)).not.toContain("wrapped-k1")
        expect(JSON.stringify(await store.keys.listForMember("m7"))).not.toContain("wrapped-k1")
        expect(await store.keys.get("k2")).toEqual({ _tag: "Live", key: storedKey("k2") })
      }),
  },

  "keys/destroy-idempotent": {
    title: "destroying twice keeps the first tombstone; destroying an unknown id is a no-op",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await store.keys.put(storedKey("k1"))
        await store.keys.destroy("k1", 1)
        await store.keys.destroy("k1", 2)
        expect(await store.keys.get("k1")).toMatchObject({ _tag: "Destroyed", tombstone: { destroyedAt: 1 } })
        await store.keys.destroy("nobody", 3)
        expect(await store.keys.get("nobody")).toBeUndefined()
        await store.keys.put(storedKey("nobody"))
        expect(await store.keys.get("nobody")).toMatchObject({ _tag: "Live" })
      }),
  },

  "keys/no-resurrection": {
    title: "put under a destroyed id rejects with KeyDestroyed, whatever the new key holds",
    run: async ({ withStore, check }) =>
      check(
        fc.asyncProperty(
          fc.string({ minLength: 1 }),
          fc.string({ minLength: 1 }),
          fc.constantFrom("contact", "identity", "health"),
          (wrappedKey, memberId, category) =>
            withStore(async (store) => {
              await store.keys.put(storedKey("k1"))
              await store.keys.destroy("k1", 10)
              await expectRejection(
                store.keys.put(storedKey("k1", { wrappedKey, memberId, category })),
                "KeyDestroyed",
                { keyId: "k1" },
              )
              expect(await store.keys.get("k1")).toEqual({
                _tag: "Destroyed",
                tombstone: {
                  keyId: "k1",
                  tenantId: "t1",
                  memberId: "m1",
                  category: "contact",
                  destroyedAt: 10,
                },
              })
            }),
        ),
        10,
      ),
  },

  "keys/list-for-member": {
    title: "listForMember returns the member's live and destroyed keys by key id, and no one else's",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await store.keys.put(storedKey("k2", { category: "identity" }))
        await store.keys.put(storedKey("k1"))
        await store.keys.put(storedKey("k3", { memberId: "m2" }))
        await store.keys.put(storedKey("k0", { category: "notes" }))
        await store.keys.destroy("k2", 9)
        expect(await store.keys.listForMember("m1")).toEqual([
          { _tag: "Live", key: storedKey("k0", { category: "notes" }) },
          { _tag: "Live", key: storedKey("k1") },
          {
            _tag: "Destroyed",
            tombstone: { keyId: "k2", tenantId: "t1", memberId: "m1", category: "identity", destroyedAt: 9 },
          },
        ])
        expect(await store.keys.listForMember("m2")).toEqual([
          { _tag: "Live", key: storedKey("k3", { memberId: "m2" }) },
        ])
        expect(await store.keys.listForMember("m3")).toEqual([])
      }),
  },

  "keys/isolation": {
    title: "neither the key passed to put nor an entry read back can change the stored key",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        const original = { ...storedKey("k1") }
        await store.keys.put(original)
        original.wrappedKey = "tampered"
        const entry = await store.keys.get("k1")
        tamper([() => (mutable(mutable(entry).key).wrappedKey = "tampered")])
        const [listed] = await store.keys.listForMember("m1")
        tamper([() => (mutable(mutable(listed).key).wrappedKey = "tampered")])
        expect(await store.keys.get("k1")).toEqual({ _tag: "Live", key: storedKey("k1") })
      }),
  },

  "keys/concurrent-put": {
    title: "ten parallel puts of one key id: exactly one wins, the others get KeyExists",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        const outcomes = await Promise.allSettled(
          Array.from({ length: 10 }, (_, w) => store.keys.put(storedKey("k1", { wrappedKey: `w${w}` }))),
        )
        const won = outcomes.flatMap((o, w) => (o.status === "fulfilled" ? [w] : []))
        expect(won).toHaveLength(1)
        for (const o of outcomes)
          if (o.status === "rejected") expect((o.reason as { _tag?: string })._tag).toBe("KeyExists")
        expect(await store.keys.get("k1")).toEqual({
          _tag: "Live",
          key: storedKey("k1", { wrappedKey: `w${won[0]}` }),
        })
      }),
  },

  "keys/destroy-then-put-race": {
    title: "a put racing a destroy never leaves a live key under the destroyed id",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await store.keys.put(storedKey("k1"))
        const [, put] = await Promise.allSettled([
          store.keys.destroy("k1", 7),
          store.keys.put(storedKey("k1", { wrappedKey: "again" })),
        ])
        expect(put.status, "a put under an id that exists or was destroyed is refused").toBe("rejected")
        const reason = put.status === "rejected" ? (put.reason as { _tag?: string }) : {}
        expect(["KeyExists", "KeyDestroyed"]).toContain(reason._tag)
        expect(await store.keys.get("k1")).toMatchObject({ _tag: "Destroyed", tombstone: { destroyedAt: 7 } })
      }),
  },
} satisfies CaseGroup
