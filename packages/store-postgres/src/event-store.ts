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
 * append draws no position, so positions stay 1..n without gaps, except when
 * the statement fails after drawing them: a racing writer took the same
 * e-mail or key id between the check and the write (the unique index
 * refuses it), or the server failed the insert. Those positions are lost.
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
 * Batches: `appendBatch` sends the same statement once per request, in one
 * transaction, so each request sees the ones before it and a refusal rolls
 * them all back. Sent as plainly as that, it would break both promises
 * above: between two requests another transaction, with a higher transaction
 * id, could draw positions and commit after the batch, which readers would
 * then skip; and a refused request would lose the positions the requests
 * before it drew (a sequence is not transactional). So a batch first takes
 * the stream locks of all its requests, in hash order (a single append holds
 * its stream lock while it waits for the mutex, so a batch must never wait
 * for one while holding the mutex; the order keeps two batches from
 * deadlocking), then takes the position mutex and holds it until its last
 * request has run: its transaction id and all its positions come under one
 * hold, as a single append's do. When a request fails, the batch rolls back
 * to a savepoint taken before the first, sets the sequence back to where it
 * was (nobody else drew meanwhile: the mutex is still held) and releases the
 * mutex. A refused batch therefore leaves no gap, even when it is refused
 * after drawing. The price: while a batch runs, other appends of the schema
 * wait to draw their positions, so batches should stay short (the core's
 * import sends at most 200 rows per batch).
 *
 * Costs (N events in the log, k returned, n appended, s events holding
 * sealed values): `append` one round trip, O(n log N); `appendBatch` of r
 * requests r + 7 round trips (BEGIN, the locks, the savepoint, the unlock,
 * COMMIT), r + 3 of them holding the position mutex; `readStream` and
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
import type { SqlClient, SqlResult } from "./client.js"
import { checkNoNul, constraintOf, isRetryableConflict, sqlState, toNumber } from "./client.js"
import type { Connection } from "./connection.js"
import type { Schema } from "./migrations.js"
import { lockKeys, streamLockClass } from "./migrations.js"
import { integerBound } from "./paging.js"

const defaultPageSize = 1000

/** How long `readAll` waits, at most, for transactions older than the newest visible event to end. */
export const settleTimeoutMs = 2_000

const checkNumber = (operation: string, name: string, value: number): void => {
  if (Number.isNaN(value)) throw new StoreError({ operation, detail: `${name} must be a number, got NaN` })
}

const columns = "position, stream_id, version, type, data, metadata, recorded_at, hash, prev_hash"

const sqlFor = (schema: Schema) => {
  const s = schema.sql
  return {
    append: `SELECT o_version, o_position FROM ${s}.append($1, $2, $3::jsonb, $4::jsonb, $5::jsonb, $6::jsonb)`,
    // The stream locks append takes, in one order for every batch, so two batches never deadlock.
    lockStreams: `SELECT pg_advisory_xact_lock(${streamLockClass(schema)}, h)
      FROM (SELECT DISTINCT hashtext(id) AS h FROM unnest($1::text[]) AS id ORDER BY h) AS streams`,
    lockPositions: `SELECT pg_advisory_lock(${schema.lockClass}, ${lockKeys.positions})`,
    unlockPositions: `SELECT pg_advisory_unlock(${schema.lockClass}, ${lockKeys.positions})`,
    nextPosition: `SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END AS next FROM ${s}.positions`,
    resetPositions: `SELECT setval('${s}.positions', $1::bigint, false)`,
    savepoint: "SAVEPOINT lethe_batch",
    rollbackToSavepoint: "ROLLBACK TO SAVEPOINT lethe_batch",
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
  } as const
}

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

/**
 * The parameters of the `append` statement for `request`; throws `StoreError`
 * for a value that cannot be stored, before anything is sent.
 */
const appendParameters = (operation: string, request: AppendRequest): ReadonlyArray<unknown> => {
  const keys = request.keys ?? []
  const member = request.directory?.member
  return [
    request.streamId,
    expectedText(request.expectedVersion),
    encodeBatch(operation, request.events),
    member === undefined
      ? null
      : checkNoNul(operation, toStoredJson(operation, member, "directory.member"), "the directory row"),
    request.directory === undefined ? null : JSON.stringify(request.directory.messages ?? []),
    keys.length === 0 ? null : JSON.stringify(keys),
  ]
}

/** Where the `append` statement left the stream. */
const resultOf = ({ rows }: SqlResult): AppendResult => ({
  version: toNumber(rows[0]?.o_version),
  position: toNumber(rows[0]?.o_position),
})

/** The DETAIL of a PostgreSQL error, if any. */
const detailOf = (error: unknown): string => {
  const detail = (error as { readonly detail?: unknown } | null)?.detail
  return typeof detail === "string" ? detail : ""
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * The event store over `connection`; each append writes its directory update
 * and its new keys in the same statement, and `appendBatch` sends that
 * statement once per request in one transaction (see the module comment).
 *
 * @example
 * ```ts
 * const events = postgresEventStore(connection)
 * await events.append({ streamId: "member-1", expectedVersion: "no_stream", events: [event] })
 * ```
 */
export const postgresEventStore = (connection: Connection): EventStore => {
  const sql = sqlFor(connection.schema)

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
      const parameters = appendParameters(operation, request)
      return connection.run(operation, async (db) => {
        try {
          return resultOf(await db.query(sql.append, parameters))
        } catch (error) {
          throw await refusal(db, request, error)
        }
      })
    },

    // One transaction, calling `append` once per request (see the module comment: the stream
    // locks first, then the position mutex held for the whole batch).
    appendBatch: async (requests) => {
      const operation = "events.appendBatch"
      // Every value that cannot be stored throws here, before anything is sent.
      const parameters = requests.map((request) => appendParameters(operation, request))
      if (requests.length === 0) return connection.run(operation, async () => [])
      return connection.transaction(operation, async (tx) => {
        await tx.query(sql.lockStreams, [requests.map((request) => request.streamId)])
        await tx.query(sql.lockPositions)
        const next = toNumber((await tx.query(sql.nextPosition)).rows[0]?.next)
        await tx.query(sql.savepoint)
        const results: Array<AppendResult> = []
        for (const [r, request] of requests.entries()) {
          try {
            results.push(resultOf(await tx.query(sql.append, parameters[r])))
          } catch (error) {
            // The transaction is aborted until it is back at the savepoint; then the positions the
            // batch drew are handed back (nobody else drew since: the mutex is still held).
            await tx.query(sql.rollbackToSavepoint)
            await tx.query(sql.resetPositions, [next])
            await tx.query(sql.unlockPositions)
            throw await refusal(tx, request, error)
          }
        }
        await tx.query(sql.unlockPositions)
        return results
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
