/**
 * `@lethe/store-postgres`: the PostgreSQL storage adapter (docs/design.md §4, §6),
 * over a `pg` Pool (many processes appending to one database) or a PGlite
 * instance (PostgreSQL in-process, for tests and single-process apps). One
 * schema holds the event log, the data keys, the directory and the member
 * snapshots.
 *
 * @module
 */
import type { LetheStore } from "@lethe/core"
import type { PGliteLike, PgPoolLike } from "./client.js"
import { toDatabase, translate } from "./client.js"
import { Connection } from "./connection.js"
import { postgresDirectory } from "./directory.js"
import { postgresEventStore } from "./event-store.js"
import { postgresKeyStore } from "./key-store.js"
import { migrate, migrations, toSchema } from "./migrations.js"
import { postgresSnapshotStore } from "./snapshot-store.js"

export type { PGliteLike, PGliteTransactionLike, PgPoolClientLike, PgPoolLike } from "./client.js"

/**
 * What `postgresStore` opens.
 *
 * @example
 * ```ts
 * const options: PostgresStoreOptions = { pool: new pg.Pool(), schema: "crm_lethe" }
 * ```
 */
export interface PostgresStoreOptions {
  /** A `pg` Pool or a PGlite instance. It stays the caller's: `close()` never ends it. */
  readonly pool: PgPoolLike | PGliteLike
  /** The schema holding Lethe's tables, created if missing. A lower-case identifier; default `"lethe"`. */
  readonly schema?: string
}

/**
 * A store in `schema` (default `lethe`) of the database behind `pool`,
 * created and migrated if needed.
 *
 * - Atomicity: an append (its events, the version check and the directory
 *   update and its new keys) is one statement, so one transaction and one
 *   round trip; appends to one stream take turns on an
 *   advisory lock, appends to different streams run in parallel.
 *   `appendBatch` appends to many streams in one statement, all or
 *   nothing; while it runs, other appends wait to draw their positions.
 * - Order: positions are 1, 2, 3... without gaps from refused appends or
 *   batches (a single append that loses a race for an e-mail or key id after
 *   drawing its positions loses them), and `readAll` never returns an event
 *   while a transaction that could still commit a lower position is
 *   running, so a reader paging through the log skips nothing.
 * - Errors: a lost race is `ConcurrencyConflict`, a taken e-mail
 *   `EmailTaken`; a server that cannot be reached or a lost connection is
 *   `StoreUnavailable`; any other driver error is a `StoreError` naming the
 *   operation.
 *
 * Opening a schema that holds another program's tables, or whose Lethe schema
 * is newer than this package, rejects with `StoreError` and changes nothing.
 *
 * @example
 * ```ts
 * import pg from "pg"
 * import { createLethe } from "@lethe/core"
 * import { postgresStore } from "@lethe/store-postgres"
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
 * const lethe = await createLethe({ store: await postgresStore({ pool }), ... })
 * // ... at shutdown: await lethe.close(); await pool.end()
 * ```
 */
export const postgresStore = async (options: PostgresStoreOptions): Promise<LetheStore> => {
  const schema = toSchema(options.schema ?? "lethe")
  const db = toDatabase(options.pool)
  try {
    await migrate(db, schema, migrations, Date.now())
  } catch (error) {
    throw translate("open", error)
  }
  const connection = new Connection(db, schema)
  return {
    name: "postgres",
    events: postgresEventStore(connection),
    keys: postgresKeyStore(connection),
    directory: postgresDirectory(connection),
    snapshots: postgresSnapshotStore(connection),
    close: async () => connection.close(),
  }
}
