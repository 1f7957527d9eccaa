/**
 * Decoding a stored event for the audit, without keys: every sealed or erased
 * personal value becomes the domain's `Erased` marker of its category, so the
 * auditor folds the same `MemberEvent`s the service folds, sees no personal
 * value, and needs neither the keyring nor the key store. Every guard the
 * auditor re-runs reads only what is never personal (DESIGN §3).
 *
 * @module
 */
import { Either, ParseResult, Schema } from "effect"
import type { MemberEvent } from "../member/events.js"
import { MemberEvent as MemberEventSchema, PersonalCategory } from "../member/events.js"
import type { StoredEvent } from "../spi/event-store.js"

/** A stored event decoded for the audit. */
export interface AuditedEvent {
  readonly event: MemberEvent
  /** Paths of personal values stored in clear (they should never be: DESIGN §3). Their values are not kept. */
  readonly clearValues: ReadonlyArray<string>
}

const decodeEvent = Schema.decodeUnknownEither(MemberEventSchema)
const isEvent = Schema.is(MemberEventSchema)
const isCategory = Schema.is(PersonalCategory)

/** Fields of an event that hold personal values (see `sealingCodec`). */
const personalFields = ["fields", "details"] as const

/** A sealed or erased value becomes the `Erased` marker of its category; anything else is left to fail the schema. */
const erasedMarker = (value: unknown): unknown => {
  if (value === null || typeof value !== "object" || !("_tag" in value)) return value
  if (value._tag !== "Sealed" && value._tag !== "Erased") return value
  const category = "category" in value ? value.category : undefined
  return isCategory(category) ? { _tag: "Erased", category } : value
}

/**
 * The member event a stored event holds, with personal values as `Erased`
 * markers; or why it does not decode.
 *
 * @example
 * ```ts
 * const decoded = decodeWithoutKeys(stored)
 * if (Either.isRight(decoded)) state = evolve(state, decoded.right.event)
 * ```
 */
export const decodeWithoutKeys = (stored: StoredEvent): Either.Either<AuditedEvent, string> => {
  if (stored.data === null || typeof stored.data !== "object" || Array.isArray(stored.data))
    return Either.left("data is not an object")
  const data: Record<string, unknown> = { ...(stored.data as Record<string, unknown>) }
  const clearValues: Array<string> = []
  for (const field of personalFields) {
    const values = data[field]
    if (values === null || typeof values !== "object" || Array.isArray(values)) continue
    const category = field === "details" ? "activity" : data.category
    const markers: Record<string, unknown> = {}
    for (const [name, value] of Object.entries(values)) {
      if (typeof value === "string") {
        clearValues.push(`${field}.${name}`)
        // The auditor never keeps a clear value: it counts as erased of the event's category.
        markers[name] = isCategory(category) ? { _tag: "Erased", category } : value
      } else markers[name] = erasedMarker(value)
    }
    data[field] = markers
  }
  const candidate: unknown = { ...data, _tag: stored.type }
  // Checking is cheaper than decoding (no output to build) and the schema transforms nothing:
  // a value that passes is the event. Only a failure is decoded again, for its explanation.
  if (isEvent(candidate)) return Either.right({ event: candidate, clearValues })
  return decodeEvent(candidate).pipe(
    Either.map((event) => ({ event, clearValues })),
    Either.mapLeft((error) => ParseResult.TreeFormatter.formatErrorSync(error)),
  )
}
