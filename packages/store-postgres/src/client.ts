/**
 * The small query interface the store runs on, and the two drivers behind
 * it: a `pg` Pool (many connections, real concurrency) or a PGlite instance
 * (PostgreSQL in-process, one connection). Both answer `query(text, params)`;
 * a transaction runs a function on one connection between BEGIN and
 * COMMIT/ROLLBACK.
 *
 * Driver errors never leave this module untranslated: a unique violation on
 * (stream_id, version) and a serialization failure or deadlock become
 * `ConcurrencyConflict` in the event store; everything else becomes a
 * `StoreError` naming the operation.
 *
 * @module
 */
import { ConcurrencyConflict, KeyDestroyed, KeyExists, StoreError } from "@lethe/core"

/** What a query returns: its rows, as the driver parsed them. */
export interface SqlResult {
  readonly rows: ReadonlyArray<Record<string, unknown>>
}

/** Runs one parameterized statement (`$1`, `$2`...). */
export interface SqlClient {
  query(text: string, params?: ReadonlyArray<unknown>): Promise<SqlResult>
}

/** A client checked out of a `pg` Pool. */
export interface PgPoolClientLike {
  query(text: string, values?: Array<unknown>): Promise<{ readonly rows: Array<Record<string, unknown>> }>
  release(error?: Error | boolean): void
  on?(event: "error", listener: (error: Error) => void): unknown
  removeListener?(event: "error", listener: (error: Error) => void): unknown
}

/**
 * What the store needs of a `pg` Pool (`new pg.Pool(...)` satisfies it).
 *
 * @example
 * ```ts
 * import pg from "pg"
 * const pool: PgPoolLike = new pg.Pool({ connectionString: process.env.DATABASE_URL })
 * ```
 */
export interface PgPoolLike {
  query(text: string, values?: Array<unknown>): Promise<{ readonly rows: Array<Record<string, unknown>> }>
  connect(): Promise<PgPoolClientLike>
}

/**
 * What the store needs of a PGlite instance (`new PGlite()` satisfies it).
 *
 * @example
 * ```ts
 * import { PGlite } from "@electric-sql/pglite"
 * const db: PGliteLike = new PGlite()
 * ```
 */
export interface PGliteLike {
  query(text: string, params?: Array<unknown>): Promise<{ readonly rows: Array<unknown> }>
  transaction<T>(callback: (tx: PGliteTransactionLike) => Promise<T>): Promise<T>
}

/** The transaction object PGlite hands to `transaction`'s callback. */
export interface PGliteTransactionLike {
  query(text: string, params?: Array<unknown>): Promise<{ readonly rows: Array<unknown> }>
}

/** A database the store can run on: statements, and transactions on one connection. */
export interface Database extends SqlClient {
  transaction<A>(fn: (tx: SqlClient) => Promise<A>): Promise<A>
}

const isPool = (pool: PgPoolLike | PGliteLike): pool is PgPoolLike =>
  typeof (pool as Partial<PgPoolLike>).connect === "function"

const asRows = (rows: ReadonlyArray<unknown>): ReadonlyArray<Record<string, unknown>> =>
  rows as ReadonlyArray<Record<string, unknown>>

const fromPool = (pool: PgPoolLike): Database => ({
  query: async (text, params = []) => ({ rows: (await pool.query(text, [...params])).rows }),
  transaction: async (fn) => {
    const client = await pool.connect()
    // A checked-out client that loses its connection emits "error"; without a listener Node would
    // exit. The failed query rejects all the same, and that is what the caller sees.
    const ignore = () => undefined
    client.on?.("error", ignore)
    const release = (broken?: boolean) => {
      client.removeListener?.("error", ignore)
      client.release(broken)
    }
    const tx: SqlClient = {
      query: async (text, params = []) => ({ rows: (await client.query(text, [...params])).rows }),
    }
    try {
      // The version check reads the committed state after the stream lock: READ COMMITTED,
      // whatever the server's default.
      await client.query("BEGIN ISOLATION LEVEL READ COMMITTED")
      const result = await fn(tx)
      await client.query("COMMIT")
      release()
      return result
    } catch (error) {
      try {
        await client.query("ROLLBACK")
        // Session-level advisory locks (the position mutex) must not stay with a pooled connection.
        await client.query("SELECT pg_advisory_unlock_all()")
        release()
      } catch {
        // The connection is broken: the pool must drop it, not hand it out again.
        release(true)
      }
      throw error
    }
  },
})

const fromPGlite = (db: PGliteLike): Database => ({
  query: async (text, params = []) => ({ rows: asRows((await db.query(text, [...params])).rows) }),
  transaction: async (fn) => {
    try {
      return await db.transaction((tx) =>
        fn({
          query: async (text, params = []) => ({ rows: asRows((await tx.query(text, [...params])).rows) }),
        }),
      )
    } catch (error) {
      await db.query("SELECT pg_advisory_unlock_all()").catch(() => undefined)
      throw error
    }
  },
})

/**
 * The `Database` over a `pg` Pool or a PGlite instance.
 *
 * @example
 * ```ts
 * const db = toDatabase(new pg.Pool())
 * await db.transaction((tx) => tx.query("SELECT 1"))
 * ```
 */
export const toDatabase = (pool: PgPoolLike | PGliteLike): Database =>
  isPool(pool) ? fromPool(pool) : fromPGlite(pool)

/** The SQLSTATE of a PostgreSQL error, if `error` is one. */
export const sqlState = (error: unknown): string | undefined => {
  const code = (error as { readonly code?: unknown } | null)?.code
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
}

/** The constraint a PostgreSQL error names, if any. */
export const constraintOf = (error: unknown): string | undefined => {
  const constraint = (error as { readonly constraint?: unknown } | null)?.constraint
  return typeof constraint === "string" ? constraint : undefined
}

/** A serialization failure or a deadlock: the transaction lost a race and may be retried. */
export const isRetryableConflict = (error: unknown): boolean => {
  const state = sqlState(error)
  return state === "40001" || state === "40P01"
}

/**
 * Whether the error says the server cannot be reached or the connection was
 * lost (refused, reset, timed out, admin shutdown, connection exceptions).
 */
export const isUnavailable = (error: unknown): boolean => {
  const state = sqlState(error)
  if (state !== undefined) return state.startsWith("08") || state.startsWith("57P") || state === "53300"
  const code = (error as { readonly code?: unknown } | null)?.code
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return true
  const message = error instanceof Error ? error.message : ""
  return /Connection terminated|connection ended|Client has encountered a connection error/i.test(message)
}

const detailOf = (error: unknown): string => {
  const message = error instanceof Error ? error.message : String(error)
  const state = sqlState(error)
  if (isUnavailable(error)) return `database unavailable (retry later): ${message}`
  return state === undefined ? message : `${state}: ${message}`
}

/** Errors Lethe defines pass through; anything else (a driver's error) becomes a `StoreError`. */
export const translate = (operation: string, error: unknown): Error =>
  error instanceof StoreError ||
  error instanceof ConcurrencyConflict ||
  error instanceof KeyExists ||
  error instanceof KeyDestroyed
    ? error
    : new StoreError({ operation, detail: detailOf(error) })

/**
 * A PostgreSQL `bigint` (a string from `pg`, a number or a bigint from
 * PGlite) as a number; throws `StoreError` past `Number.MAX_SAFE_INTEGER`.
 */
export const toNumber = (value: unknown): number => {
  const n = typeof value === "number" ? value : Number(value as string | bigint)
  if (!Number.isSafeInteger(n))
    throw new StoreError({ operation: "decode", detail: `not a safe integer: ${String(value)}` })
  return n
}

/** `toNumber`, with SQL NULL as null. */
export const toNumberOrNull = (value: unknown): number | null =>
  value === null || value === undefined ? null : toNumber(value)
