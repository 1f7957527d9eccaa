/**
 * The read model the CRM queries (docs/design.md §4): one row per member, kept by the
 * core and written by the adapter in the same transaction as the events.
 *
 * @module
 */
import type { MemberStatus } from "../errors.js"

/** An erasure or access request still open (R11). */
export interface OpenRequest {
  readonly requestId: string
  readonly kind: "erasure" | "access"
  readonly receivedAt: number
  readonly dueBy: number
}

/**
 * A member's directory row. Personal columns (`name`, `email`, `searchText`,
 * `emailKey`) are set only while the member is active; a forgotten member keeps
 * only `restoreKey` until the restore window ends (R1, R5).
 */
export interface MemberRow {
  readonly memberId: string
  readonly tenantId: string
  readonly status: MemberStatus
  readonly name: string | null
  readonly email: string | null
  /** Look-up key for the e-mail (a blind index); null unless active. */
  readonly emailKey: string | null
  /** The same key, kept only while forgotten and restorable, for `subscribe` within the window (R5). */
  readonly restoreKey: string | null
  /** Lower-cased text that `search` matches; null unless active. */
  readonly searchText: string | null
  readonly restricted: boolean
  /** Has ever signed a contract or bought something. */
  readonly customer: boolean
  readonly registeredAt: number
  /** Last visit, class, transaction, page view or purchase (or registration). */
  readonly lastActivityAt: number
  /** Last sign of life from the person: registration, consent, activity, purchase (R15). */
  readonly lastContactAt: number
  /**
   * When the member's last contract is over (its end date, or when it was ended
   * early); may lie in the future. Null if no contract, or one runs without end.
   */
  readonly contractsEndedAt: number | null
  readonly forgottenAt: number | null
  readonly restorableUntil: number | null
  readonly anonymizedAt: number | null
  readonly purgedAt: number | null
  /** Still holds invoice data that accounting law keeps after anonymization (R24). */
  readonly holdsInvoiceData: boolean
  readonly openRequests: ReadonlyArray<OpenRequest>
  /** The member's stream version this row reflects. */
  readonly version: number
}

/** A sent message's owner, so a message id leads to its member for years (R3). */
export interface MessageEntry {
  readonly messageId: string
  readonly memberId: string
  readonly tenantId: string
  readonly sentAt: number
}

/** What one append changes in the directory. */
export interface DirectoryUpdate {
  readonly member: MemberRow
  readonly messages?: ReadonlyArray<MessageEntry>
}

/** Keyset paging over member ids, ascending (code-unit order; Lethe's ids are ASCII UUIDs). */
export interface Page {
  /** A positive integer; anything else rejects with `StoreError`. */
  readonly limit: number
  /** Return members whose id is greater than this. */
  readonly after?: string
}

/** A retention query: members of `tenantId` (all tenants when absent) with a date before `before`. */
export interface BeforeQuery extends Page {
  readonly tenantId?: string
  readonly before: number
}

/**
 * The name of a retention query of `Directory`: each takes a `BeforeQuery`
 * and returns a page of member rows.
 *
 * @inline
 */
export type RetentionQueryName =
  | "contractsEndedBefore"
  | "inactiveSince"
  | "coldLeadsSince"
  | "restoreWindowEndedBefore"
  | "invoicesHeldSince"
  | "requestsDueBefore"

/**
 * Directory queries. Every query returns rows ordered by `memberId` ascending.
 * Lookups (`findByEmail`, `search`) return active members only (R1).
 */
export interface Directory {
  /** The member's row as last written, whatever its status; undefined for an unknown id. */
  get(memberId: string): Promise<MemberRow | undefined>
  /**
   * Active members of `tenantId` whose `emailKey` is `emailKey` (at most one, as appends keep e-mail keys
   * unique per tenant).
   */
  findByEmail(tenantId: string, emailKey: string): Promise<ReadonlyArray<MemberRow>>
  /** Forgotten members still restorable under this key (R5). */
  findRestorable(tenantId: string, restoreKey: string): Promise<ReadonlyArray<MemberRow>>
  /**
   * Optional: `findByEmail` for many keys in one query. The rows of every
   * active member of `tenantId` whose `emailKey` is one of `emailKeys`, each
   * once, in `memberId` order. An import looks up a chunk's e-mails with it
   * (one round trip instead of one per row); without it, the core calls
   * `findByEmail` per key. At most `maxLookupKeys` keys (repeats allowed);
   * more, or a key that is not a string, rejects with `StoreError` (see
   * `checkLookupKeys`).
   */
  findManyByEmail?(tenantId: string, emailKeys: ReadonlyArray<string>): Promise<ReadonlyArray<MemberRow>>
  /** Optional: `findRestorable` for many keys in one query, as `findManyByEmail`. */
  findManyRestorable?(tenantId: string, restoreKeys: ReadonlyArray<string>): Promise<ReadonlyArray<MemberRow>>
  /** Active members whose `searchText` contains `text` as a literal substring (`%`, `_` match themselves; the caller lower-cases). */
  search(tenantId: string, text: string, page: Page): Promise<ReadonlyArray<MemberRow>>
  /** Active members with `contractsEndedAt` before `before` (R20). */
  contractsEndedBefore(query: BeforeQuery): Promise<ReadonlyArray<MemberRow>>
  /** Active members with no activity since `before` (R12). */
  inactiveSince(query: BeforeQuery): Promise<ReadonlyArray<MemberRow>>
  /** Active non-customers with no contact since `before` (R15). */
  coldLeadsSince(query: BeforeQuery): Promise<ReadonlyArray<MemberRow>>
  /** Forgotten members whose restore window ended at or before `before` (`restorableUntil <= before`: to purge). */
  restoreWindowEndedBefore(query: BeforeQuery): Promise<ReadonlyArray<MemberRow>>
  /**
   * Anonymized or purged members still holding invoice data, anonymized or purged before
   * `before` (end of invoice retention, R24, R37): status `anonymized` or `purged`,
   * `holdsInvoiceData`, and `anonymizedAt`, or `purgedAt` when that is null, below `before`
   * (a member is anonymized or purged, never both, so one of the two dates applies).
   */
  invoicesHeldSince(query: BeforeQuery): Promise<ReadonlyArray<MemberRow>>
  /** Members with an open request due before `before` (R11). */
  requestsDueBefore(query: BeforeQuery): Promise<ReadonlyArray<MemberRow>>
  /**
   * Optional: the retention query `name`'s page of member ids, without their
   * rows: exactly `(await directory[name](query)).map((row) => row.memberId)`,
   * in the same order; a limit that is not a positive integer, or a `name`
   * that is no retention query, rejects with `StoreError`. A retention run
   * plans from ids alone (R12, R15, R20, R24): with this method an adapter
   * reads no more than the ids it pages through; without it, the core calls
   * `directory[name]` and keeps each row's id (see `retentionMemberIds`).
   */
  retentionMemberIds?(name: RetentionQueryName, query: BeforeQuery): Promise<ReadonlyArray<string>>
  /** Who received the message; the first entry recorded for an id stays. */
  messageOwner(messageId: string): Promise<MessageEntry | undefined>
}

/**
 * The member ids of a retention query's page: `directory.retentionMemberIds`
 * when the adapter has it, else the ids of `directory[name]`'s rows (the
 * same ids, in the same order).
 *
 * @example
 * ```ts
 * const ids = await retentionMemberIds(store.directory, "inactiveSince", { before, limit: 100 })
 * ```
 */
export const retentionMemberIds = async (
  directory: Directory,
  name: RetentionQueryName,
  query: BeforeQuery,
): Promise<ReadonlyArray<string>> => {
  if (directory.retentionMemberIds !== undefined) return directory.retentionMemberIds(name, query)
  const rows = await directory[name](query)
  return rows.map((row) => row.memberId)
}
