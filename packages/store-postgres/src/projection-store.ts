/**
 * Projections in PostgreSQL (R36): the checkpoints in the table
 * `<schema>.lethe_projections` (name, position), and each projection's own
 * tables, which the application creates (in its `setup`), in any schema of
 * the same database. A projection's writes and its checkpoint commit in one
 * transaction; an inline projection's, in the append's own.
 *
 * The transaction handle a projection gets is a client
 * (`query(text, params)`, see `SqlClient`) inside the transaction, so its
 * `apply` may be asynchronous. A transaction that writes a projection first
 * locks the projection's checkpoint row (`FOR UPDATE`): runners of one
 * projection in several processes take turns, and `commit` compares the
 * checkpoint under that lock, so an event is applied once. An inline
 * projection locks its row before the append draws its positions, so the
 * appends that run it take turns too (the price of a read model that never
 * lags), and it is applied only when its checkpoint is the position just
 * before the appended events: an append by a writer without it, or a
 * position lost to a failed statement, leaves it for the core's catch-up.
 *
 * The table is created on first use (`CREATE TABLE IF NOT EXISTS`, under a
 * transaction-level advisory lock), not by a numbered migration: a schema
 * never used for projections is left as it was.
 *
 * @module
 */
import { StoreError } from "@lethe/core"
import type {
  AppendRequest,
  AppendResult,
  EventStore,
  InlineProjections,
  ProjectionStore,
  StoredEvent,
} from "@lethe/core/spi"
import type { SqlClient } from "./client.js"
import { toNumber, translate } from "./client.js"
import type { Connection } from "./connection.js"

/** Thrown inside a read transaction to roll it back once its result is kept. */
class RollBack extends Error {
  constructor(readonly result: unknown) {
    super("roll back")
  }
}

/**
 * The projection store over `connection`. `appendOn(tx)` is the store's
 * event store running its statements on `tx`, a client inside the
 * projection store's transaction: an inline projection's append goes
 * through it, so the append is checked and written as every other.
 *
 * @example
 * ```ts
 * await store.projections.commit("visits", 0, 3, async (tx) => {
 *   await (tx as SqlClient).query("INSERT INTO gym.visits (club, n) VALUES ($1, $2)", ["club-1", 3])
 * })
 * ```
 */
export const postgresProjectionStore = (
  connection: Connection,
  appendOn: (tx: SqlClient) => EventStore,
): ProjectionStore => {
  const s = connection.schema.sql
  const table = `${s}.lethe_projections`
  const sql = {
    create: `CREATE TABLE IF NOT EXISTS ${table} (
      name text COLLATE "C" PRIMARY KEY,
      position bigint NOT NULL
    )`,
    exists: "SELECT to_regclass($1) IS NOT NULL AS present",
    position: `SELECT position FROM ${table} WHERE name = $1`,
    ensure: `INSERT INTO ${table} (name, position) SELECT unnest($1::text[]), 0 ON CONFLICT (name) DO NOTHING`,
    lock: `SELECT name, position FROM ${table} WHERE name = ANY($1::text[]) ORDER BY name FOR UPDATE`,
    set: `UPDATE ${table} SET position = $2 WHERE name = $1`,
    head: `SELECT coalesce(max(position), 0) AS head FROM ${s}.events`,
  } as const
  let created: Promise<void> | undefined

  /** Creates the checkpoints' table once, in a transaction of its own. */
  const ready = (operation: string): Promise<void> => {
    created ??= connection
      .transaction(operation, async (tx) => {
        await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`lethe.projections ${s}`])
        await tx.query(sql.create)
      })
      .catch((error: unknown) => {
        created = undefined
        throw error
      })
    return created
  }

  /** Locks the checkpoint rows of `names` (created at 0 when missing) and returns their positions. */
  const lock = async (tx: SqlClient, names: ReadonlyArray<string>): Promise<ReadonlyMap<string, number>> => {
    await tx.query(sql.ensure, [[...names]])
    const { rows } = await tx.query(sql.lock, [[...names]])
    return new Map(rows.map((row) => [String(row.name), toNumber(row.position)]))
  }

  /** The events `requests` appended, as stored, from their results. */
  const written = (
    requests: ReadonlyArray<AppendRequest>,
    results: ReadonlyArray<AppendResult>,
  ): ReadonlyArray<StoredEvent> =>
    requests.flatMap((request, r) => {
      const result = results[r] as AppendResult
      const n = request.events.length
      return request.events.map(
        (event, i): StoredEvent => ({
          ...event,
          streamId: request.streamId,
          version: result.version - n + 1 + i,
          position: result.position - n + 1 + i,
        }),
      )
    })

  const appendInline = async (
    operation: string,
    requests: ReadonlyArray<AppendRequest>,
    inline: InlineProjections,
    batch: boolean,
  ): Promise<ReadonlyArray<AppendResult>> => {
    await ready(operation)
    return connection.transaction(operation, async (tx) => {
      const positions = await lock(tx, inline.names)
      const events = appendOn(tx)
      let results: ReadonlyArray<AppendResult>
      if (batch) {
        if (events.appendBatch === undefined)
          throw new StoreError({ operation, detail: "this store appends no batches" })
        results = await events.appendBatch(requests)
      } else results = [await events.append(requests[0] as AppendRequest)]
      const appended = written(requests, results)
      const first = appended[0]?.position
      const last = appended.at(-1)?.position
      if (first === undefined || last === undefined) return results
      for (const name of inline.names) {
        if (positions.get(name) !== first - 1) continue
        await inline.apply(name, tx, appended)
        await tx.query(sql.set, [name, last])
      }
      return results
    })
  }

  return {
    checkpoint: async (name) =>
      connection.run("projections.checkpoint", async (db) => {
        const { rows } = await db.query(sql.exists, [table])
        if (rows[0]?.present !== true) return 0
        return toNumber((await db.query(sql.position, [name])).rows[0]?.position ?? 0)
      }),

    head: async () =>
      connection.run("projections.head", async (db) =>
        toNumber((await db.query(sql.head)).rows[0]?.head ?? 0),
      ),

    commit: async (name, from, to, work) => {
      const operation = "projections.commit"
      await ready(operation)
      return connection.transaction(operation, async (tx) => {
        if ((await lock(tx, [name])).get(name) !== from) return false
        await work(tx)
        if (to !== from) await tx.query(sql.set, [name, to])
        return true
      })
    },

    reset: async (name, work) => {
      const operation = "projections.reset"
      await ready(operation)
      await connection.transaction(operation, async (tx) => {
        await lock(tx, [name])
        await work(tx)
        await tx.query(sql.set, [name, 0])
      })
    },

    read: async (_name, work) =>
      connection.run("projections.read", async () => {
        try {
          await connection.db.transaction(async (tx) => {
            throw new RollBack(await work(tx))
          })
        } catch (error) {
          if (error instanceof RollBack) return error.result as never
          throw translate("projections.read", error)
        }
        return undefined as never
      }),

    append: async (request, inline) =>
      (await appendInline("projections.append", [request], inline, false))[0] as AppendResult,

    appendBatch: async (requests, inline) =>
      requests.length === 0 ? [] : appendInline("projections.appendBatch", requests, inline, true),
  }
}

/**
 * A database whose statements and transactions all run on `tx`, a client
 * already inside a transaction: the event store built over it appends in
 * that transaction.
 */
export const inTransaction = (tx: SqlClient) => ({
  query: tx.query.bind(tx),
  transaction: <A>(fn: (inner: SqlClient) => Promise<A>): Promise<A> => fn(tx),
})
