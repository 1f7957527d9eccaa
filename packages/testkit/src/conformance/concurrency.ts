/**
 * Conformance of optimistic concurrency: appends racing on one stream, on
 * many streams, and what a rejected append leaves behind (nothing).
 *
 * @module
 */

import type { LetheStore } from "@lethe/core"
import type { AppendResult } from "@lethe/core/spi"
import fc from "fast-check"
import { expect } from "vitest"
import { eventsOf, newEvent, wholeLog } from "../fixtures.js"
import type { CaseGroup } from "./case.js"
import { append, expectRejection } from "./helpers.js"

/** Splits settled appends into winners and losers. */
const settle = (outcomes: ReadonlyArray<PromiseSettledResult<AppendResult>>) => ({
  won: outcomes.flatMap((o, writer) => (o.status === "fulfilled" ? [{ writer, result: o.value }] : [])),
  lost: outcomes.flatMap((o, writer) =>
    o.status === "rejected" ? [{ writer, reason: o.reason as unknown }] : [],
  ),
})

/** The `_tag` and `streamId` of a rejection reason. */
const tagOf = (reason: unknown) => {
  const error = (typeof reason === "object" && reason !== null ? reason : {}) as Record<string, unknown>
  return { _tag: error._tag, streamId: error.streamId, actual: typeof error.actual }
}

/** Asserts the log holds positions 1..n without a gap and every stream holds versions 1..k. */
const expectNoGaps = async (store: LetheStore): Promise<void> => {
  const log = await wholeLog(store)
  expect(
    log.map((e) => e.position),
    "positions are 1..n without gaps",
  ).toEqual(log.map((_, i) => i + 1))
  for (const streamId of new Set(log.map((e) => e.streamId))) {
    const stream = await store.events.readStream(streamId)
    expect(
      stream.map((e) => e.version),
      `versions of ${streamId}`,
    ).toEqual(stream.map((_, i) => i + 1))
  }
}

/** Optimistic-concurrency cases, by stable name. */
export const concurrencyCases = {
  "concurrency/two-writers": {
    title:
      "two writers at the same expected version: exactly one wins, the other gets ConcurrencyConflict, nothing partial",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await append(store, "s", "no_stream", eventsOf("first", 1))
        const outcomes = await Promise.allSettled([
          append(store, "s", 1, eventsOf("writer-0", 3)),
          append(store, "s", 1, eventsOf("writer-1", 3)),
        ])
        const { won, lost } = settle(outcomes)
        expect(won, "exactly one writer wins").toHaveLength(1)
        expect(won[0]?.result).toEqual({ version: 4, position: 4 })
        expect(lost.map((l) => tagOf(l.reason))).toEqual([
          { _tag: "ConcurrencyConflict", streamId: "s", actual: "number" },
        ])
        const winner = `writer-${won[0]?.writer}`
        expect((await store.events.readStream("s")).map((e) => e.data)).toEqual([
          { tag: "first", i: 0 },
          { tag: winner, i: 0 },
          { tag: winner, i: 1 },
          { tag: winner, i: 2 },
        ])
        await expectNoGaps(store)
      }),
  },

  "concurrency/twenty-no-stream": {
    title: 'twenty parallel appends with "no_stream" to one new stream: exactly one wins',
    run: async ({ withStore }) =>
      withStore(async (store) => {
        const outcomes = await Promise.allSettled(
          Array.from({ length: 20 }, (_, writer) =>
            append(store, "new", "no_stream", eventsOf(`w${writer}`, 2)),
          ),
        )
        const { won, lost } = settle(outcomes)
        expect(won, "exactly one writer wins").toHaveLength(1)
        expect(won[0]?.result).toEqual({ version: 2, position: 2 })
        expect(lost).toHaveLength(19)
        for (const { reason } of lost)
          expect(tagOf(reason)).toEqual({ _tag: "ConcurrencyConflict", streamId: "new", actual: "number" })
        const winner = `w${won[0]?.writer}`
        expect((await store.events.readStream("new")).map((e) => e.data)).toEqual([
          { tag: winner, i: 0 },
          { tag: winner, i: 1 },
        ])
        await expectNoGaps(store)
      }),
  },

  "concurrency/rounds": {
    title:
      "rounds of concurrent writers at one expected version: exactly one wins per round, whatever their number",
    run: async ({ withStore, check }) =>
      check(
        fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 5 }), (rounds) =>
          withStore(async (store) => {
            for (const [round, writers] of rounds.entries()) {
              const outcomes = await Promise.allSettled(
                Array.from({ length: writers }, (_, w) =>
                  append(store, "s", round === 0 ? "no_stream" : round, [newEvent({ round, w })]),
                ),
              )
              const { won, lost } = settle(outcomes)
              expect(won, `round ${round}: exactly one writer wins`).toHaveLength(1)
              for (const { reason } of lost) expect(tagOf(reason)._tag).toBe("ConcurrencyConflict")
            }
            expect((await wholeLog(store)).map((e) => [e.position, e.version])).toEqual(
              rounds.map((_, i) => [i + 1, i + 1]),
            )
          }),
        ),
        15,
      ),
  },

  "concurrency/parallel-streams": {
    title: "parallel appends to different streams all succeed, with distinct gap-free positions",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        const results = await Promise.all(
          Array.from({ length: 12 }, (_, s) =>
            append(store, `stream-${s}`, "no_stream", eventsOf(`s${s}`, 2)),
          ),
        )
        expect(results.map((r) => r.version)).toEqual(results.map(() => 2))
        const positions = results.map((r) => r.position).sort((a, b) => a - b)
        expect(new Set(positions).size).toBe(12)
        const log = await wholeLog(store)
        expect(log).toHaveLength(24)
        // Each batch is contiguous in the log: its last position is the one append reported.
        for (const [s, result] of results.entries()) {
          const own = log.filter((e) => e.streamId === `stream-${s}`)
          expect(own.map((e) => e.version)).toEqual([1, 2])
          expect(own.at(-1)?.position).toBe(result.position)
        }
        await expectNoGaps(store)
      }),
  },

  "concurrency/no-gap-after-rejection": {
    title: "a rejected append leaves no gap in versions or global positions",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await append(store, "s", "no_stream", eventsOf("a", 1))
        await expectRejection(append(store, "s", 0, eventsOf("x", 3)), "ConcurrencyConflict")
        await expectRejection(append(store, "t", "stream_exists", eventsOf("x", 2)), "ConcurrencyConflict")
        await expectRejection(append(store, "s", 5, eventsOf("x", 1)), "ConcurrencyConflict")
        expect(await append(store, "s", 1, eventsOf("b", 1))).toEqual({ version: 2, position: 2 })
        expect(await append(store, "t", "no_stream", eventsOf("c", 1))).toEqual({ version: 1, position: 3 })
        expect((await wholeLog(store)).map((e) => [e.streamId, e.version, e.position])).toEqual([
          ["s", 1, 1],
          ["s", 2, 2],
          ["t", 1, 3],
        ])
      }),
  },

  "concurrency/racing-after-rejections": {
    title: "losers that retry from a fresh read all land, one after the other, without gaps",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        // What the core does on ConcurrencyConflict: read the stream again and retry.
        const writer = async (w: number): Promise<number> => {
          for (let attempt = 0; ; attempt++) {
            const current = (await store.events.readStream("s")).length
            try {
              await append(store, "s", current === 0 ? "no_stream" : current, [newEvent({ w })])
              return attempt
            } catch (error) {
              if (tagOf(error)._tag !== "ConcurrencyConflict" || attempt > 50) throw error
            }
          }
        }
        await Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)))
        const stream = await store.events.readStream("s")
        expect(stream.map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
        expect(stream.map((e) => (e.data as { w: number }).w).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
        await expectNoGaps(store)
      }),
  },
} satisfies CaseGroup
