/**
 * The directory read model in PostgreSQL: one `members` row per member, its
 * open requests in `member_requests`, and the `messages` ownership table,
 * with the SQLite adapter's indexes (see `migrations.ts`).
 *
 * Every read is one statement (a row and its requests come from the same
 * snapshot: the requests are aggregated in a subquery). Rows are written by
 * the event store's `append` function, in the append's statement. Date bounds
 * are passed as `bigint` so the comparisons use the indexes.
 *
 * With the keys apart in the log's database (`keys: { schema }`), the
 * personal columns (`name`, `email`, `search_text`) live in the key store
 * schema's `member_personal` (see `personal.ts`): every read joins it by
 * member id, and the log's members row keeps them NULL.
 *
 * @module
 */

import type { MemberStatus } from "@lethe/core"
import { StoreError } from "@lethe/core"
import type {
  BeforeQuery,
  Directory,
  MemberColumns,
  MemberRow,
  MessageEntry,
  OpenRequest,
  RetentionQueryName,
} from "@lethe/core/spi"
import { checkLookupKeys, checkPageLimit, memberColumns, memberRowFromColumns } from "@lethe/core/spi"
import { toNumber } from "./client.js"
import type { Connection } from "./connection.js"
import type { Schema } from "./migrations.js"
import { integerBound } from "./paging.js"
import { personalColumns } from "./personal.js"

/** Binds values to `$1`, `$2`... in the order they are named. */
class Parameters {
  readonly values: Array<unknown> = []
  bind(value: unknown): string {
    this.values.push(value)
    return `$${this.values.length}`
  }
}

type Filter = (bind: (value: unknown) => string, before: string) => string

/** The member-row filter of each retention query; `before` is the bound date placeholder. */
const retentionFilters = (s: string) =>
  ({
    contractsEndedBefore: (_, before) => `status = 'active' AND contracts_ended_at < ${before}`,
    inactiveSince: (_, before) => `status = 'active' AND last_activity_at < ${before}`,
    coldLeadsSince: (_, before) => `status = 'active' AND customer = false AND last_contact_at < ${before}`,
    restoreWindowEndedBefore: (_, before) => `status = 'forgotten' AND restorable_until <= ${before}`,
    // Anonymized or purged (R37): one of the two dates is set. The terms imply the
    // members_by_invoices_held index's WHERE, so the planner may search it.
    invoicesHeldSince: (_, before) =>
      `holds_invoice_data AND status IN ('anonymized', 'purged') AND coalesce(anonymized_at, purged_at) < ${before}`,
    requestsDueBefore: (_, before) =>
      `m.member_id IN (SELECT member_id FROM ${s}.member_requests WHERE due_by < ${before})`,
  }) as const satisfies Record<RetentionQueryName, Filter>

type RetentionQuery = keyof ReturnType<typeof retentionFilters>

/** `<=` compares with the floor of the date, `<` with its ceiling: the same rows as with the number itself. */
const roundingOf = (query: RetentionQuery): "floor" | "ceil" =>
  query === "restoreWindowEndedBefore" ? "floor" : "ceil"

/**
 * A row of `memberFields` as a member row: booleans come as booleans,
 * `bigint` columns as text (`pg`) or as numbers or bigints (PGlite), the
 * open requests as one JSON array.
 */
const toMemberRow = (row: Readonly<Record<string, unknown>>): MemberRow =>
  memberRowFromColumns(
    row as unknown as MemberColumns<unknown, unknown>,
    (row.open_requests as ReadonlyArray<OpenRequest>).map((request) => ({
      requestId: request.requestId,
      kind: request.kind,
      receivedAt: toNumber(request.receivedAt),
      dueBy: toNumber(request.dueBy),
    })),
    { boolean: (stored) => stored === true, integer: toNumber },
  )

/** Rows as member rows in member_id order, by bytes (as COLLATE "C" orders them). */
const inMemberIdOrder = (rows: ReadonlyArray<Readonly<Record<string, unknown>>>): Array<MemberRow> =>
  rows.map(toMemberRow).sort((a, b) => Buffer.compare(Buffer.from(a.memberId), Buffer.from(b.memberId)))

/**
 * The columns of a member row `m` with its open requests, for schema `s`;
 * with the personal columns in the key store schema `ks`, those from its
 * row `p` (see `personalJoin`).
 */
const memberFields = (s: string, ks?: string): string => {
  const requests = `SELECT coalesce(jsonb_agg(jsonb_build_object('requestId', r.request_id, 'kind', r.kind,
      'receivedAt', r.received_at, 'dueBy', r.due_by) ORDER BY r.ordinal), '[]'::jsonb)
    FROM ${s}.member_requests AS r WHERE r.member_id = m.member_id`
  const table = (column: string) => (ks !== undefined && personalColumns.includes(column) ? "p" : "m")
  return `SELECT ${memberColumns.map((column) => `${table(column)}.${column}`).join(", ")}, (${requests}) AS open_requests`
}

/** The join of member `m`'s personal row `p` in the key store schema `ks` (none: NULL columns), if any. */
const personalJoin = (ks?: string): string =>
  ks === undefined ? "" : ` LEFT JOIN ${ks}.member_personal AS p ON p.member_id = m.member_id`

/**
 * The look-up of many keys in schema `s`: the members of tenant $1 holding
 * `column` equal to one of the keys $2 (an array: no limit on bound
 * parameters applies), each key once, with `status`; with the personal
 * columns in the key store schema `ks` when given. Internal: exported for
 * the test of its query plan, not from the package.
 */
export const selectByKeys = (
  s: string,
  column: "email_key" | "restore_key",
  status: MemberStatus,
  ks?: string,
): string =>
  // `= ANY($2)` would leave the plan to the table's statistics: unanalyzed, the planner takes each
  // key to match 0.5% of the rows, so 200 keys the whole tenant, and walks the tenant's
  // (tenant_id, status) index; analyzed, it may read the whole table. One index search per key
  // instead: OFFSET 0 keeps the per-key query whole (not merged into a join the planner could turn
  // into a scan), and the status is tested outside it, so (tenant_id, status) offers one column
  // where the key's index offers two.
  `${memberFields(s, ks)}
    FROM (SELECT DISTINCT key FROM unnest($2::text[]) AS key) AS k
      CROSS JOIN LATERAL (SELECT * FROM ${s}.members WHERE tenant_id = $1 AND ${column} = k.key OFFSET 0) AS m${personalJoin(ks)}
    WHERE m.status = '${status}'`

const toMessageEntry = (row: Readonly<Record<string, unknown>>): MessageEntry => ({
  messageId: row.message_id as string,
  memberId: row.member_id as string,
  tenantId: row.tenant_id as string,
  sentAt: toNumber(row.sent_at),
})

/**
 * The directory over `connection`; with `personal`, the key store schema
 * (in the same database) that holds the personal columns.
 *
 * @example
 * ```ts
 * const directory = postgresDirectory(connection)
 * await directory.findByEmail("t1", emailKey)
 * ```
 */
export const postgresDirectory = (connection: Connection, personal?: Schema): Directory => {
  const s = connection.schema.sql
  const ks = personal?.sql
  const filters = retentionFilters(s)
  const selectMembers = `${memberFields(s, ks)} FROM ${s}.members AS m${personalJoin(ks)}`
  const sql = {
    get: `${selectMembers} WHERE m.member_id = $1`,
    // No ORDER BY in the look-ups by key: it would let the planner prefer the tenant's index (its
    // rows come in member_id order) and filter the whole tenant for one key, until the table is
    // analyzed. They return a row or few, put in member_id order (bytes, as COLLATE "C") below.
    findByEmail: `${selectMembers} WHERE m.tenant_id = $1 AND m.email_key = $2 AND m.status = 'active'`,
    findRestorable: `${selectMembers} WHERE m.tenant_id = $1 AND m.restore_key = $2 AND m.status = 'forgotten'`,
    findManyByEmail: selectByKeys(s, "email_key", "active", ks),
    findManyRestorable: selectByKeys(s, "restore_key", "forgotten", ks),
    messageOwner: `SELECT message_id, member_id, tenant_id, sent_at FROM ${s}.messages WHERE message_id = $1`,
  } as const

  const members = async (operation: string, text: string, values: ReadonlyArray<unknown>) =>
    connection.run(operation, async (db) => inMemberIdOrder((await db.query(text, values)).rows))

  /** A look-up of many keys, bound as one array; the keys are checked before the statement runs. */
  const lookupMany = async (operation: string, text: string, tenantId: string, keys: ReadonlyArray<string>) =>
    connection.run(operation, async (db) => {
      checkLookupKeys(operation, keys)
      return keys.length === 0 ? [] : inMemberIdOrder((await db.query(text, [tenantId, [...keys]])).rows)
    })

  /**
   * A paged query: `select`, `filter`, then the tenant and `after` conditions when given, in
   * member_id order; each row as `toRow` makes it.
   */
  const paged = async <A>(
    operation: string,
    page: { readonly limit: number; readonly after?: string; readonly tenantId?: string },
    filter: (parameters: Parameters) => string | undefined,
    select: string,
    toRow: (row: Readonly<Record<string, unknown>>) => A,
  ): Promise<ReadonlyArray<A>> =>
    connection.run(operation, async (db) => {
      checkPageLimit(operation, page.limit)
      const parameters = new Parameters()
      const condition = filter(parameters)
      // No row compares true with NaN.
      if (condition === undefined) return []
      const text = [
        `${select} WHERE ${condition}`,
        page.tenantId === undefined ? "" : ` AND m.tenant_id = ${parameters.bind(page.tenantId)}`,
        page.after === undefined ? "" : ` AND m.member_id > ${parameters.bind(page.after)}`,
        ` ORDER BY m.member_id LIMIT ${parameters.bind(page.limit)}`,
      ].join("")
      return (await db.query(text, parameters.values)).rows.map(toRow)
    })

  /** The filter of the retention query `name` at `query.before`; undefined when it is NaN. */
  const retentionFilter =
    (name: RetentionQuery, query: BeforeQuery) =>
    (parameters: Parameters): string | undefined =>
      Number.isNaN(query.before)
        ? undefined
        : filters[name](
            (value) => parameters.bind(value),
            `${parameters.bind(integerBound(query.before, roundingOf(name)))}::bigint`,
          )

  const retention =
    (name: RetentionQuery) =>
    async (query: BeforeQuery): Promise<ReadonlyArray<MemberRow>> =>
      paged(`directory.${name}`, query, retentionFilter(name, query), selectMembers, toMemberRow)

  // The retention filters read the log's members columns only: the ids need no personal row.
  const selectIds = `SELECT m.member_id FROM ${s}.members AS m`
  const memberIdOf = (row: Readonly<Record<string, unknown>>): string => row.member_id as string

  const directory: Directory = {
    get: async (memberId) => (await members("directory.get", sql.get, [memberId]))[0],
    findByEmail: async (tenantId, emailKey) =>
      members("directory.findByEmail", sql.findByEmail, [tenantId, emailKey]),
    findRestorable: async (tenantId, restoreKey) =>
      members("directory.findRestorable", sql.findRestorable, [tenantId, restoreKey]),
    findManyByEmail: async (tenantId, emailKeys) =>
      lookupMany("directory.findManyByEmail", sql.findManyByEmail, tenantId, emailKeys),
    findManyRestorable: async (tenantId, restoreKeys) =>
      lookupMany("directory.findManyRestorable", sql.findManyRestorable, tenantId, restoreKeys),
    search: async (tenantId, text, page) =>
      paged(
        "directory.search",
        { ...page, tenantId },
        (parameters) =>
          `m.status = 'active' AND strpos(${ks === undefined ? "m" : "p"}.search_text, ${parameters.bind(text)}) > 0`,
        selectMembers,
        toMemberRow,
      ),
    contractsEndedBefore: retention("contractsEndedBefore"),
    inactiveSince: retention("inactiveSince"),
    coldLeadsSince: retention("coldLeadsSince"),
    restoreWindowEndedBefore: retention("restoreWindowEndedBefore"),
    invoicesHeldSince: retention("invoicesHeldSince"),
    requestsDueBefore: retention("requestsDueBefore"),
    // The same statement as the query's, selecting the id alone: no row decoded, no request aggregated.
    retentionMemberIds: async (name, query) => {
      const operation = "directory.retentionMemberIds"
      if (!Object.hasOwn(filters, name))
        throw new StoreError({ operation, detail: `no retention query named ${JSON.stringify(name)}` })
      return paged(operation, query, retentionFilter(name, query), selectIds, memberIdOf)
    },
    messageOwner: async (messageId) =>
      connection.run("directory.messageOwner", async (db) => {
        const row = (await db.query(sql.messageOwner, [messageId])).rows[0]
        return row === undefined ? undefined : toMessageEntry(row)
      }),
  }

  return directory
}
