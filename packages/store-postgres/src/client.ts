/**
 * The small query interface the store runs on, and the two drivers behind
 * it: a `pg` Pool (many connections, real concurrency) or a PGlite instance
 * (PostgreSQL in-process, one connection). Both answer `query(text, params)`;
 * a transaction runs a function on one connection between BEGIN and
 * COMMIT/ROLLBACK.
 *
 * Driver errors never leave this module untranslated: a unique violation on
 * (stream_id, version) and a serialization failure or deadlock become
 * `ConcurrencyConflict` in the event store; a server that cannot be reached
 * or a lost connection becomes `StoreUnavailable`; everything else becomes a
 * `StoreError` naming the operation.
 *
 * @module
 */
import { StoreError, StoreUnavailable } from "@lethe/core"
import { isLetheStoreError } from "@lethe/core/spi"

/** What a query returns: its rows, as the driver parsed them. */
export interface SqlResult {
  readonly rows: ReadonlyArray<Record<string, unknown>>
}

/** Runs one parameterized statement (`$1`, `$2`...). */
export interface SqlClient {
  /** Runs `text` with `params` (`$1`, `$2`...) and resolves with its rows. */
  query(text: string, params?: ReadonlyArray<unknown>): Promise<SqlResult>
}

/** A client checked out of a `pg` Pool. */
export interface PgPoolClientLike {
  /** Runs one parameterized statement (`$1`, `$2`...) on this client's connection. */
  query(text: string, values?: Array<unknown>): Promise<{ readonly rows: Array<Record<string, unknown>> }>
  /** Gives the client back to the pool; a truthy `error` makes the pool close its connection instead. */
  release(error?: Error | boolean): void
  /** Listens for the client's `error` event; the store listens while it holds the client (optional). */
  on?(event: "error", listener: (error: Error) => void): unknown
  /** Stops listening for the client's `error` event (optional). */
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
  /** Runs one statement on any pooled connection. The store runs its statements on clients from `connect`. */
  query(text: string, values?: Array<unknown>): Promise<{ readonly rows: Array<Record<string, unknown>> }>
  /** Checks a client out of the pool; the store releases it after each statement or transaction. */
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
  /** Runs one parameterized statement (`$1`, `$2`...). */
  query(text: string, params?: Array<unknown>): Promise<{ readonly rows: Array<unknown> }>
  /** Runs `callback` in a transaction: committed when it resolves, rolled back when it rejects. */
  transaction<T>(callback: (tx: PGliteTransactionLike) => Promise<T>): Promise<T>
}

/** The transaction object PGlite hands to `transaction`'s callback. */
export interface PGliteTransactionLike {
  /** Runs one parameterized statement (`$1`, `$2`...) inside the transaction. */
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

/** A client checked out of `pool`, listened to for errors, and how to give it back. */
const checkout = async (pool: PgPoolLike) => {
  const client = await pool.connect()
  // A checked-out client that loses its connection emits "error"; without a listener Node would
  // exit. The failed query rejects all the same, and that is what the caller sees.
  const ignore = () => undefined
  client.on?.("error", ignore)
  const query: SqlClient["query"] = async (text, params = []) => ({
    rows: (await client.query(text, [...params])).rows,
  })
  /** Back to the pool; `broken` makes the pool close it instead. */
  const release = (broken?: boolean) => {
    client.removeListener?.("error", ignore)
    client.release(broken)
  }
  /**
   * Back to the pool after `error`, if the connection survived it. Session-level advisory locks (the
   * position mutex) taken before the error must not stay with a pooled connection.
   */
  const releaseAfter = async (error: unknown, cleanup: ReadonlyArray<string>) => {
    if (isUnavailable(error)) return release(true)
    try {
      for (const statement of cleanup) await client.query(statement)
      release()
    } catch {
      // The connection is broken: the pool must drop it, not hand it out again.
      release(true)
    }
  }
  return { query, release, releaseAfter }
}

const fromPool = (pool: PgPoolLike): Database => ({
  // Not pool.query: it closes the connection after any error, so every refused append (a version
  // conflict, a taken e-mail) would cost a new connection. A statement error leaves the session usable.
  query: async (text, params = []) => {
    const client = await checkout(pool)
    try {
      const result = await client.query(text, params)
      client.release()
      return result
    } catch (error) {
      await client.releaseAfter(error, ["SELECT pg_advisory_unlock_all()"])
      throw error
    }
  },
  transaction: async (fn) => {
    const client = await checkout(pool)
    try {
      // The version check reads the committed state after the stream lock: READ COMMITTED,
      // whatever the server's default.
      await client.query("BEGIN ISOLATION LEVEL READ COMMITTED")
      const result = await fn({ query: client.query })
      await client.query("COMMIT")
      client.release()
      return result
    } catch (error) {
      await client.releaseAfter(error, ["ROLLBACK", "SELECT pg_advisory_unlock_all()"])
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
 * SQLSTATEs of a connection that failed or was taken away: class 08
 * (connection exception), the server shutting down (57P01 admin, 57P02
 * crash), starting up or recovering (57P03), an idle session ended by the
 * server (57P05), no connection slot left (53300).
 */
const unavailableStates = new Set(["57P01", "57P02", "57P03", "57P05", "53300"])

/** Node's codes for a server that cannot be reached or a socket that broke. */
const unavailableCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "EPIPE",
])

/**
 * What `pg` says, without a code, when a connection could not be made or
 * was lost: the socket closed under a query, the connect timeout
 * (`connectionTimeoutMillis`), a pool with no client free in time, the
 * `query_timeout`, a client that already lost its connection.
 */
const unavailableMessages =
  /Connection terminated|connection ended|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|is not queryable/i

/**
 * Whether the error says the server cannot be reached or the connection was
 * lost: refused, unknown host, reset, timed out, shutting down, starting up,
 * out of connection slots. Not a pool the application ended (`pool.end()`):
 * retrying that never succeeds, so it stays a `StoreError`.
 */
export const isUnavailable = (error: unknown): boolean => {
  // Before the SQLSTATE: "EPIPE" has a SQLSTATE's form.
  const code = (error as { readonly code?: unknown } | null)?.code
  if (typeof code === "string" && unavailableCodes.has(code)) return true
  const state = sqlState(error)
  if (state !== undefined) return state.startsWith("08") || unavailableStates.has(state)
  // Node reports a host with several addresses, none reachable, as an AggregateError of each attempt.
  if (error instanceof AggregateError && error.errors.some(isUnavailable)) return true
  return error instanceof Error && unavailableMessages.test(error.message)
}

const detailOf = (error: unknown): string => {
  const message = error instanceof Error ? error.message : String(error)
  const state = sqlState(error)
  const code = (error as { readonly code?: unknown } | null)?.code
  if (state !== undefined) return `${state}: ${message}`
  return typeof code === "string" && !message.includes(code) ? `${code}: ${message}` : message
}

/**
 * Errors Lethe defines pass through; a connection fault becomes
 * `StoreUnavailable`; anything else (a driver's error) becomes a `StoreError`,
 * both naming `operation`.
 *
 * @example
 * ```ts
 * translate("events.readAll", Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }))
 * // StoreUnavailable { store: "postgres", operation: "events.readAll", ... }
 * ```
 */
export const translate = (operation: string, error: unknown): Error => {
  if (isLetheStoreError(error)) return error
  const detail = detailOf(error)
  return isUnavailable(error)
    ? new StoreUnavailable({ store: "postgres", operation, detail })
    : new StoreError({ operation, detail })
}

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

/** A JSON text's escaped NUL (an odd run of backslashes before "u0000"): PostgreSQL text and jsonb cannot hold it. */
const escapedNul = /(?<!\\)(?:\\\\)*\\u0000/

/**
 * Refuses, with a clear `StoreError` for `operation`, JSON text holding a NUL
 * character, before the database does; returns `json` otherwise.
 *
 * @example
 * ```ts
 * checkNoNul("events.append", JSON.stringify({ t: "a\u0000b" }), "an event") // throws StoreError
 * ```
 */
export const checkNoNul = (operation: string, json: string, what: string): string => {
  if (escapedNul.test(json))
    throw new StoreError({
      operation,
      detail: `${what} holds a NUL character (U+0000), which PostgreSQL text cannot store`,
    })
  return json
}

/** `toNumber`, with SQL NULL as null. */
export const toNumberOrNull = (value: unknown): number | null =>
  value === null || value === undefined ? null : toNumber(value)
