/**
 * Helpers every SQL adapter needs to honour the SPI the same way: event data
 * as JSON text that reads back equal, page sizes checked before any
 * statement runs (engines disagree on `LIMIT 0` and `LIMIT -1`), and a
 * member row's columns in the `members` table (names, and the mapping to and
 * from `MemberRow`, whatever the dialect stores booleans and integers as).
 *
 * @module
 */
import type { MemberStatus } from "../errors.js"
import { StoreError } from "../errors.js"
import type { MemberRow, OpenRequest } from "./directory.js"
import type { StoredEvent } from "./event-store.js"

const isPlainObject = (value: object): boolean => {
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}

/** What `notJson` found: the keys down to the culprit (innermost first) and what is wrong with it. */
interface NotJson {
  readonly keys: Array<string>
  readonly what: string
}

/** `problem`, found under `key`. */
const within = (key: string, problem: NotJson): NotJson => {
  problem.keys.push(key)
  return problem
}

/**
 * Why `value` does not survive a JSON round trip, or undefined if it does.
 * The path text is built for a culprit only, not for every value walked.
 */
const notJson = (value: unknown, seen: Set<object>): NotJson | undefined => {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined
    case "number":
      return Number.isFinite(value) ? undefined : { keys: [], what: `is ${value}` }
    case "object": {
      if (value === null) return undefined
      if (seen.has(value)) return { keys: [], what: "is a cycle" }
      if (!Array.isArray(value) && !isPlainObject(value))
        return { keys: [], what: `is a ${value.constructor?.name ?? "non-plain object"}` }
      seen.add(value)
      // An array's holes and undefined slots would read back as null; an object's undefined
      // properties read back absent, which is the same to every reader.
      if (Array.isArray(value))
        for (let i = 0; i < value.length; i++) {
          const problem = notJson(value[i], seen)
          if (problem !== undefined) return within(String(i), problem)
        }
      else {
        const record = value as Readonly<Record<string, unknown>>
        for (const key of Object.keys(record)) {
          const inner = record[key]
          if (inner === undefined) continue
          const problem = notJson(inner, seen)
          if (problem !== undefined) return within(key, problem)
        }
      }
      seen.delete(value)
      return undefined
    }
    default:
      return { keys: [], what: `is ${typeof value === "function" ? "a function" : typeof value}` }
  }
}

/**
 * `value` as JSON text; throws `StoreError` for `operation` if it is not plain
 * JSON (see the module comment).
 *
 * @example
 * ```ts
 * toStoredJson("events.append", { n: 1 }, "data") // '{"n":1}'
 * toStoredJson("events.append", { f: () => 1 }, "data") // throws StoreError: data["f"] is a function
 * ```
 */
export const toStoredJson = (operation: string, value: unknown, name: string): string => {
  const problem = notJson(value, new Set())
  if (problem !== undefined) {
    const path = problem.keys.reduceRight((at, key) => `${at}[${JSON.stringify(key)}]`, name)
    throw new StoreError({ operation, detail: `value cannot be stored as JSON: ${path} ${problem.what}` })
  }
  return JSON.stringify(value)
}

/** The JSON text of a column, parsed, or why it does not parse. */
const parseColumn = (text: unknown, name: string): { value: unknown } | { problem: string } => {
  if (typeof text !== "string") return { problem: `${name} is not text` }
  try {
    return { value: JSON.parse(text) as unknown }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    return { problem: `${name} is not JSON (${reason.slice(0, 120)})` }
  }
}

/**
 * The `data` and `metadata` of a stored event, parsed from the JSON text an
 * adapter keeps them in. A column that does not parse (a changed byte) is
 * `null`, and `unreadable` says why: the adapter returns the row, and the
 * audit names it by stream, version and position, instead of the whole read
 * failing (docs/design.md §4.1).
 *
 * @example
 * ```ts
 * const event: StoredEvent = { position, streamId, version, type, ...readStoredJson(row.data, row.metadata), ... }
 * ```
 */
export const readStoredJson = (
  data: unknown,
  metadata: unknown,
): Pick<StoredEvent, "data" | "metadata" | "unreadable"> => {
  const parsedData = parseColumn(data, "data")
  const parsedMetadata = parseColumn(metadata, "metadata")
  const problems = [parsedData, parsedMetadata].flatMap((c) => ("problem" in c ? [c.problem] : []))
  return {
    data: "value" in parsedData ? parsedData.value : null,
    metadata: ("value" in parsedMetadata ? parsedMetadata.value : null) as StoredEvent["metadata"],
    ...(problems.length === 0 ? {} : { unreadable: problems.join("; ") }),
  }
}

/**
 * Throws `StoreError` for a page size that is not a positive integer, as the
 * memory store does; call it before any statement runs.
 *
 * @example
 * ```ts
 * checkPageLimit("events.readAll", 0) // throws StoreError
 * ```
 */
export const checkPageLimit = (operation: string, limit: number): void => {
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new StoreError({ operation, detail: `limit must be a positive integer, got ${limit}` })
}

/** The most keys one `findManyByEmail` or `findManyRestorable` call takes. */
export const maxLookupKeys = 1_000

/**
 * Checks the keys of a `findManyByEmail` or `findManyRestorable` call before
 * any statement runs, as every adapter must: an array of at most
 * `maxLookupKeys` strings. Throws `StoreError` for `operation` otherwise.
 *
 * @example
 * ```ts
 * checkLookupKeys("directory.findManyByEmail", ["k1", "k2"]) // passes
 * checkLookupKeys("directory.findManyByEmail", [42]) // throws StoreError
 * ```
 */
export const checkLookupKeys = (operation: string, keys: ReadonlyArray<unknown>): void => {
  if (!Array.isArray(keys))
    throw new StoreError({ operation, detail: "the keys must be an array of strings" })
  if (keys.length > maxLookupKeys)
    throw new StoreError({
      operation,
      detail: `at most ${maxLookupKeys} keys per call, got ${keys.length}`,
    })
  const bad = keys.findIndex((key) => typeof key !== "string")
  if (bad >= 0)
    throw new StoreError({ operation, detail: `key ${bad} is not a string: ${String(keys[bad])}` })
}

/**
 * Checks a snapshot before any statement runs, as every adapter must (see
 * `SnapshotStore`), and returns its state as JSON text; throws `StoreError`
 * for a version that is not a positive integer, a non-string id or head, a
 * time that is not a safe integer, or a state that is not plain JSON.
 *
 * @example
 * ```ts
 * snapshotStateJson("snapshots.write", snapshot) // '{"exists":true,...}'
 * ```
 */
export const snapshotStateJson = (
  operation: string,
  snapshot: {
    readonly memberId: unknown
    readonly tenantId: unknown
    readonly version: unknown
    readonly head: unknown
    readonly state: unknown
    readonly takenAt: unknown
  },
): string => {
  const refuse = (detail: string) => new StoreError({ operation, detail })
  if (typeof snapshot.version !== "number" || !Number.isSafeInteger(snapshot.version) || snapshot.version < 1)
    throw refuse(`version must be a positive integer, got ${String(snapshot.version)}`)
  for (const name of ["memberId", "tenantId", "head"] as const)
    if (typeof snapshot[name] !== "string") throw refuse(`${name} must be a string`)
  if (typeof snapshot.takenAt !== "number" || !Number.isSafeInteger(snapshot.takenAt))
    throw refuse(`takenAt must be a safe integer (epoch ms), got ${String(snapshot.takenAt)}`)
  if (snapshot.state === undefined) throw refuse("state is missing")
  return toStoredJson(operation, snapshot.state, "state")
}

/**
 * Checks `remove`'s version floor before any statement runs; throws
 * `StoreError` unless it is a non-negative safe integer.
 */
export const checkSnapshotFloor = (operation: string, upTo: unknown): number => {
  if (typeof upTo !== "number" || !Number.isSafeInteger(upTo) || upTo < 0)
    throw new StoreError({ operation, detail: `upTo must be a non-negative integer, got ${String(upTo)}` })
  return upTo
}

/**
 * A member row as the columns of a SQL adapter's `members` table: one column
 * per `MemberRow` field but the open requests (a table of their own), with
 * booleans as the dialect stores them (`B`: SQLite 1 or 0, PostgreSQL a
 * boolean) and integers as its driver reads them back (`I`: a number, or a
 * `bigint` as text).
 */
export interface MemberColumns<B = boolean, I = number> {
  readonly member_id: string
  readonly tenant_id: string
  readonly status: MemberStatus
  readonly name: string | null
  readonly email: string | null
  readonly email_key: string | null
  readonly restore_key: string | null
  readonly search_text: string | null
  readonly restricted: B
  readonly customer: B
  readonly registered_at: I
  readonly last_activity_at: I
  readonly last_contact_at: I
  readonly contracts_ended_at: I | null
  readonly forgotten_at: I | null
  readonly restorable_until: I | null
  readonly anonymized_at: I | null
  readonly purged_at: I | null
  readonly holds_invoice_data: B
  readonly version: I
}

/**
 * The columns of `MemberColumns`, in the order of the `members` table: what
 * an adapter selects, inserts and updates.
 *
 * @example
 * ```ts
 * const select = `SELECT ${memberColumns.join(", ")} FROM members WHERE member_id = ?`
 * ```
 */
export const memberColumns = [
  "member_id",
  "tenant_id",
  "status",
  "name",
  "email",
  "email_key",
  "restore_key",
  "search_text",
  "restricted",
  "customer",
  "registered_at",
  "last_activity_at",
  "last_contact_at",
  "contracts_ended_at",
  "forgotten_at",
  "restorable_until",
  "anonymized_at",
  "purged_at",
  "holds_invoice_data",
  "version",
] as const satisfies ReadonlyArray<keyof MemberColumns>

/**
 * `row` as the columns of the `members` table, with each boolean as
 * `storeBoolean` makes it (its open requests are not among them).
 *
 * @example
 * ```ts
 * memberRowToColumns(row, (flag) => (flag ? 1 : 0)) // SQLite: { member_id: "m1", ..., restricted: 0, ... }
 * ```
 */
export const memberRowToColumns = <B>(
  row: MemberRow,
  storeBoolean: (value: boolean) => B,
): MemberColumns<B, number> => ({
  member_id: row.memberId,
  tenant_id: row.tenantId,
  status: row.status,
  name: row.name,
  email: row.email,
  email_key: row.emailKey,
  restore_key: row.restoreKey,
  search_text: row.searchText,
  restricted: storeBoolean(row.restricted),
  customer: storeBoolean(row.customer),
  registered_at: row.registeredAt,
  last_activity_at: row.lastActivityAt,
  last_contact_at: row.lastContactAt,
  contracts_ended_at: row.contractsEndedAt,
  forgotten_at: row.forgottenAt,
  restorable_until: row.restorableUntil,
  anonymized_at: row.anonymizedAt,
  purged_at: row.purgedAt,
  holds_invoice_data: storeBoolean(row.holdsInvoiceData),
  version: row.version,
})

/** How a dialect's stored booleans (`B`) and integers (`I`) read back, for `memberRowFromColumns`. */
export interface MemberColumnReader<B, I> {
  /** A stored boolean as a boolean. */
  readonly boolean: (stored: B) => boolean
  /** A stored integer as a number (an absent or SQL NULL one never comes here: it reads as null). */
  readonly integer: (stored: I) => number
}

/**
 * The member row of `columns`, holding `openRequests` (read from their own
 * table), with booleans and integers read back by `read`.
 *
 * @example
 * ```ts
 * // SQLite: booleans are 1 or 0, integers numbers.
 * memberRowFromColumns(columns, requests, { boolean: (stored) => stored === 1, integer: (stored) => stored })
 * ```
 */
export const memberRowFromColumns = <B, I>(
  columns: MemberColumns<B, I>,
  openRequests: ReadonlyArray<OpenRequest>,
  read: MemberColumnReader<B, I>,
): MemberRow => {
  const orNull = (stored: I | null): number | null =>
    stored === null || stored === undefined ? null : read.integer(stored)
  return {
    memberId: columns.member_id,
    tenantId: columns.tenant_id,
    status: columns.status,
    name: columns.name,
    email: columns.email,
    emailKey: columns.email_key,
    restoreKey: columns.restore_key,
    searchText: columns.search_text,
    restricted: read.boolean(columns.restricted),
    customer: read.boolean(columns.customer),
    registeredAt: read.integer(columns.registered_at),
    lastActivityAt: read.integer(columns.last_activity_at),
    lastContactAt: read.integer(columns.last_contact_at),
    contractsEndedAt: orNull(columns.contracts_ended_at),
    forgottenAt: orNull(columns.forgotten_at),
    restorableUntil: orNull(columns.restorable_until),
    anonymizedAt: orNull(columns.anonymized_at),
    purgedAt: orNull(columns.purged_at),
    holdsInvoiceData: read.boolean(columns.holds_invoice_data),
    openRequests,
    version: read.integer(columns.version),
  }
}
