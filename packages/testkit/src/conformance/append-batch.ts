/**
 * Conformance of `EventStore.appendBatch`, the optional part of the event
 * store: several appends in one transaction, all of them or none. Each
 * request is checked as `append` checks it (version, then e-mail, then keys)
 * and sees the requests before it; the first refusal rejects the batch with
 * that request's error and writes nothing, not even a gap in the positions.
 * The property case compares a batch with the same requests appended one by
 * one.
 *
 * An adapter without `appendBatch` passes nothing here: every case is skipped
 * when it runs, with the reason `noAppendBatchReason`.
 *
 * @module
 */

import type { LetheStore } from "@lethe/core"
import type {
  AppendRequest,
  AppendResult,
  EventStore,
  ExpectedVersion,
  KeyEntry,
  MemberRow,
  StoredEvent,
} from "@lethe/core/spi"
import fc from "fast-check"
import { expect } from "vitest"
import { appendFor, eventsOf, memberRow, newEvent, rejection, storedKey, wholeLog } from "../fixtures.js"
import type { CaseContext, CaseGroup } from "./case.js"
import { expectNothingOf, expectRejection } from "./helpers.js"

/** The reason the `append-batch/*` cases give when they skip an adapter without `appendBatch`. */
export const noAppendBatchReason = "no appendBatch (an optional part of the SPI)"

type AppendBatch = NonNullable<EventStore["appendBatch"]>

/** The store's `appendBatch`; ends the case as skipped when the adapter has none. */
const appendBatchOf = (store: LetheStore, skip: CaseContext["skip"]): AppendBatch => {
  const appendBatch = store.events.appendBatch
  return appendBatch === undefined ? skip(noAppendBatchReason) : appendBatch.bind(store.events)
}

/** Opens a fresh store, runs `use` with it and its `appendBatch`, and closes it; skipped without one. */
const withBatch = <A>(
  { withStore, skip }: CaseContext,
  use: (store: LetheStore, appendBatch: AppendBatch) => Promise<A>,
): Promise<A> => withStore((store) => use(store, appendBatchOf(store, skip)))

/** What a batch changes: the log, and the rows and keys of `memberIds` and `keyIds`. */
const contents = async (
  store: LetheStore,
  memberIds: ReadonlyArray<string>,
  keyIds: ReadonlyArray<string>,
): Promise<{
  readonly log: ReadonlyArray<StoredEvent>
  readonly rows: ReadonlyArray<MemberRow | undefined>
  readonly keys: ReadonlyArray<KeyEntry | undefined>
}> => ({
  log: await wholeLog(store),
  rows: await Promise.all(memberIds.map((id) => store.directory.get(id))),
  keys: await Promise.all(keyIds.map((id) => store.keys.get(id))),
})

/** The fields of a refusal the property compares: its tag and the data Lethe's errors carry. */
const refusalOf = (error: unknown): Readonly<Record<string, unknown>> => {
  const fields = (typeof error === "object" && error !== null ? error : { thrown: error }) as Record<
    string,
    unknown
  >
  return Object.fromEntries(
    ["_tag", "streamId", "expected", "actual", "tenantId", "memberId", "keyId", "thrown"]
      .filter((field) => fields[field] !== undefined)
      .map((field) => [field, fields[field]]),
  )
}

/** Members, e-mail keys and key ids the property's requests draw from: few, so they collide. */
const members = ["a", "b", "c"] as const
const emailKeys = ["e1", "e2"] as const
const keyIds = ["k1", "k2", "k3"] as const

/**
 * An append request as the core could send it, over `members`: mostly one
 * that lands (expecting "any", the member's own e-mail key, fresh key ids),
 * sometimes one that collides with what is stored or with an earlier request
 * (an exact version, a shared e-mail key, a shared key id).
 */
const request: fc.Arbitrary<AppendRequest> = fc
  .record({
    member: fc.constantFrom(...members),
    expectedVersion: fc.oneof(
      { weight: 8, arbitrary: fc.constant<ExpectedVersion>("any") },
      fc.constantFrom<ExpectedVersion>("no_stream", "stream_exists"),
      fc.integer({ min: 0, max: 3 }),
    ),
    events: fc.integer({ min: 0, max: 2 }),
    emailKey: fc.option(fc.oneof(fc.constant("own"), fc.constantFrom<string | null>(null, ...emailKeys)), {
      nil: undefined,
    }),
    keys: fc.array(fc.oneof({ weight: 4, arbitrary: fc.constant("fresh") }, fc.constantFrom(...keyIds)), {
      maxLength: 2,
    }),
    tag: fc.nat({ max: 1_000_000 }),
  })
  .map(({ member, expectedVersion, events, emailKey, keys, tag }) => ({
    streamId: `member-${member}`,
    expectedVersion,
    events: eventsOf(`${member}-${tag}`, events),
    ...(emailKey === undefined
      ? {}
      : { directory: { member: memberRow(member, emailKey === "own" ? {} : { emailKey }) } }),
    keys: keys.map((keyId, j) =>
      storedKey(keyId === "fresh" ? `k-${member}-${tag}-${j}` : keyId, { memberId: member }),
    ),
  }))

/** Append-batch cases, by stable name. */
export const appendBatchCases = {
  "append-batch/lands": {
    title:
      "a batch appends to every stream it names: versions contiguous per stream, positions increasing in request order, results in request order",
    run: async (context) =>
      withBatch(context, async (store, appendBatch) => {
        await store.events.append({
          streamId: "old",
          expectedVersion: "no_stream",
          events: eventsOf("old", 2),
        })
        const results = await appendBatch([
          { streamId: "s1", expectedVersion: "no_stream", events: eventsOf("s1", 2) },
          { streamId: "old", expectedVersion: 2, events: eventsOf("old-more", 1) },
          { streamId: "s2", expectedVersion: "no_stream", events: eventsOf("s2", 3) },
          // A stream an earlier request of the batch created is at the version that request left.
          { streamId: "s1", expectedVersion: 2, events: eventsOf("s1-more", 1) },
          { streamId: "s3", expectedVersion: "any", events: [] },
        ])
        expect(results).toEqual([
          { version: 2, position: 4 },
          { version: 3, position: 5 },
          { version: 3, position: 8 },
          { version: 3, position: 9 },
          { version: 0, position: 0 },
        ])
        const log = await wholeLog(store)
        expect(log.map((e) => [e.streamId, e.version, e.position, e.data])).toEqual([
          ["old", 1, 1, { tag: "old", i: 0 }],
          ["old", 2, 2, { tag: "old", i: 1 }],
          ["s1", 1, 3, { tag: "s1", i: 0 }],
          ["s1", 2, 4, { tag: "s1", i: 1 }],
          ["old", 3, 5, { tag: "old-more", i: 0 }],
          ["s2", 1, 6, { tag: "s2", i: 0 }],
          ["s2", 2, 7, { tag: "s2", i: 1 }],
          ["s2", 3, 8, { tag: "s2", i: 2 }],
          ["s1", 3, 9, { tag: "s1-more", i: 0 }],
        ])
        for (const streamId of ["old", "s1", "s2"])
          expect(await store.events.readStream(streamId)).toEqual(log.filter((e) => e.streamId === streamId))
        expect(await store.events.readStream("s3")).toEqual([])
      }),
  },

  "append-batch/rows-and-keys": {
    title: "the directory rows and the keys of every request of a batch are stored with its events",
    run: async (context) =>
      withBatch(context, async (store, appendBatch) => {
        const rows = ["m1", "m2", "m3"].map((id) => memberRow(id))
        const keys = rows.map((row) => [
          storedKey(`dk:${row.memberId}:contact`, { memberId: row.memberId }),
          storedKey(`dk:${row.memberId}:identity`, { memberId: row.memberId, category: "identity" }),
        ])
        await appendBatch(rows.map((row, i) => appendFor(row, keys[i], "no_stream")))
        for (const [i, row] of rows.entries()) {
          expect(await store.directory.get(row.memberId)).toEqual(row)
          expect(await store.directory.findByEmail("t1", `ek-${row.memberId}`)).toEqual([row])
          for (const key of keys[i] ?? [])
            expect(await store.keys.get(key.keyId)).toEqual({ _tag: "Live", key })
          expect(await store.events.readStream(`member-${row.memberId}`)).toHaveLength(1)
        }
      }),
  },

  "append-batch/all-or-nothing": {
    title:
      "a batch whose third request is refused (version, e-mail held, key live, key destroyed) rejects with that request's error, and nothing of the first two is written",
    run: async (context) =>
      withBatch(context, async (store, appendBatch) => {
        await store.events.append(appendFor(memberRow("holder", { emailKey: "held" })))
        await store.keys.put(storedKey("live"))
        await store.keys.put(storedKey("gone"))
        await store.keys.destroy("gone", 5)
        const before = await contents(store, ["holder"], ["live", "gone"])
        const first = [
          appendFor(memberRow("m1"), [storedKey("dk:m1", { memberId: "m1" })], "no_stream"),
          appendFor(memberRow("m2"), [storedKey("dk:m2", { memberId: "m2" })], "no_stream"),
        ]
        const third = (row: MemberRow, keys: ReadonlyArray<string>, expected: ExpectedVersion) =>
          appendFor(
            row,
            keys.map((keyId) => storedKey(keyId, { memberId: row.memberId })),
            expected,
          )
        const cases: ReadonlyArray<readonly [AppendRequest, string, Readonly<Record<string, unknown>>]> = [
          [
            third(memberRow("holder", { emailKey: "held" }), [], "no_stream"),
            "ConcurrencyConflict",
            { streamId: "member-holder", actual: 1 },
          ],
          [
            third(memberRow("m3", { emailKey: "held" }), ["dk:m3"], "no_stream"),
            "EmailTaken",
            { tenantId: "t1", memberId: "holder" },
          ],
          [third(memberRow("m3"), ["dk:m3", "live"], "no_stream"), "KeyExists", { keyId: "live" }],
          [third(memberRow("m3"), ["dk:m3", "gone"], "no_stream"), "KeyDestroyed", { keyId: "gone" }],
        ]
        for (const [refused, tag, fields] of cases) {
          await expectRejection(appendBatch([...first, refused]), tag, fields)
          for (const memberId of ["m1", "m2", "m3"])
            await expectNothingOf(store, memberId, [`dk:${memberId}`])
          expect(await contents(store, ["holder"], ["live", "gone"]), `after ${tag}`).toEqual(before)
        }
      }),
  },

  "append-batch/sees-earlier-requests": {
    title:
      "a request sees the ones before it in its batch: a stream, e-mail key or key id an earlier request takes is taken, and the whole batch is refused",
    run: async (context) =>
      withBatch(context, async (store, appendBatch) => {
        const cases: ReadonlyArray<
          readonly [ReadonlyArray<AppendRequest>, string, Readonly<Record<string, unknown>>]
        > = [
          [
            [
              appendFor(memberRow("m1"), [], "no_stream"),
              { ...appendFor(memberRow("m1"), [], "no_stream"), events: [newEvent(), newEvent()] },
            ],
            "ConcurrencyConflict",
            { streamId: "member-m1", actual: 1 },
          ],
          [
            [
              appendFor(memberRow("m1", { emailKey: "same" }), [], "no_stream"),
              appendFor(memberRow("m2"), [], "no_stream"),
              appendFor(memberRow("m3", { emailKey: "same" }), [], "no_stream"),
            ],
            "EmailTaken",
            { tenantId: "t1", memberId: "m1" },
          ],
          [
            [
              appendFor(memberRow("m1"), [storedKey("dk:1"), storedKey("dk:m1")], "no_stream"),
              appendFor(memberRow("m2"), [
                storedKey("dk:m2", { memberId: "m2" }),
                storedKey("dk:1", { memberId: "m2" }),
              ]),
            ],
            "KeyExists",
            { keyId: "dk:1" },
          ],
        ]
        for (const [batch, tag, fields] of cases) {
          await expectRejection(appendBatch(batch), tag, fields)
          for (const memberId of ["m1", "m2", "m3"])
            await expectNothingOf(store, memberId, [`dk:${memberId}`])
          expect(await store.keys.get("dk:1")).toBeUndefined()
          expect(await wholeLog(store)).toEqual([])
        }
        // Another tenant may use the same e-mail key in the same batch, and a member may write its row twice.
        await appendBatch([
          appendFor(memberRow("m1", { emailKey: "same" }), [], "no_stream"),
          appendFor(memberRow("m2", { emailKey: "same", tenantId: "t2" }), [], "no_stream"),
          appendFor(memberRow("m1", { emailKey: "same", name: "Renamed" }), [], 1),
        ])
        expect(await store.directory.get("m1")).toMatchObject({ name: "Renamed", emailKey: "same" })
        expect((await store.directory.findByEmail("t2", "same")).map((row) => row.memberId)).toEqual(["m2"])
      }),
  },

  "append-batch/bad-input": {
    title:
      "a batch whose last request holds a value that is not plain JSON (a function, NaN) rejects with StoreError, and nothing is written",
    run: async (context) =>
      withBatch(context, async (store, appendBatch) => {
        const first = [appendFor(memberRow("m1"), [storedKey("dk:m1")], "no_stream")]
        for (const [what, data] of [
          ["a function", { f: () => 1 }],
          ["NaN", { n: Number.NaN }],
        ] as const) {
          const last = {
            ...appendFor(memberRow("m2"), [storedKey("dk:m2", { memberId: "m2" })]),
            events: [newEvent(data)],
          }
          expect((await rejection(appendBatch([...first, last])))._tag, what).toBe("StoreError")
          await expectNothingOf(store, "m1", ["dk:m1"])
          await expectNothingOf(store, "m2", ["dk:m2"])
          expect(await wholeLog(store)).toEqual([])
        }
      }),
  },

  "append-batch/empty": {
    title: "an empty batch resolves with no results and writes nothing",
    run: async (context) =>
      withBatch(context, async (store, appendBatch) => {
        expect(await appendBatch([])).toEqual([])
        expect(await wholeLog(store)).toEqual([])
        expect(
          await store.events.append({ streamId: "s", expectedVersion: "no_stream", events: [newEvent()] }),
        ).toEqual({ version: 1, position: 1 })
      }),
  },

  "append-batch/no-gap-after-refusal": {
    title: "a refused batch leaves no gap in the positions: the next append takes the next one",
    run: async (context) =>
      withBatch(context, async (store, appendBatch) => {
        await store.events.append({ streamId: "s", expectedVersion: "no_stream", events: eventsOf("s", 1) })
        await expectRejection(
          appendBatch([
            { streamId: "a", expectedVersion: "no_stream", events: eventsOf("a", 3) },
            { streamId: "b", expectedVersion: "no_stream", events: eventsOf("b", 2) },
            { streamId: "s", expectedVersion: "no_stream", events: eventsOf("x", 1) },
          ]),
          "ConcurrencyConflict",
        )
        expect(
          await store.events.append({
            streamId: "a",
            expectedVersion: "no_stream",
            events: eventsOf("a", 1),
          }),
        ).toEqual({ version: 1, position: 2 })
        expect(
          await appendBatch([{ streamId: "b", expectedVersion: "no_stream", events: eventsOf("b", 2) }]),
        ).toEqual([{ version: 2, position: 4 }])
        expect((await wholeLog(store)).map((e) => e.position)).toEqual([1, 2, 3, 4])
      }),
  },

  "append-batch/racing-appends": {
    title:
      "a batch racing with single appends to some of its streams lands whole or not at all, and the log has no gap",
    run: async (context) =>
      withBatch(context, async (store, appendBatch) => {
        for (let round = 0; round < 5; round++) {
          const [s1, s2, s3, s4] = ["s1", "s2", "s3", "s4"].map((s) => `${s}-${round}`) as [
            string,
            string,
            string,
            string,
          ]
          const batch = appendBatch(
            [s1, s2, s3, s4].map((streamId) => ({
              streamId,
              expectedVersion: "no_stream",
              events: eventsOf("batch", 2),
            })),
          )
          const singles = [s4, s2].map((streamId) =>
            store.events.append({ streamId, expectedVersion: "no_stream", events: eventsOf("single", 1) }),
          )
          // All settled at once: a rejection nobody awaits yet would be reported as unhandled.
          const [landed, ...settled] = await Promise.allSettled<Promise<unknown>>([batch, ...singles])
          const outcomes = settled.map((outcome) => outcome.status)
          const datas = async (streamId: string) =>
            (await store.events.readStream(streamId)).map((e) => e.data)
          const batchData = eventsOf("batch", 2).map((e) => e.data)
          const singleData = eventsOf("single", 1).map((e) => e.data)
          if (landed?.status === "fulfilled") {
            for (const streamId of [s1, s2, s3, s4]) expect(await datas(streamId)).toEqual(batchData)
            expect(outcomes).toEqual(["rejected", "rejected"])
          } else {
            expect(landed?.reason).toMatchObject({ _tag: "ConcurrencyConflict" })
            for (const streamId of [s1, s3]) expect(await datas(streamId)).toEqual([])
            for (const streamId of [s2, s4]) expect(await datas(streamId)).toEqual(singleData)
            expect(outcomes).toEqual(["fulfilled", "fulfilled"])
          }
        }
        const log = await wholeLog(store)
        expect(log.map((e) => e.position)).toEqual(log.map((_, i) => i + 1))
      }),
  },

  "append-batch/same-as-one-by-one": {
    title:
      "any batch either lands as its requests appended one by one would (results, log, rows, keys), or is refused with the error of the first one refused and changes nothing",
    run: async (context) => {
      // Skips before the property, which would catch the skip as a failure.
      await withBatch(context, async () => undefined)
      const memberIds = [...members]
      await context.check(
        fc.asyncProperty(
          fc.array(request, { maxLength: 3 }),
          fc.boolean(),
          fc.array(request, { minLength: 1, maxLength: 8 }),
          async (setup, destroyK3, batch) => {
            const keys = [
              ...new Set([...setup, ...batch].flatMap((one) => (one.keys ?? []).map((k) => k.keyId))),
            ]
            /** What `setup` leaves (its refused appends skipped), and k3 destroyed if `destroyK3`. */
            const prepare = async (store: LetheStore) => {
              for (const earlier of setup) await store.events.append(earlier).catch(() => undefined)
              if (destroyK3) {
                await store.keys.put(storedKey("k3")).catch(() => undefined)
                await store.keys.destroy("k3", 7)
              }
            }
            const oneByOne = await context.withStore(async (store) => {
              await prepare(store)
              const results: Array<AppendResult> = []
              for (const one of batch) {
                const outcome = await store.events.append(one).then(
                  (result) => ({ result }),
                  (error: unknown) => ({ refused: refusalOf(error) }),
                )
                if ("refused" in outcome) return { refused: outcome.refused }
                results.push(outcome.result)
              }
              return { results, contents: await contents(store, memberIds, keys) }
            })
            await context.withStore(async (store) => {
              await prepare(store)
              const before = await contents(store, memberIds, keys)
              const appendBatch = appendBatchOf(store, context.skip)
              const outcome = await appendBatch(batch).then(
                (results) => ({ results: [...results] }),
                (error: unknown) => ({ refused: refusalOf(error) }),
              )
              if ("refused" in oneByOne) {
                expect(outcome).toEqual({ refused: oneByOne.refused })
                expect(await contents(store, memberIds, keys)).toEqual(before)
              } else {
                expect(outcome).toEqual({ results: oneByOne.results })
                expect(await contents(store, memberIds, keys)).toEqual(oneByOne.contents)
              }
            })
          },
        ),
        20,
      )
    },
  },
} satisfies CaseGroup
