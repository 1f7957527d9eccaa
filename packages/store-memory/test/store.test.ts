import { StoreError } from "@lethe/core"
import { memoryStore } from "@lethe/store-memory"
import { describe, expect, it } from "vitest"
import { memberRow, newEvent, rejection } from "./fixtures.js"

describe("memoryStore", () => {
  it("SPI: a store is named 'memory' and starts empty", async () => {
    const store = memoryStore()
    expect(store.name).toBe("memory")
    expect(await store.events.readAll()).toEqual({ events: [], next: 0, done: true })
    expect(await store.directory.get("m1")).toBeUndefined()
    expect(await store.keys.get("k1")).toBeUndefined()
  })

  it("SPI: two stores share nothing", async () => {
    const a = memoryStore()
    const b = memoryStore()
    await a.events.append({
      streamId: "s",
      expectedVersion: "no_stream",
      events: [newEvent()],
      directory: { member: memberRow("m1") },
    })
    expect(await b.events.readStream("s")).toEqual([])
    expect(await b.directory.get("m1")).toBeUndefined()
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
      "keys.put": () =>
        store.keys.put({
          keyId: "k1",
          tenantId: "t1",
          memberId: "m1",
          category: "contact",
          wrappedKey: "w",
          kekId: "kek",
          createdAt: 0,
        }),
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
})
