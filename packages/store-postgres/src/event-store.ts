/**
 * The event log in the `events` table: one row per event, its position drawn
 * from the `positions` sequence, its version unique per stream, the id of the
 * transaction that wrote it in `transaction_id`, the key ids of the sealed
 * values it holds in `sealed_keys`.
 *
 * Appends: one statement, so one round trip and one commit per append. The
 * server-side function `append` (migrations 2 and 5) takes the stream's advisory
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
 * Batches: `appendBatch` is one statement too, the server-side function
 * `append_batch` (migration 6), which runs `append` for each request in
 * order, so each request sees the ones before it and a refusal undoes them
 * all. Run one after the other as they stand, the appends would break both
 * promises above: between two of them another transaction, with a higher
 * transaction id, could draw positions and commit before the batch, which
 * readers would then skip; and a refused request would lose the positions
 * the requests before it drew (a sequence is not transactional). So the
 * function first takes the stream locks of all its requests, in hash order
 * (a single append holds its stream lock while it waits for the mutex, so a
 * batch must never wait for one while holding the mutex; the order keeps two
 * batches from deadlocking), then takes the position mutex and holds it
 * until its last request has run: its transaction id and all its positions
 * come under one hold, as a single append's do. When a request fails, the
 * function undoes the requests' work, sets the sequence back to where it was
 * (nobody else drew meanwhile: the mutex is still held), releases the mutex
 * and raises the error again with the request's index in its HINT, which
 * `appendBatch` turns into the Lethe error of that request. A refused batch
 * therefore leaves no gap, even when it is refused after drawing. The price:
 * while a batch runs, other appends of the schema wait to draw their
 * positions, so batches should stay short (the core's import sends at most
 * 200 rows per batch).
 *
 * Costs (N events in the log, k returned, n appended, s events holding
 * sealed values): `append` and `appendBatch` one round trip each, O(n log N);
 * `readStream` and `readAll` O(log N + k) through (stream_id, version) and
 * the primary key; `readStream` with `sealedUnder` and `redact` O(log N + s)
 * through the partial index events_sealed.
 *
 * @module
 */

import { ConcurrencyConflict, EmailTaken, KeyDestroyed, KeyExists, StoreError } from "@lethe/core"
import type {
  AppendRequest,
  AppendResult,
  EventStore,
  ExpectedVersion,
  NewEvent,
  StoredEvent,
} from "@lethe/core/spi"
import {
  checkPageLimit,
  matchesExpectedVersion,
  redactSealedValues,
  sealedKeyIds,
  toStoredJson,
} from "@lethe/core/spi"
import type { SqlClient } from "./client.js"
import { checkNoNul, constraintOf, isRetryableConflict, sqlState, toNumber } from "./client.js"
import type { Connection } from "./connection.js"
import { checkKeysFree, insertKeys, keyStatements } from "./key-store.js"
import type { Schema } from "./migrations.js"
import { integerBound } from "./paging.js"
import { checkPersonal, withoutPersonal, writePersonal } from "./personal.js"

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
    appendBatch: `SELECT o_version, o_position FROM ${s}.append_batch($1::jsonb)`,
    emailHolder: `SELECT member_id FROM ${s}.members WHERE tenant_id = $1 AND email_key = $2 AND member_id <> $3 LIMIT 1`,
    lastVersion: `SELECT coalesce((SELECT version FROM ${s}.events WHERE stream_id = $1
      ORDER BY version DESC LIMIT 1), 0) AS version`,
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

/** The arguments of `append` for one request: the stream, the expected version, and JSON texts. */
interface AppendArguments {
  readonly streamId: string
  readonly expected: string
  readonly events: string
  readonly member: string | null
  readonly messages: string | null
  readonly keys: string | null
}

/**
 * The arguments of `append` for `request`; throws `StoreError` for a value
 * that cannot be stored, before anything is sent.
 */
const appendArguments = (operation: string, request: AppendRequest): AppendArguments => {
  const keys = request.keys ?? []
  const member = request.directory?.member
  return {
    streamId: request.streamId,
    expected: expectedText(request.expectedVersion),
    events: encodeBatch(operation, request.events),
    member:
      member === undefined
        ? null
        : checkNoNul(operation, toStoredJson(operation, member, "directory.member"), "the directory row"),
    messages: request.directory === undefined ? null : JSON.stringify(request.directory.messages ?? []),
    keys: keys.length === 0 ? null : JSON.stringify(keys),
  }
}

/** The parameters of the `append` statement. */
const appendParameters = (a: AppendArguments): ReadonlyArray<unknown> => [
  a.streamId,
  a.expected,
  a.events,
  a.member,
  a.messages,
  a.keys,
]

/**
 * The requests of a batch as one JSON array for `append_batch`, built from
 * the checked JSON texts; an absent part is left out (`->` then gives SQL
 * NULL, as `append` expects, where a JSON null would be a value).
 */
const batchJson = (batch: ReadonlyArray<AppendArguments>): string =>
  `[${batch
    .map((a) => {
      const parts = [`"streamId":${JSON.stringify(a.streamId)}`, `"expected":${JSON.stringify(a.expected)}`]
      parts.push(`"events":${a.events}`)
      if (a.member !== null) parts.push(`"member":${a.member}`)
      if (a.messages !== null) parts.push(`"messages":${a.messages}`)
      if (a.keys !== null) parts.push(`"keys":${a.keys}`)
      return `{${parts.join(",")}}`
    })
    .join(",")}]`

/** Where an append left its stream, from a row of `append` or `append_batch`. */
const resultOf = (row: Readonly<Record<string, unknown>> | undefined): AppendResult => ({
  version: toNumber(row?.o_version),
  position: toNumber(row?.o_position),
})

/** The index of the request `append_batch` names in its error's HINT ("request 3"), if any. */
const failedRequest = (error: unknown): number | undefined => {
  const hint = (error as { readonly hint?: unknown } | null)?.hint
  const match = typeof hint === "string" ? /^request (\d+)$/.exec(hint) : null
  return match === null ? undefined : Number(match[1])
}

/** The DETAIL of a PostgreSQL error, if any. */
const detailOf = (error: unknown): string => {
  const detail = (error as { readonly detail?: unknown } | null)?.detail
  return typeof detail === "string" ? detail : ""
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Where the keys live when they are apart from the log (`postgresStore`'s
 * `keys` option): the key store's connection, and whether it is the log's
 * database (another schema: one transaction over both, and the directory's
 * personal columns live there too, see `personal.ts`) or another one (two
 * transactions, the keys' first; the personal columns stay in the log).
 */
export interface KeysApart {
  readonly connection: Connection
  readonly sameDatabase: boolean
}

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
export const postgresEventStore = (connection: Connection, keysApart?: KeysApart): EventStore => {
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

  /**
   * What `append` checks before it draws positions, read-only: the version,
   * then the e-mail key. Run before keys are written apart from the log, so
   * a refusal writes nothing (the append checks both again under its lock).
   */
  const precheck = async (db: SqlClient, request: AppendRequest): Promise<void> => {
    const { streamId, expectedVersion } = request
    const current = toNumber((await db.query(sql.lastVersion, [streamId])).rows[0]?.version ?? 0)
    if (!matchesExpectedVersion(current, expectedVersion))
      throw new ConcurrencyConflict({ streamId, expected: expectedVersion, actual: current })
    const member = request.directory?.member
    if (member?.emailKey == null) return
    const holder = (await db.query(sql.emailHolder, [member.tenantId, member.emailKey, member.memberId]))
      .rows[0]
    if (holder !== undefined)
      throw new EmailTaken({ tenantId: member.tenantId, memberId: String(holder.member_id) })
  }

  /** The append, its keys left out: they go to the key store apart (see `KeysApart`). */
  const appendLog = async (db: SqlClient, request: AppendRequest, parameters: ReadonlyArray<unknown>) => {
    try {
      return resultOf((await db.query(sql.append, parameters)).rows[0])
    } catch (error) {
      // Outside the transaction, which the error aborted.
      throw await refusal(connection.db, request, error)
    }
  }

  const appendApart = async (apart: KeysApart, request: AppendRequest): Promise<AppendResult> => {
    const operation = "events.append"
    const keys = request.keys ?? []
    const keySql = keyStatements(apart.connection.schema.sql)
    if (apart.sameDatabase) {
      // The personal columns go to the key store schema (personal.ts); the log's row holds them NULL.
      const member = request.directory?.member
      if (member !== undefined) checkPersonal(operation, member)
      const logged =
        request.directory === undefined || member === undefined
          ? request
          : { ...request, directory: { ...request.directory, member: withoutPersonal(member) } }
      const parameters = appendParameters(appendArguments(operation, { ...logged, keys: [] }))
      // One transaction over both schemas: checks in the documented order, then the append, then
      // the keys (checked free before the append draws positions, so a refusal loses none), then the
      // personal row (under the stream's lock the append took, so appends of a member take turns).
      return connection.transaction(operation, async (tx) => {
        await precheck(tx, request)
        await checkKeysFree(tx, keySql, keys)
        const result = await appendLog(tx, request, parameters)
        await insertKeys(tx, keySql, keys)
        if (member !== undefined) await writePersonal(tx, apart.connection.schema, member)
        return result
      })
    }
    const parameters = appendParameters(appendArguments(operation, { ...request, keys: [] }))
    // Two databases, two transactions: the keys commit first, so a crash (or an append refused
    // after them, by a writer racing past the checks) leaves orphan keys, never an event whose
    // keys were lost. An orphan is harmless: no event uses it, or the next attempt reuses it.
    await connection.run(operation, (db) => precheck(db, request))
    if (keys.length > 0) await apart.connection.transaction(operation, (tx) => insertKeys(tx, keySql, keys))
    return connection.run(operation, (db) => appendLog(db, request, parameters))
  }

  const events: EventStore = {
    append: async (request): Promise<AppendResult> => {
      const operation = "events.append"
      if (keysApart !== undefined) return appendApart(keysApart, request)
      // A value that cannot be stored throws here, before anything is sent.
      const parameters = appendParameters(appendArguments(operation, request))
      return connection.run(operation, async (db) => {
        try {
          return resultOf((await db.query(sql.append, parameters)).rows[0])
        } catch (error) {
          throw await refusal(db, request, error)
        }
      })
    },

    // One statement: `append_batch` (see the module comment and migrations.ts).
    appendBatch: async (requests) => {
      const operation = "events.appendBatch"
      // Every value that cannot be stored throws here, before anything is sent.
      const batch = requests.map((request) => appendArguments(operation, request))
      return connection.run(operation, async (db) => {
        if (batch.length === 0) return []
        try {
          const { rows } = await db.query(sql.appendBatch, [batchJson(batch)])
          return rows.map(resultOf)
        } catch (error) {
          const failed = failedRequest(error)
          const request = failed === undefined ? undefined : requests[failed]
          throw request === undefined ? error : await refusal(db, request, error)
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
  if (keysApart === undefined) return events
  // Keys apart, a batch is not one statement any more: without appendBatch, an import appends its
  // new contacts one at a time (docs/design.md §4.6).
  const { appendBatch: _, ...apart } = events
  return apart
}
