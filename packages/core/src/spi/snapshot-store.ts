/**
 * Member snapshots: a member's state folded up to a version, kept by the
 * store so that the first command on a member after a process starts reads
 * the snapshot and the few events after it, not the member's whole history
 * (issue 8: deciding must not grow with activity history).
 *
 * A snapshot is a cache of what the log already says. Lethe checks it
 * against the log before using it (the event at its version must still have
 * its head hash) and folds the events after it; a missing, stale or removed
 * snapshot only costs a full read. Its personal values are sealed under the
 * member's data keys exactly as the events' are, so destroying a key makes
 * them unreadable there too (R29); an erasure also removes the member's
 * snapshot, leaving no copy of its bytes, as `redact` does for events.
 *
 * The part is optional: an adapter without `snapshots` works, and every
 * command then folds the member's stream from its first event (or from the
 * state the instance keeps, see `LetheOptions.memberCache`).
 *
 * @module
 */

/** A member's state folded up to `version`, as a store keeps it. */
export interface StoredSnapshot {
  readonly memberId: string
  readonly tenantId: string
  /** The stream version the state was folded to (at least 1). */
  readonly version: number
  /** The hash of the event at `version`. */
  readonly head: string
  /**
   * The folded state: plain JSON (objects, arrays, strings, finite numbers,
   * booleans, null), which must read back equal as JSON does: `-0` reads
   * back as `0`, and properties holding `undefined` read back absent. Its
   * personal values are sealed values (`SealedValue`), as in event data.
   */
  readonly state: unknown
  /** When it was taken (epoch ms, a safe integer). */
  readonly takenAt: number
}

/**
 * Where snapshots are kept: at most one per member, the latest written.
 *
 * Rules every adapter follows (the conformance suite's `snapshots/*` cases):
 * - `write` keeps `snapshot` unless the member's stored one has the same or
 *   a later version, and says whether it kept it. Concurrent writers of one
 *   member leave the one of the latest version.
 * - A snapshot that is not plain JSON, or whose version or time is not a
 *   safe integer (the version positive), is refused with `StoreError` and
 *   nothing is written.
 * - `remove(memberId, upTo)` deletes the member's snapshot so that no copy
 *   of its bytes stays in the database's files (as `EventStore.redact` does),
 *   says whether there was one, and from then on refuses (`write` returns
 *   false) any snapshot of that member of version `upTo` or lower: one taken
 *   before an erasure and written late by a slower process holds values
 *   sealed under the destroyed keys, and must not bring their bytes back.
 */
export interface SnapshotStore {
  /** The member's snapshot, or `undefined` when there is none. */
  read(memberId: string): Promise<StoredSnapshot | undefined>
  /** Keeps `snapshot` unless the member has one of the same or a later version; true if kept. */
  write(snapshot: StoredSnapshot): Promise<boolean>
  /**
   * Deletes the member's snapshot, leaving no copy of its bytes, and refuses
   * later writes of its versions up to `upTo`; true if there was a snapshot.
   */
  remove(memberId: string, upTo: number): Promise<boolean>
}
