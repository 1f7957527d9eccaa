/**
 * The directory's personal columns apart from the log (`sqliteStore`'s
 * `keys` option, R42): a member's `name`, `email` and `search_text` live in
 * the key store file's `member_personal` table, and the log's `members` row
 * keeps them NULL. A log backup then holds no personal value in clear: its
 * events are sealed, and the clear columns of the directory are kept only as
 * long as key store backups (docs/operations.md, "Backups").
 *
 * Crash order, and logs restored from a backup. An append writes the
 * personal row in the key store file and the directory row in the log file,
 * in one transaction; in WAL mode SQLite commits the key store first. A
 * crash between the two commits leaves the personal row ahead of the log: a
 * registration's row with no member in the log, a restore's for a member the
 * log still shows forgotten. A log restored from a backup older than the key
 * store does the same for every write since the backup. Such a row holds
 * personal data the log does not, and nothing would ever erase it, so it is
 * removed: every personal row whose member the log does not show active
 * goes. Reading every row for that on each open would cost seconds for a
 * million members, so the key store records, in the transaction of each
 * write that changes a personal row, the position and hash of the last event
 * that write appended (`key_store.log_position`, `log_hash`). A log that
 * holds that event saw every such write; one that does not (the event is
 * missing, or another one took its position) lost some, and the rows are
 * swept. The open checks (one look-up) and sweeps under the write lock; so
 * does the next write that changes a personal row, for a process that stayed
 * open while another one crashed. An append of no event (none comes from the
 * core) records nothing.
 *
 * A member whose personal values are all NULL (forgotten, purged,
 * anonymized) has no row: `forget` deletes it, `restore` writes it again.
 * A store whose log predates this (its members rows hold the columns) has
 * them moved on its first open with the keys apart (`movePersonalApart`).
 *
 * Internal: not exported from the package.
 *
 * @module
 */
import type { MemberRow } from "@lethe/core/spi"
import type Database from "better-sqlite3"

/** The personal columns of a members row, as `member_personal` holds them. */
export interface PersonalColumns {
  readonly name: string | null
  readonly email: string | null
  readonly search_text: string | null
}

/** The directory columns that live with the keys when the keys are apart from the log. */
export const personalColumns: ReadonlyArray<keyof PersonalColumns> = ["name", "email", "search_text"]

const sql = {
  read: "SELECT name, email, search_text FROM main.member_personal WHERE member_id = ?",
  write: `INSERT INTO main.member_personal (member_id, name, email, search_text) VALUES (?, ?, ?, ?)
    ON CONFLICT (member_id) DO UPDATE SET name = excluded.name, email = excluded.email,
      search_text = excluded.search_text`,
  remove: "DELETE FROM main.member_personal WHERE member_id = ?",
  // Whether the log lost writes since the last personal row was written: no row when it did not.
  behind: `SELECT 1 AS behind FROM main.key_store AS w
    WHERE w.log_position IS NOT NULL AND NOT EXISTS
      (SELECT 1 FROM log.events AS e WHERE e.position = w.log_position AND e.hash = w.log_hash)`,
  sweep: `DELETE FROM main.member_personal WHERE NOT EXISTS (SELECT 1 FROM log.members AS m
    WHERE m.member_id = member_personal.member_id AND m.status = 'active')`,
  mark: "UPDATE main.key_store SET log_position = ?, log_hash = ?",
  // The log's last event, once it has been swept against.
  markLast: `UPDATE main.key_store SET (log_position, log_hash) =
    (SELECT position, hash FROM log.events ORDER BY position DESC LIMIT 1)`,
  movedAt: "SELECT personal_moved_at AS at FROM main.key_store LIMIT 1",
  held: `SELECT 1 AS held FROM log.members
    WHERE name IS NOT NULL OR email IS NOT NULL OR search_text IS NOT NULL LIMIT 1`,
  // A row already here is newer: written by an append since the copy was cut short.
  copy: `INSERT INTO main.member_personal (member_id, name, email, search_text)
    SELECT member_id, name, email, search_text FROM log.members
    WHERE name IS NOT NULL OR email IS NOT NULL OR search_text IS NOT NULL
    ON CONFLICT (member_id) DO NOTHING`,
  empty: `UPDATE log.members SET name = NULL, email = NULL, search_text = NULL
    WHERE name IS NOT NULL OR email IS NOT NULL OR search_text IS NOT NULL`,
  markMoved: "UPDATE main.key_store SET personal_moved_at = ? WHERE personal_moved_at IS NULL",
} as const

/** Prepares a statement: the connection's cache (`Connection.statement`), or `db.prepare` at open. */
export type Prepare = <P extends Array<unknown> | object = Array<unknown>, R = unknown>(
  text: string,
) => Database.Statement<P, R>

/** `db.prepare`, as a `Prepare`. */
export const prepareOn =
  (db: Database.Database): Prepare =>
  <P extends Array<unknown> | object = Array<unknown>, R = unknown>(text: string) =>
    db.prepare(text) as unknown as Database.Statement<P, R>

/** `row`'s personal columns. */
export const personalOf = (row: MemberRow): PersonalColumns => ({
  name: row.name,
  email: row.email,
  search_text: row.searchText,
})

const isEmpty = (values: PersonalColumns): boolean =>
  values.name === null && values.email === null && values.search_text === null

const same = (a: PersonalColumns, b: PersonalColumns): boolean =>
  a.name === b.name && a.email === b.email && a.search_text === b.search_text

/**
 * Whether the log does not hold the last event of the last write that
 * changed a personal row: it lost writes the key store kept (see the module
 * comment). Reads only; without the write lock, it may be another
 * connection's commit half done: decide under the lock.
 */
export const personalBehindLog = (prepare: Prepare): boolean => prepare(sql.behind).get() !== undefined

/**
 * Removes every personal row whose member the log does not show active (a
 * write the log lost, see the module comment); returns how many. Call in a
 * write transaction.
 */
export const sweepPersonal = (prepare: Prepare): number => prepare(sql.sweep).run().changes

/**
 * The open's repair: when the log lost writes, sweeps the personal rows
 * under the write lock and records the log's last event as the new mark;
 * returns how many rows it removed.
 */
export const repairPersonal = (db: Database.Database): number => {
  const prepare = prepareOn(db)
  if (!personalBehindLog(prepare)) return 0
  return db
    .transaction(() => {
      if (!personalBehindLog(prepare)) return 0
      const removed = sweepPersonal(prepare)
      prepare(sql.markLast).run()
      return removed
    })
    .immediate()
}

/**
 * Records the last event of a write that changed a personal row, in its
 * transaction (see the module comment).
 */
export const markPersonal = (prepare: Prepare, position: number, hash: string): void => {
  prepare(sql.mark).run(position, hash)
}

/**
 * What writing `row` does to the key store file: `undefined` when nothing
 * (its personal columns unchanged: an append that changes none of them, a
 * visit, writes nothing to the key store file); otherwise the write of its
 * personal row, or its removal when all its columns are NULL.
 */
export const personalWrite = (prepare: Prepare, row: MemberRow): (() => void) | undefined => {
  const values = personalOf(row)
  const stored = prepare<[string], PersonalColumns>(sql.read).get(row.memberId)
  if (stored === undefined ? isEmpty(values) : same(stored, values)) return undefined
  return () => {
    if (isEmpty(values)) prepare<[string]>(sql.remove).run(row.memberId)
    else prepare(sql.write).run(row.memberId, values.name, values.email, values.search_text)
  }
}

/** Whether the log's personal columns have been moved into the key store (`movePersonalApart`). */
export const personalMoved = (db: Database.Database): boolean =>
  db.prepare<[], { at: number | null }>(sql.movedAt).get()?.at != null

/**
 * Moves the personal columns of the log's members rows (a log written
 * before they lived apart) into the key store, and empties them in the log;
 * returns how many members rows it emptied. Does nothing once done, unless
 * `always` (`moveKeysApart`, which may be given a log put back from before
 * the move: it reads every members row to find out).
 *
 * Three steps, so that "moved" is never recorded before the log is empty:
 * the copy and the emptying in one write transaction (the key store commits
 * first: a crash in between leaves the values in both files, and the next
 * open moves them again), then a checkpoint of the log's WAL to zero bytes
 * (with `secure_delete`, the old values are then in neither the log file nor
 * its WAL), then the mark, in a transaction of its own.
 */
export const movePersonalApart = (db: Database.Database, now: number, always = false): number => {
  if (!always && personalMoved(db)) return 0
  let emptied = 0
  if (db.prepare(sql.held).get() !== undefined) {
    emptied = db
      .transaction(() => {
        db.exec(sql.copy)
        return db.prepare(sql.empty).run().changes
      })
      .immediate()
    db.pragma("log.wal_checkpoint(TRUNCATE)")
  }
  db.transaction(() => db.prepare(sql.markMoved).run(now)).immediate()
  return emptied
}
