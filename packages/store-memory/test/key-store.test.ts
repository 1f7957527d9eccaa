import type { StoredKey } from "@lethe/core"
import { KeyDestroyed, KeyExists } from "@lethe/core"
import { memoryStore } from "@lethe/store-memory"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { rejection } from "./fixtures.js"

const key = (keyId: string, overrides: Partial<StoredKey> = {}): StoredKey => ({
  keyId,
  tenantId: "t1",
  memberId: "m1",
  category: "contact",
  wrappedKey: `wrapped-${keyId}`,
  kekId: "kek-1",
  createdAt: 100,
  ...overrides,
})

describe("memory key store", () => {
  it("SPI: put then get returns the live key; an unknown id is undefined", async () => {
    const store = memoryStore()
    await store.keys.put(key("k1"))
    expect(await store.keys.get("k1")).toEqual({ _tag: "Live", key: key("k1") })
    expect(await store.keys.get("k2")).toBeUndefined()
  })

  it("SPI: put under a live id rejects with KeyExists and keeps the first key", async () => {
    const store = memoryStore()
    await store.keys.put(key("k1"))
    const error = await rejection(store.keys.put(key("k1", { wrappedKey: "other" })))
    expect(error).toBeInstanceOf(KeyExists)
    expect(error).toMatchObject({ _tag: "KeyExists", keyId: "k1" })
    expect(await store.keys.get("k1")).toEqual({ _tag: "Live", key: key("k1") })
  })

  it("SPI: destroy drops the material and leaves a tombstone with the time", async () => {
    const store = memoryStore()
    await store.keys.put(key("k1", { tenantId: "t2", memberId: "m7", category: "health" }))
    await store.keys.destroy("k1", 5_000)
    const entry = await store.keys.get("k1")
    expect(entry).toEqual({
      _tag: "Destroyed",
      tombstone: { keyId: "k1", tenantId: "t2", memberId: "m7", category: "health", destroyedAt: 5_000 },
    })
    expect(JSON.stringify(entry)).not.toContain("wrapped-k1")
  })

  it("SPI: destroying twice keeps the first tombstone; destroying an unknown id is a no-op", async () => {
    const store = memoryStore()
    await store.keys.put(key("k1"))
    await store.keys.destroy("k1", 1)
    await store.keys.destroy("k1", 2)
    expect(await store.keys.get("k1")).toMatchObject({ _tag: "Destroyed", tombstone: { destroyedAt: 1 } })
    await store.keys.destroy("nobody", 3)
    expect(await store.keys.get("nobody")).toBeUndefined()
    await store.keys.put(key("nobody"))
    expect(await store.keys.get("nobody")).toMatchObject({ _tag: "Live" })
  })

  it("SPI: no resurrection: put under a destroyed id rejects with KeyDestroyed, whatever the key", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string(), fc.string(), fc.string(), async (wrappedKey, memberId, category) => {
        const store = memoryStore()
        await store.keys.put(key("k1"))
        await store.keys.destroy("k1", 10)
        const error = await rejection(store.keys.put(key("k1", { wrappedKey, memberId, category })))
        expect(error).toBeInstanceOf(KeyDestroyed)
        expect(error).toMatchObject({ _tag: "KeyDestroyed", keyId: "k1" })
        expect(await store.keys.get("k1")).toMatchObject({
          _tag: "Destroyed",
          tombstone: { destroyedAt: 10 },
        })
      }),
    )
  })

  it("SPI: listForMember returns the member's live and destroyed keys, by key id, and no one else's", async () => {
    const store = memoryStore()
    await store.keys.put(key("k2", { category: "identity" }))
    await store.keys.put(key("k1"))
    await store.keys.put(key("k3", { memberId: "m2" }))
    await store.keys.destroy("k2", 9)
    expect(await store.keys.listForMember("m1")).toEqual([
      { _tag: "Live", key: key("k1") },
      {
        _tag: "Destroyed",
        tombstone: { keyId: "k2", tenantId: "t1", memberId: "m1", category: "identity", destroyedAt: 9 },
      },
    ])
    expect(await store.keys.listForMember("m2")).toEqual([
      { _tag: "Live", key: key("k3", { memberId: "m2" }) },
    ])
    expect(await store.keys.listForMember("m3")).toEqual([])
  })

  it("SPI: neither the key passed to put nor an entry read back can change the stored key", async () => {
    const store = memoryStore()
    const original = { ...key("k1") }
    await store.keys.put(original)
    original.wrappedKey = "tampered"
    const entry = await store.keys.get("k1")
    try {
      if (entry?._tag === "Live") (entry.key as { wrappedKey: string }).wrappedKey = "tampered"
    } catch {
      // A frozen entry refuses the change; what matters is that the store is unchanged.
    }
    expect(await store.keys.get("k1")).toEqual({ _tag: "Live", key: key("k1") })
  })
})
