/**
 * The store's hold on the database, shared by its parts: the closed check,
 * transactions, and the translation of driver errors into Lethe's (a
 * connection that cannot be made or was lost is `StoreUnavailable`, any
 * other driver error `StoreError`). The pool belongs to the caller: `close`
 * only marks the store closed; a `pg` Pool replaces a lost connection by
 * itself, so the next call after `StoreUnavailable` may succeed.
 *
 * @module
 */
import { StoreError } from "@lethe/core"
import type { Database, SqlClient } from "./client.js"
import { translate } from "./client.js"
import type { Schema } from "./migrations.js"

/**
 * The database and schema of one store.
 *
 * @example
 * ```ts
 * const connection = new Connection(toDatabase(pool), toSchema("lethe"))
 * const rows = await connection.run("events.readAll", (db) => db.query("SELECT 1"))
 * ```
 */
export class Connection {
  #closed = false
  readonly db: Database
  readonly schema: Schema

  constructor(db: Database, schema: Schema) {
    this.db = db
    this.schema = schema
  }

  #check(operation: string): void {
    if (this.#closed) throw new StoreError({ operation, detail: "store is closed" })
  }

  /**
   * `fn` on the database; a thrown driver error becomes `StoreUnavailable`
   * (a connection fault) or `StoreError` for `operation`. A statement that
   * writes commits on its own: if the connection is lost while its reply is
   * on the way, `StoreUnavailable` means committed or not, never partly.
   */
  async run<A>(operation: string, fn: (db: SqlClient) => Promise<A>): Promise<A> {
    this.#check(operation)
    try {
      return await fn(this.db)
    } catch (error) {
      throw translate(operation, error)
    }
  }

  /**
   * `fn` in one transaction on one connection: committed if it resolves,
   * rolled back if it rejects. `mapError` may turn a driver error into a
   * Lethe error first (e.g. a unique violation into `ConcurrencyConflict`);
   * what it leaves a driver error is translated as in `run`. A connection
   * lost while the commit was in flight leaves the transaction in doubt:
   * `StoreUnavailable` then means committed or rolled back, never partly.
   */
  async transaction<A>(
    operation: string,
    fn: (tx: SqlClient) => Promise<A>,
    mapError: (error: unknown) => unknown = (error) => error,
  ): Promise<A> {
    this.#check(operation)
    try {
      return await this.db.transaction(fn)
    } catch (error) {
      throw translate(operation, mapError(error))
    }
  }

  /** Marks the store closed; later calls reject with `StoreError`. The pool stays open. */
  close(): void {
    this.#closed = true
  }
}
