import type { LetheStore, MemberStatus } from "@lethe/core"
import type { BeforeQuery, ExpectedVersion, MemberRow, Page } from "@lethe/core/spi"
import { memoryStore } from "@lethe/store-memory"
import { newEvent, sealed, storedKey } from "@lethe/testkit/fixtures"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { freshFile, open } from "./fixtures.js"

const memberIds = ["m0", "m1", "m2", "m3", "m4"] as const
const streams = ["s0", "s1", "member-m0", "member-m1"] as const
const keyIds = ["k0", "k1", "k2", "k3"] as const
const tenants = ["t1", "t2"] as const
// A small range of times, so that dates often fall on a query's bound.
const time = fc.integer({ min: 0, max: 6 })

/** Event data: plain JSON with sealed values here and there. */
const { data } = fc.letrec<{ data: unknown }>((tie) => ({
  data: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.oneof(fc.integer(), fc.string({ maxLength: 4 }), fc.boolean(), fc.constant(null)),
    fc.constantFrom(...keyIds).map((keyId) => sealed(keyId)),
    fc.array(tie("data"), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom("a", "b", "_tag", "keyId"), tie("data"), { maxKeys: 3 }),
  ),
}))

const memberRow: fc.Arbitrary<MemberRow> = fc.record({
  memberId: fc.constantFrom(...memberIds),
  tenantId: fc.constantFrom(...tenants),
  status: fc.constantFrom<MemberStatus>("active", "active", "active", "forgotten", "purged", "anonymized"),
  name: fc.option(fc.string({ maxLength: 5 }), { nil: null }),
  email: fc.option(fc.string({ maxLength: 5 }), { nil: null }),
  emailKey: fc.option(fc.constantFrom("e1", "e2"), { nil: null }),
  restoreKey: fc.option(fc.constantFrom("e1", "e2"), { nil: null }),
  searchText: fc.option(fc.stringMatching(/^[ab_%\\ ]{0,5}$/), { nil: null }),
  restricted: fc.boolean(),
  customer: fc.boolean(),
  registeredAt: time,
  lastActivityAt: time,
  lastContactAt: time,
  contractsEndedAt: fc.option(time, { nil: null }),
  forgottenAt: fc.option(time, { nil: null }),
  restorableUntil: fc.option(time, { nil: null }),
  anonymizedAt: fc.option(time, { nil: null }),
  purgedAt: fc.option(time, { nil: null }),
  holdsInvoiceData: fc.boolean(),
  openRequests: fc.array(
    fc.record({
      requestId: fc.constantFrom("r1", "r2"),
      kind: fc.constantFrom("erasure" as const, "access" as const),
      receivedAt: time,
      dueBy: time,
    }),
    { maxLength: 2 },
  ),
  version: fc.nat({ max: 9 }),
})

/** Mostly valid page sizes, now and then one the stores must refuse. */
const limit = fc.oneof({ arbitrary: fc.integer({ min: 1, max: 6 }), weight: 8 }, fc.constantFrom(0, -1, 1.5))

const page = fc.record({
  limit,
  after: fc.option(fc.constantFrom(...memberIds, "", "m2x"), { nil: undefined, freq: 2 }),
})

const retentionQueries = [
  "contractsEndedBefore",
  "inactiveSince",
  "coldLeadsSince",
  "restoreWindowEndedBefore",
  "invoicesHeldSince",
  "requestsDueBefore",
] as const

const command = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("append" as const),
      streamId: fc.constantFrom(...streams),
      // "current": the version the stream is at, so most appends succeed.
      expected: fc.oneof(
        { arbitrary: fc.constant("current" as const), weight: 3 },
        fc.constantFrom<ExpectedVersion>("no_stream", "stream_exists", "any"),
        fc.integer({ min: 0, max: 5 }),
      ),
      datas: fc.array(data, { maxLength: 3 }),
      member: fc.option(memberRow, { nil: undefined, freq: 3 }),
      messages: fc.array(
        fc.record({
          messageId: fc.constantFrom("msg-1", "msg-2", "msg-3"),
          memberId: fc.constantFrom(...memberIds),
          tenantId: fc.constantFrom(...tenants),
          sentAt: time,
        }),
        { maxLength: 2 },
      ),
    }),
  },
  fc.record({
    kind: fc.constant("readAll" as const),
    after: fc.oneof(fc.integer({ min: -1, max: 12 }), fc.constant(2.5)),
    limit,
  }),
  fc.record({
    kind: fc.constant("readStream" as const),
    streamId: fc.constantFrom(...streams),
    fromVersion: fc.oneof(fc.integer({ min: -1, max: 6 }), fc.constant(1.5)),
  }),
  fc.record({
    kind: fc.constant("redact" as const),
    streamId: fc.constantFrom(...streams),
    keyIds: fc.subarray([...keyIds]),
  }),
  fc.record({
    kind: fc.constant("putKey" as const),
    keyId: fc.constantFrom(...keyIds),
    memberId: fc.constantFrom(...memberIds),
    wrappedKey: fc.string({ maxLength: 6 }),
  }),
  fc.record({ kind: fc.constant("destroyKey" as const), keyId: fc.constantFrom(...keyIds), at: time }),
  fc.record({ kind: fc.constant("getKey" as const), keyId: fc.constantFrom(...keyIds) }),
  fc.record({ kind: fc.constant("listKeys" as const), memberId: fc.constantFrom(...memberIds) }),
  fc.record({ kind: fc.constant("get" as const), memberId: fc.constantFrom(...memberIds) }),
  fc.record({
    kind: fc.constantFrom("findByEmail" as const, "findRestorable" as const),
    tenantId: fc.constantFrom(...tenants),
    key: fc.constantFrom("e1", "e2"),
  }),
  fc.record({
    kind: fc.constant("search" as const),
    tenantId: fc.constantFrom(...tenants),
    text: fc.stringMatching(/^[ab_%\\]{0,2}$/),
    page,
  }),
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("retention" as const),
      query: fc.constantFrom(...retentionQueries),
      before: time,
      tenantId: fc.option(fc.constantFrom(...tenants, "t9"), { nil: undefined }),
      page,
    }),
  },
  fc.record({
    kind: fc.constant("messageOwner" as const),
    messageId: fc.constantFrom("msg-1", "msg-2", "msg-4"),
  }),
  fc.constant({ kind: "reopen" as const }),
)

type Command = typeof command extends fc.Arbitrary<infer C> ? C : never

const pageOf = (p: { readonly limit: number; readonly after: string | undefined }): Page => ({
  limit: p.limit,
  ...(p.after === undefined ? {} : { after: p.after }),
})

/** Runs `c` on `store`; the reopen command is the caller's. */
const run = async (store: LetheStore, c: Command, reference: LetheStore): Promise<unknown> => {
  switch (c.kind) {
    case "append":
      return store.events.append({
        streamId: c.streamId,
        expectedVersion:
          c.expected === "current" ? (await reference.events.readStream(c.streamId)).length : c.expected,
        events: c.datas.map((d) => newEvent(d)),
        ...(c.member === undefined ? {} : { directory: { member: c.member, messages: c.messages } }),
      })
    case "readAll":
      return store.events.readAll({ after: c.after, limit: c.limit })
    case "readStream":
      return store.events.readStream(c.streamId, { fromVersion: c.fromVersion })
    case "redact":
      return store.events.redact(c.streamId, c.keyIds)
    case "putKey":
      return store.keys.put(storedKey(c.keyId, { memberId: c.memberId, wrappedKey: c.wrappedKey }))
    case "destroyKey":
      return store.keys.destroy(c.keyId, c.at)
    case "getKey":
      return store.keys.get(c.keyId)
    case "listKeys":
      return store.keys.listForMember(c.memberId)
    case "get":
      return store.directory.get(c.memberId)
    case "findByEmail":
      return store.directory.findByEmail(c.tenantId, c.key)
    case "findRestorable":
      return store.directory.findRestorable(c.tenantId, c.key)
    case "search":
      return store.directory.search(c.tenantId, c.text, pageOf(c.page))
    case "retention": {
      const query: BeforeQuery = {
        ...pageOf(c.page),
        before: c.before,
        ...(c.tenantId === undefined ? {} : { tenantId: c.tenantId }),
      }
      return store.directory[c.query](query)
    }
    case "messageOwner":
      return store.directory.messageOwner(c.messageId)
    case "reopen":
      return Promise.resolve(undefined)
  }
}

/** What a call came to: its value, or its error's tag and the data callers match on. */
const outcome = (promise: Promise<unknown>) =>
  promise.then(
    (value) => ({ value }),
    (error: unknown) => {
      const e = error as Record<string, unknown>
      return {
        error: {
          _tag: e._tag,
          operation: e.operation,
          streamId: e.streamId,
          expected: e.expected,
          actual: e.actual,
          keyId: e.keyId,
        },
      }
    },
  )

/** Every row of a paged query, `limit` at a time. */
const allPages = async (fetch: (page: Page) => Promise<ReadonlyArray<MemberRow>>, limit: number) => {
  const rows: Array<MemberRow> = []
  let after: string | undefined
  // There are at most memberIds.length rows: more pages than that means paging does not advance.
  for (let pages = 0; pages <= memberIds.length; pages++) {
    const page = await fetch({ limit, ...(after === undefined ? {} : { after }) })
    rows.push(...page)
    if (page.length < limit) return rows
    after = page.at(-1)?.memberId
  }
  throw new Error(`paging does not end: ${JSON.stringify(rows.map((row) => row.memberId))}`)
}

/** Everything the store answers, read through every query, so two stores can be compared whole. */
const everything = async (store: LetheStore) => {
  const answers: Record<string, unknown> = {}
  answers.log = (await store.events.readAll({ limit: 10_000 })).events
  for (const streamId of streams) answers[`stream ${streamId}`] = await store.events.readStream(streamId)
  for (const memberId of memberIds) {
    answers[`row ${memberId}`] = await store.directory.get(memberId)
    answers[`keys ${memberId}`] = await store.keys.listForMember(memberId)
  }
  for (const keyId of keyIds) answers[`key ${keyId}`] = await store.keys.get(keyId)
  for (const messageId of ["msg-1", "msg-2", "msg-3"])
    answers[`owner ${messageId}`] = await store.directory.messageOwner(messageId)
  for (const tenantId of tenants) {
    for (const key of ["e1", "e2"]) {
      answers[`email ${tenantId} ${key}`] = await store.directory.findByEmail(tenantId, key)
      answers[`restorable ${tenantId} ${key}`] = await store.directory.findRestorable(tenantId, key)
    }
    for (const text of ["", "a", "b", "ab", "_", "%", "\\"])
      for (const limit of [1, 100])
        answers[`search ${tenantId} ${text} ${limit}`] = await allPages(
          (page) => store.directory.search(tenantId, text, page),
          limit,
        )
  }
  for (const query of retentionQueries)
    for (const before of [0, 3, 6, 7])
      for (const tenantId of [undefined, ...tenants])
        for (const limit of [1, 100])
          answers[`${query} ${before} ${tenantId} ${limit}`] = await allPages(
            (page) =>
              store.directory[query]({ ...page, before, ...(tenantId === undefined ? {} : { tenantId }) }),
            limit,
          )
  return answers
}

describe("sqlite store against the memory reference (properties)", () => {
  it("SPI: any sequence of appends, reads, redactions, key and directory calls (and reopens) gives the memory store's results", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 10, maxLength: 60, size: "max" }), async (commands) => {
        const filename = freshFile()
        const reference = memoryStore()
        let store = open(filename)
        for (const [i, c] of commands.entries()) {
          if (c.kind === "reopen") {
            await store.close()
            store = open(filename)
            continue
          }
          const actual = await outcome(run(store, c, reference))
          const expected = await outcome(run(reference, c, reference))
          expect(actual, `command ${i}: ${JSON.stringify(c)}`).toEqual(expected)
        }
        expect(await everything(store)).toEqual(await everything(reference))
        await store.close()
      }),
      { numRuns: 100 },
    )
  })
})
