/**
 * The raw driver on PostgreSQL: `pg` inserting into one events table with a
 * jsonb payload, each statement its own (autocommit) transaction.
 *
 * @module
 */
import type pg from "pg"
import type { PlainEvent, PlainRow, RawLog } from "./event-log.js"
import { plainMetadata, rowsOf } from "./event-log.js"

const schema = `
  CREATE TABLE IF NOT EXISTS events (
    position BIGSERIAL PRIMARY KEY,
    stream_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    type TEXT NOT NULL,
    data JSONB NOT NULL,
    metadata JSONB NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (stream_id, version)
  )`

const insertOf = (count: number): string =>
  `INSERT INTO events (stream_id, version, type, data, metadata) VALUES ${Array.from(
    { length: count },
    (_, i) => `($${5 * i + 1}, $${5 * i + 2}, $${5 * i + 3}, $${5 * i + 4}, $${5 * i + 5})`,
  ).join(", ")}`

/** A raw log in the schema `pool`'s connections have as search_path. */
export const rawPostgres = async (pool: pg.Pool): Promise<RawLog> => {
  await pool.query(schema)
  const metadata = JSON.stringify(plainMetadata)
  const insertRows = async (rows: ReadonlyArray<PlainRow>) => {
    await pool.query(
      insertOf(rows.length),
      rows.flatMap((row) => [
        row.streamId,
        row.version,
        row.event.type,
        JSON.stringify(row.event.data),
        metadata,
      ]),
    )
  }
  return {
    insertRows,
    append: (streamId, expectedVersion, events) => insertRows(rowsOf(streamId, expectedVersion, events)),
    read: async (streamId) =>
      (
        await pool.query<{ type: string; data: Record<string, unknown> }>(
          "SELECT type, data FROM events WHERE stream_id = $1 ORDER BY version",
          [streamId],
        )
      ).rows.map((row): PlainEvent => ({ type: row.type, data: row.data })),
    erase: async (streamId) => {
      await pool.query("DELETE FROM events WHERE stream_id = $1", [streamId])
    },
    close: async () => {},
  }
}
