/**
 * Projections in the SQLite file (R36): the checkpoints in the table
 * `lethe_projections` (name, position), beside the log, and each
 * projection's own tables, which the application creates (in its `setup`).
 * A projection's writes and its checkpoint commit in one `BEGIN IMMEDIATE`
 * transaction; an inline projection's, in the append's own.
 *
 * The transaction handle a projection gets is the better-sqlite3
 * `Database`: better-sqlite3 runs statements synchronously, so a
 * projection's `apply`, `setup` and `reset` must be synchronous here (a
 * returned promise is refused with `StoreError`). With the keys in a file of
 * their own (`keys: { filename }`), the log file is attached as `log`: create
 * the projection's tables as `log.<table>` so that they live, and commit,
 * with the log and the checkpoints.
 *
 * The table is created on first use (`CREATE TABLE IF NOT EXISTS`), not by a
 * numbered migration: a file never used for projections is left as it was,
 * and a read-only store refuses projections with `StoreError`.
 *
 * @module
 */
import type {
  AppendRequest,
  AppendResult,
  CommitOptions,
  InlineProjections,
  ProjectionStore,
  ProjectionWork,
} from "@lethe/core/spi"
import { checkSynchronous } from "@lethe/core/spi"
import type Database from "better-sqlite3"
import type { Connection } from "./connection.js"
import type { SqliteEventStore } from "./event-store.js"

/** Thrown inside a read transaction to roll it back once its result is kept. */
class RollBack extends Error {}

/**
 * The schema (`main`, or `log` beside a key store) holding the log's
 * `events` table, where the checkpoints go too.
 */
const logSchema = (db: Database.Database): string => {
  const schemas = db.prepare<[], { name: string }>("SELECT name FROM pragma_database_list").all()
  for (const { name } of schemas) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) continue
    const found = db
      .prepare<[], { n: number }>(
        `SELECT count(*) AS n FROM "${name}".sqlite_master WHERE type = 'table' AND name = 'events'`,
      )
      .get()
    if ((found?.n ?? 0) > 0) return name
  }
  return "main"
}

/**
 * The projection store over `connection`, appending through `events`.
 *
 * @example
 * ```ts
 * await store.projections.commit("visits", 0, 3, (tx) => {
 *   ;(tx as Database.Database).prepare("INSERT INTO visits (club, n) VALUES (?, ?)").run("club-1", 3)
 * })
 * ```
 */
export const sqliteProjectionStore = (connection: Connection, events: SqliteEventStore): ProjectionStore => {
  let table: string | undefined

  /** The checkpoints' table, qualified; created the first time. */
  const checkpoints = (db: Database.Database): string => {
    if (table === undefined) {
      const schema = logSchema(db)
      db.exec(`CREATE TABLE IF NOT EXISTS "${schema}".lethe_projections (
        name TEXT PRIMARY KEY,
        position INTEGER NOT NULL
      ) STRICT`)
      table = `"${schema}".lethe_projections`
    }
    return table
  }

  const positionOf = (db: Database.Database, name: string): number =>
    connection
      .statement<[string], { position: number }>(`SELECT position FROM ${checkpoints(db)} WHERE name = ?`)
      .get(name)?.position ?? 0

  const setPosition = (db: Database.Database, name: string, position: number): void => {
    connection
      .statement(
        `INSERT INTO ${checkpoints(db)} (name, position) VALUES (?, ?)
         ON CONFLICT (name) DO UPDATE SET position = excluded.position`,
      )
      .run(name, position)
  }

  /** Creates the table in a transaction of its own, before the first transaction that needs it. */
  const ready = (operation: string): void => {
    if (table === undefined) connection.write(operation, (db) => checkpoints(db))
  }

  const appendWith = <R>(
    operation: string,
    requests: ReadonlyArray<AppendRequest>,
    inline: InlineProjections,
    result: (results: ReadonlyArray<AppendResult>) => R,
  ): R => {
    ready(operation)
    const { results } = events.appendWith(operation, requests, (written) => {
      const first = written[0]?.position
      const last = written.at(-1)?.position
      if (first === undefined || last === undefined) return
      connection.run(operation, (db) => {
        for (const name of inline.names) {
          if (positionOf(db, name) !== first - 1) continue
          checkSynchronous(operation, inline.apply(name, db, written))
          setPosition(db, name, last)
        }
      })
    })
    if (inline.erasure === true) connection.checkpoint(operation)
    return result(results)
  }

  const commitIn = (
    operation: string,
    name: string,
    from: number,
    to: number,
    work: ProjectionWork,
    options: CommitOptions = {},
  ): boolean => {
    ready(operation)
    const done = connection.write(operation, (db) => {
      if (positionOf(db, name) !== from) return false
      checkSynchronous(operation, work(db))
      if (to !== from) setPosition(db, name, to)
      return true
    })
    if (done && options.erasure === true) connection.checkpoint(operation)
    return done
  }

  return {
    checkpoint: async (name) =>
      connection.run("projections.checkpoint", (db) => {
        const exists = db
          .prepare<[], { n: number }>(
            `SELECT count(*) AS n FROM "${logSchema(db)}".sqlite_master WHERE type = 'table' AND name = 'lethe_projections'`,
          )
          .get()
        return (exists?.n ?? 0) === 0 ? 0 : positionOf(db, name)
      }),

    head: async () =>
      connection.run(
        "projections.head",
        () =>
          connection.statement<[], { head: number | null }>("SELECT max(position) AS head FROM events").get()
            ?.head ?? 0,
      ),

    commit: async (name, from, to, work, options) =>
      commitIn("projections.commit", name, from, to, work, options),

    reset: async (name, work) => {
      const operation = "projections.reset"
      ready(operation)
      connection.write(operation, (db) => {
        checkSynchronous(operation, work(db))
        setPosition(db, name, 0)
      })
      // A reset drops the projection's data, which may hold personal values of erased members.
      connection.checkpoint(operation)
    },

    read: async (_name, work) =>
      connection.run("projections.read", (db) => {
        let result: unknown
        try {
          db.transaction(() => {
            result = work(db)
            checkSynchronous("projections.read", result)
            throw new RollBack()
          }).deferred()
        } catch (error) {
          if (!(error instanceof RollBack)) throw error
        }
        return result as never
      }),

    append: async (request, inline) =>
      appendWith("projections.append", [request], inline, (results) => results[0] as never),

    appendBatch: async (requests, inline) =>
      requests.length === 0
        ? connection.run("projections.appendBatch", () => [])
        : appendWith("projections.appendBatch", requests, inline, (results) => results),
  }
}
