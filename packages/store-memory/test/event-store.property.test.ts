import type { ExpectedVersion, StoredEvent } from "@lethe/core"
import { matchesExpectedVersion, readAllEvents } from "@lethe/core"
import { memoryStore } from "@lethe/store-memory"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { newEvent, sealed, wholeLog } from "./fixtures.js"

const streamIds = ["s0", "s1", "s2", "s3"] as const

/** How a generated append states its expectation, resolved against the model's current version. */
const expectation = fc.oneof(
  fc.constantFrom<ExpectedVersion>("no_stream", "stream_exists", "any"),
  fc.constant("current" as const),
  fc.integer({ min: 0, max: 6 }),
)

const appendCommand = fc.record({
  stream: fc.constantFrom(...streamIds),
  count: fc.integer({ min: 0, max: 4 }),
  expected: expectation,
})

/** Appends `counts` events spread over the streams; returns the store. */
const storeWith = async (batches: ReadonlyArray<{ stream: string; count: number }>) => {
  const store = memoryStore()
  for (const [b, { stream, count }] of batches.entries())
    await store.events.append({
      streamId: stream,
      expectedVersion: "any",
      events: Array.from({ length: count }, (_, i) => newEvent({ b, i })),
    })
  return store
}

const batches = fc.array(
  fc.record({ stream: fc.constantFrom(...streamIds), count: fc.integer({ min: 0, max: 5 }) }),
  {
    maxLength: 15,
  },
)

describe("memory event store (properties)", () => {
  it("SPI: any sequence of appends keeps versions contiguous per stream and positions gap-free in global order", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(appendCommand, { maxLength: 30 }), async (commands) => {
        const store = memoryStore()
        const model = new Map<string, Array<unknown>>()
        const modelLog: Array<{ stream: string; data: unknown }> = []
        for (const [c, command] of commands.entries()) {
          const current = model.get(command.stream)?.length ?? 0
          const expected = command.expected === "current" ? current : command.expected
          const datas = Array.from({ length: command.count }, (_, i) => ({ c, i }))
          const outcome = await store.events
            .append({
              streamId: command.stream,
              expectedVersion: expected,
              events: datas.map((d) => newEvent(d)),
            })
            .then(
              (result) => ({ ok: true as const, result }),
              (error: unknown) => ({ ok: false as const, error }),
            )
          if (matchesExpectedVersion(current, expected)) {
            expect(outcome).toEqual({
              ok: true,
              result: {
                version: current + datas.length,
                position: datas.length === 0 ? 0 : modelLog.length + datas.length,
              },
            })
            model.set(command.stream, [...(model.get(command.stream) ?? []), ...datas])
            for (const data of datas) modelLog.push({ stream: command.stream, data })
          } else {
            expect(outcome).toMatchObject({
              ok: false,
              error: { _tag: "ConcurrencyConflict", streamId: command.stream, actual: current },
            })
          }
        }
        const log = await wholeLog(store)
        expect(log.map((e) => e.position)).toEqual(modelLog.map((_, i) => i + 1))
        expect(log.map((e) => ({ stream: e.streamId, data: e.data }))).toEqual(modelLog)
        for (const stream of streamIds) {
          const events = await store.events.readStream(stream)
          expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1))
          expect(events.map((e) => e.data)).toEqual(model.get(stream) ?? [])
          expect(events).toEqual(log.filter((e) => e.streamId === stream))
        }
      }),
    )
  })

  it("SPI: concurrent appends at one expected version: exactly one wins per round, whatever their number", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 6 }),
        async (rounds) => {
          const store = memoryStore()
          for (const [round, writers] of rounds.entries()) {
            const outcomes = await Promise.allSettled(
              Array.from({ length: writers }, (_, w) =>
                store.events.append({
                  streamId: "s",
                  expectedVersion: round === 0 ? "no_stream" : round,
                  events: [newEvent({ round, w })],
                }),
              ),
            )
            expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1)
          }
          expect((await wholeLog(store)).map((e) => [e.position, e.version])).toEqual(
            rounds.map((_, i) => [i + 1, i + 1]),
          )
        },
      ),
    )
  })

  it("SPI: readAll paging visits every event exactly once, in order, for any page size and start", async () => {
    await fc.assert(
      fc.asyncProperty(
        batches,
        fc.integer({ min: 1, max: 12 }),
        fc.nat({ max: 40 }),
        async (batches, pageSize, from) => {
          const store = await storeWith(batches)
          const all = await wholeLog(store)
          const seen: Array<StoredEvent> = []
          let after = from
          for (let pages = 0; ; pages++) {
            expect(pages).toBeLessThanOrEqual(all.length + 1)
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
        },
      ),
    )
  })

  it("SPI: redact erases exactly the sealed values under the given keys, wherever they sit, and counts them", async () => {
    const keyIds = ["k0", "k1", "k2", "k3"]
    const sealedValue = fc
      .record({ keyId: fc.constantFrom(...keyIds), n: fc.nat({ max: 99 }) })
      .map(({ keyId, n }) => sealed(keyId, `cat-${n % 3}`, `digest-${n}`))
    const { tree } = fc.letrec<{ tree: unknown }>((tie) => ({
      tree: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        fc.oneof(fc.integer(), fc.string(), fc.boolean(), fc.constant(null)),
        sealedValue,
        fc.array(tie("tree"), { maxLength: 4 }),
        fc.dictionary(fc.constantFrom("a", "b", "c", "_tag", "keyId"), tie("tree"), { maxKeys: 4 }),
      ),
    }))
    /** The model: `value` with matching sealed values erased, and how many. */
    const erase = (value: unknown, keys: ReadonlySet<string>): [unknown, number] => {
      if (value === null || typeof value !== "object") return [value, 0]
      const record = value as Record<string, unknown>
      if (record._tag === "Sealed" && typeof record.keyId === "string")
        return keys.has(record.keyId)
          ? [{ _tag: "Erased", category: record.category, digest: record.digest }, 1]
          : [value, 0]
      let count = 0
      const map = (inner: unknown) => {
        const [v, n] = erase(inner, keys)
        count += n
        return v
      }
      const next = Array.isArray(value)
        ? value.map(map)
        : Object.fromEntries(Object.entries(record).map(([k, v]) => [k, map(v)]))
      return [next, count]
    }
    await fc.assert(
      fc.asyncProperty(
        fc.array(tree, { minLength: 1, maxLength: 5 }),
        fc.subarray(keyIds),
        async (datas, destroyed) => {
          const store = memoryStore()
          await store.events.append({
            streamId: "s",
            expectedVersion: "no_stream",
            events: datas.map((d) => newEvent(d)),
          })
          const keys = new Set(destroyed)
          const expected = datas.map((d) => erase(d, keys))
          const count = await store.events.redact("s", destroyed)
          expect(count).toBe(expected.reduce((sum, [, n]) => sum + n, 0))
          expect((await store.events.readStream("s")).map((e) => e.data)).toEqual(expected.map(([v]) => v))
          expect(await store.events.redact("s", destroyed)).toBe(0)
        },
      ),
    )
  })
})
