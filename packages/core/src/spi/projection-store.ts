/**
 * Projections kept by the store (R36, docs/design.md §12): an application's
 * own read models over the events in global order, each with a checkpoint
 * the adapter writes in the same transaction as the read model's own
 * writes, so a crash never applies an event twice or skips one.
 *
 * The core does the reading, decoding and applying; the adapter gives it a
 * transaction handle (`tx`) of its own kind, the checkpoints, and appends
 * that run inline projections in their own transaction:
 * - memory: a `Map<string, unknown>` per projection, a copy of which each
 *   transaction changes and which replaces the original on commit;
 * - SQLite: the better-sqlite3 `Database`, inside a `BEGIN IMMEDIATE`
 *   transaction (so the work must be synchronous);
 * - PostgreSQL: a client (`query(text, params)`) inside a transaction.
 *
 * The part is optional: an adapter without `projections` works, and
 * `createLethe` refuses projections over it (`StoreError`).
 *
 * @module
 */
import { StoreError } from "../errors.js"
import type { AppendRequest, AppendResult, StoredEvent } from "./event-store.js"

/**
 * A projection's work in one transaction: `tx` is the adapter's handle.
 * Synchronous on the memory and SQLite adapters (a returned promise there is
 * refused with `StoreError`), synchronous or asynchronous on PostgreSQL.
 */
export type ProjectionWork = (tx: unknown) => void | Promise<void>

/** Projections that run inside an append's transaction, handed to `ProjectionStore.append`. */
export interface InlineProjections {
  /** The names of the inline projections, in the order they run. */
  readonly names: ReadonlyArray<string>
  /**
   * Applies the appended `events` (every request's, in position order) to
   * projection `name` through `tx`. The adapter calls it inside the append's
   * transaction, after the events are written, once per name whose
   * checkpoint is exactly the position before the first appended event;
   * it then sets that checkpoint to the last appended position. A name
   * whose checkpoint is elsewhere (a writer without the projection appended
   * in between, a position was lost) is left as it is: the core catches it
   * up after the append, in order. A throw, or a rejection, fails the whole
   * append, which writes nothing.
   */
  apply(name: string, tx: unknown, events: ReadonlyArray<StoredEvent>): void | Promise<void>
  /**
   * The appended events hold an erasure (forget, purge, anonymization, erased
   * data): what the projections deleted must leave no copy in the database's
   * files (SQLite checkpoints its WAL after the commit, as `redact` does).
   */
  readonly erasure?: boolean
}

/** What `ProjectionStore.commit` is asked to do besides the work. */
export interface CommitOptions {
  /**
   * The batch held an erasure event: what the work deleted must leave no
   * copy in the database's files (SQLite checkpoints its WAL after the
   * commit, as `redact` does).
   */
  readonly erasure?: boolean
}

/**
 * Where projections live: their checkpoints, a transaction for their
 * writes, and appends that run inline projections in the append's own
 * transaction.
 *
 * Rules every adapter follows (the conformance suite's `projections/*`
 * cases):
 * - a checkpoint is the position of the last event a projection applied, 0
 *   before the first, and changes only with the projection's own writes:
 *   `commit`, `reset` and `append` write both in one transaction or neither;
 * - `commit` compares and sets: when the checkpoint is no longer `from`
 *   (another runner moved it), nothing is written and it resolves false;
 * - a work that throws or rejects rolls its transaction back (the
 *   projection's writes and the checkpoint) and the call rejects with what
 *   it threw, as it is (a Lethe error) or as a `StoreError`.
 */
export interface ProjectionStore {
  /** The checkpoint of projection `name`: the position of the last event it applied, 0 when none. */
  checkpoint(name: string): Promise<number>
  /** The position of the last event of the log, 0 when it is empty (a projection's lag is `head - checkpoint`). */
  head(): Promise<number>
  /**
   * In one transaction: when the checkpoint of `name` is `from`, runs
   * `work(tx)` and sets the checkpoint to `to`, and resolves true; otherwise
   * writes nothing and resolves false. `from` equal to `to` runs work
   * without moving the checkpoint (a projection's setup).
   */
  commit(
    name: string,
    from: number,
    to: number,
    work: ProjectionWork,
    options?: CommitOptions,
  ): Promise<boolean>
  /** In one transaction: runs `work(tx)` (the projection dropping its data) and sets the checkpoint of `name` to 0. */
  reset(name: string, work: ProjectionWork): Promise<void>
  /**
   * `work(tx)` in a transaction that reads the projection's data, and its
   * result: how an application queries a read model (on memory, the only way).
   * What the work writes is not kept (memory: the copy is dropped; SQL
   * adapters: the transaction is rolled back).
   */
  read<A>(name: string, work: (tx: unknown) => A | Promise<A>): Promise<A>
  /**
   * `EventStore.append`, with the inline projections applied in the same
   * transaction once the events are written (see `InlineProjections`).
   */
  append(request: AppendRequest, inline: InlineProjections): Promise<AppendResult>
  /**
   * `EventStore.appendBatch`, with the inline projections applied in the same
   * transaction to every request's events. Optional, present when the event
   * store has `appendBatch`.
   */
  appendBatch?(
    requests: ReadonlyArray<AppendRequest>,
    inline: InlineProjections,
  ): Promise<ReadonlyArray<AppendResult>>
}

/**
 * For adapters whose transactions are synchronous (memory, SQLite): throws
 * `StoreError` for `operation` when a projection's work returned a promise,
 * which such a transaction cannot wait for.
 *
 * @example
 * ```ts
 * db.transaction(() => checkSynchronous("projections.commit", work(db))).immediate()
 * ```
 */
export const checkSynchronous = (operation: string, result: unknown): void => {
  if (typeof (result as { readonly then?: unknown } | null)?.then === "function")
    throw new StoreError({
      operation,
      detail:
        "a projection's apply, setup and reset must be synchronous on this store (they returned a promise)",
    })
}
