/**
 * What a storage adapter hands to Lethe: one object with the three parts of
 * the SPI (docs/design.md §4).
 *
 * @module
 */
import type { Directory } from "./directory.js"
import type { EventStore } from "./event-store.js"
import type { KeyStore } from "./key-store.js"
import type { ProjectionStore } from "./projection-store.js"
import type { SnapshotStore } from "./snapshot-store.js"

/** A storage adapter: event log, key store and directory over one database. */
export interface LetheStore {
  /** A short name for reports and errors, e.g. "memory", "sqlite". */
  readonly name: string
  readonly events: EventStore
  readonly keys: KeyStore
  readonly directory: Directory
  /**
   * Member snapshots (optional): without them every first command on a
   * member after start-up folds its whole stream.
   */
  readonly snapshots?: SnapshotStore
  /**
   * Applications' own projections (optional, R36): checkpoints written in the
   * same transaction as a projection's writes, and appends that run inline
   * projections in their own transaction. Without it, `createLethe` refuses
   * projections.
   */
  readonly projections?: ProjectionStore
  /**
   * Runs the steps of one erasure (its keys destroyed, what they sealed
   * redacted, the member's snapshot removed) so that an adapter which must
   * flush erased bytes out of a journal afterwards (SQLite's WAL, R29) does
   * it once, when `steps` settles, rather than after each step. When the
   * promise it returns settles, the bytes are flushed as after each step
   * alone. Optional: without it, each step flushes on its own.
   */
  erasing?<A>(steps: () => Promise<A>): Promise<A>
  /**
   * Releases what the adapter opened; never ends a pool the caller passed in.
   * Closing twice is harmless; any call after close rejects with `StoreError`.
   */
  close(): Promise<void>
}
