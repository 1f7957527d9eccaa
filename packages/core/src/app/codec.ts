/**
 * How domain events become stored events and back: the seam where sealing
 * sits (see `sealingCodec`). An encoder replaces personal values by sealed
 * ones; a decoder opens them, or yields `Erased` markers when their key is gone.
 *
 * @module
 */
import type { Effect } from "effect"
import type { LetheError } from "../errors.js"
import type { MemberEvent } from "../member/events.js"
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

/** Encodes domain events for storage and decodes them back. */
export interface EventCodec {
  encode(event: MemberEvent, place: EventPlace): Effect.Effect<unknown, LetheError>
  decode(stored: StoredEvent): Effect.Effect<MemberEvent, LetheError>
  /**
   * The data keys `encode` minted and nobody stored yet: the append that
   * carries the events sealed under them stores them in its transaction.
   */
  newKeys(): ReadonlyArray<StoredKey>
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
