/**
 * Builders shared by the store-memory tests.
 *
 * @module
 */
import type { EventMetadata, LetheStore, MemberRow, NewEvent } from "@lethe/core"
import { hashEvent } from "@lethe/core"

/** Metadata of every test event. */
export const metadata: EventMetadata = {
  actor: "staff:test",
  source: "test",
  tenantId: "t1",
  correlationId: "corr-1",
}

/** An event ready to append (its hash is not chained: the store does not check it). */
export const newEvent = (data: unknown = { n: 1 }, type = "Tested"): NewEvent => ({
  type,
  data,
  metadata,
  recordedAt: 1_000,
  prevHash: "",
  hash: "not-chained",
})

/** Events for `streamId` from version `from`, chained from `prevHash` as the core chains them. */
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

/** A sealed value as the sealing code stores it. */
export const sealed = (keyId: string, category = "contact", digest = `digest-of-${keyId}`) => ({
  _tag: "Sealed" as const,
  keyId,
  category,
  iv: "aXY=",
  ciphertext: "Y2lwaGVy",
  digest,
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

/** Writes `row` through the only write path, an append (here of no event). */
export const writeRow = (store: LetheStore, row: MemberRow) =>
  store.events.append({
    streamId: `member-${row.memberId}`,
    expectedVersion: "any",
    events: [],
    directory: { member: row },
  })

/** The error a promise rejects with; fails the test if it resolves. */
export const rejection = async (
  promise: Promise<unknown>,
): Promise<{ readonly _tag?: string } & Record<string, unknown>> => {
  try {
    await promise
  } catch (error) {
    return error as { readonly _tag?: string } & Record<string, unknown>
  }
  throw new Error("expected a rejection")
}

/** Every event of the log, read in one page. */
export const wholeLog = async (store: LetheStore) => (await store.events.readAll({ limit: 1_000_000 })).events
