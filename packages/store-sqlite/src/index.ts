/**
 * `@lethe/store-sqlite`: the SQLite storage adapter on better-sqlite3, the
 * embedded default (docs/design.md §4, §6). One file holds the event log, the data
 * keys, the directory and the member snapshots; erased values are
 * overwritten in the file and checkpointed out of the WAL (R29).
 *
 * @module
 */
import type { LetheStore } from "@lethe/core"
import type { SqliteStoreOptions } from "./connection.js"
import { Connection } from "./connection.js"
import { sqliteDirectory } from "./directory.js"
import { sqliteEventStore } from "./event-store.js"
import { sqliteKeyStore } from "./key-store.js"
import { sqliteProjectionStore } from "./projection-store.js"
import { sqliteSnapshotStore } from "./snapshot-store.js"

export type { SqliteStoreOptions } from "./connection.js"
export type { MovedKeys } from "./move-keys.js"
export { moveKeysApart } from "./move-keys.js"

/**
 * A store in the SQLite file `filename`, created and migrated if needed.
 *
 * - Durability: WAL journal; `synchronous: "full"` (the default) makes each
 *   commit survive a power loss, `"normal"` is faster and survives a crash of
 *   the process but may lose the last commits on power loss.
 * - Atomicity: an append (its events, the version check and the directory
 *   update) is one `BEGIN IMMEDIATE` transaction; SQLite lets one writer at a
 *   time in, across connections and processes, and others wait up to 5 s.
 * - Erasure: `secure_delete` overwrites what an update or delete frees, and
 *   `redact`, `keys.destroy` and `snapshots.remove` checkpoint the WAL to
 *   zero bytes afterwards.
 * - Projections (R36): the checkpoints in `lethe_projections`, each
 *   projection's writes and checkpoint in one transaction, its handle the
 *   better-sqlite3 `Database` (so its `apply` is synchronous); see
 *   `sqliteProjectionStore`.
 * - Keys apart (`keys: { filename }`): the data keys, and the directory's
 *   names, e-mails and search texts, live in a file of their own, backed up
 *   on a short schedule, so a log backup holds no personal value in clear
 *   and, restored after a purge, opens nothing of the purged member (R42).
 *   An append is still one transaction over both files; SQLite commits the
 *   key store first, so a crash in between leaves an orphan key, never an
 *   event without its key, and a personal row the log never got is removed
 *   on the next open.
 *
 * Opening a file that is not a Lethe database, or whose schema is newer than
 * this package, throws `StoreError` (operation "open") and changes nothing.
 * Processes opening one file at once take turns (a new file is switched to
 * WAL and migrated once); an open waits up to 5 s in all for the others'
 * locks, then throws `StoreUnavailable`.
 * After `close()`, every call rejects with `StoreError` ("store is closed").
 *
 * @example
 * ```ts
 * import { createLethe, keyringFromSecret } from "@lethe/core"
 * import { sqliteStore } from "@lethe/store-sqlite"
 *
 * const lethe = await createLethe({
 *   store: sqliteStore({ filename: "./lethe.db" }),
 *   keyring: keyringFromSecret(secret),
 * })
 * ```
 */
export const sqliteStore = (options: SqliteStoreOptions): LetheStore => {
  const connection = Connection.open(options)
  const directory = sqliteDirectory(connection)
  const keys = sqliteKeyStore(connection)
  const eventStore = sqliteEventStore(connection, directory, keys)
  // The projection store's own step stays off the SPI's event store.
  const { appendWith: _appendWith, ...events } = eventStore
  return {
    name: "sqlite",
    events,
    keys: keys.keys,
    directory: directory.directory,
    snapshots: sqliteSnapshotStore(connection),
    projections: sqliteProjectionStore(connection, eventStore),
    erasing: (steps) => connection.erasing(steps),
    close: async () => connection.close(),
  }
}

export { SqliteStore } from "./layer.js"
