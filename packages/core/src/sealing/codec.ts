/**
 * How domain events become stored events and back: the seam where sealing
 * sits (see `sealingCodec`). An encoder replaces personal values by sealed
 * ones; a decoder opens them, or yields `Erased` markers when their key is gone.
 *
 * @module
 */
import type { Effect } from "effect"
import type { LetheError } from "../errors.js"
import type { MemberEvent, PersonalCategory, PersonalFields } from "../member/events.js"
import type { StoredEvent } from "../spi/event-store.js"
import type { StoredKey } from "../spi/key-store.js"

/** Where an event sits, for binding sealed values to it. */
export interface EventPlace {
  readonly streamId: string
  readonly version: number
  readonly tenantId: string
  readonly memberId: string
  /** Epoch milliseconds. */
  readonly recordedAt: number
}

/** A member's personal values by category, as its state holds them. */
export type PersonalByCategory = Readonly<Partial<Record<PersonalCategory, PersonalFields>>>

/** Where a member snapshot sits: its member's stream and the version it was folded to. */
export interface SnapshotPlace {
  readonly streamId: string
  readonly memberId: string
  readonly version: number
}

/** Encodes domain events for storage and decodes them back. */
export interface EventCodec {
  encode(event: MemberEvent, place: EventPlace): Effect.Effect<unknown, LetheError>
  decode(stored: StoredEvent): Effect.Effect<MemberEvent, LetheError>
  /**
   * The data keys `encode` minted and nobody stored yet: the append that
   * carries the events sealed under them stores them in its transaction.
   */
  newKeys(): ReadonlyArray<StoredKey>
  /**
   * Fetches every data key of the member in one store call, for a read that
   * is about to open its whole history: each key is then unwrapped when a
   * value first needs it, without asking the store again.
   */
  prefetch(memberId: string): Effect.Effect<void, LetheError>
  /**
   * A state's personal values sealed for a member snapshot at `place`, each
   * under its category's existing data key (never a new one) and bound to
   * the snapshot's version and its own path; `undefined` when a key they
   * need is not live, so no snapshot is taken.
   */
  sealPersonal(personal: PersonalByCategory, place: SnapshotPlace): Effect.Effect<unknown, LetheError>
  /**
   * A snapshot's personal values opened: a value whose key was destroyed
   * comes back as an `Erased` marker; anything else wrong fails with
   * `IntegrityError`.
   */
  openPersonal(sealed: unknown, place: SnapshotPlace): Effect.Effect<PersonalByCategory, LetheError>
}

/**
 * One event of a member's stream as Lethe reads it back: the domain event
 * (personal values opened, or `Erased` markers where the key is gone) beside
 * the stored event it came from (version, time, metadata, hash).
 */
export interface RecordedEvent {
  readonly event: MemberEvent
  readonly stored: StoredEvent
}
