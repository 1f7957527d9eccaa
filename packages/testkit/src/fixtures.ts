/**
 * `@lethe/testkit/fixtures`: the one set of builders for what the core hands
 * a storage adapter (events, sealed values, directory rows, data keys,
 * append requests), and two helpers that read outcomes back. The
 * conformance suite and the adapters' own tests build their inputs with
 * them. No test runner is needed: the module imports neither vitest nor
 * fast-check.
 *
 * @example
 * ```ts
 * import { memberRow, newEvent, storedKey } from "@lethe/testkit/fixtures"
 *
 * await store.events.append({
 *   streamId: "member-m1",
 *   expectedVersion: "no_stream",
 *   events: [newEvent({ n: 1 })],
 *   directory: { member: memberRow("m1", { name: "Anna" }) },
 *   keys: [storedKey("dk:m1:contact")],
 * })
 * ```
 *
 * @module
 */
import type { LetheStore } from "@lethe/core"
import { hashEvent } from "@lethe/core/audit"
import type {
  AppendRequest,
  AppendResult,
  ErasedSealedValue,
  EventMetadata,
  ExpectedVersion,
  MemberRow,
  NewEvent,
  SealedValue,
  StoredEvent,
  StoredKey,
} from "@lethe/core/spi"
import { digestOf, memberStream } from "@lethe/core/spi"

/** Metadata of every event these builders make: tenant "t1", a staff actor. */
export const metadata: EventMetadata = {
  actor: "staff:conformance",
  source: "test",
  tenantId: "t1",
  correlationId: "corr-1",
}

/**
 * An event ready to append, of `type` "Tested" unless given. Its hash is not
 * chained (stores do not check it): use `chainedEvents` where the chain must
 * verify.
 *
 * @example
 * ```ts
 * newEvent({ amount: 5 }) // { type: "Tested", data: { amount: 5 }, metadata, recordedAt: 1000, ... }
 * ```
 */
export const newEvent = (data: unknown = { n: 1 }, type = "Tested"): NewEvent => ({
  type,
  data,
  metadata,
  recordedAt: 1_000,
  prevHash: "",
  hash: "not-chained",
})

/**
 * `count` events whose data, `{ tag, i }`, tells a reader whose they are and
 * in which order they were appended.
 *
 * @example
 * ```ts
 * eventsOf("a", 2).map((e) => e.data) // [{ tag: "a", i: 0 }, { tag: "a", i: 1 }]
 * ```
 */
export const eventsOf = (tag: string, count: number): Array<NewEvent> =>
  Array.from({ length: count }, (_, i) => newEvent({ tag, i }))

/**
 * Events of `streamId` holding `datas`, from version `from`, chained from
 * `prevHash` as the core chains them, so `verifyStream` accepts them once
 * stored.
 *
 * @example
 * ```ts
 * await store.events.append({ streamId: "s", expectedVersion: "no_stream", events: chainedEvents("s", [{ n: 1 }]) })
 * ```
 */
export const chainedEvents = (
  streamId: string,
  datas: ReadonlyArray<unknown>,
  from = 1,
  prevHash = "",
): Array<NewEvent> => {
  const events: Array<NewEvent> = []
  let prev = prevHash
  for (const [i, data] of datas.entries()) {
    const fields = { streamId, version: from + i, type: "Tested", data, metadata, recordedAt: 1_000 + i }
    const hash = hashEvent(prev, fields)
    events.push({ type: fields.type, data, metadata, recordedAt: fields.recordedAt, prevHash: prev, hash })
    prev = hash
  }
  return events
}

/** A stand-in ciphertext for `label` (base64), so values with different labels differ. */
const ciphertextOf = (label: string): string => Buffer.from(`ciphertext of ${label}`).toString("base64")

/**
 * A sealed value as the sealing code stores it, with a digest that matches
 * its ciphertext, so `verifyStream` accepts it. Values with the same key id
 * and different labels differ.
 *
 * @example
 * ```ts
 * newEvent({ email: sealed("dk:m1:contact"), name: sealed("dk:m1:identity", "identity") })
 * ```
 */
export const sealed = (keyId: string, category = "contact", label = keyId): SealedValue => {
  const ciphertext = ciphertextOf(label)
  return { _tag: "Sealed", keyId, category, iv: "aXY=", ciphertext, digest: digestOf(ciphertext) }
}

/**
 * What `redact` turns `sealed(keyId, category, label)` into: the category and
 * the digest stay, the ciphertext goes.
 *
 * @example
 * ```ts
 * await store.events.redact("s", ["k1"]) // { email: sealed("k1") } becomes { email: erased("contact", "k1") }
 * ```
 */
export const erased = (category: string, label: string): ErasedSealedValue => ({
  _tag: "Erased",
  category,
  digest: digestOf(ciphertextOf(label)),
})

/**
 * An active member row of tenant "t1" with every column set (name, e-mail,
 * e-mail key `ek-<memberId>`, lower-cased search text, no dates, no open
 * request), with `overrides`.
 *
 * @example
 * ```ts
 * memberRow("m1", { customer: true, lastActivityAt: 10 })
 * ```
 */
export const memberRow = (memberId: string, overrides: Partial<MemberRow> = {}): MemberRow => ({
  memberId,
  tenantId: "t1",
  status: "active",
  name: `Name ${memberId}`,
  email: `${memberId}@example.org`,
  emailKey: `ek-${memberId}`,
  restoreKey: null,
  searchText: `name ${memberId} ${memberId}@example.org`.toLowerCase(),
  restricted: false,
  customer: false,
  registeredAt: 0,
  lastActivityAt: 0,
  lastContactAt: 0,
  contractsEndedAt: null,
  forgottenAt: null,
  restorableUntil: null,
  anonymizedAt: null,
  purgedAt: null,
  holdsInvoiceData: false,
  openRequests: [],
  version: 0,
  ...overrides,
})

/**
 * A forgotten member's row: personal columns cleared, the e-mail key kept as
 * restore key `ek-<memberId>`, forgotten at 10 and restorable until 100, with
 * `overrides`.
 *
 * @example
 * ```ts
 * forgottenRow("m1", { restorableUntil: 5 })
 * ```
 */
export const forgottenRow = (memberId: string, overrides: Partial<MemberRow> = {}): MemberRow =>
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

/**
 * Writes `row` through the only write path there is, an append (here of no
 * event) to the member's stream `member-<memberId>`.
 *
 * @example
 * ```ts
 * await writeRow(store, memberRow("m1"))
 * ```
 */
export const writeRow = (store: LetheStore, row: MemberRow): Promise<AppendResult> =>
  store.events.append({
    streamId: memberStream(row.memberId),
    expectedVersion: "any",
    events: [],
    directory: { member: row },
  })

/**
 * Writes every row with `writeRow`, in order.
 *
 * @example
 * ```ts
 * await writeRows(store, [memberRow("m1"), forgottenRow("m2")])
 * ```
 */
export const writeRows = async (store: LetheStore, rows: ReadonlyArray<MemberRow>): Promise<void> => {
  for (const row of rows) await writeRow(store, row)
}

/**
 * A wrapped data key of member "m1" in tenant "t1", category "contact",
 * with `overrides`.
 *
 * @example
 * ```ts
 * await store.keys.put(storedKey("dk:m2:identity", { memberId: "m2", category: "identity" }))
 * ```
 */
export const storedKey = (keyId: string, overrides: Partial<StoredKey> = {}): StoredKey => ({
  keyId,
  tenantId: "t1",
  memberId: "m1",
  category: "contact",
  wrappedKey: `wrapped-${keyId}`,
  kekId: "kek-1",
  createdAt: 100,
  ...overrides,
})

/**
 * An append of one event to member `row`'s stream `member-<memberId>`,
 * writing its row and bringing `keys`, at `expectedVersion` ("any" unless
 * given).
 *
 * @example
 * ```ts
 * await store.events.append(appendFor(memberRow("m1"), [storedKey("dk:m1:contact")], "no_stream"))
 * ```
 */
export const appendFor = (
  row: MemberRow,
  keys: ReadonlyArray<StoredKey> = [],
  expectedVersion: ExpectedVersion = "any",
): AppendRequest => ({
  streamId: memberStream(row.memberId),
  expectedVersion,
  events: [newEvent({ member: row.memberId })],
  directory: { member: row },
  keys,
})

/**
 * The error a promise rejects with (a thrown value that is not an object
 * comes as `{ thrown }`); throws if the promise resolves.
 *
 * @example
 * ```ts
 * expect((await rejection(store.keys.put(storedKey("k1"))))._tag).toBe("KeyExists")
 * ```
 */
export const rejection = async (
  promise: Promise<unknown>,
): Promise<{ readonly _tag?: string } & Record<string, unknown>> => {
  let value: unknown
  try {
    value = await promise
  } catch (error) {
    return (typeof error === "object" && error !== null ? error : { thrown: error }) as {
      readonly _tag?: string
    } & Record<string, unknown>
  }
  throw new Error(`expected a rejection, got ${JSON.stringify(value)}`)
}

/**
 * Every event of the log, page by page; throws (rather than loop) if a page
 * does not move on.
 *
 * @example
 * ```ts
 * expect((await wholeLog(store)).map((e) => e.position)).toEqual([1, 2, 3])
 * ```
 */
export const wholeLog = async (store: LetheStore): Promise<Array<StoredEvent>> => {
  const events: Array<StoredEvent> = []
  let after = 0
  for (;;) {
    const page = await store.events.readAll({ after, limit: 500 })
    events.push(...page.events)
    if (page.done || page.events.length === 0) return events
    if (!(page.next > after))
      throw new Error(`readAll after ${after} returned next ${page.next}: paging does not advance`)
    after = page.next
  }
}
