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
import {
  freeTextCategory,
  freeTextFields,
  MemberEvent as MemberEventSchema,
  PersonalCategory,
  tokenPattern,
} from "../member/events.js"
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
  /**
   * Paths of texts stored in clear where only a token belongs (`source.tag`, `metadata.correlationId`,
   * `metadata.actor`, `metadata.source`; docs/design.md §2.1): free or oversized text. Their values are
   * not kept.
   */
  readonly notTokens: ReadonlyArray<string>
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

/**
 * `freeTextFields` by event type. A type read from a log is no property name to look up: `constructor`
 * would find Object's own (and stop the audit); and a Map finds a string just parsed without
 * interning it first.
 */
const freeTextsOf: ReadonlyMap<string, ReadonlyArray<string>> = new Map(
  Object.entries(freeTextFields).flatMap(([type, names]) =>
    names === undefined ? [] : [[type, names] as const],
  ),
)

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
  // Free text (a reason): sealed or erased becomes the marker; in clear, a finding and the marker too.
  const texts = freeTextsOf.get(stored.type)
  if (texts !== undefined)
    for (const name of texts) {
      const value = candidate[name]
      if (typeof value === "string") {
        clearValues ??= []
        clearValues.push(name)
        candidate[name] = markers.get(freeTextCategory)
      } else candidate[name] = erasedMarker(value)
    }
  const clear = clearValues ?? noClearValues
  const notTokens = tokenProblems(stored, candidate)
  // Checking is cheaper than decoding (no output to build) and the schema transforms nothing:
  // a value that passes is the event. Only a failure is decoded again, for its explanation.
  if (isEventFast(candidate) || isEvent(candidate))
    return Either.right({ event: candidate as MemberEvent, clearValues: clear, notTokens })
  return decodeEvent(candidate).pipe(
    Either.map((event): AuditedEvent => ({ event, clearValues: clear, notTokens })),
    Either.mapLeft((error) => ParseResult.TreeFormatter.formatErrorSync(error)),
  )
}

/** Whether `value` is a token (docs/design.md §2.1): a string the token pattern accepts. */
const isToken = (value: unknown): boolean => typeof value === "string" && tokenPattern.test(value)

/** A metadata source is a kind, or `kind:tag` with a token tag. */
const isSourceText = (value: unknown): boolean => {
  if (typeof value !== "string") return false
  const colon = value.indexOf(":")
  return colon < 0 ? isToken(value) : isToken(value.slice(0, colon)) && isToken(value.slice(colon + 1))
}

/**
 * The paths of `stored` where a token belongs and something else is: the metadata's actor, correlation
 * id and source, and the data's `source.tag`. What a writer other than Lethe, or Lethe before tokens,
 * may have left there in clear (R29).
 */
export const tokenProblems = (
  stored: StoredEvent,
  data: Readonly<Record<string, unknown>>,
): ReadonlyArray<string> => {
  const metadata = stored.metadata as unknown as Partial<Record<string, unknown>> | null | undefined
  const source = data.source
  const tag = source !== null && typeof source === "object" && "tag" in source ? source.tag : undefined
  if (
    isToken(metadata?.actor) &&
    isToken(metadata?.correlationId) &&
    isSourceText(metadata?.source) &&
    (tag === undefined || isToken(tag))
  )
    return noClearValues
  const problems: Array<string> = []
  if (!isToken(metadata?.actor)) problems.push("metadata.actor")
  if (!isToken(metadata?.correlationId)) problems.push("metadata.correlationId")
  if (!isSourceText(metadata?.source)) problems.push("metadata.source")
  if (tag !== undefined && !isToken(tag)) problems.push("source.tag")
  return problems
}
