/**
 * The directory read model in SQLite: one `members` row per member, its open
 * requests in `member_requests`, and the `messages` ownership table.
 *
 * Every query reads through an index (see `migrations.ts`; a test checks the
 * query plans): the look-ups, of one key or many, through (tenant_id, email_key) and
 * (tenant_id, restore_key); `search` and a tenant's retention queries walk
 * (tenant_id, status, member_id) from `after`; the retention queries over all
 * tenants range over (status, date column); `invoicesHeldSince`, of one
 * tenant or all, over (status, coalesce(anonymized_at, purged_at)) of the
 * members it can find (a small partial index); `requestsDueBefore` ranges over
 * (due_by, member_id). Each query runs in one read transaction, so a row and
 * its requests come from the same snapshot.
 *
 * With the keys apart (`keys` option), the personal columns (`name`,
 * `email`, `search_text`) live in the key store file's `member_personal`
 * (see `personal.ts`): every query joins it by member id (the log is
 * attached to the key store, so both are one connection's tables), and the
 * log's members row keeps them NULL.
 *
 * @module
 */

import { EmailTaken, StoreError } from "@lethe/core"
import type {
  BeforeQuery,
  Directory,
  DirectoryUpdate,
  MemberColumns,
  MemberRow,
  MessageEntry,
  OpenRequest,
} from "@lethe/core/spi"
import {
  checkLookupKeys,
  checkPageLimit,
  memberColumns,
  memberRowFromColumns,
  memberRowToColumns,
} from "@lethe/core/spi"
import type { Connection } from "./connection.js"
import { markPersonal, personalBehindLog, personalColumns, personalWrite, sweepPersonal } from "./personal.js"

/** The write side, used by the event store inside its append transaction. */
export interface SqliteDirectory {
  readonly directory: Directory
  /**
   * Writes `update` (upserts the row, replaces its requests, adds the
   * messages); throws `EmailTaken` when another member of the tenant holds
   * the row's e-mail key. Call inside a write transaction.
   */
  write(update: DirectoryUpdate): void
  /**
   * Tells the directory the last event (position and hash) an append of
   * the write transaction under way stored, after its directory update;
   * with the personal columns apart it marks the key store with it (see
   * `personal.ts`).
   */
  appended(position: number, hash: string): void
}

/** A `members` row as SQLite stores it: booleans as 1 and 0. */
type SqliteMemberColumns = MemberColumns<number, number>

interface RequestColumns {
  readonly request_id: string
  readonly kind: OpenRequest["kind"]
  readonly received_at: number
  readonly due_by: number
}

interface MessageColumns {
  readonly message_id: string
  readonly member_id: string
  readonly tenant_id: string
  readonly sent_at: number
}

/**
 * The select of a member row's columns: all from `members`, or, with the
 * personal columns apart, those from `member_personal`, joined by member id
 * (no row there: NULL, as the log's own would be). Columns are named by
 * their table, since both tables have `member_id`.
 */
const selectMembers = (personalApart: boolean): string =>
  personalApart
    ? `SELECT ${memberColumns
        .map((column) =>
          (personalColumns as ReadonlyArray<string>).includes(column)
            ? `member_personal.${column}`
            : `members.${column}`,
        )
        .join(", ")} FROM members
      LEFT JOIN member_personal ON member_personal.member_id = members.member_id`
    : `SELECT ${memberColumns.join(", ")} FROM members`

/** The member-row filter of each retention query; `@before` is the query's date. */
const retentionFilters = {
  contractsEndedBefore: "status = 'active' AND contracts_ended_at < @before",
  inactiveSince: "status = 'active' AND last_activity_at < @before",
  coldLeadsSince: "status = 'active' AND customer = 0 AND last_contact_at < @before",
  restoreWindowEndedBefore: "status = 'forgotten' AND restorable_until <= @before",
  // Anonymized or purged (R37): one of the two dates is set. The terms are those of the
  // members_by_invoices_held index's WHERE, spelled alike, so SQLite knows it may search it.
  invoicesHeldSince:
    "holds_invoice_data = 1 AND status IN ('anonymized', 'purged') AND coalesce(anonymized_at, purged_at) < @before",
  requestsDueBefore: "members.member_id IN (SELECT member_id FROM member_requests WHERE due_by < @before)",
} as const

type RetentionQuery = keyof typeof retentionFilters

/**
 * The SQL of a paged query: `filter`, then the tenant and `after` conditions
 * when given, in member_id order, at most `@limit` rows. A statement per
 * combination (rather than `@tenant IS NULL OR ...`), so each can use its index.
 */
const pagedSql = (select: string, filter: string, withTenant: boolean, withAfter: boolean): string =>
  [
    `${select} WHERE ${filter}`,
    withTenant ? " AND tenant_id = @tenantId" : "",
    withAfter ? " AND members.member_id > @after" : "",
    " ORDER BY members.member_id LIMIT @limit",
  ].join("")

/** The directory's statements, with the personal columns in the log or apart. */
const sqlFor = (personalApart: boolean) => {
  const select = selectMembers(personalApart)
  // Search still walks the tenant's (tenant_id, status, member_id) index, and finds each member's
  // personal row by its key (a test checks the plans).
  const searchText = personalApart ? "member_personal.search_text" : "search_text"
  // With the personal columns apart, the log's members row holds them NULL.
  const stored = (column: string) =>
    personalApart && (personalColumns as ReadonlyArray<string>).includes(column) ? "NULL" : `@${column}`
  return {
    select,
    get: `${select} WHERE members.member_id = ?`,
    findByEmail: `${select} WHERE tenant_id = ? AND email_key = ? AND status = 'active' ORDER BY members.member_id`,
    emailHolder:
      "SELECT member_id FROM members WHERE tenant_id = ? AND email_key = ? AND member_id <> ? LIMIT 1",
    findRestorable: `${select} WHERE tenant_id = ? AND restore_key = ? AND status = 'forgotten' ORDER BY members.member_id`,
    // The keys come as one JSON array (no limit on bound parameters applies). `+member_id` keeps
    // the planner from walking the tenant's (tenant_id, status, member_id) index for its order and
    // filtering every member of the tenant: the rows of a look-up are few, sorted after the search.
    findManyByEmail: `${select} WHERE tenant_id = ? AND email_key IN (SELECT value FROM json_each(?)) AND status = 'active' ORDER BY +members.member_id`,
    findManyRestorable: `${select} WHERE tenant_id = ? AND restore_key IN (SELECT value FROM json_each(?)) AND status = 'forgotten' ORDER BY +members.member_id`,
    searchFilter: `status = 'active' AND instr(${searchText}, @text) > 0`,
    requests:
      "SELECT request_id, kind, received_at, due_by FROM member_requests WHERE member_id = ? ORDER BY ordinal",
    upsert: `INSERT INTO members (${memberColumns.join(", ")})
      VALUES (${memberColumns.map(stored).join(", ")})
      ON CONFLICT (member_id) DO UPDATE SET ${memberColumns
        .filter((column) => column !== "member_id")
        .map((column) => `${column} = excluded.${column}`)
        .join(", ")}`,
    deleteRequests: "DELETE FROM member_requests WHERE member_id = ?",
    insertRequest: `INSERT INTO member_requests (member_id, ordinal, request_id, kind, received_at, due_by)
      VALUES (?, ?, ?, ?, ?, ?)`,
    // The first owner recorded for a message id stays.
    insertMessage: `INSERT INTO messages (message_id, member_id, tenant_id, sent_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (message_id) DO NOTHING`,
    messageOwner: "SELECT message_id, member_id, tenant_id, sent_at FROM messages WHERE message_id = ?",
  } as const
}

/**
 * The SQL of a retention query's page of member ids (`retentionMemberIds`):
 * `pagedSql`'s, selecting the id alone. The filters read the log's `members`
 * columns only, so it never joins the personal columns, kept apart or not.
 */
const idsSql = (filter: string, withTenant: boolean, withAfter: boolean): string =>
  pagedSql("SELECT members.member_id FROM members", filter, withTenant, withAfter)

/**
 * Every statement `retentionMemberIds` can run, for checking their query
 * plans. Internal: not exported from the package.
 */
export const directoryIdQueries = (): ReadonlyArray<string> =>
  Object.values(retentionFilters).flatMap((filter) =>
    [true, false].flatMap((withTenant) =>
      [true, false].map((withAfter) => idsSql(filter, withTenant, withAfter)),
    ),
  )

/**
 * Every statement the directory's queries can run, with the personal
 * columns in the log or apart, for checking their query plans. Internal: not
 * exported from the package.
 */
export const directoryQueries = (personalApart = false): ReadonlyArray<string> => {
  const sql = sqlFor(personalApart)
  const withAndWithoutAfter = (filter: string, withTenant: boolean) =>
    [true, false].map((withAfter) => pagedSql(sql.select, filter, withTenant, withAfter))
  // search always names its tenant; the retention queries may not.
  const paged = [
    ...withAndWithoutAfter(sql.searchFilter, true),
    ...Object.values(retentionFilters).flatMap((filter) =>
      [true, false].flatMap((withTenant) => withAndWithoutAfter(filter, withTenant)),
    ),
  ]
  return [
    sql.get,
    sql.findByEmail,
    sql.emailHolder,
    sql.findRestorable,
    sql.requests,
    sql.messageOwner,
    ...paged,
  ]
}

/**
 * The look-ups of many keys, for checking their query plans: they search the
 * members' key indexes and scan only the keys' JSON array (`json_each`).
 * Internal: not exported from the package.
 */
export const directoryManyQueries = (personalApart = false): ReadonlyArray<string> => {
  const sql = sqlFor(personalApart)
  return [sql.findManyByEmail, sql.findManyRestorable]
}

// SQLite has no boolean: 1 and 0.
const toColumns = (row: MemberRow): SqliteMemberColumns => memberRowToColumns(row, (flag) => (flag ? 1 : 0))

const toMemberRow = (columns: SqliteMemberColumns, openRequests: ReadonlyArray<OpenRequest>): MemberRow =>
  memberRowFromColumns(columns, openRequests, {
    boolean: (stored) => stored === 1,
    integer: (stored) => stored,
  })

const toMessageEntry = (columns: MessageColumns): MessageEntry => ({
  messageId: columns.message_id,
  memberId: columns.member_id,
  tenantId: columns.tenant_id,
  sentAt: columns.sent_at,
})

/**
 * The directory over `connection`.
 *
 * @example
 * ```ts
 * const { directory, write } = sqliteDirectory(connection)
 * connection.write("events.append", () => write({ member: row }))
 * await directory.get(row.memberId)
 * ```
 */
export const sqliteDirectory = (connection: Connection): SqliteDirectory => {
  const sql = sqlFor(connection.personalApart)
  // What every command's append and every member's read runs.
  connection.prepare([
    sql.get,
    sql.requests,
    sql.upsert,
    sql.deleteRequests,
    sql.insertRequest,
    sql.insertMessage,
  ])
  /** Rows with their open requests; call inside a read transaction. */
  const withRequests = (rows: ReadonlyArray<SqliteMemberColumns>): ReadonlyArray<MemberRow> => {
    const requests = connection.statement<[string], RequestColumns>(sql.requests)
    return rows.map((columns) =>
      toMemberRow(
        columns,
        requests.all(columns.member_id).map((request) => ({
          requestId: request.request_id,
          kind: request.kind,
          receivedAt: request.received_at,
          dueBy: request.due_by,
        })),
      ),
    )
  }

  const lookup = (operation: string, query: string, tenantId: string, key: string) =>
    connection.read(operation, () =>
      withRequests(connection.statement<[string, string], SqliteMemberColumns>(query).all(tenantId, key)),
    )

  const lookupMany = (operation: string, query: string, tenantId: string, keys: ReadonlyArray<string>) =>
    connection.read(operation, () => {
      checkLookupKeys(operation, keys)
      if (keys.length === 0) return []
      return withRequests(
        connection
          .statement<[string, string], SqliteMemberColumns>(query)
          .all(tenantId, JSON.stringify(keys)),
      )
    })

  /** A paged query: `filter` with the page's and the query's parameters. */
  const paged = (
    operation: string,
    filter: string,
    page: { readonly limit: number; readonly after?: string; readonly tenantId?: string },
    parameters: Readonly<Record<string, unknown>>,
  ): ReadonlyArray<MemberRow> =>
    connection.read(operation, () => {
      checkPageLimit(operation, page.limit)
      const query = pagedSql(sql.select, filter, page.tenantId !== undefined, page.after !== undefined)
      const bound = {
        ...parameters,
        limit: page.limit,
        ...(page.tenantId === undefined ? {} : { tenantId: page.tenantId }),
        ...(page.after === undefined ? {} : { after: page.after }),
      }
      return withRequests(connection.statement<[object], SqliteMemberColumns>(query).all(bound))
    })

  const retention =
    (name: RetentionQuery) =>
    async (query: BeforeQuery): Promise<ReadonlyArray<MemberRow>> =>
      paged(`directory.${name}`, retentionFilters[name], query, { before: query.before })

  /** Each retention query by name, for `retentionMemberIds` (a name outside them is refused). */
  const retentionNames = new Set<string>(Object.keys(retentionFilters))

  const directory: Directory = {
    get: async (memberId) =>
      connection.read("directory.get", () => {
        const columns = connection.statement<[string], SqliteMemberColumns>(sql.get).get(memberId)
        return columns === undefined ? undefined : withRequests([columns])[0]
      }),
    findByEmail: async (tenantId, emailKey) =>
      lookup("directory.findByEmail", sql.findByEmail, tenantId, emailKey),
    findRestorable: async (tenantId, restoreKey) =>
      lookup("directory.findRestorable", sql.findRestorable, tenantId, restoreKey),
    findManyByEmail: async (tenantId, emailKeys) =>
      lookupMany("directory.findManyByEmail", sql.findManyByEmail, tenantId, emailKeys),
    findManyRestorable: async (tenantId, restoreKeys) =>
      lookupMany("directory.findManyRestorable", sql.findManyRestorable, tenantId, restoreKeys),
    search: async (tenantId, text, page) =>
      paged("directory.search", sql.searchFilter, { ...page, tenantId }, { text }),
    contractsEndedBefore: retention("contractsEndedBefore"),
    inactiveSince: retention("inactiveSince"),
    coldLeadsSince: retention("coldLeadsSince"),
    restoreWindowEndedBefore: retention("restoreWindowEndedBefore"),
    invoicesHeldSince: retention("invoicesHeldSince"),
    requestsDueBefore: retention("requestsDueBefore"),
    // One statement, so one snapshot; ids only (`pluck`), no row decoded, no request read.
    retentionMemberIds: async (name, query) =>
      connection.run("directory.retentionMemberIds", () => {
        if (!retentionNames.has(name))
          throw new StoreError({
            operation: "directory.retentionMemberIds",
            detail: `no retention query named ${JSON.stringify(name)}`,
          })
        checkPageLimit("directory.retentionMemberIds", query.limit)
        const withTenant = query.tenantId !== undefined
        const withAfter = query.after !== undefined
        return connection
          .statement<[object], string>(idsSql(retentionFilters[name], withTenant, withAfter))
          .pluck()
          .all({
            before: query.before,
            limit: query.limit,
            ...(withTenant ? { tenantId: query.tenantId } : {}),
            ...(withAfter ? { after: query.after } : {}),
          })
      }),
    messageOwner: async (messageId) =>
      connection.run("directory.messageOwner", () => {
        const columns = connection.statement<[string], MessageColumns>(sql.messageOwner).get(messageId)
        return columns === undefined ? undefined : toMessageEntry(columns)
      }),
  }

  const prepare = <P extends Array<unknown> | object = Array<unknown>, R = unknown>(text: string) =>
    connection.statement<P, R>(text)
  /** The last write transaction that changed a personal row (see `personal.ts`). */
  let personalIn = 0

  const write = (update: DirectoryUpdate): void => {
    const row = update.member
    if (row.emailKey !== null) {
      const holder = connection
        .statement<[string, string, string], { member_id: string }>(sql.emailHolder)
        .get(row.tenantId, row.emailKey, row.memberId)
      if (holder !== undefined) throw new EmailTaken({ tenantId: row.tenantId, memberId: holder.member_id })
    }
    const personal = connection.personalApart ? personalWrite(prepare, row) : undefined
    // Once per transaction that changes a personal row: if the log lost writes the key store kept
    // (another process crashed between the two commits), the rows they left go first (personal.ts).
    if (personal !== undefined && personalIn !== connection.writes) {
      if (personalBehindLog(prepare)) sweepPersonal(prepare)
      personalIn = connection.writes
    }
    connection.statement<[SqliteMemberColumns]>(sql.upsert).run(toColumns(row))
    personal?.()
    connection.statement<[string]>(sql.deleteRequests).run(row.memberId)
    const insertRequest = connection.statement(sql.insertRequest)
    for (const [ordinal, request] of row.openRequests.entries())
      insertRequest.run(
        row.memberId,
        ordinal,
        request.requestId,
        request.kind,
        request.receivedAt,
        request.dueBy,
      )
    const insertMessage = connection.statement(sql.insertMessage)
    for (const entry of update.messages ?? [])
      insertMessage.run(entry.messageId, entry.memberId, entry.tenantId, entry.sentAt)
  }

  const appended = (position: number, hash: string): void => {
    if (personalIn === connection.writes && position > 0) markPersonal(prepare, position, hash)
  }

  return { directory, write, appended }
}
