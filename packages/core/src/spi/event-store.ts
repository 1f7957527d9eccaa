/**
 * The event log an adapter stores (docs/design.md §4). Plain Promises, so a team can
 * write an adapter without knowing Effect; the core wraps them.
 *
 * @module
 */
import type { DirectoryUpdate } from "./directory.js"
import type { StoredKey } from "./key-store.js"

/**
 * What the writer expects the stream's current version to be:
 * - `"no_stream"`: the stream has no event yet;
 * - `"stream_exists"`: it has at least one;
 * - `"any"`: no check;
 * - a number: exactly that version (the version of the stream's last event; 0 for none).
 */
export type ExpectedVersion = "no_stream" | "stream_exists" | "any" | number

/**
 * Whether a stream at `current` (0 for an empty stream) satisfies `expected`.
 * Every adapter calls this inside its append transaction, so all agree.
 */
export const matchesExpectedVersion = (current: number, expected: ExpectedVersion): boolean => {
  switch (expected) {
    case "any":
      return true
    case "no_stream":
      return current === 0
    case "stream_exists":
      return current > 0
    default:
      return current === expected
  }
}

/** Who did it, from where, in which tenant, as part of which operation (R8, R32). */
export interface EventMetadata {
  readonly actor: string
  readonly source: string
  readonly tenantId: string
  readonly correlationId: string
}

/** An event ready to append: the core has encoded it and chained its hash. */
export interface NewEvent {
  readonly type: string
  /** JSON-serializable payload. */
  readonly data: unknown
  readonly metadata: EventMetadata
  /** Epoch milliseconds. */
  readonly recordedAt: number
  /** Hex SHA-256 of the previous event of the stream ("" for the first). */
  readonly prevHash: string
  /** Hex SHA-256 chaining this event to `prevHash` (see `hashEvent`). */
  readonly hash: string
}

/** An event as stored: a `NewEvent` plus its global position and its version in its stream. */
export interface StoredEvent extends NewEvent {
  /** Global order across all streams, strictly increasing, starting at 1. */
  readonly position: number
  readonly streamId: string
  /** 1-based, contiguous within the stream. */
  readonly version: number
  /**
   * Set by an adapter, instead of failing the read, for a row whose stored
   * JSON does not parse (a changed byte, a write by another program): why,
   * e.g. `data is not JSON (Unexpected token...)`. The columns that did not
   * parse are then `null`. The audit reports such a row as a finding naming
   * its stream, version and position; the service refuses to decode it
   * (`IntegrityError`). Absent on every row that reads back.
   */
  readonly unreadable?: string
}

/**
 * One append: events for one stream, with the directory rows they change and
 * the data keys they were sealed with, in one transaction.
 *
 * The adapter checks, in this order, and rejects with the first that fails,
 * applying nothing:
 * 1. the expected version (`ConcurrencyConflict`);
 * 2. `directory.member.emailKey`, when not null, held by no other member of
 *    the same tenant (`EmailTaken`, naming the member who holds it);
 * 3. each of `keys` new (`KeyExists` for a live id, `KeyDestroyed` for a
 *    destroyed one).
 */
export interface AppendRequest {
  readonly streamId: string
  readonly expectedVersion: ExpectedVersion
  readonly events: ReadonlyArray<NewEvent>
  /** Applied in the same transaction as the append; nothing is applied if the append fails. */
  readonly directory?: DirectoryUpdate
  /**
   * Data keys minted to seal these events, stored in the same transaction, so
   * a key exists exactly when the first value sealed under it does.
   */
  readonly keys?: ReadonlyArray<StoredKey>
}

/** Where an append left the stream. */
export interface AppendResult {
  /** The stream's version after the append. */
  readonly version: number
  /** Global position of the last appended event (0 if none were appended). */
  readonly position: number
}

/** Which events of a stream `readStream` returns. */
export interface ReadStreamOptions {
  readonly fromVersion?: number
  readonly sealedUnder?: ReadonlyArray<string>
}

/** A page of the global log. */
export interface ReadAllPage {
  readonly events: ReadonlyArray<StoredEvent>
  /** Pass as `after` to read the next page. */
  readonly next: number
  /** True when this page reached the end of the log as it was when read. */
  readonly done: boolean
}

/**
 * The append-only log. Appends are atomic: all events and the directory update,
 * or nothing. A version mismatch rejects with `ConcurrencyConflict` (from
 * `@lethe/core`), never with a driver's error.
 */
export interface EventStore {
  /**
   * Appends events to one stream, with their directory update and data keys, in one transaction: all or
   * nothing. Checks the expected version, the e-mail key and the keys in the order `AppendRequest` lists,
   * and rejects with the first that fails.
   */
  append(request: AppendRequest): Promise<AppendResult>
  /**
   * Appends to several streams in one transaction (an import of many new
   * members): all of them or nothing. A value of any request that cannot be
   * stored is refused first (`StoreError`), before any check. Then the
   * requests are checked in order, each as `append` checks it and seeing the
   * ones before it: a stream, e-mail key or data key taken by an earlier
   * request of the batch is taken. The first refusal rejects the whole batch
   * with that request's error; nothing is written and no position is used
   * up. Results are in request order, one per request; positions increase in
   * request order, and `readAll` never pages past a batch's position before
   * the batch is committed or gone (as for `append`). Optional: without it,
   * Lethe appends one request at a time.
   */
  appendBatch?(requests: ReadonlyArray<AppendRequest>): Promise<ReadonlyArray<AppendResult>>
  /**
   * The stream's events in version order, from `fromVersion` (default 1).
   * With `sealedUnder`, only the events whose data holds a sealed value (see
   * `isSealedValue`) under one of those key ids: what an erasure must redact
   * and then check, without reading a long activity history. An adapter may
   * index this (the key ids of an event's data are `sealedKeyIds(data)`).
   */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<ReadonlyArray<StoredEvent>>
  /** Events with a position greater than `after` (default 0), in global order, at most `limit` (default 1000). */
  readAll(options?: { readonly after?: number; readonly limit?: number }): Promise<ReadAllPage>
  /**
   * Replaces, in the stored events of `streamId`, every sealed value whose key id is
   * in `keyIds` by its erased form (digest kept). The only change ever made to a
   * stored event; used after keys are destroyed (docs/design.md §3). Returns how many
   * values were replaced.
   */
  redact(streamId: string, keyIds: ReadonlyArray<string>): Promise<number>
}

/**
 * Every event of the log in global order, page by page, so memory stays flat
 * whatever the log's length.
 */
export async function* readAllEvents(
  store: EventStore,
  options: { readonly after?: number; readonly pageSize?: number } = {},
): AsyncGenerator<StoredEvent> {
  let after = options.after ?? 0
  for (;;) {
    const page = await store.readAll({ after, limit: options.pageSize ?? 1000 })
    yield* page.events
    if (page.done || page.events.length === 0) return
    after = page.next
  }
}

/** The stream holding a member's events: one stream per member, named after its id. */
export const memberStream = (memberId: string): string => `member-${memberId}`

/**
 * The reserved stream of the log's signed checkpoints (R41, docs/design.md
 * §7.3): no member, no directory row. Whoever reads the whole log (a
 * projection, an export) meets its `CheckpointSigned` events among the
 * members' and skips them, or keeps them to verify the log.
 */
export const checkpointStream = "lethe:checkpoints"
