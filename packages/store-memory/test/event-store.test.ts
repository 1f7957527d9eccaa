import { ConcurrencyConflict, StoreError, verifyStream } from "@lethe/core"
import { memoryStore } from "@lethe/store-memory"
import { describe, expect, it } from "vitest"
import { chainedEvents, memberRow, newEvent, rejection, sealed, wholeLog } from "./fixtures.js"

describe("memory event store", () => {
  it("SPI: versions are 1-based and contiguous per stream, positions global from 1", async () => {
    const store = memoryStore()
    expect(
      await store.events.append({
        streamId: "a",
        expectedVersion: "no_stream",
        events: [newEvent(), newEvent()],
      }),
    ).toEqual({ version: 2, position: 2 })
    expect(
      await store.events.append({ streamId: "b", expectedVersion: "no_stream", events: [newEvent()] }),
    ).toEqual({
      version: 1,
      position: 3,
    })
    expect(await store.events.append({ streamId: "a", expectedVersion: 2, events: [newEvent()] })).toEqual({
      version: 3,
      position: 4,
    })
    const log = await wholeLog(store)
    expect(log.map((e) => [e.streamId, e.version, e.position])).toEqual([
      ["a", 1, 1],
      ["a", 2, 2],
      ["b", 1, 3],
      ["a", 3, 4],
    ])
    expect((await store.events.readStream("a")).map((e) => e.position)).toEqual([1, 2, 4])
  })

  it("SPI: a stored event carries what was appended plus stream, version and position", async () => {
    const store = memoryStore()
    const [event] = chainedEvents("s", [{ amount: 5 }])
    if (event === undefined) throw new Error("no event")
    await store.events.append({ streamId: "s", expectedVersion: "no_stream", events: [event] })
    expect(await store.events.readStream("s")).toEqual([{ ...event, streamId: "s", version: 1, position: 1 }])
  })

  it("SPI: each expected-version form is checked with matchesExpectedVersion", async () => {
    const store = memoryStore()
    const append = (expectedVersion: "no_stream" | "stream_exists" | "any" | number) =>
      store.events.append({ streamId: "s", expectedVersion, events: [newEvent()] })
    expect((await rejection(append("stream_exists")))._tag).toBe("ConcurrencyConflict")
    expect((await rejection(append(1)))._tag).toBe("ConcurrencyConflict")
    await append(0) // 0 means "empty stream"
    expect((await rejection(append("no_stream")))._tag).toBe("ConcurrencyConflict")
    await append("stream_exists")
    await append("any")
    await append(3)
    expect((await rejection(append(3)))._tag).toBe("ConcurrencyConflict")
    expect((await store.events.readStream("s")).map((e) => e.version)).toEqual([1, 2, 3, 4])
  })

  it("SPI: of two appends with the same expected version exactly one wins; the other is a ConcurrencyConflict", async () => {
    const store = memoryStore()
    await store.events.append({ streamId: "s", expectedVersion: "no_stream", events: [newEvent()] })
    const outcomes = await Promise.allSettled([
      store.events.append({ streamId: "s", expectedVersion: 1, events: [newEvent({ writer: 1 })] }),
      store.events.append({ streamId: "s", expectedVersion: 1, events: [newEvent({ writer: 2 })] }),
    ])
    expect(outcomes.map((o) => o.status).sort()).toEqual(["fulfilled", "rejected"])
    const failure = outcomes.find((o) => o.status === "rejected")
    expect(failure?.reason).toBeInstanceOf(ConcurrencyConflict)
    expect(failure?.reason).toMatchObject({
      _tag: "ConcurrencyConflict",
      streamId: "s",
      expected: 1,
      actual: 2,
    })
    expect(await store.events.readStream("s")).toHaveLength(2)
  })

  it("SPI: 20 concurrent appends with no_stream to one new stream: exactly one wins", async () => {
    const store = memoryStore()
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, writer) =>
        store.events.append({
          streamId: "new",
          expectedVersion: "no_stream",
          events: [newEvent({ writer })],
        }),
      ),
    )
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1)
    for (const o of outcomes.filter((o) => o.status === "rejected"))
      expect(o.reason).toMatchObject({
        _tag: "ConcurrencyConflict",
        streamId: "new",
        expected: "no_stream",
        actual: 1,
      })
    expect(await store.events.readStream("new")).toHaveLength(1)
  })

  it("SPI: a rejected append leaves no gap in versions or global positions", async () => {
    const store = memoryStore()
    await store.events.append({ streamId: "s", expectedVersion: "no_stream", events: [newEvent()] })
    await rejection(
      store.events.append({ streamId: "s", expectedVersion: 0, events: [newEvent(), newEvent()] }),
    )
    await rejection(
      store.events.append({ streamId: "t", expectedVersion: "stream_exists", events: [newEvent()] }),
    )
    expect(await store.events.append({ streamId: "s", expectedVersion: 1, events: [newEvent()] })).toEqual({
      version: 2,
      position: 2,
    })
    expect(
      await store.events.append({ streamId: "t", expectedVersion: "no_stream", events: [newEvent()] }),
    ).toEqual({
      version: 1,
      position: 3,
    })
    expect((await wholeLog(store)).map((e) => e.position)).toEqual([1, 2, 3])
  })

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

  it("SPI: the directory update is applied with the append; a conflicting append changes neither log nor row", async () => {
    const store = memoryStore()
    await store.events.append({
      streamId: "member-m1",
      expectedVersion: "no_stream",
      events: [newEvent()],
      directory: { member: memberRow("m1", { version: 1, name: "Anna" }) },
    })
    expect(await store.directory.get("m1")).toMatchObject({ name: "Anna", version: 1 })
    const conflict = await rejection(
      store.events.append({
        streamId: "member-m1",
        expectedVersion: "no_stream",
        events: [newEvent()],
        directory: {
          member: memberRow("m1", { version: 1, name: "Mallory" }),
          messages: [{ messageId: "msg-1", memberId: "m1", tenantId: "t1", sentAt: 5 }],
        },
      }),
    )
    expect(conflict._tag).toBe("ConcurrencyConflict")
    expect(await store.directory.get("m1")).toMatchObject({ name: "Anna", version: 1 })
    expect(await store.directory.messageOwner("msg-1")).toBeUndefined()
    expect(await wholeLog(store)).toHaveLength(1)
  })

  it("SPI: an append of zero events still checks the version and applies the directory update", async () => {
    const store = memoryStore()
    await store.events.append({ streamId: "member-m1", expectedVersion: "no_stream", events: [newEvent()] })
    const refused = await rejection(
      store.events.append({
        streamId: "member-m1",
        expectedVersion: 0,
        events: [],
        directory: { member: memberRow("m1", { name: "Stale" }) },
      }),
    )
    expect(refused).toMatchObject({ _tag: "ConcurrencyConflict", expected: 0, actual: 1 })
    expect(await store.directory.get("m1")).toBeUndefined()
    const result = await store.events.append({
      streamId: "member-m1",
      expectedVersion: 1,
      events: [],
      directory: { member: memberRow("m1", { name: "Fresh", version: 1 }) },
    })
    expect(result).toEqual({ version: 1, position: 0 })
    expect(await store.directory.get("m1")).toMatchObject({ name: "Fresh" })
    expect(await wholeLog(store)).toHaveLength(1)
  })

  it("SPI: readStream starts at fromVersion (default 1); an unknown stream is empty", async () => {
    const store = memoryStore()
    await store.events.append({
      streamId: "s",
      expectedVersion: "no_stream",
      events: [1, 2, 3, 4].map((n) => newEvent({ n })),
    })
    expect((await store.events.readStream("s")).map((e) => e.version)).toEqual([1, 2, 3, 4])
    expect((await store.events.readStream("s", { fromVersion: 3 })).map((e) => e.version)).toEqual([3, 4])
    expect((await store.events.readStream("s", { fromVersion: 0 })).map((e) => e.version)).toEqual([
      1, 2, 3, 4,
    ])
    expect(await store.events.readStream("s", { fromVersion: 5 })).toEqual([])
    expect(await store.events.readStream("unknown")).toEqual([])
  })

  it("SPI: readAll pages: next is the last position returned (or after), done when nothing follows", async () => {
    const store = memoryStore()
    expect(await store.events.readAll()).toEqual({ events: [], next: 0, done: true })
    await store.events.append({
      streamId: "s",
      expectedVersion: "any",
      events: [1, 2, 3, 4, 5].map((n) => newEvent({ n })),
    })
    const first = await store.events.readAll({ limit: 2 })
    expect(first.events.map((e) => e.position)).toEqual([1, 2])
    expect(first).toMatchObject({ next: 2, done: false })
    const second = await store.events.readAll({ after: first.next, limit: 3 })
    expect(second.events.map((e) => e.position)).toEqual([3, 4, 5])
    expect(second).toMatchObject({ next: 5, done: true })
    expect(await store.events.readAll({ after: 5 })).toEqual({ events: [], next: 5, done: true })
    expect(await store.events.readAll({ after: 9 })).toEqual({ events: [], next: 9, done: true })
    expect((await store.events.readAll()).events).toHaveLength(5)
  })

  it("SPI: readAll refuses a limit that is not a positive integer", async () => {
    const store = memoryStore()
    for (const limit of [0, -1, 1.5, Number.POSITIVE_INFINITY])
      expect(await rejection(store.events.readAll({ limit }))).toMatchObject({
        _tag: "StoreError",
        operation: "events.readAll",
      })
  })

  it("SPI: neither what was appended nor what was read can change the stored events", async () => {
    const store = memoryStore()
    const data = { name: { first: "Anna" }, tags: ["a"] }
    const meta = { actor: "staff:a", source: "test", tenantId: "t1", correlationId: "c" }
    await store.events.append({
      streamId: "s",
      expectedVersion: "no_stream",
      events: [{ ...newEvent(data), metadata: meta }],
    })
    data.name.first = "Mallory"
    data.tags.push("b")
    meta.actor = "staff:mallory"

    const tamper = (target: unknown) => {
      const event = target as {
        data: { name: { first: string }; tags: Array<string> }
        metadata: { actor: string }
      }
      for (const change of [
        () => {
          event.data.name.first = "Eve"
        },
        () => event.data.tags.push("c"),
        () => {
          event.metadata.actor = "staff:eve"
        },
      ])
        try {
          change()
        } catch {
          // A frozen object refuses the change; what matters is that the store is unchanged.
        }
    }
    const [read] = await store.events.readStream("s")
    tamper(read)
    const [paged] = (await store.events.readAll()).events
    tamper(paged)

    const [stored] = await store.events.readStream("s")
    expect(stored?.data).toEqual({ name: { first: "Anna" }, tags: ["a"] })
    expect(stored?.metadata.actor).toBe("staff:a")
  })

  it("SPI: redact replaces only the sealed values under the listed key ids and returns their count", async () => {
    const store = memoryStore()
    await store.events.append({
      streamId: "s",
      expectedVersion: "no_stream",
      events: [
        newEvent({
          email: sealed("k-contact", "contact", "d1"),
          name: sealed("k-identity", "identity", "d2"),
        }),
        newEvent({
          nested: { list: [sealed("k-contact", "contact", "d3"), "plain", { deeper: sealed("k-health") }] },
        }),
        newEvent({ amount: 5 }),
      ],
    })
    await store.events.append({
      streamId: "other",
      expectedVersion: "no_stream",
      events: [newEvent({ v: sealed("k-contact") })],
    })

    expect(await store.events.redact("s", ["k-contact", "k-unknown"])).toBe(2)
    const [first, second, third] = await store.events.readStream("s")
    expect(first?.data).toEqual({
      email: { _tag: "Erased", category: "contact", digest: "d1" },
      name: sealed("k-identity", "identity", "d2"),
    })
    expect(second?.data).toEqual({
      nested: {
        list: [
          { _tag: "Erased", category: "contact", digest: "d3" },
          "plain",
          { deeper: sealed("k-health") },
        ],
      },
    })
    expect(third?.data).toEqual({ amount: 5 })
    expect((await store.events.readStream("other"))[0]?.data).toEqual({ v: sealed("k-contact") })
    expect(await store.events.redact("s", ["k-contact"])).toBe(0)
    expect(await store.events.redact("s", [])).toBe(0)
    expect(await store.events.redact("unknown", ["k-contact"])).toBe(0)
  })

  it("SPI: redact keeps positions, versions and the hash chain (which commits to digests)", async () => {
    const store = memoryStore()
    const events = chainedEvents("s", [
      { email: sealed("k1") },
      { n: 1 },
      { phone: sealed("k1", "contact", "d9") },
    ])
    await store.events.append({ streamId: "s", expectedVersion: "no_stream", events })
    const before = await store.events.readStream("s")
    expect(await store.events.redact("s", ["k1"])).toBe(2)
    const after = await store.events.readStream("s")
    expect(after.map((e) => [e.position, e.version, e.hash])).toEqual(
      before.map((e) => [e.position, e.version, e.hash]),
    )
    expect(verifyStream("s", after)).toMatchObject({ ok: true, length: 3 })
    expect((await store.events.readAll()).events.map((e) => e.data)).toEqual(after.map((e) => e.data))
  })
})
