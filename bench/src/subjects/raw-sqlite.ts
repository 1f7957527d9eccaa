/**
 * The raw driver on SQLite: better-sqlite3 inserting into one events table,
 * WAL journal, each statement its own (autocommit) transaction.
 *
 * @module
 */
import Database from "better-sqlite3"
import type { PlainEvent, PlainRow, RawLog } from "./event-log.js"
import { plainMetadata, rowsOf } from "./event-log.js"

const schema = `
  CREATE TABLE IF NOT EXISTS events (
    position INTEGER PRIMARY KEY,
    stream_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    metadata TEXT NOT NULL,
    recorded_at INTEGER NOT NULL,
    UNIQUE (stream_id, version)
  )`

/** A raw log in the SQLite file `filename`, with `synchronous` FULL or NORMAL. */
export const rawSqlite = (filename: string, synchronous: "full" | "normal"): RawLog => {
  const db = new Database(filename)
  db.pragma("journal_mode = WAL")
  db.pragma(`synchronous = ${synchronous}`)
  db.exec(schema)
  const metadata = JSON.stringify(plainMetadata)
  const inserts = new Map<number, Database.Statement>()
  const insertOf = (count: number): Database.Statement => {
    const cached = inserts.get(count)
    if (cached !== undefined) return cached
    const values = Array.from({ length: count }, () => "(?, ?, ?, ?, ?, ?)").join(", ")
    const statement = db.prepare(
      `INSERT INTO events (stream_id, version, type, data, metadata, recorded_at) VALUES ${values}`,
    )
    inserts.set(count, statement)
    return statement
  }
  const select = db.prepare("SELECT type, data FROM events WHERE stream_id = ? ORDER BY version")
  const remove = db.prepare("DELETE FROM events WHERE stream_id = ?")
  const insertRows = async (rows: ReadonlyArray<PlainRow>) => {
    const now = Date.now()
    insertOf(rows.length).run(
      rows.flatMap((row) => [
        row.streamId,
        row.version,
        row.event.type,
        JSON.stringify(row.event.data),
        metadata,
        now,
      ]),
    )
  }
  return {
    insertRows,
    append: (streamId, expectedVersion, events) => insertRows(rowsOf(streamId, expectedVersion, events)),
    read: async (streamId) =>
      (select.all(streamId) as Array<{ type: string; data: string }>).map(
        (row): PlainEvent => ({ type: row.type, data: JSON.parse(row.data) }),
      ),
    erase: async (streamId) => {
      remove.run(streamId)
    },
    close: async () => {
      db.close()
    },
  }
}
