/**
 * The event log in the `events` table: one row per event, the global
 * position its AUTOINCREMENT rowid, its version unique per stream.
 *
 * Costs (N events in the log, k returned): `append` one `BEGIN IMMEDIATE`
 * transaction with O(log N) per event; `appendBatch` one such transaction
 * (one commit) for all its requests; `readStream` and `readAll` O(log N + k)
 * through the (stream_id, version) index and the rowid; `redact` and
 * `readStream` with `sealedUnder` visit only the rows holding sealed values
 * (the partial index events_sealed), O(log N + s), and `redact` rewrites only
 * the rows whose data changed, then checkpoints.
 *
 * @module
 */

import { ConcurrencyConflict, StoreError } from "@lethe/core"
import type { AppendRequest, AppendResult, EventStore, NewEvent, StoredEvent } from "@lethe/core/spi"
import {
  checkPageLimit,
  matchesExpectedVersion,
  readStoredJson,
  redactSealedValues,
  sealedKeyIds,
  toStoredJson,
} from "@lethe/core/spi"
import type { Connection } from "./connection.js"
import { isUniqueViolation } from "./connection.js"
import type { SqliteDirectory } from "./directory.js"
import type { SqliteKeyStore } from "./key-store.js"

const defaultPageSize = 1000

const checkNumber = (operation: string, name: string, value: number): void => {
  if (Number.isNaN(value)) throw new StoreError({ operation, detail: `${name} must be a number, got NaN` })
}

interface EventRow {
  readonly position: number
  readonly stream_id: string
  readonly version: number
  readonly type: string
  readonly data: string
  readonly metadata: string
  readonly recorded_at: number
  readonly hash: string
  readonly prev_hash: string
}

const columns = "position, stream_id, version, type, data, metadata, recorded_at, hash, prev_hash"

const sql = {
  currentVersion: "SELECT coalesce(max(version), 0) AS version FROM events WHERE stream_id = ?",
  insert: `INSERT INTO events (stream_id, version, type, data, metadata, recorded_at, hash, prev_hash, sealed_keys)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  readStream: `SELECT ${columns} FROM events WHERE stream_id = ? AND version >= ? ORDER BY version`,
  // Through the partial index events_sealed: only rows holding sealed values are visited.
  readSealed: `SELECT ${columns}, sealed_keys FROM events
    WHERE stream_id = ? AND version >= ? AND sealed_keys IS NOT NULL ORDER BY version`,
  // One row more than asked for tells whether the page reached the end of the log.
  readAll: `SELECT ${columns} FROM events WHERE position > ? ORDER BY position LIMIT ?`,
  sealedData: `SELECT position, data, sealed_keys FROM events
    WHERE stream_id = ? AND sealed_keys IS NOT NULL ORDER BY version`,
  setData: "UPDATE events SET data = ?, sealed_keys = ? WHERE position = ?",
} as const

/** Every statement that reads the log, for checking their query plans. Internal: not exported from the package. */
export const eventQueries = (): ReadonlyArray<string> => [
  sql.currentVersion,
  sql.readStream,
  sql.readAll,
  sql.readSealed,
  sql.sealedData,
]

const toStoredEvent = (row: EventRow): StoredEvent => ({
  position: row.position,
  streamId: row.stream_id,
  version: row.version,
  type: row.type,
  // A row whose JSON does not parse is returned with `unreadable`, for the audit to name it.
  ...readStoredJson(row.data, row.metadata),
  recordedAt: row.recorded_at,
  hash: row.hash,
  prevHash: row.prev_hash,
})

/** The `sealed_keys` column: key ids separated by spaces, or NULL when there are none. */
const sealedColumn = (keyIds: ReadonlyArray<string>): string | null =>
  keyIds.length === 0 ? null : keyIds.join(" ")

const holdsAny = (column: string, wanted: ReadonlySet<string>): boolean =>
  column.split(" ").some((keyId) => wanted.has(keyId))

/** An event's columns, as `encode` gives them. */
interface EncodedEvent {
  readonly type: string
  readonly data: string
  readonly sealedKeys: string | null
  readonly metadata: string
  readonly recordedAt: number
  readonly hash: string
  readonly prevHash: string
}

/** An event's columns; throws `StoreError` for a value that cannot be stored. */
const encode = (operation: string, event: NewEvent): EncodedEvent => ({
  type: event.type,
  data: toStoredJson(operation, event.data, "data"),
  // After toStoredJson, which refuses cycles and values that would not read back.
  sealedKeys: sealedColumn(sealedKeyIds(event.data)),
  metadata: toStoredJson(operation, event.metadata, "metadata"),
  recordedAt: event.recordedAt,
  hash: event.hash,
  prevHash: event.prevHash,
})

/**
 * The SQLite event store, with the step the projection store appends
 * through: `appendWith` appends `requests` in one write transaction, as
 * `appendBatch` does, then runs `inside` with the events just written in
 * the same transaction; a throw there rolls the whole append back.
 */
export interface SqliteEventStore extends EventStore {
  appendWith<A>(
    operation: string,
    requests: ReadonlyArray<AppendRequest>,
    inside: (events: ReadonlyArray<StoredEvent>) => A,
  ): { readonly results: ReadonlyArray<AppendResult>; readonly inside: A }
}

/**
 * The event store over `connection`, writing the directory update and the
 * new keys of each append through `directory` and `keys` in the same
 * transaction; `appendBatch` runs every request's append in one transaction.
 *
 * @example
 * ```ts
 * const events = sqliteEventStore(connection, sqliteDirectory(connection), sqliteKeyStore(connection))
 * await events.append({ streamId: "member-1", expectedVersion: "no_stream", events: [event] })
 * ```
 */
export const sqliteEventStore = (
  connection: Connection,
  directory: SqliteDirectory,
  keys: SqliteKeyStore,
): SqliteEventStore => {
  connection.prepare(Object.values(sql))
  const currentVersion = (streamId: string): number =>
    connection.statement<[string], { version: number }>(sql.currentVersion).get(streamId)?.version ?? 0

  /**
   * Appends `request`, whose events `encoded` holds, inside the caller's
   * write transaction: checks the version, then writes the directory update
   * (which checks the e-mail key) and the keys (which checks each is new),
   * then the events. Any throw leaves the transaction to be rolled back.
   */
  const appendIn = (request: AppendRequest, encoded: ReadonlyArray<EncodedEvent>): AppendResult => {
    const { streamId, expectedVersion } = request
    const current = currentVersion(streamId)
    const conflict = () => new ConcurrencyConflict({ streamId, expected: expectedVersion, actual: current })
    if (!matchesExpectedVersion(current, expectedVersion)) throw conflict()
    if (request.directory !== undefined) directory.write(request.directory)
    keys.write(request.keys ?? [])
    const insert = connection.statement(sql.insert)
    let position = 0
    for (const [i, event] of encoded.entries()) {
      try {
        const { lastInsertRowid } = insert.run(
          streamId,
          current + i + 1,
          event.type,
          event.data,
          event.metadata,
          event.recordedAt,
          event.hash,
          event.prevHash,
          event.sealedKeys,
        )
        position = Number(lastInsertRowid)
      } catch (error) {
        // Cannot happen while every writer checks the version under the write lock, as this
        // one does; if a foreign writer broke that rule, the stream moved all the same.
        throw isUniqueViolation(error) ? conflict() : error
      }
    }
    const last = encoded.at(-1)
    if (last !== undefined) directory.appended(position, last.hash)
    return { version: current + encoded.length, position }
  }

  return {
    append: async (request) => {
      const operation = "events.append"
      // A value that cannot be stored throws here, before the write lock is taken.
      const encoded = request.events.map((event) => encode(operation, event))
      return connection.write(operation, () => appendIn(request, encoded))
    },

    // One transaction, so one commit (one sync of the WAL) for the whole batch; the requests
    // see each other's writes, and a refusal of any rolls them all back.
    appendBatch: async (requests) => {
      const operation = "events.appendBatch"
      const encoded = requests.map((request) => request.events.map((event) => encode(operation, event)))
      if (requests.length === 0) return connection.run(operation, () => [])
      return connection.write(operation, () =>
        requests.map((request, r) => appendIn(request, encoded[r] ?? [])),
      )
    },

    appendWith: (operation, requests, inside) => {
      const encoded = requests.map((request) => request.events.map((event) => encode(operation, event)))
      return connection.write(operation, () => {
        const results = requests.map((request, r) => appendIn(request, encoded[r] ?? []))
        const written = requests.flatMap((request, r) => {
          const result = results[r] as AppendResult
          const first = result.position - request.events.length + 1
          const firstVersion = result.version - request.events.length + 1
          return request.events.map(
            (event, i): StoredEvent => ({
              ...event,
              streamId: request.streamId,
              version: firstVersion + i,
              position: first + i,
            }),
          )
        })
        return { results, inside: inside(written) }
      })
    },

    readStream: async (streamId, options = {}) => {
      const operation = "events.readStream"
      const fromVersion = options.fromVersion ?? 1
      return connection.run(operation, () => {
        checkNumber(operation, "fromVersion", fromVersion)
        if (options.sealedUnder === undefined)
          return connection
            .statement<[string, number], EventRow>(sql.readStream)
            .all(streamId, fromVersion)
            .map(toStoredEvent)
        const wanted = new Set(options.sealedUnder)
        return connection
          .statement<[string, number], EventRow & { sealed_keys: string }>(sql.readSealed)
          .all(streamId, fromVersion)
          .filter((row) => holdsAny(row.sealed_keys, wanted))
          .map(toStoredEvent)
      })
    },

    readAll: async (options = {}) => {
      const operation = "events.readAll"
      const after = options.after ?? 0
      const limit = options.limit ?? defaultPageSize
      return connection.run(operation, () => {
        checkNumber(operation, "after", after)
        checkPageLimit(operation, limit)
        const rows = connection
          .statement<[number, bigint], EventRow>(sql.readAll)
          .all(after, BigInt(limit) + 1n)
        const events = rows.slice(0, limit).map(toStoredEvent)
        return { events, next: events.at(-1)?.position ?? after, done: rows.length <= limit }
      })
    },

    redact: async (streamId, keyIds) => {
      const operation = "events.redact"
      const wanted = new Set(keyIds)
      if (wanted.size === 0) return connection.run(operation, () => 0)
      const total = connection.write(operation, () => {
        const setData = connection.statement(sql.setData)
        let count = 0
        // All rows first: better-sqlite3 runs no other statement while one is iterating.
        const rows = connection
          .statement<[string], { position: number; data: string; sealed_keys: string }>(sql.sealedData)
          .all(streamId)
        for (const row of rows) {
          if (!holdsAny(row.sealed_keys, wanted)) continue
          const { data, redacted } = redactSealedValues(JSON.parse(row.data), wanted)
          if (redacted === 0) continue
          setData.run(JSON.stringify(data), sealedColumn(sealedKeyIds(data)), row.position)
          count += redacted
        }
        return count
      })
      if (total > 0) connection.checkpoint(operation)
      return total
    },
  }
}
