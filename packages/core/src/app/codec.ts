/**
 * How domain events become stored events and back. The seam where sealing
 * sits: an encoder may replace personal values by sealed ones, a decoder
 * opens them (or yields `Erased` markers when their key is gone).
 *
 * @module
 */
import { Effect, ParseResult, Schema } from "effect"
import { StoreError } from "../errors.js"
import { MemberEvent } from "../member/events.js"
import type { StoredEvent } from "../spi/event-store.js"

/** Where an event sits, for binding sealed values to it. */
export interface EventPlace {
  readonly streamId: string
  readonly version: number
  readonly tenantId: string
  readonly memberId: string
}

/** Encodes domain events for storage and decodes them back. */
export interface EventCodec {
  encode(event: MemberEvent, place: EventPlace): Effect.Effect<unknown, StoreError>
  decode(stored: StoredEvent): Effect.Effect<MemberEvent, StoreError>
}

const encodeEvent = Schema.encode(MemberEvent)
const decodeEvent = Schema.decodeUnknown(MemberEvent)

/** Strips `_tag` (stored as the event's `type`) from an encoded event. */
const payload = (encoded: MemberEvent): Record<string, unknown> => {
  const { _tag, ...data } = encoded
  return data
}

/** The codec without sealing: events stored as their Schema encoding. */
export const plainCodec: EventCodec = {
  encode: (event) =>
    encodeEvent(event).pipe(
      Effect.map(payload),
      Effect.mapError(
        (e) => new StoreError({ operation: "encode", detail: ParseResult.TreeFormatter.formatErrorSync(e) }),
      ),
    ),
  decode: (stored) =>
    decodeEvent({ ...(stored.data as object), _tag: stored.type }).pipe(
      Effect.mapError(
        (e) =>
          new StoreError({
            operation: "decode",
            detail: `${stored.streamId}@${stored.version}: ${ParseResult.TreeFormatter.formatErrorSync(e)}`,
          }),
      ),
    ),
}
