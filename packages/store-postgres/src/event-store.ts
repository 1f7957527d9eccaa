/**
 * The event log in the `events` table: one row per event, its position drawn
 * from the `positions` sequence, its version unique per stream, the id of the
 * transaction that wrote it in `transaction_id`.
 *
 * Appends: one transaction per append. `lock_stream` takes the stream's
 * advisory lock (held to the end of the transaction, so appends to one stream
 * take turns while appends to different streams run in parallel) and reads
 * the stream's version; the expected version is checked in JS with
 * `matchesExpectedVersion`; `append_events` inserts the whole batch in one
 * statement; the directory update is one more statement. A rejected append
 * draws no position, so positions stay 1..n without gaps.
 *
 * Global order readers can trust: with many writers, a transaction may commit
 * position 7 after position 8 is already visible. A reader that took 8 and
 * moved on would skip 7 forever. So `append_events` assigns the transaction
 * id and draws the positions under one short mutex: transaction ids and
 * positions are in the same order. `readAll` returns only events whose
 * transaction id is below `pg_snapshot_xmin(pg_current_snapshot())`, the
 * oldest transaction still running: every such transaction has ended, and
 * every transaction still running or yet to start holds higher positions.
 * The page stops at the first event above that horizon; if that cuts it
 * short, `readAll` waits a few milliseconds for the running transactions to
 * end (up to `settleTimeoutMs`), so a writer reads its own appends.
 *
 * Costs (N events in the log, k returned, n appended): `append` five round
 * trips (BEGIN, lock, insert, directory, COMMIT), O(n log N); `readStream` and
 * `readAll` O(log N + k) through (stream_id, version) and the primary key.
 *
 * @module
 */
import type { AppendResult, EventStore, NewEvent, StoredEvent } from "@lethe/core"
import {
  ConcurrencyConflict,
  checkPageLimit,
  matchesExpectedVersion,
  redactSealedValues,
  StoreError,
  toStoredJson,
} from "@lethe/core"
import { constraintOf, isRetryableConflict, sqlState, toNumber } from "./client.js"
import type { Connection } from "./connection.js"
import type { PostgresDirectory } from "./directory.js"

import { integerBound } from "./paging.js"

const defaultPageSize = 1000

/** How long `readAll` waits, at most, for transactions older than the newest visible event to end. */
export const settleTimeoutMs = 2_000

const checkNumber = (operation: string, name: string, value: number): void => {
  if (Number.isNaN(value)) throw new StoreError({ operation, detail: `${name} must be a number, got NaN` })
}

const columns = "position, stream_id, version, type, data, metadata, recorded_at, hash, prev_hash"

const sqlFor = (s: string) =>
  ({
    lockStream: `SELECT ${s}.lock_stream($1) AS version`,
    appendEvents: `SELECT ${s}.append_events($1, $2, $3::jsonb) AS position`,
    readStream: `SELECT ${columns} FROM ${s}.events WHERE stream_id = $1 AND version >= $2::bigint ORDER BY version`,
    // One row more than asked for tells whether the page reached the end of the log.
    readAll: `SELECT ${columns}, transaction_id < pg_snapshot_xmin(pg_current_snapshot()) AS settled
      FROM ${s}.events WHERE position > $1::bigint ORDER BY position LIMIT $2::bigint`,
    streamData: `SELECT position, data FROM ${s}.events WHERE stream_id = $1 ORDER BY version`,
    setData: `UPDATE ${s}.events AS e SET data = c.data
      FROM jsonb_to_recordset($1::jsonb) AS c(position bigint, data jsonb) WHERE e.position = c.position`,
  }) as const

const toStoredEvent = (row: Readonly<Record<string, unknown>>): StoredEvent => ({
  position: toNumber(row.position),
  streamId: row.stream_id as string,
  version: toNumber(row.version),
  type: row.type as string,
  data: row.data,
  metadata: row.metadata as StoredEvent["metadata"],
  recordedAt: toNumber(row.recorded_at),
  hash: row.hash as string,
  prevHash: row.prev_hash as string,
})

/** The batch as one JSON array for `append_events`; throws `StoreError` for a value that cannot be stored. */
const encodeBatch = (operation: string, events: ReadonlyArray<NewEvent>): string => {
  for (const event of events) {
    toStoredJson(operation, event.data, "data")
    toStoredJson(operation, event.metadata, "metadata")
    if (!Number.isSafeInteger(event.recordedAt))
      throw new StoreError({
        operation,
        detail: `recordedAt must be an integer (epoch milliseconds), got ${event.recordedAt}`,
      })
  }
  return JSON.stringify(
    events.map(({ type, data, metadata, recordedAt, hash, prevHash }) => ({
      type,
      data,
      metadata,
      recordedAt,
      hash,
      prevHash,
    })),
  )
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * The event store over `connection`, writing the directory update of each
 * append through `directory` in the same transaction.
 *
 * @example
 * ```ts
 * const events = postgresEventStore(connection, postgresDirectory(connection))
 * await events.append({ streamId: "member-1", expectedVersion: "no_stream", events: [event] })
 * ```
 */
export const postgresEventStore = (connection: Connection, directory: PostgresDirectory): EventStore => {
  const sql = sqlFor(connection.schema.sql)

  return {
    append: async (request): Promise<AppendResult> => {
      const operation = "events.append"
      const { streamId, expectedVersion } = request
      // A value that cannot be stored throws here, before the transaction starts.
      const batch = encodeBatch(operation, request.events)
      let current = 0
      const conflict = () => new ConcurrencyConflict({ streamId, expected: expectedVersion, actual: current })
      return connection.transaction(
        operation,
        async (tx) => {
          const { rows } = await tx.query(sql.lockStream, [streamId])
          current = toNumber(rows[0]?.version)
          if (!matchesExpectedVersion(current, expectedVersion)) throw conflict()
          let position = 0
          if (request.events.length > 0) {
            const inserted = await tx.query(sql.appendEvents, [streamId, current + 1, batch])
            position = toNumber(inserted.rows[0]?.position)
          }
          if (request.directory !== undefined) await directory.write(tx, request.directory)
          return { version: current + request.events.length, position }
        },
        // Cannot happen while every writer takes the stream lock, as this one does; if a foreign
        // writer broke that rule, or the server aborted a race, the stream moved all the same.
        (error) =>
          (sqlState(error) === "23505" && constraintOf(error) === "events_stream_version") ||
          isRetryableConflict(error)
            ? conflict()
            : error,
      )
    },

    readStream: async (streamId, options = {}) => {
      const operation = "events.readStream"
      const fromVersion = options.fromVersion ?? 1
      return connection.run(operation, async (db) => {
        checkNumber(operation, "fromVersion", fromVersion)
        const { rows } = await db.query(sql.readStream, [streamId, integerBound(fromVersion, "ceil")])
        return rows.map(toStoredEvent)
      })
    },

    readAll: async (options = {}) => {
      const operation = "events.readAll"
      const after = options.after ?? 0
      const limit = options.limit ?? defaultPageSize
      return connection.run(operation, async (db) => {
        checkNumber(operation, "after", after)
        checkPageLimit(operation, limit)
        const started = Date.now()
        for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
          const { rows } = await db.query(sql.readAll, [integerBound(after, "floor"), limit + 1])
          const unsettled = rows.findIndex((row) => row.settled !== true)
          const cut = unsettled >= 0 && unsettled < limit
          if (cut && Date.now() - started < settleTimeoutMs) {
            await sleep(wait)
            continue
          }
          const events = rows.slice(0, cut ? unsettled : limit).map(toStoredEvent)
          return {
            events,
            next: events.at(-1)?.position ?? after,
            done: !cut && rows.length <= limit,
          }
        }
      })
    },

    redact: async (streamId, keyIds) => {
      const operation = "events.redact"
      const wanted = new Set(keyIds)
      if (wanted.size === 0) return connection.run(operation, async () => 0)
      return connection.transaction(operation, async (tx) => {
        const { rows } = await tx.query(sql.streamData, [streamId])
        const changes: Array<{ readonly position: number; readonly data: unknown }> = []
        let count = 0
        for (const row of rows) {
          const { data, redacted } = redactSealedValues(row.data, wanted)
          if (redacted === 0) continue
          changes.push({ position: toNumber(row.position), data })
          count += redacted
        }
        if (changes.length > 0) await tx.query(sql.setData, [JSON.stringify(changes)])
        return count
      })
    },
  }
}
