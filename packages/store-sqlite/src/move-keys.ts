/**
 * Moving the keys of an existing log file into a key store file of their
 * own: the operator step that turns a single-file store into a log and a
 * key store (docs/operations.md, "Backups").
 *
 * @module
 */
import { StoreError } from "@lethe/core"
import type { SqliteStoreOptions } from "./connection.js"
import { openKeyStoreAndLog } from "./connection.js"
import { movePersonalApart } from "./personal.js"

/** What `moveKeysApart` did. */
export interface MovedKeys {
  /** Keys (live ones and tombstones) moved out of the log file by this call. */
  readonly moved: number
  /** Directory rows whose personal columns (name, e-mail, search text) this call moved out of the log file. */
  readonly members: number
  /** The key store's id, now recorded in the log. */
  readonly keyStoreId: string
}

/**
 * Moves every key (live keys, tombstones, erasure markers, key checks) out of
 * the log file `filename` into the key store file `keys.filename` (created if
 * needed), records the key store in the log, and deletes the keys from the
 * log (`secure_delete` zeroes them, and the WAL is checkpointed to zero
 * bytes). Then moves the directory's personal columns (each member's name,
 * e-mail and search text) into the key store as well, and empties them in
 * the log, which from then on holds no personal value in clear (R42). From
 * then on the log opens only with `sqliteStore({ filename, keys: { filename } })`.
 *
 * Each step is one write transaction over both files, run while no process
 * has the store open. The key store commits first: a crash during a commit
 * leaves the keys (or the personal columns) in both files and the log
 * unmarked, and running the move again, or opening the pair, finishes it (a
 * key already moved is kept; a tombstone in either file wins over a live
 * copy). Running it on a log already moved moves nothing.
 *
 * Every backup of the log taken before the move still holds the keys: keep
 * those no longer than key store backups (docs/operations.md).
 *
 * Throws `StoreError` for a log paired with another key store, or a file
 * that is not a Lethe database or key store.
 *
 * @example
 * ```ts
 * import { moveKeysApart, sqliteStore } from "@lethe/store-sqlite"
 *
 * moveKeysApart({ filename: "./lethe.db", keys: { filename: "./lethe-keys.db" } }) // { moved: 1234, members: 410, ... }
 * const store = sqliteStore({ filename: "./lethe.db", keys: { filename: "./lethe-keys.db" } })
 * ```
 */
export const moveKeysApart = (
  options: Pick<SqliteStoreOptions, "filename" | "synchronous"> & {
    readonly keys: { readonly filename: string }
  },
): MovedKeys => {
  if (options.keys.filename === options.filename)
    throw new StoreError({
      operation: "moveKeysApart",
      detail: "the key store must be another file than the log",
    })
  const db = openKeyStoreAndLog({
    filename: options.filename,
    keys: options.keys,
    ...(options.synchronous === undefined ? {} : { synchronous: options.synchronous }),
  })
  try {
    const keyStoreId =
      db.prepare<[], { id: string }>("SELECT key_store_id AS id FROM main.key_store LIMIT 1").get()?.id ?? ""
    const moved = db
      .transaction(() => {
        const recorded = db
          .prepare<[], { id: string }>("SELECT key_store_id AS id FROM log.key_store LIMIT 1")
          .get()?.id
        if (recorded !== undefined && recorded !== keyStoreId)
          throw new StoreError({
            operation: "moveKeysApart",
            detail: `${options.filename} keeps its keys in the key store ${recorded}, not in ${options.keys.filename} (${keyStoreId})`,
          })
        // A key moved by an earlier, interrupted move stays; a tombstone wins over a live copy.
        db.exec(`INSERT INTO main.keys (key_id, tenant_id, member_id, category, wrapped_key, kek_id, created_at, destroyed_at)
          SELECT key_id, tenant_id, member_id, category, wrapped_key, kek_id, created_at, destroyed_at FROM log.keys WHERE true
          ON CONFLICT (key_id) DO UPDATE SET wrapped_key = NULL, destroyed_at = excluded.destroyed_at
            WHERE excluded.destroyed_at IS NOT NULL AND keys.destroyed_at IS NULL`)
        const { changes } = db.prepare("DELETE FROM log.keys").run()
        if (recorded === undefined)
          db.prepare("INSERT INTO log.key_store (key_store_id, recorded_at) VALUES (?, ?)").run(
            keyStoreId,
            Date.now(),
          )
        return changes
      })
      .immediate()
    db.pragma("wal_checkpoint(TRUNCATE)")
    const members = movePersonalApart(db, Date.now(), true)
    return { moved, members, keyStoreId }
  } catch (error) {
    throw error instanceof StoreError
      ? error
      : new StoreError({
          operation: "moveKeysApart",
          detail: error instanceof Error ? error.message : String(error),
        })
  } finally {
    db.close()
  }
}
