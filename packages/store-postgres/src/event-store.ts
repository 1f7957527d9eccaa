/**
 * The event log in the `events` table: one row per event, its position drawn
 * from the `positions` sequence, its version unique per stream, the id of the
 * transaction that wrote it in `transaction_id`, the key ids of the sealed
 * values it holds in `sealed_keys`.
 *
 * Appends: one statement, so one round trip and one commit per append. The
 * server-side function `append` (migration 2) takes the stream's advisory
 * lock (held to the end of the transaction, so appends to one stream take
 * turns while appends to different streams run in parallel), checks the
 * expected version, the e-mail key and the new keys without writing, then
 * inserts the events, the keys and the directory row. It signals a refusal
 * with its own SQLSTATEs (LE001 version, LE002 e-mail, LE003 key taken,
 * LE004 key destroyed), which `append` turns into Lethe's errors. A refused
 * append draws no position, so positions stay 1..n without gaps (except when
 * a racing writer takes the same e-mail or key id between the check and the
 * write: the unique index refuses it after positions were drawn).
 *
 * Global order readers can trust: with many writers, a transaction may commit
 * position 7 after position 8 is already visible. A reader that took 8 and
 * moved on would skip 7 forever. So `append` assigns the transaction id and
 * draws the positions under one short mutex, before it writes anything:
 * transaction ids and positions are in the same order. `readAll` returns only
 * events whose transaction id is below `pg_snapshot_xmin(pg_current_snapshot())`,
 * the oldest transaction still running: every such transaction has ended, and
 * every transaction still running or yet to start holds higher positions.
 * The page stops at the first event above that horizon; if that cuts it
 * short, `readAll` waits a few milliseconds for the running transactions to
 * end (up to `settleTimeoutMs`), so a writer reads its own appends.
 *
 * Costs (N events in the log, k returned, n appended, s events holding
 * sealed values): `append` one round trip, O(n log N); `readStream` and
 * `readAll` O(log N + k) through (stream_id, version) and the primary key;
 * `readStream` with `sealedUnder` and `redact` O(log N + s) through the
 * partial index events_sealed.
 *
 * @module
 */
import type {
  AppendRequest,
  AppendResult,
  EventStore,
  ExpectedVersion,
  NewEvent,
  StoredEvent,
} from "@lethe/core"
import {
  ConcurrencyConflict,
  checkPageLimit,
  EmailTaken,
  KeyDestroyed,
  KeyExists,
  redactSealedValues,
  StoreError,
  sealedKeyIds,
  toStoredJson,
} from "@lethe/core"
import type { SqlClient } from "./client.js"
import { checkNoNul, constraintOf, isRetryableConflict, sqlState, toNumber } from "./client.js"
import type { Connection } from "./connection.js"

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
    append: `SELECT o_version, o_position FROM ${s}.append($1, $2, $3::jsonb, $4::jsonb, $5::jsonb, $6::jsonb)`,
    emailHolder: `SELECT member_id FROM ${s}.members WHERE tenant_id = $1 AND email_key = $2 AND member_id <> $3 LIMIT 1`,
    readStream: `SELECT ${columns} FROM ${s}.events WHERE stream_id = $1 AND version >= $2::bigint ORDER BY version`,
    readSealed: `SELECT ${columns} FROM ${s}.events WHERE stream_id = $1 AND version >= $2::bigint
      AND sealed_keys IS NOT NULL AND sealed_keys && $3::text[] ORDER BY version`,
    // One row more than asked for tells whether the page reached the end of the log.
    readAll: `SELECT ${columns}, transaction_id < pg_snapshot_xmin(pg_current_snapshot()) AS settled
      FROM ${s}.events WHERE position > $1::bigint ORDER BY position LIMIT $2::bigint`,
    sealedData: `SELECT position, data FROM ${s}.events
      WHERE stream_id = $1 AND sealed_keys IS NOT NULL AND sealed_keys && $2::text[] ORDER BY version`,
    setData: `UPDATE ${s}.events AS e SET data = c.data,
        sealed_keys = NULLIF(ARRAY(SELECT jsonb_array_elements_text(c.sealed_keys)), '{}')
      FROM jsonb_to_recordset($1::jsonb) AS c(position bigint, data jsonb, sealed_keys jsonb)
      WHERE e.position = c.position`,
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
  const json = JSON.stringify(
    events.map(({ type, data, metadata, recordedAt, hash, prevHash }) => ({
      type,
      data,
      metadata,
      recordedAt,
      hash,
      prevHash,
      sealedKeys: sealedKeyIds(data),
    })),
  )
  return checkNoNul(operation, json, "an event")
}

/** The expected version as `append` takes it; a number that no version can equal becomes -1. */
const expectedText = (expected: ExpectedVersion): string =>
  typeof expected === "number" ? (Number.isSafeInteger(expected) ? String(expected) : "-1") : expected

/** The DETAIL of a PostgreSQL error, if any. */
const detailOf = (error: unknown): string => {
  const detail = (error as { readonly detail?: unknown } | null)?.detail
  return typeof detail === "string" ? detail : ""
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * The event store over `connection`; each append writes its directory update
 * and its new keys in the same statement.
 *
 * @example
 * ```ts
 * const events = postgresEventStore(connection)
 * await events.append({ streamId: "member-1", expectedVersion: "no_stream", events: [event] })
 * ```
 */
export const postgresEventStore = (connection: Connection): EventStore => {
  const sql = sqlFor(connection.schema.sql)

  /** The Lethe error for a refusal of `append`, or the driver's error as it is. */
  const refusal = async (db: SqlClient, request: AppendRequest, error: unknown): Promise<unknown> => {
    const { streamId, expectedVersion } = request
    const conflict = (actual: number) =>
      new ConcurrencyConflict({ streamId, expected: expectedVersion, actual })
    const member = request.directory?.member
    switch (sqlState(error)) {
      case "LE001":
        return conflict(toNumber(detailOf(error)))
      case "LE002":
        return new EmailTaken({ tenantId: member?.tenantId ?? "", memberId: detailOf(error) })
      case "LE003":
        return new KeyExists({ keyId: detailOf(error) || (request.keys?.[0]?.keyId ?? "") })
      case "LE004":
        return new KeyDestroyed({ keyId: detailOf(error) })
      case "23505": {
        // A racing writer took the e-mail key since the check: name who holds it now.
        if (constraintOf(error) === "members_one_email" && member?.emailKey != null) {
          const { rows } = await db.query(sql.emailHolder, [
            member.tenantId,
            member.emailKey,
            member.memberId,
          ])
          return new EmailTaken({ tenantId: member.tenantId, memberId: String(rows[0]?.member_id ?? "") })
        }
        if (constraintOf(error) === "keys_pkey")
          return new KeyExists({ keyId: request.keys?.[0]?.keyId ?? "" })
        // Cannot happen while every writer takes the stream lock, as append does; if a foreign
        // writer broke that rule, the stream moved all the same.
        return constraintOf(error) === "events_stream_version" ? conflict(-1) : error
      }
      default:
        return isRetryableConflict(error) ? conflict(-1) : error
    }
  }

  return {
    append: async (request): Promise<AppendResult> => {
      const operation = "events.append"
      // A value that cannot be stored throws here, before anything is sent.
      const batch = encodeBatch(operation, request.events)
      const keys = request.keys ?? []
      const member = request.directory?.member
      const row =
        member === undefined
          ? null
          : checkNoNul(operation, toStoredJson(operation, member, "directory.member"), "the directory row")
      return connection.run(operation, async (db) => {
        try {
          const { rows } = await db.query(sql.append, [
            request.streamId,
            expectedText(request.expectedVersion),
            batch,
            row,
            request.directory === undefined ? null : JSON.stringify(request.directory.messages ?? []),
            keys.length === 0 ? null : JSON.stringify(keys),
          ])
          return { version: toNumber(rows[0]?.o_version), position: toNumber(rows[0]?.o_position) }
        } catch (error) {
          throw await refusal(db, request, error)
        }
      })
    },

    readStream: async (streamId, options = {}) => {
      const operation = "events.readStream"
      const fromVersion = options.fromVersion ?? 1
      return connection.run(operation, async (db) => {
        checkNumber(operation, "fromVersion", fromVersion)
        const from = integerBound(fromVersion, "ceil")
        const { rows } =
          options.sealedUnder === undefined
            ? await db.query(sql.readStream, [streamId, from])
            : await db.query(sql.readSealed, [streamId, from, [...options.sealedUnder]])
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
        const { rows } = await tx.query(sql.sealedData, [streamId, [...wanted]])
        const changes: Array<{ position: number; data: unknown; sealed_keys: ReadonlyArray<string> }> = []
        let count = 0
        for (const row of rows) {
          const { data, redacted } = redactSealedValues(row.data, wanted)
          if (redacted === 0) continue
          changes.push({ position: toNumber(row.position), data, sealed_keys: sealedKeyIds(data) })
          count += redacted
        }
        if (changes.length > 0) await tx.query(sql.setData, [JSON.stringify(changes)])
        return count
      })
    },
  }
}
