/**
 * What the memory event store promises beyond the conformance suite that
 * `conformance.test.ts` runs: a single append holding a value that is not
 * plain JSON writes nothing, and `readStream` from version 0 reads the
 * whole stream.
 */
import { StoreError } from "@lethe/core"
import { memoryStore } from "@lethe/store-memory"
import { memberRow, newEvent, rejection, wholeLog } from "@lethe/testkit/fixtures"
import { describe, expect, it } from "vitest"

describe("memory event store", () => {
  it("SPI: an append whose data cannot be stored rejects with StoreError and writes nothing at all", async () => {
    const store = memoryStore()
    const error = await rejection(
      store.events.append({
        streamId: "s",
        expectedVersion: "no_stream",
        events: [newEvent(), newEvent({ notJson: () => 1 })],
        directory: { member: memberRow("m1") },
      }),
    )
    expect(error).toBeInstanceOf(StoreError)
    expect(error).toMatchObject({ _tag: "StoreError", operation: "events.append" })
    expect(await wholeLog(store)).toEqual([])
    expect(await store.directory.get("m1")).toBeUndefined()
    expect(
      await store.events.append({ streamId: "s", expectedVersion: "no_stream", events: [newEvent()] }),
    ).toEqual({
      version: 1,
      position: 1,
    })
  })

  it("SPI: readStream from version 0 starts at the first event", async () => {
    const store = memoryStore()
    await store.events.append({
      streamId: "s",
      expectedVersion: "no_stream",
      events: [1, 2, 3, 4].map((n) => newEvent({ n })),
    })
    expect((await store.events.readStream("s", { fromVersion: 0 })).map((e) => e.version)).toEqual([
      1, 2, 3, 4,
    ])
  })
})
