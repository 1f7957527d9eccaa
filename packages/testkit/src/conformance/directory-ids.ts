/**
 * Conformance of `Directory.retentionMemberIds`, the optional page of a
 * retention query's member ids, from which a retention run plans: exactly
 * the ids of the rows the query itself returns (`directory[name](query)`),
 * in the same order, for any rows, date, tenant, `after` and limit; a limit
 * that is not a positive integer, a name that is no retention query and a
 * closed store reject with `StoreError`.
 *
 * An adapter without the method passes nothing here: every case is skipped
 * when it runs, with the reason `noRetentionIdsReason` (the core then keeps
 * the ids of the query's rows, `retentionMemberIds` in `@lethe/core/spi`).
 *
 * @module
 */
import type { LetheStore } from "@lethe/core"
import type { BeforeQuery, Directory, RetentionQueryName } from "@lethe/core/spi"
import fc from "fast-check"
import { expect } from "vitest"
import { forgottenRow, memberRow, rejection, writeRows } from "../fixtures.js"
import type { CaseContext, CaseGroup } from "./case.js"
import { anyDirectoryRow, anyTime, retentionModel, retentionQueries } from "./directory.js"
import { expectClosed, ids, pageThrough } from "./helpers.js"

/** The reason the `directory-ids/*` cases give when they skip an adapter without `retentionMemberIds`. */
export const noRetentionIdsReason = "no retentionMemberIds (an optional part of the SPI)"

/** The store's `retentionMemberIds`, bound; ends the case as skipped without it. */
const idsOf = (
  store: LetheStore,
  skip: CaseContext["skip"],
): NonNullable<Directory["retentionMemberIds"]> => {
  const { directory } = store
  return directory.retentionMemberIds === undefined
    ? skip(noRetentionIdsReason)
    : directory.retentionMemberIds.bind(directory)
}

/** Opens a fresh store and runs `use` with it and its `retentionMemberIds`; skipped without it. */
const withIds = <A>(
  { withStore, skip }: CaseContext,
  use: (store: LetheStore, retentionIds: NonNullable<Directory["retentionMemberIds"]>) => Promise<A>,
): Promise<A> => withStore((store) => use(store, idsOf(store, skip)))

// The SPI's names and the testkit's are the same six: one more on either side fails to compile
// (here, or where `retentionModel` is read by an SPI name).
const names: ReadonlyArray<RetentionQueryName> = retentionQueries

const time = anyTime

/** Any row a retention query must handle, as `directory/paging-any-limit` draws them. */
const anyRow = anyDirectoryRow

/** A retention query's parameters: also a tenant without members, an `after` between ids or past them all. */
const anyQuery = fc.record({
  name: fc.constantFrom(...names),
  before: fc.oneof(time, fc.constantFrom(Number.MAX_SAFE_INTEGER, 0.5, 10.5)),
  tenantId: fc.option(fc.constantFrom("t1", "t2", "t3"), { nil: undefined }),
  after: fc.option(fc.constantFrom("", "m", "m03", "m035", "m11", "n"), { nil: undefined }),
  limit: fc.integer({ min: 1, max: 6 }),
})

const queryOf = (q: {
  readonly before: number
  readonly tenantId: string | undefined
  readonly after: string | undefined
  readonly limit: number
}): BeforeQuery => ({
  before: q.before,
  limit: q.limit,
  ...(q.tenantId === undefined ? {} : { tenantId: q.tenantId }),
  ...(q.after === undefined ? {} : { after: q.after }),
})

/** Retention member ids, by stable name. */
export const directoryIdsCases = {
  "directory-ids/same-as-rows": {
    title:
      "for any directory and retention query, retentionMemberIds returns the ids of the query's rows, in the same order, page by page",
    run: async (context) => {
      // Skips before the property, which would catch the skip as a failure.
      await withIds(context, async () => undefined)
      await context.check(
        fc.asyncProperty(
          fc.array(anyRow, { maxLength: 25 }),
          fc.array(anyQuery, { minLength: 4, maxLength: 10 }),
          (rows, queries) =>
            withIds(context, async (store, retentionIds) => {
              await writeRows(store, rows)
              const latest = [...new Map(rows.map((r) => [r.memberId, r])).values()].sort((a, b) =>
                a.memberId < b.memberId ? -1 : 1,
              )
              for (const q of queries) {
                const query = queryOf(q)
                const what = `retentionMemberIds(${q.name}, ${JSON.stringify(query)})`
                const found = await retentionIds(q.name, query)
                expect(found, `${what}, against ${q.name}'s rows`).toEqual(
                  ids(await store.directory[q.name](query)),
                )
                // The documented rows, page by page from the start, `limit` at a time.
                const { after: _, ...fromStart } = query
                const paged = await pageThrough(
                  async (page) =>
                    (await retentionIds(q.name, { ...fromStart, ...page })).map((memberId) => ({ memberId })),
                  q.limit,
                )
                expect(
                  paged.map((p) => p.memberId),
                  `${what}, paged through`,
                ).toEqual(
                  ids(
                    latest.filter(
                      (r) =>
                        (q.tenantId === undefined || r.tenantId === q.tenantId) &&
                        retentionModel[q.name](r, q.before),
                    ),
                  ),
                )
              }
            }),
        ),
        25,
      )
    },
  },

  "directory-ids/fixed": {
    title:
      "retentionMemberIds of each query: the ids it selects, by its exact comparison, tenant and after, in memberId order",
    run: async (context) =>
      withIds(context, async (store, retentionIds) => {
        await writeRows(store, [
          memberRow("m5", { lastActivityAt: 9, contractsEndedAt: 9, lastContactAt: 9 }),
          memberRow("m1", { lastActivityAt: 10, contractsEndedAt: 10, lastContactAt: 10 }),
          memberRow("m3", { lastActivityAt: 5, customer: true, lastContactAt: 5, tenantId: "t2" }),
          forgottenRow("m2", { restorableUntil: 10 }),
          forgottenRow("m4", { restorableUntil: 11 }),
          memberRow("m6", { status: "anonymized", anonymizedAt: 3, holdsInvoiceData: true }),
          memberRow("m7", {
            status: "active",
            openRequests: [{ requestId: "r1", kind: "erasure", receivedAt: 0, dueBy: 7 }],
          }),
        ])
        const at = (name: RetentionQueryName, query: Partial<BeforeQuery> = {}) =>
          retentionIds(name, { before: 10, limit: 10, ...query })
        expect(await at("inactiveSince")).toEqual(["m3", "m5", "m7"])
        expect(await at("inactiveSince", { tenantId: "t1" })).toEqual(["m5", "m7"])
        expect(await at("inactiveSince", { after: "m3" })).toEqual(["m5", "m7"])
        expect(await at("inactiveSince", { limit: 1 })).toEqual(["m3"])
        expect(await at("contractsEndedBefore")).toEqual(["m5"])
        expect(await at("coldLeadsSince")).toEqual(["m5", "m7"])
        // `<=` here, `<` everywhere else.
        expect(await at("restoreWindowEndedBefore")).toEqual(["m2"])
        expect(await at("invoicesHeldSince")).toEqual(["m6"])
        expect(await at("requestsDueBefore")).toEqual(["m7"])
        expect(await at("requestsDueBefore", { before: 7 })).toEqual([])
        expect(await at("inactiveSince", { tenantId: "t9" })).toEqual([])
        expect(await at("inactiveSince", { after: "m7" })).toEqual([])
      }),
  },

  "directory-ids/refusals": {
    title:
      "retentionMemberIds rejects a limit that is not a positive integer, and a name that is no retention query, with StoreError",
    run: async (context) =>
      withIds(context, async (store, retentionIds) => {
        await writeRows(store, [memberRow("m1")])
        for (const limit of [0, -1, 1.5, Number.NaN])
          expect(
            (await rejection(retentionIds("inactiveSince", { before: 10, limit })))._tag,
            `${limit}`,
          ).toBe("StoreError")
        for (const name of ["search", "get", "toString", "__proto__", ""])
          expect(
            (await rejection(retentionIds(name as RetentionQueryName, { before: 10, limit: 5 })))._tag,
            name,
          ).toBe("StoreError")
      }),
  },

  "directory-ids/closed-rejects": {
    title: "retentionMemberIds on a closed store rejects with StoreError",
    run: async (context) => {
      const store = await context.open()
      const retentionIds = idsOf(store, context.skip)
      await writeRows(store, [memberRow("m1")])
      await store.close()
      await expectClosed({
        "directory.retentionMemberIds": () => retentionIds("inactiveSince", { before: 10, limit: 5 }),
      })
    },
  },
} satisfies CaseGroup
