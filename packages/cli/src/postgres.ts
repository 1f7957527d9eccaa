/**
 * PostgreSQL sources: a `postgres://` or `postgresql://` URL and a schema
 * (`--schema`, default `lethe`), opened through `@lethe/store-postgres` on a
 * `pg` Pool that the command ends when it is done.
 *
 * A command that only reads (`audit`, `export-log`, `retention --dry-run`)
 * opens the source read-only:
 * - opening the store (its migration check) may not write: a transaction of
 *   the open that wrote anything (creating a schema that is not there,
 *   migrating one written by an older version) is rolled back, and the
 *   command stops;
 * - afterwards, every session of the pool is `READ ONLY`, so the server
 *   itself refuses any write.
 *
 * @module
 */
import type { LetheStore } from "@lethe/core"
import type { PgPoolClientLike, PgPoolLike } from "@lethe/store-postgres"
import { postgresStore } from "@lethe/store-postgres"
import pg from "pg"
import { CliError, reasonOf } from "./errors.js"

/** The schema of a PostgreSQL source when `--schema` is not given (the store's default). */
export const defaultSchema = "lethe"

/** A store a command opened, and how to release everything it holds. */
export interface OpenedStore {
  readonly store: LetheStore
  /** For reports and messages, e.g. "sqlite:lethe.db"; never holds a password. */
  readonly label: string
  /** Closes the store, and ends the pool the command opened for it. */
  close(): Promise<void>
}

/** Whether `source` is a PostgreSQL URL. */
export const isPostgresUrl = (source: string): boolean => /^postgres(ql)?:\/\//i.test(source)

/**
 * `source` fit to print: a PostgreSQL URL loses its password (in the
 * user-info part and in a `password` parameter); anything else is unchanged.
 *
 * @example
 * ```ts
 * printable("postgres://app:s3cret@db/crm") // "postgres://app:***@db/crm"
 * ```
 */
export const printable = (source: string): string => {
  if (!isPostgresUrl(source)) return source
  try {
    const url = new URL(source)
    if (url.password !== "") url.password = "***"
    for (const key of [...url.searchParams.keys()]) if (/pass/i.test(key)) url.searchParams.set(key, "***")
    return url.toString()
  } catch {
    return source.replace(/\/\/[^@/]*@/, "//***@").replace(/([?&][^=&]*pass[^=&]*=)[^&]*/gi, "$1***")
  }
}

/** A transaction of the open wrote something: the schema needs migrating, which a read may not do. */
const refusedWrite = () =>
  new Error(
    "opening it read-only would change the schema (it needs migrating to this version of Lethe): run a command that writes (retention, import) once, or use the version of lethe that wrote it",
  )

/** Whether the current transaction of `client` wrote anything (PostgreSQL assigns an id at the first write). */
const wroteAnything = async (client: pg.PoolClient): Promise<boolean> =>
  ((await client.query("SELECT txid_current_if_assigned() AS xid")).rows[0]?.xid ?? null) !== null

/**
 * `pool` as the store sees it for a command that only reads. While the store
 * opens, nothing may be written: a transaction that wrote is rolled back
 * instead of committed, and a statement outside a transaction is run in one
 * so that it can be. Once `seal()` is called, every session is made
 * read-only before it is used, and the server refuses any write.
 */
const readOnlyPool = (pool: pg.Pool): PgPoolLike & { seal(): void; readonly refused: boolean } => {
  let sealed = false
  let refused = false
  const refuse = () => {
    refused = true
    return refusedWrite()
  }
  const readOnly = new WeakSet<pg.PoolClient>()
  const checkout = async (): Promise<pg.PoolClient> => {
    const client = await pool.connect()
    if (sealed && !readOnly.has(client)) {
      try {
        await client.query("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
      } catch (error) {
        client.release(error instanceof Error ? error : true)
        throw error
      }
      readOnly.add(client)
    }
    return client
  }
  /** `text` in a transaction of its own, committed only if it wrote nothing. */
  const undoable = async (client: pg.PoolClient, text: string, values?: Array<unknown>) => {
    await client.query("BEGIN")
    try {
      const result = await client.query(text, values)
      if (await wroteAnything(client)) throw refuse()
      await client.query("COMMIT")
      return result
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined)
      throw error
    }
  }
  /** The client, guarded while opening: no COMMIT of a transaction that wrote, no statement that writes alone. */
  const guarded = (client: pg.PoolClient): PgPoolClientLike => {
    let inTransaction = false
    return {
      query: async (text, values) => {
        if (sealed) return client.query(text, values)
        if (/^\s*BEGIN\b/i.test(text)) inTransaction = true
        else if (/^\s*(COMMIT|END)\b/i.test(text)) {
          inTransaction = false
          if (await wroteAnything(client)) {
            await client.query("ROLLBACK")
            throw refuse()
          }
        } else if (/^\s*ROLLBACK\b/i.test(text)) inTransaction = false
        else if (!inTransaction) return undoable(client, text, values)
        return client.query(text, values)
      },
      release: (error) => client.release(error),
      on: (event, listener) => client.on(event, listener),
      removeListener: (event, listener) => client.removeListener(event, listener),
    }
  }
  return {
    query: async (text, values) => {
      const client = await checkout()
      try {
        const result = sealed ? await client.query(text, values) : await undoable(client, text, values)
        client.release()
        return result
      } catch (error) {
        // As pg's own pool.query: a client whose statement failed is not reused.
        client.release(error instanceof Error ? error : true)
        throw error
      }
    },
    connect: async () => guarded(await checkout()),
    seal: () => {
      sealed = true
    },
    get refused() {
      return refused
    },
  }
}

/** Whether `schema` holds a Lethe log (its migration ledger), read in a read-only transaction. */
const holdsLetheLog = async (pool: pg.Pool, schema: string): Promise<boolean> => {
  const client = await pool.connect()
  try {
    await client.query("BEGIN READ ONLY")
    const { rows } = await client.query(
      "SELECT to_regclass(format('%I.lethe_migrations', $1::text)) IS NOT NULL AS found",
      [schema],
    )
    await client.query("COMMIT")
    client.release()
    return rows[0]?.found === true
  } catch (error) {
    client.release(error instanceof Error ? error : true)
    throw error
  }
}

/**
 * Opens the Lethe store in `schema` of the database at `url`. Read-only (see
 * the module's comment) when `readonly`; otherwise the schema is created and
 * migrated if needed, as `postgresStore` does. Rejects with `CliError` (exit
 * code 2) when the server cannot be reached or the schema is not a Lethe
 * one; the pool is ended then too.
 *
 * @example
 * ```ts
 * const { store, close } = await openPostgres("postgres://auditor@db/crm", { readonly: true, schema: "lethe" })
 * try { ... } finally { await close() }
 * ```
 */
export const openPostgres = async (
  url: string,
  options: {
    readonly readonly: boolean
    readonly schema: string | undefined
    readonly keys?: string | undefined
  },
): Promise<OpenedStore> => {
  const schema = options.schema ?? defaultSchema
  const where = `${printable(url)} (schema ${schema}${options.keys === undefined ? "" : `, keys in schema ${options.keys}`})`
  const apart = options.keys === undefined ? {} : { keys: { schema: options.keys } }
  let pool: pg.Pool
  try {
    pool = new pg.Pool({
      connectionString: url,
      max: 4,
      connectionTimeoutMillis: 10_000,
      application_name: "lethe-cli",
    })
  } catch (error) {
    throw CliError.usage(`${printable(url)}: not a PostgreSQL connection URL: ${reasonOf(error)}`)
  }
  // A connection the server drops while idle is reported here; the next query then fails or reconnects.
  pool.on("error", () => undefined)
  try {
    let store: LetheStore
    if (options.readonly) {
      const readOnly = readOnlyPool(pool)
      try {
        store = await postgresStore({ pool: readOnly, schema, ...apart })
      } catch (error) {
        // Refused to write: say why when it is because there is nothing to read.
        if (readOnly.refused && !(await holdsLetheLog(pool, schema)))
          throw CliError.io(
            `${where}: no Lethe log in this schema (a read-only command creates nothing; name the schema with --schema)`,
          )
        throw error
      }
      readOnly.seal()
    } else store = await postgresStore({ pool, schema, ...apart })
    return {
      store,
      label: `postgres:${where}`,
      close: async () => {
        await store.close()
        await pool.end()
      },
    }
  } catch (error) {
    await pool.end().catch(() => undefined)
    if (error instanceof CliError) throw error
    throw CliError.io(`cannot open ${where}: ${reasonOf(error)}`)
  }
}
