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
import { StoreError } from "@lethe/core"
import type { Database, PGliteLike, PgPoolLike } from "./client.js"
import { toDatabase, translate } from "./client.js"
import { Connection } from "./connection.js"
import { postgresDirectory } from "./directory.js"
import { postgresEventStore } from "./event-store.js"
import { postgresKeyStore } from "./key-store.js"
import type { Schema } from "./migrations.js"
import { keyStoreMigrations, keyStoreSchema, lockKeys, migrate, migrations, toSchema } from "./migrations.js"
import { ensurePersonalInLog, movePersonalApart, sweepPersonal } from "./personal.js"
import { inTransaction, postgresProjectionStore } from "./projection-store.js"
import { postgresSnapshotStore } from "./snapshot-store.js"

/** A projection's transaction handle on this store (R36): `Projection<SqlClient>`. */
export type {
  PGliteLike,
  PGliteTransactionLike,
  PgPoolClientLike,
  PgPoolLike,
  SqlClient,
  SqlResult,
} from "./client.js"

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
  /**
   * Keep the data keys in a schema of their own, apart from the log (events,
   * directory, snapshots), so that the two are backed up on different
   * schedules: log backups as long as the business wants (sealed values are
   * ciphertext without the keys), key store backups for at most N days
   * (docs/operations.md, "Backups", R42). `schema` is created if missing; with
   * `pool`, it lives in another database (its own connections), otherwise in
   * the log's database.
   *
   * In the log's database the directory's clear columns (each member's name,
   * e-mail and search text) live in the key store schema too, so a dump of
   * the log's schema holds no personal value in clear; a log written before
   * that has them moved on its next open. In another database no join can
   * reach them, and they stay in the log (docs/operations.md says what that
   * means for its backups); a key store holding them is refused there.
   *
   * In the log's database an append is one transaction over both schemas.
   * In another database it is two: the keys commit first, so a crash between
   * them leaves an orphan key (unused, or reused by the next attempt), never
   * an event without its key; and `appendBatch` is absent (an import appends
   * one contact at a time). The log records the key store's id on the first
   * open and from then on opens beside that key store only, never alone; a
   * log that still holds keys of its own is refused (docs/operations.md says
   * how to move them).
   *
   * @example
   * ```ts
   * await postgresStore({ pool, schema: "lethe", keys: { schema: "lethe_keys" } })
   * await postgresStore({ pool, schema: "lethe", keys: { pool: keysPool, schema: "lethe_keys" } })
   * ```
   */
  readonly keys?: {
    readonly schema: string
    /** The key store's database, when it is not the log's. It stays the caller's, as `pool` does. */
    readonly pool?: PgPoolLike | PGliteLike
  }
}

/**
 * Checks that the log in `schema` belongs with the key store in `keys`, and
 * records the key store's id in a log that has none yet (the first open of a
 * new pair), under the log's migration lock. Refuses a log paired with
 * another key store, or one that still holds keys of its own.
 */
const pairWithLog = async (db: Database, schema: Schema, keyDb: Database, keys: Schema): Promise<void> => {
  const id = String(
    (await keyDb.query(`SELECT key_store_id FROM ${keys.sql}.key_store LIMIT 1`)).rows[0]?.key_store_id,
  )
  await db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1, $2)", [schema.lockClass, lockKeys.migrations])
    const recorded = (await tx.query(`SELECT key_store_id FROM ${schema.sql}.key_store LIMIT 1`)).rows[0]
      ?.key_store_id
    if (recorded !== undefined && recorded !== id)
      throw new StoreError({
        operation: "open",
        detail: `schema ${schema.name} keeps its keys in the key store ${String(recorded)}, not in ${keys.name} (${id})`,
      })
    const held = Number((await tx.query(`SELECT count(*) AS n FROM ${schema.sql}.keys`)).rows[0]?.n ?? 0)
    if (held > 0)
      throw new StoreError({
        operation: "open",
        detail: `schema ${schema.name} holds ${held} keys of its own: move them into ${keys.name} first (docs/operations.md)`,
      })
    if (recorded === undefined)
      await tx.query(`INSERT INTO ${schema.sql}.key_store (key_store_id, recorded_at) VALUES ($1, $2)`, [
        id,
        Date.now(),
      ])
  })
}

/** Refuses a log whose keys live in a key store of their own: it never opens alone. */
const ensureKeysInLog = async (db: Database, schema: Schema): Promise<void> => {
  const recorded = (await db.query(`SELECT key_store_id FROM ${schema.sql}.key_store LIMIT 1`)).rows[0]
  if (recorded !== undefined)
    throw new StoreError({
      operation: "open",
      detail: `schema ${schema.name} keeps its keys in the key store ${String(recorded.key_store_id)}: open it with the keys option`,
    })
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
  const apart = options.keys
  const sameDatabase = apart?.pool === undefined || apart.pool === options.pool
  const keySchema = apart === undefined ? undefined : toSchema(apart.schema)
  if (keySchema !== undefined && sameDatabase && keySchema.name === schema.name)
    throw new StoreError({ operation: "open", detail: "the key store must be another schema than the log" })
  const keyDb = apart?.pool === undefined ? db : toDatabase(apart.pool)
  try {
    await migrate(db, schema, migrations, Date.now())
    if (keySchema === undefined) await ensureKeysInLog(db, schema)
    else {
      await migrate(keyDb, keySchema, keyStoreMigrations, Date.now(), keyStoreSchema)
      await pairWithLog(db, schema, keyDb, keySchema)
      // In the log's database the directory's personal columns live with the keys (personal.ts).
      if (sameDatabase) {
        await movePersonalApart(db, schema, keySchema, Date.now())
        await sweepPersonal(db, schema, keySchema)
      } else await ensurePersonalInLog(keyDb, keySchema)
    }
  } catch (error) {
    throw translate("open", error)
  }
  const connection = new Connection(db, schema)
  const keyConnection = keySchema === undefined ? connection : new Connection(keyDb, keySchema)
  return {
    name: "postgres",
    events: postgresEventStore(
      connection,
      keySchema === undefined ? undefined : { connection: keyConnection, sameDatabase },
    ),
    keys: postgresKeyStore(keyConnection),
    directory: postgresDirectory(connection, sameDatabase ? keySchema : undefined),
    snapshots: postgresSnapshotStore(connection),
    // An inline projection's append runs in the projection store's transaction, through an event
    // store over that transaction's client.
    projections: postgresProjectionStore(connection, (tx) =>
      postgresEventStore(
        new Connection(inTransaction(tx), connection.schema),
        keySchema === undefined ? undefined : { connection: keyConnection, sameDatabase },
      ),
    ),
    close: async () => {
      connection.close()
      keyConnection.close()
    },
  }
}

export { PostgresStore } from "./layer.js"
