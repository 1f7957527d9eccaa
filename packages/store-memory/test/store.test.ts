/**
 * What the memory store promises beyond the conformance suite that
 * `conformance.test.ts` runs: its name, and refusals that are
 * `@lethe/core`'s own error classes, a `StoreError` naming the operation
 * refused.
 */
import { ConcurrencyConflict, KeyDestroyed, KeyExists, StoreError } from "@lethe/core"
import { memoryStore } from "@lethe/store-memory"
import { memberRow, newEvent, rejection, storedKey, writeRow } from "@lethe/testkit/fixtures"
import { describe, expect, it } from "vitest"

describe("memoryStore", () => {
  it("SPI: a store is named 'memory'", () => {
    expect(memoryStore().name).toBe("memory")
  })

  it("SPI: after close every call rejects with StoreError naming the operation; closing twice is fine", async () => {
    const store = memoryStore()
    await store.events.append({ streamId: "s", expectedVersion: "no_stream", events: [newEvent()] })
    await store.close()
    await store.close()
    const page = { limit: 10 }
    const query = { before: 10, limit: 10 }
    const calls: Record<string, () => Promise<unknown>> = {
      "events.append": () =>
        store.events.append({ streamId: "s", expectedVersion: "any", events: [newEvent()] }),
      "events.readStream": () => store.events.readStream("s"),
      "events.readAll": () => store.events.readAll(),
      "events.redact": () => store.events.redact("s", ["k1"]),
      "keys.put": () => store.keys.put(storedKey("k1")),
      "keys.get": () => store.keys.get("k1"),
      "keys.destroy": () => store.keys.destroy("k1", 0),
      "keys.listForMember": () => store.keys.listForMember("m1"),
      "directory.get": () => store.directory.get("m1"),
      "directory.findByEmail": () => store.directory.findByEmail("t1", "ek"),
      "directory.findRestorable": () => store.directory.findRestorable("t1", "ek"),
      "directory.search": () => store.directory.search("t1", "a", page),
      "directory.contractsEndedBefore": () => store.directory.contractsEndedBefore(query),
      "directory.inactiveSince": () => store.directory.inactiveSince(query),
      "directory.coldLeadsSince": () => store.directory.coldLeadsSince(query),
      "directory.restoreWindowEndedBefore": () => store.directory.restoreWindowEndedBefore(query),
      "directory.requestsDueBefore": () => store.directory.requestsDueBefore(query),
      "directory.messageOwner": () => store.directory.messageOwner("msg-1"),
    }
    for (const [operation, call] of Object.entries(calls)) {
      const error = await rejection(call())
      expect(error).toBeInstanceOf(StoreError)
      expect(error).toMatchObject({ _tag: "StoreError", operation, detail: "store is closed" })
    }
  })

  it("SPI: a refused append or key is @lethe/core's ConcurrencyConflict, KeyExists or KeyDestroyed", async () => {
    const store = memoryStore()
    await store.events.append({ streamId: "s", expectedVersion: "no_stream", events: [newEvent()] })
    expect(
      await rejection(store.events.append({ streamId: "s", expectedVersion: 0, events: [newEvent()] })),
    ).toBeInstanceOf(ConcurrencyConflict)
    await store.keys.put(storedKey("k1"))
    expect(await rejection(store.keys.put(storedKey("k1", { wrappedKey: "other" })))).toBeInstanceOf(
      KeyExists,
    )
    await store.keys.destroy("k1", 10)
    expect(await rejection(store.keys.put(storedKey("k1")))).toBeInstanceOf(KeyDestroyed)
  })

  it("SPI: paged reads refuse a limit that is not a positive integer with StoreError naming the operation", async () => {
    const store = memoryStore()
    await writeRow(store, memberRow("m1"))
    for (const limit of [0, -1, 1.5, Number.POSITIVE_INFINITY])
      expect(await rejection(store.events.readAll({ limit }))).toMatchObject({
        _tag: "StoreError",
        operation: "events.readAll",
      })
    expect(await rejection(store.directory.search("t1", "m", { limit: 0 }))).toMatchObject({
      _tag: "StoreError",
      operation: "directory.search",
    })
    expect(await rejection(store.directory.inactiveSince({ before: 10, limit: -1 }))).toMatchObject({
      _tag: "StoreError",
      operation: "directory.inactiveSince",
    })
  })
})
