/**
 * Conformance of `Directory`: rows written with their append (atomically),
 * look-ups, search, the retention queries with their exact comparisons
 * (`<` everywhere but `restoreWindowEndedBefore`, which is `<=`, as the memory
 * reference does), ordering by memberId, keyset paging, and message owners.
 *
 * @module
 */

import type { MemberStatus } from "@lethe/core"
import type { BeforeQuery, MemberRow, OpenRequest } from "@lethe/core/spi"
import fc from "fast-check"
import { expect } from "vitest"
import { eventsOf, forgottenRow, memberRow, rejection, wholeLog, writeRow, writeRows } from "../fixtures.js"
import type { CaseGroup } from "./case.js"
import { allPages, expectRejection, ids, mutable, tamper } from "./helpers.js"

/** The retention queries of `Directory`. */
export type RetentionQuery =
  | "contractsEndedBefore"
  | "inactiveSince"
  | "coldLeadsSince"
  | "restoreWindowEndedBefore"
  | "invoicesHeldSince"
  | "requestsDueBefore"

/** The documented meaning of each retention query, as a plain predicate (the memory reference's). */
export const retentionModel: Readonly<Record<RetentionQuery, (row: MemberRow, before: number) => boolean>> = {
  contractsEndedBefore: (r, before) =>
    r.status === "active" && r.contractsEndedAt !== null && r.contractsEndedAt < before,
  inactiveSince: (r, before) => r.status === "active" && r.lastActivityAt < before,
  coldLeadsSince: (r, before) => r.status === "active" && !r.customer && r.lastContactAt < before,
  restoreWindowEndedBefore: (r, before) =>
    r.status === "forgotten" && r.restorableUntil !== null && r.restorableUntil <= before,
  // Anonymized or purged (R37): the anonymization date, or the purge date when there is none.
  invoicesHeldSince: (r, before) => {
    const heldSince = r.anonymizedAt ?? r.purgedAt
    return (
      (r.status === "anonymized" || r.status === "purged") &&
      r.holdsInvoiceData &&
      heldSince !== null &&
      heldSince < before
    )
  },
  requestsDueBefore: (r, before) => r.openRequests.some((q) => q.dueBy < before),
}

/** Every retention query, in a stable order. */
export const retentionQueries: ReadonlyArray<RetentionQuery> = [
  "contractsEndedBefore",
  "inactiveSince",
  "coldLeadsSince",
  "restoreWindowEndedBefore",
  "invoicesHeldSince",
  "requestsDueBefore",
]

const request = (dueBy: number, kind: OpenRequest["kind"] = "erasure"): OpenRequest => ({
  requestId: `r${dueBy}`,
  kind,
  receivedAt: 0,
  dueBy,
})

const message = (messageId: string, memberId: string, sentAt = 7) => ({
  messageId,
  memberId,
  tenantId: "t1",
  sentAt,
})

/** A date of the paged queries' rows and bounds: few values, so that ties and bounds are hit. */
export const anyTime = fc.integer({ min: 0, max: 20 })

/**
 * Any directory row a paged query must handle: 12 ids, two tenants, every
 * status, each date set or not, open requests due at any time, and search
 * text. Shared by the cases of the directory's paged queries.
 */
export const anyDirectoryRow = fc
  .record({
    memberId: fc.constantFrom(...Array.from({ length: 12 }, (_, i) => `m${String(i).padStart(2, "0")}`)),
    tenantId: fc.constantFrom("t1", "t2"),
    status: fc.constantFrom<MemberStatus>("active", "active", "forgotten", "purged", "anonymized"),
    customer: fc.boolean(),
    lastActivityAt: anyTime,
    lastContactAt: anyTime,
    contractsEndedAt: fc.option(anyTime, { nil: null }),
    restorableUntil: fc.option(anyTime, { nil: null }),
    anonymizedAt: fc.option(anyTime, { nil: null }),
    purgedAt: fc.option(anyTime, { nil: null }),
    holdsInvoiceData: fc.boolean(),
    dues: fc.array(anyTime, { maxLength: 2 }),
    searchText: fc.option(fc.stringMatching(/^[ab ]{0,5}$/), { nil: null }),
  })
  .map(({ dues, ...fields }) =>
    memberRow(fields.memberId, {
      ...fields,
      openRequests: dues.map((dueBy, i) => ({ requestId: `r${i}`, kind: "access", receivedAt: 0, dueBy })),
    }),
  )

/** Directory cases, by stable name. */
export const directoryCases = {
  "directory/upsert": {
    title: "get returns the row last written for the member, field for field; an unknown id is undefined",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        const first = memberRow("m1", { name: "Anna", version: 1 })
        await writeRow(store, first)
        expect(await store.directory.get("m1")).toEqual(first)
        const second = memberRow("m1", {
          status: "forgotten",
          name: null,
          email: null,
          emailKey: null,
          searchText: null,
          restoreKey: "rk-1",
          restricted: true,
          customer: true,
          registeredAt: 1,
          lastActivityAt: 2,
          lastContactAt: 3,
          contractsEndedAt: 4,
          forgottenAt: 5,
          restorableUntil: 6,
          anonymizedAt: 7,
          purgedAt: 8,
          holdsInvoiceData: true,
          openRequests: [request(90, "access"), request(10)],
          version: 9,
        })
        await writeRow(store, second)
        expect(await store.directory.get("m1")).toEqual(second)
        const unicode = memberRow("m2", { name: "Łucja Żak-O'Neil 😀", searchText: "łucja żak-o'neil 😀" })
        await writeRow(store, unicode)
        expect(await store.directory.get("m2")).toEqual(unicode)
        expect(await store.directory.get("m3")).toBeUndefined()
      }),
  },

  "directory/atomic-with-append": {
    title: "the directory update lands with its append, and not at all when the append is rejected",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await store.events.append({
          streamId: "member-m1",
          expectedVersion: "no_stream",
          events: eventsOf("m1", 1),
          directory: {
            member: memberRow("m1", { version: 1, name: "Anna" }),
            messages: [message("msg-0", "m1")],
          },
        })
        expect(await store.directory.get("m1")).toMatchObject({ name: "Anna", version: 1 })
        expect(await store.directory.messageOwner("msg-0")).toEqual(message("msg-0", "m1"))
        await expectRejection(
          store.events.append({
            streamId: "member-m1",
            expectedVersion: "no_stream",
            events: eventsOf("mallory", 2),
            directory: {
              member: memberRow("m1", { version: 2, name: "Mallory" }),
              messages: [message("msg-1", "m1")],
            },
          }),
          "ConcurrencyConflict",
        )
        await expectRejection(
          store.events.append({
            streamId: "member-m2",
            expectedVersion: 3,
            events: eventsOf("m2", 1),
            directory: { member: memberRow("m2"), messages: [message("msg-2", "m2")] },
          }),
          "ConcurrencyConflict",
        )
        expect(await store.directory.get("m1")).toMatchObject({ name: "Anna", version: 1 })
        expect(await store.directory.get("m2")).toBeUndefined()
        expect(await store.directory.messageOwner("msg-1")).toBeUndefined()
        expect(await store.directory.messageOwner("msg-2")).toBeUndefined()
        expect(await store.directory.findByEmail("t1", "ek-m2")).toEqual([])
        expect(await wholeLog(store)).toHaveLength(1)
      }),
  },

  "directory/racing-writers": {
    title: "of two racing appends with their rows, the directory holds exactly the winner's row and messages",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await store.events.append({
          streamId: "member-m1",
          expectedVersion: "no_stream",
          events: eventsOf("m1", 1),
          directory: { member: memberRow("m1", { version: 1 }) },
        })
        const writer = (w: number) =>
          store.events.append({
            streamId: "member-m1",
            expectedVersion: 1,
            events: eventsOf(`w${w}`, 1),
            directory: {
              member: memberRow("m1", { version: 2, name: `Writer ${w}`, emailKey: `ek-w${w}` }),
              messages: [message(`msg-w${w}`, "m1")],
            },
          })
        const outcomes = await Promise.allSettled([writer(0), writer(1), writer(2)])
        const won = outcomes.flatMap((o, w) => (o.status === "fulfilled" ? [w] : []))
        expect(won).toHaveLength(1)
        const w = won[0]
        expect(await store.directory.get("m1")).toMatchObject({ name: `Writer ${w}`, version: 2 })
        for (const other of [0, 1, 2]) {
          expect(await store.directory.messageOwner(`msg-w${other}`)).toEqual(
            other === w ? message(`msg-w${other}`, "m1") : undefined,
          )
          expect(ids(await store.directory.findByEmail("t1", `ek-w${other}`))).toEqual(
            other === w ? ["m1"] : [],
          )
        }
      }),
  },

  "directory/empty-append-row": {
    title: "an append of zero events still applies its directory update, after the version check",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await store.events.append({
          streamId: "member-m1",
          expectedVersion: "no_stream",
          events: eventsOf("m1", 1),
        })
        await expectRejection(
          store.events.append({
            streamId: "member-m1",
            expectedVersion: 0,
            events: [],
            directory: { member: memberRow("m1", { name: "Stale" }) },
          }),
          "ConcurrencyConflict",
        )
        expect(await store.directory.get("m1")).toBeUndefined()
        expect(
          await store.events.append({
            streamId: "member-m1",
            expectedVersion: 1,
            events: [],
            directory: { member: memberRow("m1", { name: "Fresh", version: 1 }) },
          }),
        ).toEqual({ version: 1, position: 0 })
        expect(await store.directory.get("m1")).toMatchObject({ name: "Fresh" })
        expect(await wholeLog(store)).toHaveLength(1)
      }),
  },

  "directory/isolation": {
    title: "rows returned are copies: changing them, or the row written, changes nothing stored",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        const written = { ...memberRow("m1", { openRequests: [request(5)] }) }
        const requests = written.openRequests as Array<OpenRequest>
        await writeRow(store, written)
        written.name = "Tampered"
        requests.push(request(6))
        const attack = (rows: ReadonlyArray<MemberRow | undefined>) => {
          for (const row of rows)
            tamper([
              () => {
                mutable(row).name = "Tampered"
              },
              () => (mutable(row).openRequests as Array<unknown>).push("junk"),
            ])
        }
        attack([await store.directory.get("m1")])
        attack(await store.directory.findByEmail("t1", "ek-m1"))
        attack(await store.directory.search("t1", "m1", { limit: 5 }))
        attack(await store.directory.requestsDueBefore({ before: 10, limit: 5 }))
        const stored = await store.directory.get("m1")
        expect(stored?.name).toBe("Name m1")
        expect(stored?.openRequests).toEqual([request(5)])
      }),
  },

  "directory/find-by-email": {
    title: "findByEmail finds the active member of the tenant holding the e-mail key, and no other",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await writeRows(store, [
          memberRow("m2", { emailKey: "shared" }),
          memberRow("m3", { emailKey: "shared", tenantId: "t2" }),
          forgottenRow("m4", { emailKey: "shared", tenantId: "t3" }),
          memberRow("m5", { emailKey: "other" }),
          memberRow("m6", { emailKey: "shared", status: "anonymized", tenantId: "t4" }),
          memberRow("m7", { emailKey: "shared", status: "purged", tenantId: "t5" }),
        ])
        const found = await store.directory.findByEmail("t1", "shared")
        expect(found).toEqual([memberRow("m2", { emailKey: "shared" })])
        expect(ids(await store.directory.findByEmail("t2", "shared"))).toEqual(["m3"])
        for (const tenant of ["t3", "t4", "t5", "t6"])
          expect(await store.directory.findByEmail(tenant, "shared")).toEqual([])
        expect(await store.directory.findByEmail("t1", "nobody")).toEqual([])
        expect(await store.directory.findByEmail("t1", "SHARED")).toEqual([])
      }),
  },

  "directory/find-by-email-follows-row": {
    title: "findByEmail follows the row: a changed key or a forgotten member is no longer found",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await writeRow(store, memberRow("m1", { emailKey: "old" }))
        await writeRow(store, memberRow("m1", { emailKey: "new" }))
        expect(await store.directory.findByEmail("t1", "old")).toEqual([])
        expect(ids(await store.directory.findByEmail("t1", "new"))).toEqual(["m1"])
        await writeRow(store, forgottenRow("m1", { restoreKey: "new" }))
        expect(await store.directory.findByEmail("t1", "new")).toEqual([])
        expect(ids(await store.directory.findRestorable("t1", "new"))).toEqual(["m1"])
        await writeRow(store, memberRow("m1", { emailKey: "new" }))
        expect(ids(await store.directory.findByEmail("t1", "new"))).toEqual(["m1"])
        expect(await store.directory.findRestorable("t1", "new")).toEqual([])
      }),
  },

  "directory/find-restorable": {
    title: "findRestorable finds forgotten members of the tenant by restore key only, in memberId order",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await writeRows(store, [
          forgottenRow("m9", { restoreKey: "rk" }),
          forgottenRow("m1", { restoreKey: "rk" }),
          forgottenRow("m2", { restoreKey: "rk", tenantId: "t2" }),
          memberRow("m3", { restoreKey: "rk" }),
          memberRow("m4", { status: "purged", restoreKey: "rk" }),
          forgottenRow("m5", { restoreKey: null, emailKey: "rk" }),
        ])
        expect(ids(await store.directory.findRestorable("t1", "rk"))).toEqual(["m1", "m9"])
        expect(ids(await store.directory.findRestorable("t2", "rk"))).toEqual(["m2"])
        expect(await store.directory.findRestorable("t1", "other")).toEqual([])
      }),
  },

  "directory/search": {
    title: "search finds active members of the tenant whose searchText contains the text, paged by memberId",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await writeRows(store, [
          memberRow("m3", { searchText: "anna berg anna@x.org" }),
          memberRow("m1", { searchText: "hanna lind h@x.org" }),
          memberRow("m2", { searchText: "bob stone b@x.org" }),
          memberRow("m4", { searchText: "anna other", tenantId: "t2" }),
          forgottenRow("m5", { searchText: "anna forgotten" }),
          memberRow("m6", { searchText: "joanna k" }),
          memberRow("m7", { searchText: null }),
        ])
        const search = (text: string, limit: number, after?: string) =>
          store.directory.search("t1", text, { limit, ...(after === undefined ? {} : { after }) })
        expect(ids(await search("anna", 10))).toEqual(["m1", "m3", "m6"])
        expect(ids(await search("anna", 2))).toEqual(["m1", "m3"])
        expect(ids(await search("anna", 2, "m3"))).toEqual(["m6"])
        expect(ids(await search("anna", 2, "m2"))).toEqual(["m3", "m6"])
        expect(ids(await search("b@x.o", 10))).toEqual(["m2"])
        expect(ids(await store.directory.search("t2", "anna", { limit: 10 }))).toEqual(["m4"])
        expect(await search("zelda", 10)).toEqual([])
      }),
  },

  "directory/search-literal": {
    title: "search matches the text literally: %, _, \\ and quotes are no wildcards or escapes",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await writeRows(store, [
          memberRow("m1", { searchText: "50% off_sale a\\b o'neil" }),
          memberRow("m2", { searchText: "50x offxsale ab oneil" }),
          memberRow("m3", { searchText: "łucja żak 😀" }),
        ])
        const search = async (text: string) => ids(await store.directory.search("t1", text, { limit: 10 }))
        expect(await search("%")).toEqual(["m1"])
        expect(await search("50% o")).toEqual(["m1"])
        expect(await search("_")).toEqual(["m1"])
        expect(await search("f_s")).toEqual(["m1"])
        expect(await search("\\")).toEqual(["m1"])
        expect(await search("a\\b")).toEqual(["m1"])
        expect(await search("o'n")).toEqual(["m1"])
        expect(await search("żak")).toEqual(["m3"])
        expect(await search("😀")).toEqual(["m3"])
        expect(await search("%%")).toEqual([])
      }),
  },

  "directory/contracts-ended-before": {
    title: "contractsEndedBefore: active members whose contracts ended strictly before the date",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await writeRows(store, [
          memberRow("m1", { contractsEndedAt: 50 }),
          memberRow("m2", { contractsEndedAt: 100 }),
          memberRow("m3", { contractsEndedAt: null }),
          forgottenRow("m4", { contractsEndedAt: 10 }),
          memberRow("m5", { contractsEndedAt: 20, tenantId: "t2" }),
          memberRow("m6", { contractsEndedAt: 10, status: "anonymized" }),
        ])
        expect(ids(await store.directory.contractsEndedBefore({ before: 100, limit: 10 }))).toEqual([
          "m1",
          "m5",
        ])
        expect(
          ids(await store.directory.contractsEndedBefore({ before: 101, limit: 10, tenantId: "t1" })),
        ).toEqual(["m1", "m2"])
        expect(await store.directory.contractsEndedBefore({ before: 50, limit: 10, tenantId: "t1" })).toEqual(
          [],
        )
      }),
  },

  "directory/inactive-since": {
    title: "inactiveSince: active members whose last activity is strictly before the date",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await writeRows(store, [
          memberRow("m1", { lastActivityAt: 10 }),
          memberRow("m2", { lastActivityAt: 20 }),
          forgottenRow("m3", { lastActivityAt: 0 }),
          memberRow("m4", { lastActivityAt: 0, tenantId: "t2", customer: true }),
          memberRow("m5", { lastActivityAt: 0, status: "purged" }),
        ])
        expect(ids(await store.directory.inactiveSince({ before: 20, limit: 10 }))).toEqual(["m1", "m4"])
        expect(ids(await store.directory.inactiveSince({ before: 21, limit: 10, tenantId: "t1" }))).toEqual([
          "m1",
          "m2",
        ])
        expect(ids(await store.directory.inactiveSince({ before: 20, limit: 10, tenantId: "t2" }))).toEqual([
          "m4",
        ])
      }),
  },

  "directory/cold-leads-since": {
    title: "coldLeadsSince: active non-customers whose last contact is strictly before the date",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await writeRows(store, [
          memberRow("m1", { lastContactAt: 10 }),
          memberRow("m2", { lastContactAt: 10, customer: true }),
          memberRow("m3", { lastContactAt: 30 }),
          forgottenRow("m4", { lastContactAt: 0 }),
          memberRow("m5", { lastContactAt: 0, tenantId: "t2" }),
        ])
        expect(ids(await store.directory.coldLeadsSince({ before: 30, limit: 10 }))).toEqual(["m1", "m5"])
        expect(ids(await store.directory.coldLeadsSince({ before: 31, limit: 10, tenantId: "t1" }))).toEqual([
          "m1",
          "m3",
        ])
      }),
  },

  "directory/restore-window-ended-before": {
    title: "restoreWindowEndedBefore: forgotten members whose window ended at or before the date (<=)",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await writeRows(store, [
          forgottenRow("m1", { restorableUntil: 100 }),
          forgottenRow("m2", { restorableUntil: 101 }),
          forgottenRow("m3", { restorableUntil: null }),
          memberRow("m4", { restorableUntil: 0 }),
          memberRow("m5", { status: "purged", restorableUntil: 0 }),
          forgottenRow("m6", { restorableUntil: 5, tenantId: "t2" }),
        ])
        expect(ids(await store.directory.restoreWindowEndedBefore({ before: 100, limit: 10 }))).toEqual([
          "m1",
          "m6",
        ])
        expect(ids(await store.directory.restoreWindowEndedBefore({ before: 99, limit: 10 }))).toEqual(["m6"])
        expect(
          ids(await store.directory.restoreWindowEndedBefore({ before: 101, limit: 10, tenantId: "t1" })),
        ).toEqual(["m1", "m2"])
      }),
  },

  "directory/invoices-held-since": {
    title:
      "invoicesHeldSince: anonymized or purged members still holding invoice data, anonymized or purged strictly before the date (R37)",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        const anonymized = (memberId: string, overrides: Partial<MemberRow> = {}) =>
          memberRow(memberId, {
            status: "anonymized",
            name: null,
            email: null,
            emailKey: null,
            searchText: null,
            anonymizedAt: 50,
            holdsInvoiceData: true,
            ...overrides,
          })
        const purged = (memberId: string, overrides: Partial<MemberRow> = {}) =>
          anonymized(memberId, { status: "purged", anonymizedAt: null, purgedAt: 50, ...overrides })
        await writeRows(store, [
          anonymized("m1", { anonymizedAt: 10 }),
          anonymized("m2", { anonymizedAt: 50 }),
          anonymized("m3", { anonymizedAt: 10, holdsInvoiceData: false }),
          anonymized("m4", { anonymizedAt: null }),
          memberRow("m5", { anonymizedAt: 10, holdsInvoiceData: true }),
          forgottenRow("m6", { anonymizedAt: 10, holdsInvoiceData: true }),
          anonymized("m7", { anonymizedAt: 20, tenantId: "t2" }),
          // Purged, the invoice data kept until its retention ends (R37).
          purged("m8", { purgedAt: 30 }),
          purged("m9", { purgedAt: 50 }),
          purged("n1", { purgedAt: 10, holdsInvoiceData: false }),
          purged("n2", { purgedAt: null }),
          memberRow("n3", { purgedAt: 10, holdsInvoiceData: true }),
          forgottenRow("n4", { purgedAt: 10, holdsInvoiceData: true }),
          purged("n5", { purgedAt: 20, tenantId: "t2" }),
        ])
        expect(ids(await store.directory.invoicesHeldSince({ before: 50, limit: 10 }))).toEqual([
          "m1",
          "m7",
          "m8",
          "n5",
        ])
        expect(
          ids(await store.directory.invoicesHeldSince({ before: 51, limit: 10, tenantId: "t1" })),
        ).toEqual(["m1", "m2", "m8", "m9"])
        expect(ids(await store.directory.invoicesHeldSince({ before: 51, limit: 1, after: "m1" }))).toEqual([
          "m2",
        ])
        expect(ids(await store.directory.invoicesHeldSince({ before: 51, limit: 2, after: "m7" }))).toEqual([
          "m8",
          "m9",
        ])
        expect(ids(await store.directory.invoicesHeldSince({ before: 51, limit: 9, after: "m9" }))).toEqual([
          "n5",
        ])
        expect(
          ids(await store.directory.invoicesHeldSince({ before: 21, limit: 10, tenantId: "t2" })),
        ).toEqual(["m7", "n5"])
        expect(await store.directory.invoicesHeldSince({ before: 10, limit: 10 })).toEqual([])
        const [m8] = await store.directory.invoicesHeldSince({ before: 31, limit: 1, after: "m7" })
        expect(m8).toEqual(purged("m8", { purgedAt: 30 }))
      }),
  },

  "directory/requests-due-before": {
    title: "requestsDueBefore: members of any status with an open request due strictly before the date",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await writeRows(store, [
          memberRow("m1", { openRequests: [request(90), request(10, "access")] }),
          forgottenRow("m2", { openRequests: [request(20)] }),
          memberRow("m3", { openRequests: [request(50)] }),
          memberRow("m4", { openRequests: [] }),
          memberRow("m5", { openRequests: [request(1)], tenantId: "t2", status: "anonymized" }),
          memberRow("m6", { openRequests: [request(49)], status: "purged" }),
        ])
        expect(ids(await store.directory.requestsDueBefore({ before: 50, limit: 10 }))).toEqual([
          "m1",
          "m2",
          "m5",
          "m6",
        ])
        expect(
          ids(await store.directory.requestsDueBefore({ before: 50, limit: 10, tenantId: "t1" })),
        ).toEqual(["m1", "m2", "m6"])
        expect(ids(await store.directory.requestsDueBefore({ before: 50, limit: 1, after: "m1" }))).toEqual([
          "m2",
        ])
        const [m1] = await store.directory.requestsDueBefore({ before: 11, limit: 10 })
        expect(m1?.openRequests).toEqual([request(90), request(10, "access")])
      }),
  },

  "directory/far-times": {
    title: "times are epoch milliseconds up to Number.MAX_SAFE_INTEGER, compared as numbers",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        const year9999 = Date.UTC(9999, 11, 31)
        const year2000 = Date.UTC(2000, 0, 1)
        await writeRows(store, [
          memberRow("m1", {
            openRequests: [request(year9999)],
            contractsEndedAt: year9999,
            lastActivityAt: year9999,
          }),
          memberRow("m2", {
            openRequests: [request(year2000)],
            contractsEndedAt: year2000,
            lastActivityAt: 9,
          }),
          forgottenRow("m3", { restorableUntil: year9999 }),
        ])
        expect((await store.directory.get("m1"))?.contractsEndedAt).toBe(year9999)
        const max = Number.MAX_SAFE_INTEGER
        expect(ids(await store.directory.requestsDueBefore({ before: max, limit: 10 }))).toEqual(["m1", "m2"])
        expect(ids(await store.directory.requestsDueBefore({ before: year9999, limit: 10 }))).toEqual(["m2"])
        expect(ids(await store.directory.contractsEndedBefore({ before: max, limit: 10 }))).toEqual([
          "m1",
          "m2",
        ])
        // 10 < 9 as numbers is false; as text "10" < "9" would be true.
        expect(ids(await store.directory.inactiveSince({ before: 10, limit: 10 }))).toEqual(["m2"])
        expect(ids(await store.directory.restoreWindowEndedBefore({ before: max, limit: 10 }))).toEqual([
          "m3",
        ])
      }),
  },

  "directory/edge-pages": {
    title: "keyset paging: an unknown tenant, an `after` between ids, past the last id or empty",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await writeRows(store, [memberRow("m1"), memberRow("m3"), memberRow("m7")])
        const inactive = (page: Partial<BeforeQuery>) =>
          store.directory.inactiveSince({ before: 10, limit: 5, ...page }).then(ids)
        expect(await inactive({ tenantId: "t9" })).toEqual([])
        expect(await inactive({ after: "m7" })).toEqual([])
        expect(await inactive({ after: "m9" })).toEqual([])
        expect(await inactive({ after: "m2" })).toEqual(["m3", "m7"])
        expect(await inactive({ after: "" })).toEqual(["m1", "m3", "m7"])
        expect(await inactive({ after: "m1", limit: 1 })).toEqual(["m3"])
        expect(ids(await store.directory.search("t1", "name", { limit: 2, after: "m1" }))).toEqual([
          "m3",
          "m7",
        ])
      }),
  },

  "directory/tenant-move": {
    title: "a member whose row moves to another tenant is found under its new tenant only",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await writeRows(store, [memberRow("m1"), memberRow("m2")])
        await writeRow(store, memberRow("m1", { tenantId: "t2" }))
        const inactive = (tenantId: string) =>
          store.directory.inactiveSince({ before: 10, limit: 5, tenantId }).then(ids)
        expect(await inactive("t1")).toEqual(["m2"])
        expect(await inactive("t2")).toEqual(["m1"])
        expect(await store.directory.findByEmail("t1", "ek-m1")).toEqual([])
        expect(ids(await store.directory.findByEmail("t2", "ek-m1"))).toEqual(["m1"])
        expect(ids(await store.directory.search("t2", "name", { limit: 5 }))).toEqual(["m1"])
      }),
  },

  "directory/bad-limit": {
    title: "paged queries reject a limit that is not a positive integer with StoreError",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await writeRow(store, memberRow("m1"))
        for (const limit of [0, -1, 1.5, Number.NaN]) {
          expect(
            (await rejection(store.directory.search("t1", "m", { limit })))._tag,
            `search ${limit}`,
          ).toBe("StoreError")
          expect(
            (await rejection(store.directory.inactiveSince({ before: 10, limit })))._tag,
            `inactiveSince ${limit}`,
          ).toBe("StoreError")
        }
      }),
  },

  "directory/message-owner": {
    title: "messageOwner finds the member a message went to; the first owner of a message id stays",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        await store.events.append({
          streamId: "member-m1",
          expectedVersion: "any",
          events: [],
          directory: {
            member: memberRow("m1"),
            messages: [message("msg-1", "m1"), message("msg-2", "m1", 8)],
          },
        })
        await store.events.append({
          streamId: "member-m2",
          expectedVersion: "any",
          events: [],
          directory: { member: memberRow("m2"), messages: [message("msg-1", "m2", 9)] },
        })
        await writeRow(store, forgottenRow("m1"))
        expect(await store.directory.messageOwner("msg-1")).toEqual(message("msg-1", "m1"))
        expect(await store.directory.messageOwner("msg-2")).toEqual(message("msg-2", "m1", 8))
        expect(await store.directory.messageOwner("msg-3")).toBeUndefined()
      }),
  },

  "directory/paging-any-limit": {
    title:
      "every paged query returns, page by page for any limit, exactly its documented rows in memberId order",
    run: async ({ withStore, check }) => {
      const time = anyTime
      const row = anyDirectoryRow
      const query = fc.record({
        name: fc.constantFrom<RetentionQuery | "search">(...retentionQueries, "search"),
        before: time,
        tenantId: fc.option(fc.constantFrom("t1", "t2", "t3"), { nil: undefined }),
        text: fc.stringMatching(/^[ab]{0,2}$/),
        limit: fc.integer({ min: 1, max: 5 }),
      })
      await check(
        fc.asyncProperty(fc.array(row, { maxLength: 25 }), query, (rows, q) =>
          withStore(async (store) => {
            await writeRows(store, rows)
            const latest = new Map(rows.map((r) => [r.memberId, r]))
            const model = [...latest.values()].sort((a, b) => (a.memberId < b.memberId ? -1 : 1))
            const tenant = q.name === "search" ? (q.tenantId ?? "t1") : q.tenantId
            const inTenant = model.filter((r) => tenant === undefined || r.tenantId === tenant)
            const expected =
              q.name === "search"
                ? inTenant.filter((r) => r.status === "active" && r.searchText?.includes(q.text) === true)
                : inTenant.filter((r) => retentionModel[q.name as RetentionQuery](r, q.before))
            const actual = await allPages((page) => {
              if (q.name === "search") return store.directory.search(tenant ?? "t1", q.text, page)
              return store.directory[q.name]({
                ...page,
                before: q.before,
                ...(tenant === undefined ? {} : { tenantId: tenant }),
              })
            }, q.limit)
            expect(actual).toEqual(expected)
          }),
        ),
        25,
      )
    },
  },
} satisfies CaseGroup
