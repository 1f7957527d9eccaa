import type { BeforeQuery, LetheStore, MemberRow, MemberStatus } from "@lethe/core"
import { memoryStore } from "@lethe/store-memory"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { memberRow, rejection, writeRow } from "./fixtures.js"

const ids = (rows: ReadonlyArray<MemberRow>) => rows.map((r) => r.memberId)

const storeWith = async (rows: ReadonlyArray<MemberRow>): Promise<LetheStore> => {
  const store = memoryStore()
  for (const row of rows) await writeRow(store, row)
  return store
}

const forgotten = (memberId: string, overrides: Partial<MemberRow> = {}) =>
  memberRow(memberId, {
    status: "forgotten",
    name: null,
    email: null,
    emailKey: null,
    searchText: null,
    restoreKey: `ek-${memberId}`,
    forgottenAt: 10,
    restorableUntil: 100,
    ...overrides,
  })

type RetentionQuery =
  | "contractsEndedBefore"
  | "inactiveSince"
  | "coldLeadsSince"
  | "restoreWindowEndedBefore"
  | "requestsDueBefore"

/** The documented meaning of each retention query, as a plain predicate. */
const retentionModel: Record<RetentionQuery, (row: MemberRow, before: number) => boolean> = {
  contractsEndedBefore: (r, before) =>
    r.status === "active" && r.contractsEndedAt !== null && r.contractsEndedAt < before,
  inactiveSince: (r, before) => r.status === "active" && r.lastActivityAt < before,
  coldLeadsSince: (r, before) => r.status === "active" && !r.customer && r.lastContactAt < before,
  restoreWindowEndedBefore: (r, before) =>
    r.status === "forgotten" && r.restorableUntil !== null && r.restorableUntil <= before,
  requestsDueBefore: (r, before) => r.openRequests.some((q) => q.dueBy < before),
}
const retentionQueries = Object.keys(retentionModel) as Array<RetentionQuery>

/** Every row of a paged query, `limit` at a time. */
const allPages = async (
  fetch: (page: { limit: number; after?: string }) => Promise<ReadonlyArray<MemberRow>>,
  limit: number,
) => {
  const rows: Array<MemberRow> = []
  let after: string | undefined
  for (;;) {
    const page = await fetch({ limit, ...(after === undefined ? {} : { after }) })
    expect(page.length).toBeLessThanOrEqual(limit)
    rows.push(...page)
    if (page.length < limit) return rows
    after = page.at(-1)?.memberId
  }
}

describe("memory directory", () => {
  it("SPI: get returns the row last written for the member (upsert); unknown ids are undefined", async () => {
    const store = await storeWith([memberRow("m1", { name: "Anna", version: 1 })])
    expect(await store.directory.get("m1")).toEqual(memberRow("m1", { name: "Anna", version: 1 }))
    await writeRow(store, memberRow("m1", { name: "Anne", version: 2 }))
    expect(await store.directory.get("m1")).toEqual(memberRow("m1", { name: "Anne", version: 2 }))
    expect(await store.directory.get("m2")).toBeUndefined()
  })

  it("SPI: rows returned are copies: changing them, or the row written, changes nothing stored", async () => {
    const written = {
      ...memberRow("m1", { openRequests: [{ requestId: "r1", kind: "erasure", receivedAt: 1, dueBy: 5 }] }),
    }
    const store = await storeWith([written])
    written.name = "Tampered"
    const read = (await store.directory.get("m1")) as unknown as {
      name: string | null
      openRequests: Array<unknown>
    }
    read.name = "Tampered"
    read.openRequests.push("junk")
    const [found] = (await store.directory.findByEmail("t1", "ek-m1")) as unknown as Array<{
      name: string | null
    }>
    if (found !== undefined) found.name = "Tampered"
    for (const rows of [
      await store.directory.search("t1", "m1", { limit: 5 }),
      await store.directory.requestsDueBefore({ before: 10, limit: 5 }),
    ])
      for (const row of rows as unknown as Array<{ name: string | null }>) row.name = "Tampered"
    const stored = await store.directory.get("m1")
    expect(stored?.name).toBe("Name m1")
    expect(stored?.openRequests).toHaveLength(1)
  })

  it("SPI: findByEmail follows the row: a changed key or a forgotten member is no longer found", async () => {
    const store = await storeWith([memberRow("m1", { emailKey: "old" })])
    await writeRow(store, memberRow("m1", { emailKey: "new" }))
    expect(await store.directory.findByEmail("t1", "old")).toEqual([])
    expect(ids(await store.directory.findByEmail("t1", "new"))).toEqual(["m1"])
    await writeRow(store, forgotten("m1", { restoreKey: "new" }))
    expect(await store.directory.findByEmail("t1", "new")).toEqual([])
    expect(ids(await store.directory.findRestorable("t1", "new"))).toEqual(["m1"])
  })

  it("SPI: findRestorable finds forgotten members of the tenant by restore key only", async () => {
    const store = await storeWith([
      forgotten("m1", { restoreKey: "rk" }),
      forgotten("m2", { restoreKey: "rk", tenantId: "t2" }),
      memberRow("m3", { restoreKey: "rk" }),
      memberRow("m4", { status: "purged", restoreKey: "rk" }),
      forgotten("m5", { restoreKey: null, emailKey: "rk" }),
    ])
    expect(ids(await store.directory.findRestorable("t1", "rk"))).toEqual(["m1"])
    expect(ids(await store.directory.findRestorable("t2", "rk"))).toEqual(["m2"])
    expect(await store.directory.findRestorable("t1", "other")).toEqual([])
  })

  it("SPI: search matches active members of the tenant whose searchText contains the text, paged by memberId", async () => {
    const store = await storeWith([
      memberRow("m3", { searchText: "anna berg anna@x.org" }),
      memberRow("m1", { searchText: "hanna lind h@x.org" }),
      memberRow("m2", { searchText: "bob stone b@x.org" }),
      memberRow("m4", { searchText: "anna other", tenantId: "t2" }),
      forgotten("m5", { searchText: "anna forgotten" }),
      memberRow("m6", { searchText: "joanna k" }),
    ])
    expect(ids(await store.directory.search("t1", "anna", { limit: 10 }))).toEqual(["m1", "m3", "m6"])
    expect(ids(await store.directory.search("t1", "anna", { limit: 2 }))).toEqual(["m1", "m3"])
    expect(ids(await store.directory.search("t1", "anna", { limit: 2, after: "m3" }))).toEqual(["m6"])
    expect(ids(await store.directory.search("t1", "anna", { limit: 2, after: "m2" }))).toEqual(["m3", "m6"])
    expect(ids(await store.directory.search("t2", "anna", { limit: 10 }))).toEqual(["m4"])
    expect(await store.directory.search("t1", "zelda", { limit: 10 })).toEqual([])
  })

  it("SPI: contractsEndedBefore: active members whose contracts ended strictly before the date", async () => {
    const store = await storeWith([
      memberRow("m1", { contractsEndedAt: 50 }),
      memberRow("m2", { contractsEndedAt: 100 }),
      memberRow("m3", { contractsEndedAt: null }),
      forgotten("m4", { contractsEndedAt: 10 }),
      memberRow("m5", { contractsEndedAt: 20, tenantId: "t2" }),
    ])
    expect(ids(await store.directory.contractsEndedBefore({ before: 100, limit: 10 }))).toEqual(["m1", "m5"])
    expect(
      ids(await store.directory.contractsEndedBefore({ before: 101, limit: 10, tenantId: "t1" })),
    ).toEqual(["m1", "m2"])
  })

  it("SPI: inactiveSince: active members whose last activity is strictly before the date", async () => {
    const store = await storeWith([
      memberRow("m1", { lastActivityAt: 10 }),
      memberRow("m2", { lastActivityAt: 20 }),
      forgotten("m3", { lastActivityAt: 0 }),
      memberRow("m4", { lastActivityAt: 0, tenantId: "t2", customer: true }),
    ])
    expect(ids(await store.directory.inactiveSince({ before: 20, limit: 10 }))).toEqual(["m1", "m4"])
    expect(ids(await store.directory.inactiveSince({ before: 20, limit: 10, tenantId: "t2" }))).toEqual([
      "m4",
    ])
  })

  it("SPI: coldLeadsSince: active non-customers whose last contact is strictly before the date", async () => {
    const store = await storeWith([
      memberRow("m1", { lastContactAt: 10 }),
      memberRow("m2", { lastContactAt: 10, customer: true }),
      memberRow("m3", { lastContactAt: 30 }),
      forgotten("m4", { lastContactAt: 0 }),
      memberRow("m5", { lastContactAt: 0, tenantId: "t2" }),
    ])
    expect(ids(await store.directory.coldLeadsSince({ before: 30, limit: 10 }))).toEqual(["m1", "m5"])
    expect(ids(await store.directory.coldLeadsSince({ before: 31, limit: 10, tenantId: "t1" }))).toEqual([
      "m1",
      "m3",
    ])
  })

  it("SPI: restoreWindowEndedBefore: forgotten members whose window ended at or before the date", async () => {
    const store = await storeWith([
      forgotten("m1", { restorableUntil: 100 }),
      forgotten("m2", { restorableUntil: 101 }),
      forgotten("m3", { restorableUntil: null }),
      memberRow("m4", { restorableUntil: 0 }),
      memberRow("m5", { status: "purged", restorableUntil: 0 }),
      forgotten("m6", { restorableUntil: 5, tenantId: "t2" }),
    ])
    expect(ids(await store.directory.restoreWindowEndedBefore({ before: 100, limit: 10 }))).toEqual([
      "m1",
      "m6",
    ])
    expect(
      ids(await store.directory.restoreWindowEndedBefore({ before: 101, limit: 10, tenantId: "t1" })),
    ).toEqual(["m1", "m2"])
  })

  it("SPI: requestsDueBefore: members of any status with an open request due strictly before the date", async () => {
    const request = (dueBy: number) => ({
      requestId: `r${dueBy}`,
      kind: "erasure" as const,
      receivedAt: 0,
      dueBy,
    })
    const store = await storeWith([
      memberRow("m1", { openRequests: [request(90), request(10)] }),
      forgotten("m2", { openRequests: [request(20)] }),
      memberRow("m3", { openRequests: [request(50)] }),
      memberRow("m4", { openRequests: [] }),
      memberRow("m5", { openRequests: [request(1)], tenantId: "t2", status: "anonymized" }),
    ])
    expect(ids(await store.directory.requestsDueBefore({ before: 50, limit: 10 }))).toEqual([
      "m1",
      "m2",
      "m5",
    ])
    expect(ids(await store.directory.requestsDueBefore({ before: 50, limit: 10, tenantId: "t1" }))).toEqual([
      "m1",
      "m2",
    ])
    expect(ids(await store.directory.requestsDueBefore({ before: 50, limit: 1, after: "m1" }))).toEqual([
      "m2",
    ])
  })

  it("SPI: a tenant with no member, or an `after` past the last id, yields an empty page", async () => {
    const store = await storeWith([memberRow("m1"), memberRow("m2")])
    expect(await store.directory.inactiveSince({ before: 10, limit: 5, tenantId: "t9" })).toEqual([])
    expect(await store.directory.inactiveSince({ before: 10, limit: 5, after: "m2" })).toEqual([])
    expect(ids(await store.directory.inactiveSince({ before: 10, limit: 5, after: "" }))).toEqual([
      "m1",
      "m2",
    ])
  })

  it("SPI: a member moved to another tenant is queried under its new tenant only", async () => {
    const store = await storeWith([memberRow("m1"), memberRow("m2")])
    await writeRow(store, memberRow("m1", { tenantId: "t2" }))
    expect(ids(await store.directory.inactiveSince({ before: 10, limit: 5, tenantId: "t1" }))).toEqual(["m2"])
    expect(ids(await store.directory.inactiveSince({ before: 10, limit: 5, tenantId: "t2" }))).toEqual(["m1"])
    expect(await store.directory.findByEmail("t1", "ek-m1")).toEqual([])
    expect(ids(await store.directory.findByEmail("t2", "ek-m1"))).toEqual(["m1"])
  })

  it("SPI: paged queries refuse a limit that is not a positive integer", async () => {
    const store = await storeWith([memberRow("m1")])
    expect(await rejection(store.directory.search("t1", "m", { limit: 0 }))).toMatchObject({
      _tag: "StoreError",
      operation: "directory.search",
    })
    expect(await rejection(store.directory.inactiveSince({ before: 10, limit: -1 }))).toMatchObject({
      _tag: "StoreError",
      operation: "directory.inactiveSince",
    })
  })

  it("SPI: messageOwner finds the member a message was sent to; the first owner of a message id stays", async () => {
    const store = memoryStore()
    const sent = (messageId: string, memberId: string) => ({ messageId, memberId, tenantId: "t1", sentAt: 7 })
    await store.events.append({
      streamId: "member-m1",
      expectedVersion: "any",
      events: [],
      directory: { member: memberRow("m1"), messages: [sent("msg-1", "m1"), sent("msg-2", "m1")] },
    })
    await store.events.append({
      streamId: "member-m2",
      expectedVersion: "any",
      events: [],
      directory: { member: memberRow("m2"), messages: [sent("msg-1", "m2")] },
    })
    expect(await store.directory.messageOwner("msg-1")).toEqual(sent("msg-1", "m1"))
    expect(await store.directory.messageOwner("msg-2")).toEqual(sent("msg-2", "m1"))
    expect(await store.directory.messageOwner("msg-3")).toBeUndefined()
  })

  it("SPI: every paged query returns, page by page for any limit, exactly its documented rows in memberId order", async () => {
    const status = fc.constantFrom<MemberStatus>("active", "active", "forgotten", "purged", "anonymized")
    const time = fc.integer({ min: 0, max: 20 })
    const rowArb = fc
      .record({
        memberId: fc.constantFrom(...Array.from({ length: 12 }, (_, i) => `m${String(i).padStart(2, "0")}`)),
        tenantId: fc.constantFrom("t1", "t2"),
        status,
        customer: fc.boolean(),
        lastActivityAt: time,
        lastContactAt: time,
        contractsEndedAt: fc.option(time, { nil: null }),
        restorableUntil: fc.option(time, { nil: null }),
        dues: fc.array(time, { maxLength: 2 }),
        searchText: fc.option(fc.stringMatching(/^[ab ]{0,5}$/), { nil: null }),
      })
      .map(({ dues, ...fields }) =>
        memberRow(fields.memberId, {
          ...fields,
          openRequests: dues.map((dueBy, i) => ({
            requestId: `r${i}`,
            kind: "access",
            receivedAt: 0,
            dueBy,
          })),
        }),
      )
    const query = fc.record({
      name: fc.constantFrom<RetentionQuery | "search">(...retentionQueries, "search"),
      before: time,
      tenantId: fc.option(fc.constantFrom("t1", "t2", "t3"), { nil: undefined }),
      text: fc.stringMatching(/^[ab]{0,2}$/),
      limit: fc.integer({ min: 1, max: 5 }),
    })
    await fc.assert(
      fc.asyncProperty(fc.array(rowArb, { maxLength: 25 }), query, async (rows, q) => {
        const store = await storeWith(rows)
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
          const before: BeforeQuery = {
            ...page,
            before: q.before,
            ...(tenant === undefined ? {} : { tenantId: tenant }),
          }
          return store.directory[q.name](before)
        }, q.limit)
        expect(actual).toEqual(expected)
      }),
    )
  })
})
