/**
 * Decoding a stored event for the audit, without keys: every sealed or erased
 * personal value becomes the domain's `Erased` marker of its category, so the
 * auditor folds the same `MemberEvent`s the service folds, sees no personal
 * value, and needs neither the keyring nor the key store. Every guard the
 * auditor re-runs reads only what is never personal (docs/design.md §3).
 *
 * @module
 */
import { Either, ParseResult, Schema, SchemaAST } from "effect"
import type { ErasedValue, MemberEvent } from "../member/events.js"
import { MemberEvent as MemberEventSchema, PersonalCategory } from "../member/events.js"
import type { StoredEvent } from "../spi/event-store.js"
import { compileGuard } from "./type-guard.js"

/** A stored event decoded for the audit. */
export interface AuditedEvent {
  readonly event: MemberEvent
  /**
   * Paths of personal values stored in clear (they should never be: docs/design.md §3). Their values
   * are not kept.
   */
  readonly clearValues: ReadonlyArray<string>
}

const decodeEvent = Schema.decodeUnknownEither(MemberEventSchema)
const isEvent = Schema.is(MemberEventSchema)
/** `isEvent` without Effect's parser: what it accepts, `isEvent` accepts; what it rejects goes to `isEvent`. */
const isEventFast = compileGuard(SchemaAST.typeAST(MemberEventSchema.ast))

/** One `Erased` marker per category, shared by every event: the audit decodes a million values. */
const markers: ReadonlyMap<unknown, ErasedValue> = new Map(
  PersonalCategory.literals.map((category) => [category, Object.freeze({ _tag: "Erased", category })]),
)

const noClearValues: ReadonlyArray<string> = Object.freeze([])

/** Fields of an event that hold personal values (see `sealingCodec`). */
const personalFields = ["fields", "details"] as const

/** A sealed or erased value becomes the `Erased` marker of its category; anything else is left to fail the schema. */
const erasedMarker = (value: unknown): unknown => {
  if (value === null || typeof value !== "object" || !("_tag" in value)) return value
  if (value._tag !== "Sealed" && value._tag !== "Erased") return value
  return markers.get("category" in value ? value.category : undefined) ?? value
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
  const data = stored.data
  if (data === null || typeof data !== "object" || Array.isArray(data))
    return Either.left("data is not an object")
  // The tag first, then the data: V8 copies such a literal much faster than it adds a key to a copy.
  const candidate: Record<string, unknown> = { _tag: stored.type, ...(data as Record<string, unknown>) }
  if (candidate._tag !== stored.type) candidate._tag = stored.type
  let clearValues: Array<string> | undefined
  for (const field of personalFields) {
    const values = candidate[field]
    if (values === null || typeof values !== "object" || Array.isArray(values)) continue
    const marker = markers.get(field === "details" ? "activity" : candidate.category)
    // A copy whose values are then replaced keeps the copy's shape, where adding keys would not;
    // but a "__proto__" key set on a new object sets its prototype, as the first decoder did.
    const replaced: Record<string, unknown> = Object.hasOwn(values, "__proto__") ? {} : { ...values }
    for (const name of Object.keys(values)) {
      const value = (values as Record<string, unknown>)[name]
      if (typeof value === "string") {
        clearValues ??= []
        clearValues.push(`${field}.${name}`)
        // The auditor never keeps a clear value: it counts as erased of the event's category.
        replaced[name] = marker ?? value
      } else replaced[name] = erasedMarker(value)
    }
    candidate[field] = replaced
  }
  const clear = clearValues ?? noClearValues
  // Checking is cheaper than decoding (no output to build) and the schema transforms nothing:
  // a value that passes is the event. Only a failure is decoded again, for its explanation.
  if (isEventFast(candidate) || isEvent(candidate))
    return Either.right({ event: candidate as MemberEvent, clearValues: clear })
  return decodeEvent(candidate).pipe(
    Either.map((event): AuditedEvent => ({ event, clearValues: clear })),
    Either.mapLeft((error) => ParseResult.TreeFormatter.formatErrorSync(error)),
  )
}
