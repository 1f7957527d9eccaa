/**
 * The directory's personal columns apart from the log (`postgresStore`'s
 * `keys: { schema }` option, in the log's database, R42): a member's
 * `name`, `email` and `search_text` live in the key store schema's
 * `member_personal` table, and the log's `members` row keeps them NULL. A
 * dump of the log's schema then holds no personal value in clear: its events
 * are sealed, and the clear columns of the directory are kept only as long as
 * key store backups (docs/operations.md, "Backups").
 *
 * An append writes the personal row in its own transaction, after the
 * directory row (under the stream's lock), so both commit together; the
 * directory's reads join the table by member id. A member whose personal
 * values are all NULL (forgotten, purged, anonymized) has no row. A log
 * written before they lived apart has them moved on its next open
 * (`movePersonalApart`). A log schema restored from a dump older than the
 * key store (docs/operations.md, "Backups") would leave the personal rows of
 * members registered or restored since, which nothing would ever erase: the
 * restore recreates the log's tables, so the open notices the new `members`
 * table and removes the rows of members the log does not show active
 * (`sweepPersonal`).
 *
 * With the key store in another database (`keys: { pool }`) no transaction
 * and no join covers both: the personal columns stay in the log's members
 * rows there (docs/operations.md says what that means for log backups).
 *
 * Internal: not exported from the package.
 *
 * @module
 */
import { StoreError } from "@lethe/core"
import type { MemberRow } from "@lethe/core/spi"
import type { Database, SqlClient } from "./client.js"
import { checkNoNul } from "./client.js"
import type { Schema } from "./migrations.js"
import { lockKeys } from "./migrations.js"

/** The directory columns that live with the keys when the keys are apart in the log's database. */
export const personalColumns: ReadonlyArray<string> = ["name", "email", "search_text"]

/** The statements of the personal rows in the key store schema `k` (quoted). */
const sqlFor = (k: string) =>
  ({
    // An unchanged row is left as it is: no new row version, no dead tuple.
    write: `INSERT INTO ${k}.member_personal (member_id, name, email, search_text) VALUES ($1, $2, $3, $4)
      ON CONFLICT (member_id) DO UPDATE SET name = excluded.name, email = excluded.email,
        search_text = excluded.search_text
      WHERE (member_personal.name, member_personal.email, member_personal.search_text)
        IS DISTINCT FROM (excluded.name, excluded.email, excluded.search_text)`,
    remove: `DELETE FROM ${k}.member_personal WHERE member_id = $1`,
  }) as const

/** `row` without its personal columns: what the log's members row stores. */
export const withoutPersonal = (row: MemberRow): MemberRow => ({
  ...row,
  name: null,
  email: null,
  searchText: null,
})

/**
 * Throws `StoreError` for a personal value PostgreSQL text cannot store (a
 * NUL character), before anything is sent.
 */
export const checkPersonal = (operation: string, row: MemberRow): void => {
  checkNoNul(operation, JSON.stringify([row.name, row.email, row.searchText]), "the directory row")
}

/**
 * Writes `row`'s personal columns in the key store schema `keys`, inside the
 * caller's transaction `tx` (after the append that wrote its members row):
 * the row, or its removal when all of them are NULL.
 */
export const writePersonal = async (tx: SqlClient, keys: Schema, row: MemberRow): Promise<void> => {
  const sql = sqlFor(keys.sql)
  if (row.name === null && row.email === null && row.searchText === null)
    await tx.query(sql.remove, [row.memberId])
  else await tx.query(sql.write, [row.memberId, row.name, row.email, row.searchText])
}

/** Whether the log's personal columns have been moved into the key store schema `keys`. */
export const personalMoved = async (db: SqlClient, keys: Schema): Promise<boolean> =>
  (await db.query(`SELECT personal_moved_at FROM ${keys.sql}.key_store LIMIT 1`)).rows[0]
    ?.personal_moved_at != null

/**
 * Moves the personal columns of the log's members rows in `schema` (a log
 * written before they lived apart) into the key store schema `keys` of the
 * same database, empties them in the log and records the move, in one
 * transaction under the log's migration lock; returns how many members rows
 * it emptied. Does nothing once done. The old row versions stay as dead
 * tuples until VACUUM (docs/operations.md): a dump never holds them.
 */
export const movePersonalApart = async (
  db: Database,
  schema: Schema,
  keys: Schema,
  now: number,
): Promise<number> => {
  if (await personalMoved(db, keys)) return 0
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1, $2)", [schema.lockClass, lockKeys.migrations])
    if (await personalMoved(tx, keys)) return 0
    const held = `name IS NOT NULL OR email IS NOT NULL OR search_text IS NOT NULL`
    await tx.query(`INSERT INTO ${keys.sql}.member_personal (member_id, name, email, search_text)
      SELECT member_id, name, email, search_text FROM ${schema.sql}.members WHERE ${held}
      ON CONFLICT (member_id) DO NOTHING`)
    const { rows } = await tx.query(`WITH emptied AS (
        UPDATE ${schema.sql}.members SET name = NULL, email = NULL, search_text = NULL WHERE ${held}
        RETURNING 1)
      SELECT count(*)::int AS n FROM emptied`)
    await tx.query(`UPDATE ${keys.sql}.key_store SET personal_moved_at = $1`, [now])
    return Number(rows[0]?.n ?? 0)
  })
}

/**
 * Removes the personal rows of members the log in `schema` does not show
 * active, once per `members` table of the log (a log restored from a dump is
 * a new one), in one transaction under the log's migration lock; returns how
 * many rows it removed. A log not restored costs one look-up.
 */
export const sweepPersonal = async (db: Database, schema: Schema, keys: Schema): Promise<number> => {
  const table = `SELECT '${schema.sql}.members'::regclass::oid::bigint`
  const checked = `SELECT log_members IS NOT DISTINCT FROM (${table}) AS checked FROM ${keys.sql}.key_store`
  if ((await db.query(checked)).rows[0]?.checked === true) return 0
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1, $2)", [schema.lockClass, lockKeys.migrations])
    if ((await tx.query(checked)).rows[0]?.checked === true) return 0
    const { rows } = await tx.query(`WITH removed AS (
        DELETE FROM ${keys.sql}.member_personal AS p WHERE NOT EXISTS (SELECT 1 FROM ${schema.sql}.members AS m
          WHERE m.member_id = p.member_id AND m.status = 'active')
        RETURNING 1)
      SELECT count(*)::int AS n FROM removed`)
    await tx.query(`UPDATE ${keys.sql}.key_store SET log_members = (${table})`)
    return Number(rows[0]?.n ?? 0)
  })
}

/**
 * Refuses a key store in another database (`keys: { pool }`) that holds the
 * directory's personal columns: they were moved there beside a log of the
 * same database, and the log's rows no longer hold them.
 */
export const ensurePersonalInLog = async (db: SqlClient, keys: Schema): Promise<void> => {
  if (await personalMoved(db, keys))
    throw new StoreError({
      operation: "open",
      detail: `the key store in schema ${keys.name} holds the directory's personal columns, which a key store on its own connections cannot join: open it in the log's database (keys: { schema }, without pool)`,
    })
}
