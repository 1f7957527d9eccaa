/**
 * Builders and helpers the conformance cases share: events, sealed values,
 * directory rows and keys as the core hands them to an adapter, and small
 * assertions on outcomes.
 *
 * @module
 */
import type {
  AppendRequest,
  ErasedSealedValue,
  EventMetadata,
  ExpectedVersion,
  LetheStore,
  MemberRow,
  NewEvent,
  Page,
  SealedValue,
  StoredEvent,
  StoredKey,
} from "@lethe/core"
import { digestOf, hashEvent } from "@lethe/core"
import { expect } from "vitest"

/** Metadata of every event the SPI cases append. */
export const metadata: EventMetadata = {
  actor: "staff:conformance",
  source: "test",
  tenantId: "t1",
  correlationId: "corr-1",
}

/** An event ready to append (its hash is not chained: stores do not check it). */
export const newEvent = (data: unknown = { n: 1 }, type = "Tested"): NewEvent => ({
  type,
  data,
  metadata,
  recordedAt: 1_000,
  prevHash: "",
  hash: "not-chained",
})

/** `count` events tagged with `tag`, so a reader can tell whose they are. */
export const eventsOf = (tag: string, count: number): Array<NewEvent> =>
  Array.from({ length: count }, (_, i) => newEvent({ tag, i }))

/** Events of `streamId` from version `from`, chained from `prevHash` as the core chains them. */
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
 * A sealed value as the sealing code stores it (`SealedValue` of `@lethe/core`),
 * with a digest that matches its ciphertext, so `verifyStream` accepts it.
 * Values with the same key id and different labels differ.
 */
export const sealed = (keyId: string, category = "contact", label = keyId): SealedValue => {
  const ciphertext = ciphertextOf(label)
  return { _tag: "Sealed", keyId, category, iv: "aXY=", ciphertext, digest: digestOf(ciphertext) }
}

/** What `redact` turns `sealed(_, category, label)` into. */
export const erased = (category: string, label: string): ErasedSealedValue => ({
  _tag: "Erased",
  category,
  digest: digestOf(ciphertextOf(label)),
})

/** An active member row of tenant "t1", with `overrides`. */
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

/** A forgotten member's row: personal columns cleared, the e-mail key kept as restore key. */
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

/** Writes `row` through the only write path there is, an append (here of no event). */
export const writeRow = (store: LetheStore, row: MemberRow) =>
  store.events.append({
    streamId: `member-${row.memberId}`,
    expectedVersion: "any",
    events: [],
    directory: { member: row },
  })

/** Writes every row, in order. */
export const writeRows = async (store: LetheStore, rows: ReadonlyArray<MemberRow>): Promise<void> => {
  for (const row of rows) await writeRow(store, row)
}

/** A wrapped data key of member `m1` in tenant `t1`, with `overrides`. */
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

/** An append of one event to member `row`'s stream, writing its row and bringing `keys`. */
export const appendFor = (
  row: MemberRow,
  keys: ReadonlyArray<StoredKey> = [],
  expectedVersion: ExpectedVersion = "any",
): AppendRequest => ({
  streamId: `member-${row.memberId}`,
  expectedVersion,
  events: [newEvent({ member: row.memberId })],
  directory: { member: row },
  keys,
})

/** Asserts that member `memberId` has no event, no row and none of `keyIds`. */
export const expectNothingOf = async (
  store: LetheStore,
  memberId: string,
  keyIds: ReadonlyArray<string>,
): Promise<void> => {
  expect(await store.events.readStream(`member-${memberId}`)).toEqual([])
  expect(await store.directory.get(memberId)).toBeUndefined()
  for (const keyId of keyIds) expect(await store.keys.get(keyId)).toBeUndefined()
}

/** An append of `events` to `streamId` at `expectedVersion`. */
export const append = (
  store: LetheStore,
  streamId: string,
  expectedVersion: ExpectedVersion,
  events: ReadonlyArray<NewEvent>,
) => store.events.append({ streamId, expectedVersion, events })

/** The error a promise rejects with; fails the case if it resolves. */
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

/** Asserts the promise rejects with an error whose `_tag` is `tag` (and whose data match `fields`). */
export const expectRejection = async (
  promise: Promise<unknown>,
  tag: string,
  fields: Readonly<Record<string, unknown>> = {},
): Promise<void> => {
  const error = await rejection(promise)
  expect({ _tag: error._tag, ...pick(error, Object.keys(fields)) }).toEqual({ _tag: tag, ...fields })
}

/**
 * Asserts that each call, on a store closed before, rejects with an error
 * whose `_tag` is `StoreError`. A synchronous throw counts as a rejection: a
 * caller that awaits sees the same.
 */
export const expectClosed = async (
  calls: Readonly<Record<string, () => Promise<unknown>>>,
): Promise<void> => {
  for (const [operation, call] of Object.entries(calls)) {
    const outcome = await Promise.resolve()
      .then(call)
      .then(
        (value: unknown) => ({ resolved: value }),
        (error: { readonly _tag?: string } | undefined) => ({ _tag: error?._tag }),
      )
    expect(outcome, `${operation} after close`).toEqual({ _tag: "StoreError" })
  }
}

const pick = (value: Readonly<Record<string, unknown>>, keys: ReadonlyArray<string>) =>
  Object.fromEntries(keys.map((key) => [key, value[key]]))

/** Every event of the log, page by page; fails (rather than loop) if a page does not move on. */
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

/**
 * Every item of a query paged by member id (keyset: `after` the last id seen),
 * `limit` at a time. Checks that each page holds at most `limit` items, all
 * after the previous page, so an adapter that ignores `after` fails here
 * instead of looping forever.
 */
export const pageThrough = async <A extends { readonly memberId: string }>(
  fetch: (page: Page) => Promise<ReadonlyArray<A>>,
  limit: number,
): Promise<Array<A>> => {
  const items: Array<A> = []
  let after: string | undefined
  for (;;) {
    const page = await fetch({ limit, ...(after === undefined ? {} : { after }) })
    expect(page.length, "a page holds at most `limit` rows").toBeLessThanOrEqual(limit)
    if (after !== undefined) {
      const from = after
      expect(
        page.filter((item) => !(item.memberId > from)).map((item) => item.memberId),
        `rows of the page after "${from}" that are not after it`,
      ).toEqual([])
    }
    items.push(...page)
    if (page.length < limit) return items
    after = page.at(-1)?.memberId
  }
}

/** Every row of a paged directory query, `limit` at a time (see `pageThrough`). */
export const allPages = (
  fetch: (page: Page) => Promise<ReadonlyArray<MemberRow>>,
  limit: number,
): Promise<Array<MemberRow>> => pageThrough(fetch, limit)

/** The member ids of rows, in order. */
export const ids = (rows: ReadonlyArray<MemberRow>): Array<string> => rows.map((row) => row.memberId)

/** Tries to change `target` through each path; frozen objects may refuse, which is fine. */
export const tamper = (changes: ReadonlyArray<() => void>): void => {
  for (const change of changes)
    try {
      change()
    } catch {
      // A frozen object refuses the change; what matters is that the store is unchanged.
    }
}

/** An object as a mutable record, to try changing what a store handed out. */
export const mutable = (value: unknown): Record<string, unknown> => value as Record<string, unknown>
