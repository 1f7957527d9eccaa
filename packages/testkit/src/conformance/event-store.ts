/**
 * Conformance of `EventStore`: per-stream versions and global positions,
 * expected-version semantics, reads and paging, copies, and `redact`.
 *
 * @module
 */

import { verifyStream } from "@lethe/core/audit"
import type { ExpectedVersion, StoredEvent } from "@lethe/core/spi"
import { matchesExpectedVersion, readAllEvents } from "@lethe/core/spi"
import fc from "fast-check"
import { expect } from "vitest"
import { chainedEvents, erased, eventsOf, newEvent, rejection, sealed, wholeLog } from "../fixtures.js"
import type { CaseGroup } from "./case.js"
import { append, expectRejection, mutable, tamper } from "./helpers.js"

const streamIds = ["s0", "s1", "s2", "s3"] as const

/** Batches of events spread over a few streams. */
const batches = fc.array(
  fc.record({ stream: fc.constantFrom(...streamIds), count: fc.integer({ min: 0, max: 5 }) }),
  { maxLength: 12 },
)

/** A JSON tree with sealed values here and there, for `redact`. */
const sealedTree = (keyIds: ReadonlyArray<string>) => {
  const sealedValue = fc
    .record({ keyId: fc.constantFrom(...keyIds), n: fc.nat({ max: 99 }) })
    .map(({ keyId, n }) => sealed(keyId, `cat-${n % 3}`, `value-${n}`))
  return fc.letrec<{ tree: unknown }>((tie) => ({
    tree: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.oneof(fc.integer(), fc.string(), fc.boolean(), fc.constant(null)),
      sealedValue,
      fc.array(tie("tree"), { maxLength: 4 }),
      fc.dictionary(fc.constantFrom("a", "b", "c", "_tag", "keyId"), tie("tree"), { maxKeys: 4 }),
    ),
  })).tree
}

/** The model of `redact`: `value` with matching sealed values erased, and how many. */
const eraseModel = (value: unknown, keys: ReadonlySet<string>): [unknown, number] => {
  if (value === null || typeof value !== "object") return [value, 0]
  const record = value as Record<string, unknown>
  if (
    record._tag === "Sealed" &&
    typeof record.keyId === "string" &&
    typeof record.category === "string" &&
    typeof record.digest === "string"
  )
    return keys.has(record.keyId)
      ? [{ _tag: "Erased", category: record.category, digest: record.digest }, 1]
      : [value, 0]
  let count = 0
  const map = (inner: unknown) => {
    const [v, n] = eraseModel(inner, keys)
    count += n
    return v
  }
  const next = Array.isArray(value)
    ? value.map(map)
    : Object.fromEntries(Object.entries(record).map(([k, v]) => [k, map(v)]))
  return [next, count]
}

/** Event store cases, by stable name. */
export const eventStoreCases = {
  "events/append-result": {
    title: "versions are 1-based and contiguous per stream, positions global from 1, as append reports them",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        expect(await append(store, "a", "no_stream", eventsOf("a", 2))).toEqual({ version: 2, position: 2 })
        expect(await append(store, "b", "no_stream", eventsOf("b", 1))).toEqual({ version: 1, position: 3 })
        expect(await append(store, "a", 2, eventsOf("a2", 1))).toEqual({ version: 3, position: 4 })
        const log = await wholeLog(store)
        expect(log.map((e) => [e.streamId, e.version, e.position])).toEqual([
          ["a", 1, 1],
          ["a", 2, 2],
          ["b", 1, 3],
          ["a", 3, 4],
        ])
        expect((await store.events.readStream("a")).map((e) => [e.version, e.position])).toEqual([
          [1, 1],
          [2, 2],
          [3, 4],
        ])
        expect((await store.events.readStream("b")).map((e) => e.data)).toEqual([{ tag: "b", i: 0 }])
      }),
  },

  "events/stored-fields": {
    title:
      "a stored event is exactly what was appended plus streamId, version and position, and its chain verifies",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        const datas = [
          { amount: 5, nested: { list: [1, "two", null, true, { deep: [] }] }, empty: {} },
          { text: "Łucja Żak — ünïcødé ✓ 😀", quote: 'it\'s "quoted"', backslash: "a\\b", newline: "a\nb" },
          { big: Number.MAX_SAFE_INTEGER, negative: -42, float: 0.1 + 0.2, zero: 0 },
        ]
        const events = chainedEvents("member-x", datas)
        await append(store, "member-x", "no_stream", events)
        const stored = await store.events.readStream("member-x")
        expect(stored).toEqual(
          events.map((event, i) => ({ ...event, streamId: "member-x", version: i + 1, position: i + 1 })),
        )
        expect(verifyStream("member-x", stored)).toMatchObject({ ok: true, length: 3 })
        expect((await store.events.readAll()).events).toEqual(stored)
      }),
  },

  "events/expect-no-stream": {
    title: 'expected version "no_stream" accepts only a stream without events',
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await append(store, "s", "no_stream", eventsOf("first", 1))
        await expectRejection(append(store, "s", "no_stream", eventsOf("second", 1)), "ConcurrencyConflict", {
          streamId: "s",
          expected: "no_stream",
          actual: 1,
        })
        expect((await store.events.readStream("s")).map((e) => e.data)).toEqual([{ tag: "first", i: 0 }])
      }),
  },

  "events/expect-stream-exists": {
    title: 'expected version "stream_exists" accepts only a stream with at least one event',
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await expectRejection(
          append(store, "s", "stream_exists", eventsOf("early", 1)),
          "ConcurrencyConflict",
          { streamId: "s", expected: "stream_exists", actual: 0 },
        )
        expect(await store.events.readStream("s")).toEqual([])
        await append(store, "s", "no_stream", eventsOf("first", 1))
        expect(await append(store, "s", "stream_exists", eventsOf("next", 2))).toEqual({
          version: 3,
          position: 3,
        })
      }),
  },

  "events/expect-any": {
    title: 'expected version "any" appends whatever the stream holds',
    run: async ({ withStore }) =>
      withStore(async (store) => {
        expect(await append(store, "s", "any", eventsOf("a", 1))).toEqual({ version: 1, position: 1 })
        expect(await append(store, "s", "any", eventsOf("b", 2))).toEqual({ version: 3, position: 3 })
        expect((await store.events.readStream("s")).map((e) => e.version)).toEqual([1, 2, 3])
      }),
  },

  "events/expect-exact": {
    title: "a numeric expected version accepts only that exact current version (0 is an empty stream)",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await expectRejection(append(store, "s", 1, eventsOf("x", 1)), "ConcurrencyConflict", {
          streamId: "s",
          expected: 1,
          actual: 0,
        })
        await append(store, "s", 0, eventsOf("a", 2))
        await expectRejection(append(store, "s", 0, eventsOf("x", 1)), "ConcurrencyConflict", {
          expected: 0,
          actual: 2,
        })
        await expectRejection(append(store, "s", 1, eventsOf("x", 1)), "ConcurrencyConflict", {
          expected: 1,
          actual: 2,
        })
        await expectRejection(append(store, "s", 3, eventsOf("x", 1)), "ConcurrencyConflict", {
          expected: 3,
          actual: 2,
        })
        expect(await append(store, "s", 2, eventsOf("b", 1))).toEqual({ version: 3, position: 3 })
        expect((await store.events.readStream("s")).map((e) => e.data)).toEqual([
          { tag: "a", i: 0 },
          { tag: "a", i: 1 },
          { tag: "b", i: 0 },
        ])
      }),
  },

  "events/empty-append": {
    title: "an append of zero events checks the version, writes no event and reports position 0",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        expect(await append(store, "s", "no_stream", [])).toEqual({ version: 0, position: 0 })
        await append(store, "s", "no_stream", eventsOf("a", 1))
        await expectRejection(append(store, "s", 0, []), "ConcurrencyConflict", { expected: 0, actual: 1 })
        expect(await append(store, "s", 1, [])).toEqual({ version: 1, position: 0 })
        expect(await append(store, "t", "stream_exists", []).catch((e: { _tag?: string }) => e._tag)).toBe(
          "ConcurrencyConflict",
        )
        expect((await wholeLog(store)).map((e) => e.position)).toEqual([1])
      }),
  },

  "events/append-sequence": {
    title: "any sequence of appends with any expectation matches a plain model of streams and log",
    run: async ({ withStore, check }) => {
      const expectation = fc.oneof(
        fc.constantFrom<ExpectedVersion | "current">("no_stream", "stream_exists", "any", "current"),
        fc.integer({ min: 0, max: 6 }),
      )
      const command = fc.record({
        stream: fc.constantFrom(...streamIds),
        count: fc.integer({ min: 0, max: 4 }),
        expected: expectation,
      })
      await check(
        fc.asyncProperty(fc.array(command, { maxLength: 25 }), (commands) =>
          withStore(async (store) => {
            const model = new Map<string, Array<unknown>>()
            const modelLog: Array<{ stream: string; data: unknown }> = []
            for (const [c, { stream, count, expected: raw }] of commands.entries()) {
              const current = model.get(stream)?.length ?? 0
              const expected = raw === "current" ? current : raw
              const datas = Array.from({ length: count }, (_, i) => ({ c, i }))
              const outcome = await store.events
                .append({
                  streamId: stream,
                  expectedVersion: expected,
                  events: datas.map((d) => newEvent(d)),
                })
                .then(
                  (result) => ({ ok: true as const, result }),
                  (error: { _tag?: string; streamId?: string }) => ({
                    ok: false as const,
                    error: { _tag: error._tag, streamId: error.streamId },
                  }),
                )
              if (matchesExpectedVersion(current, expected)) {
                expect(outcome).toEqual({
                  ok: true,
                  result: {
                    version: current + count,
                    position: count === 0 ? 0 : modelLog.length + count,
                  },
                })
                model.set(stream, [...(model.get(stream) ?? []), ...datas])
                for (const data of datas) modelLog.push({ stream, data })
              } else {
                expect(outcome).toEqual({
                  ok: false,
                  error: { _tag: "ConcurrencyConflict", streamId: stream },
                })
              }
            }
            const log = await wholeLog(store)
            expect(log.map((e) => e.position)).toEqual(modelLog.map((_, i) => i + 1))
            expect(log.map((e) => ({ stream: e.streamId, data: e.data }))).toEqual(modelLog)
            for (const stream of streamIds) {
              const events = await store.events.readStream(stream)
              expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1))
              expect(events).toEqual(log.filter((e) => e.streamId === stream))
            }
          }),
        ),
        20,
      )
    },
  },

  "events/read-stream-from": {
    title: "readStream starts at fromVersion (default 1); past the end or an unknown stream is empty",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await append(store, "s", "no_stream", eventsOf("s", 4))
        await append(store, "other", "no_stream", eventsOf("o", 2))
        const versions = async (fromVersion?: number) =>
          (await store.events.readStream("s", fromVersion === undefined ? undefined : { fromVersion })).map(
            (e) => e.version,
          )
        expect(await versions()).toEqual([1, 2, 3, 4])
        expect(await versions(1)).toEqual([1, 2, 3, 4])
        expect(await versions(3)).toEqual([3, 4])
        expect(await versions(4)).toEqual([4])
        expect(await versions(5)).toEqual([])
        expect(await store.events.readStream("unknown")).toEqual([])
      }),
  },

  "events/read-stream-sealed-under": {
    title:
      "readStream with sealedUnder returns, whole and in order, only the events holding a value sealed under one of the key ids",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await append(store, "s", "no_stream", [
          newEvent({ email: sealed("k1"), name: sealed("k2", "identity") }),
          newEvent({ kind: "visit" }),
          newEvent({ nested: [{ deeper: sealed("k2", "identity") }] }),
          newEvent({ lookalike: { _tag: "Sealed", keyId: "k1" } }),
          newEvent({ details: sealed("k3", "activity") }),
        ])
        await append(store, "other", "no_stream", [newEvent({ v: sealed("k1") })])
        const all = await store.events.readStream("s")
        const versions = async (sealedUnder: ReadonlyArray<string>, fromVersion?: number) =>
          (
            await store.events.readStream("s", {
              sealedUnder,
              ...(fromVersion === undefined ? {} : { fromVersion }),
            })
          ).map((e) => e.version)
        expect(await store.events.readStream("s", { sealedUnder: ["k2"] })).toEqual([all[0], all[2]])
        expect(await versions(["k1"])).toEqual([1])
        expect(await versions(["k1", "k3"])).toEqual([1, 5])
        expect(await versions(["k2"], 2)).toEqual([3])
        expect(await versions([])).toEqual([])
        expect(await versions(["unknown"])).toEqual([])
        await store.events.redact("s", ["k2"])
        expect(await versions(["k2"])).toEqual([])
        expect(await versions(["k1", "k2"])).toEqual([1])
      }),
  },

  "events/read-stream-sealed-under-any-shape": {
    title: "readStream with sealedUnder agrees with the model for any JSON shape, before and after redact",
    run: async ({ withStore, check }) => {
      const keyIds = ["k0", "k1", "k2", "k3"]
      await check(
        fc.asyncProperty(
          fc.array(sealedTree(keyIds), { minLength: 1, maxLength: 6 }),
          fc.subarray(keyIds),
          fc.subarray(keyIds),
          (datas, wanted, destroyed) =>
            withStore(async (store) => {
              await append(
                store,
                "s",
                "no_stream",
                datas.map((d) => newEvent(d)),
              )
              const holding = (list: ReadonlyArray<unknown>) =>
                list.flatMap((d, i) => (eraseModel(d, new Set(wanted))[1] > 0 ? [i + 1] : []))
              const read = async () =>
                (await store.events.readStream("s", { sealedUnder: wanted })).map((e) => e.version)
              expect(await read()).toEqual(holding(datas))
              await store.events.redact("s", destroyed)
              expect(await read()).toEqual(holding(datas.map((d) => eraseModel(d, new Set(destroyed))[0])))
            }),
        ),
        20,
      )
    },
  },

  "events/read-all-empty": {
    title: "readAll of an empty log is an empty, done page whose next is `after`",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        expect(await store.events.readAll()).toEqual({ events: [], next: 0, done: true })
        expect(await store.events.readAll({ after: 7, limit: 3 })).toEqual({
          events: [],
          next: 7,
          done: true,
        })
      }),
  },

  "events/read-all-pages": {
    title: "readAll: next is the last position returned (or `after`), done when nothing follows",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await append(store, "s", "any", eventsOf("s", 3))
        await append(store, "t", "any", eventsOf("t", 2))
        const first = await store.events.readAll({ limit: 2 })
        expect(first.events.map((e) => e.position)).toEqual([1, 2])
        expect(first).toMatchObject({ next: 2, done: false })
        const second = await store.events.readAll({ after: first.next, limit: 3 })
        expect(second.events.map((e) => [e.streamId, e.position])).toEqual([
          ["s", 3],
          ["t", 4],
          ["t", 5],
        ])
        expect(second).toMatchObject({ next: 5, done: true })
        expect(await store.events.readAll({ after: 5 })).toEqual({ events: [], next: 5, done: true })
        expect(await store.events.readAll({ after: 9 })).toEqual({ events: [], next: 9, done: true })
        expect((await store.events.readAll({ after: 4 })).events.map((e) => e.position)).toEqual([5])
        expect((await store.events.readAll()).events).toHaveLength(5)
      }),
  },

  "events/read-all-paging": {
    title: "readAll visits every event exactly once, in global order, for any page size and start",
    run: async ({ withStore, check }) =>
      check(
        fc.asyncProperty(
          batches,
          fc.integer({ min: 1, max: 12 }),
          fc.nat({ max: 40 }),
          (batches, pageSize, from) =>
            withStore(async (store) => {
              for (const [b, { stream, count }] of batches.entries())
                await append(store, stream, "any", eventsOf(`b${b}`, count))
              const all = await wholeLog(store)
              expect(all.map((e) => e.position)).toEqual(all.map((_, i) => i + 1))
              const seen: Array<StoredEvent> = []
              let after = from
              for (let pages = 0; ; pages++) {
                expect(pages, "readAll must reach done").toBeLessThanOrEqual(all.length + 1)
                const page = await store.events.readAll({ after, limit: pageSize })
                expect(page.events.length).toBeLessThanOrEqual(pageSize)
                expect(page.next).toBe(page.events.at(-1)?.position ?? after)
                seen.push(...page.events)
                if (page.done) break
                expect(page.events).toHaveLength(pageSize)
                after = page.next
              }
              expect(seen).toEqual(all.filter((e) => e.position > from))
              const streamed: Array<StoredEvent> = []
              for await (const event of readAllEvents(store.events, { after: from, pageSize }))
                streamed.push(event)
              expect(streamed).toEqual(seen)
            }),
        ),
        20,
      ),
  },

  "events/read-all-default-limit": {
    title: "readAll without a limit returns at most 1000 events",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await append(store, "big", "no_stream", eventsOf("big", 1001))
        const first = await store.events.readAll()
        expect(first.events).toHaveLength(1000)
        expect(first).toMatchObject({ next: 1000, done: false })
        const rest = await store.events.readAll({ after: first.next })
        expect(rest.events.map((e) => e.position)).toEqual([1001])
        expect(rest.done).toBe(true)
      }),
  },

  "events/read-all-bad-limit": {
    title: "readAll rejects a limit that is not a positive integer with StoreError",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await append(store, "s", "any", eventsOf("s", 2))
        for (const limit of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])
          expect((await rejection(store.events.readAll({ limit })))._tag, `limit ${limit}`).toBe("StoreError")
      }),
  },

  "events/input-isolation": {
    title: "changing what was appended afterwards changes nothing stored",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        const data = { name: { first: "Anna" }, tags: ["a"] }
        const meta = { actor: "staff:a", source: "test", tenantId: "t1", correlationId: "c" }
        const event = { ...newEvent(data), metadata: meta }
        await append(store, "s", "no_stream", [event])
        data.name.first = "Mallory"
        data.tags.push("b")
        meta.actor = "staff:mallory"
        mutable(event).type = "Changed"
        const [stored] = await store.events.readStream("s")
        expect(stored?.data).toEqual({ name: { first: "Anna" }, tags: ["a"] })
        expect(stored?.metadata.actor).toBe("staff:a")
        expect(stored?.type).toBe("Tested")
      }),
  },

  "events/output-isolation": {
    title: "changing an event a read returned changes nothing stored",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await append(store, "s", "no_stream", [newEvent({ name: { first: "Anna" }, tags: ["a"] })])
        const attack = (event: StoredEvent | undefined) => {
          const target = mutable(event)
          const data = mutable(target.data)
          tamper([
            () => {
              mutable(data.name).first = "Eve"
            },
            () => (data.tags as Array<string>).push("c"),
            () => {
              mutable(target.metadata).actor = "staff:eve"
            },
            () => {
              target.version = 99
            },
          ])
        }
        attack((await store.events.readStream("s"))[0])
        attack((await store.events.readAll()).events[0])
        const [stored] = await store.events.readStream("s")
        expect(stored).toMatchObject({
          version: 1,
          data: { name: { first: "Anna" }, tags: ["a"] },
          metadata: { actor: "staff:conformance" },
        })
      }),
  },

  "events/redact-listed": {
    title:
      "redact replaces only the sealed values under the listed key ids, wherever they sit, and counts them",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await append(store, "s", "no_stream", [
          newEvent({
            email: sealed("k-contact", "contact", "d1"),
            name: sealed("k-identity", "identity", "d2"),
          }),
          newEvent({
            nested: {
              list: [sealed("k-contact", "contact", "d3"), "plain", { deeper: sealed("k-health", "health") }],
            },
          }),
          newEvent({ amount: 5, lookalike: { _tag: "Sealed", keyId: "k-contact" } }),
        ])
        await append(store, "other", "no_stream", [newEvent({ v: sealed("k-contact") })])

        expect(await store.events.redact("s", ["k-contact", "k-unknown"])).toBe(2)
        const [first, second, third] = await store.events.readStream("s")
        expect(first?.data).toEqual({
          email: erased("contact", "d1"),
          name: sealed("k-identity", "identity", "d2"),
        })
        expect(second?.data).toEqual({
          nested: { list: [erased("contact", "d3"), "plain", { deeper: sealed("k-health", "health") }] },
        })
        // Not a sealed value (no category, no digest): left as it is.
        expect(third?.data).toEqual({ amount: 5, lookalike: { _tag: "Sealed", keyId: "k-contact" } })
        expect((await store.events.readStream("other"))[0]?.data).toEqual({ v: sealed("k-contact") })
        expect((await store.events.readAll()).events.map((e) => e.data)).toEqual([
          first?.data,
          second?.data,
          third?.data,
          { v: sealed("k-contact") },
        ])
      }),
  },

  "events/redact-keeps-the-rest": {
    title: "redact keeps positions, versions, type, metadata, times and hashes; the chain still verifies",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        const events = chainedEvents("s", [
          { email: sealed("k1") },
          { n: 1 },
          { phone: sealed("k1", "contact", "d9"), keep: sealed("k2") },
        ])
        await append(store, "s", "no_stream", events)
        const before = await store.events.readStream("s")
        expect(await store.events.redact("s", ["k1"])).toBe(2)
        const after = await store.events.readStream("s")
        const withoutData = (list: ReadonlyArray<StoredEvent>) => list.map(({ data: _data, ...rest }) => rest)
        expect(withoutData(after)).toEqual(withoutData(before))
        expect(after[1]?.data).toEqual({ n: 1 })
        expect(verifyStream("s", after)).toMatchObject({ ok: true, length: 3 })
      }),
  },

  "events/redact-idempotent": {
    title: "redacting again, with no key ids, or on an unknown stream replaces nothing and returns 0",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await append(store, "s", "no_stream", [newEvent({ email: sealed("k1") })])
        expect(await store.events.redact("s", ["k1"])).toBe(1)
        expect(await store.events.redact("s", ["k1"])).toBe(0)
        expect(await store.events.redact("s", [])).toBe(0)
        expect(await store.events.redact("unknown", ["k1"])).toBe(0)
        expect((await store.events.readStream("s"))[0]?.data).toEqual({ email: erased("contact", "k1") })
      }),
  },

  "events/redact-any-shape": {
    title: "redact erases exactly what the model erases, for any JSON shape and any set of key ids",
    run: async ({ withStore, check }) => {
      const keyIds = ["k0", "k1", "k2", "k3"]
      await check(
        fc.asyncProperty(
          fc.array(sealedTree(keyIds), { minLength: 1, maxLength: 5 }),
          fc.subarray(keyIds),
          (datas, destroyed) =>
            withStore(async (store) => {
              await append(
                store,
                "s",
                "no_stream",
                datas.map((d) => newEvent(d)),
              )
              const keys = new Set(destroyed)
              const expected = datas.map((d) => eraseModel(d, keys))
              expect(await store.events.redact("s", destroyed)).toBe(
                expected.reduce((sum, [, n]) => sum + n, 0),
              )
              expect((await store.events.readStream("s")).map((e) => e.data)).toEqual(
                expected.map(([v]) => v),
              )
              expect(await store.events.redact("s", destroyed)).toBe(0)
            }),
        ),
        20,
      )
    },
  },
} satisfies CaseGroup
