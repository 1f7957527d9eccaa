/**
 * The per-stream hash chain (DESIGN §3). Each event's hash is SHA-256 over the
 * previous hash and a canonical encoding of the event in which every sealed
 * value counts by the digest of its ciphertext, so erasing ciphertexts later
 * leaves the chain intact while any other change breaks it.
 *
 * @module
 */
import { createHash, hash } from "node:crypto"
import type { EventMetadata, StoredEvent } from "../spi/event-store.js"
import { isSealedValue } from "../spi/sealed-value.js"

/** The parts of an event the chain commits to. */
export interface ChainedFields {
  readonly streamId: string
  readonly version: number
  readonly type: string
  readonly data: unknown
  readonly metadata: EventMetadata
  readonly recordedAt: number
}

const isDigested = (value: object): value is { readonly digest: string } =>
  "_tag" in value &&
  (value._tag === "Sealed" || value._tag === "Erased") &&
  "digest" in value &&
  typeof value.digest === "string"

/** What `JSON.stringify` escapes in a string: quote, backslash, control characters, and surrogates (lone ones). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what JSON escapes.
const escaped = /["\\\u0000-\u001f\ud800-\udfff]/

/**
 * `JSON.stringify` of a string. The audit quotes every string of every event,
 * and most need no escape: quoting them in place spares a call into the
 * runtime's serializer for each.
 */
const quote = (text: string): string => (escaped.test(text) ? JSON.stringify(text) : `"${text}"`)

// The same few keys come back in every event: their JSON text is kept, up to a bound, so
// memory stays flat whatever the log holds.
const quotedKeys = new Map<string, string>()
const quoteKey = (key: string): string => {
  let quoted = quotedKeys.get(key)
  if (quoted === undefined) {
    quoted = quote(key)
    if (quotedKeys.size < 1024 && key.length <= 64) quotedKeys.set(key, quoted)
  }
  return quoted
}

/**
 * Sorts in place by UTF-16 code units, the order of `Array.prototype.sort`
 * without a comparator (keys are distinct, so stability does not matter).
 * An object's handful of keys sorts faster by insertion than through `sort`.
 */
const sortKeys = (keys: Array<string>): Array<string> => {
  if (keys.length > 16) return keys.sort()
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i] as string
    let j = i - 1
    for (; j >= 0 && (keys[j] as string) > key; j--) keys[j + 1] = keys[j] as string
    keys[j + 1] = key
  }
  return keys
}

/**
 * JSON with sorted keys, and every sealed or erased value replaced by its digest.
 * Deterministic for equal inputs, whatever their key order. Keys sort by UTF-16
 * code units (`Array.prototype.sort`'s order); properties holding `undefined`
 * are left out, as `JSON.stringify` leaves them out.
 */
export const canonicalJson = (value: unknown): string => {
  switch (typeof value) {
    case "string":
      return quote(value)
    case "number":
      // JSON.stringify's text for a number: its ToString when finite, else null.
      return Number.isFinite(value) ? String(value) : "null"
    case "boolean":
      return value ? "true" : "false"
    case "object":
      break
    default:
      return JSON.stringify(value) ?? "null"
  }
  if (value === null) return "null"
  // Built by concatenation, not by arrays of entries: the audit hashes every event of a log.
  if (Array.isArray(value)) {
    let out = "["
    for (let i = 0; i < value.length; i++) out += (i === 0 ? "" : ",") + canonicalJson(value[i])
    return `${out}]`
  }
  if (isDigested(value)) return `{"$digest":${quote(value.digest)}}`
  const record = value as Readonly<Record<string, unknown>>
  const keys = sortKeys(Object.keys(record))
  let out = "{"
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string
    const inner = record[key]
    if (inner === undefined) continue
    out += `${out.length === 1 ? "" : ","}${quoteKey(key)}:${canonicalJson(inner)}`
  }
  return `${out}}`
}

/** A field of the chained event, after a comma unless it is the first. */
const chainedField = (out: string, quotedKey: string, value: unknown): string =>
  value === undefined ? out : `${out}${out.length === 1 ? "" : ","}${quotedKey}:${canonicalJson(value)}`

/**
 * `canonicalJson` of the chained fields, without building the object: the keys
 * are known, and written in their sorted order.
 */
const chainedJson = (event: ChainedFields): string => {
  let out = "{"
  out = chainedField(out, '"data"', event.data)
  out = chainedField(out, '"metadata"', event.metadata)
  out = chainedField(out, '"recordedAt"', event.recordedAt)
  out = chainedField(out, '"streamId"', event.streamId)
  out = chainedField(out, '"type"', event.type)
  out = chainedField(out, '"version"', event.version)
  return `${out}}`
}

/** The hash of an event chained to `prevHash` (hex SHA-256). */
export const hashEvent = (prevHash: string, event: ChainedFields): string =>
  // One string hashed at once is the same UTF-8 bytes as its three parts in turn ("\n" never
  // pairs with a surrogate), and the one-shot hash spares a Hash object per event.
  typeof prevHash === "string"
    ? hash("sha256", `${prevHash}\n${chainedJson(event)}`, "hex")
    : createHash("sha256").update(prevHash).update("\n").update(chainedJson(event)).digest("hex")

/** What can be wrong with one link of a stream's chain. */
export type ChainProblem =
  | "version-gap"
  | "prev-hash-mismatch"
  | "hash-mismatch"
  | "digest-mismatch"
  | "wrong-stream"

/** Where a stream's chain breaks, if it does. */
export type ChainCheck =
  | { readonly ok: true; readonly head: string; readonly length: number }
  | {
      readonly ok: false
      readonly streamId: string
      readonly version: number
      readonly problem: ChainProblem
    }

/** The last verified link of a stream: its version (0 before the first event) and hash. */
export interface ChainHead {
  readonly version: number
  readonly hash: string
}

/** The head of a stream with no event yet. */
export const emptyChain: ChainHead = { version: 0, hash: "" }

/** Whether every sealed value in `data` still matches the digest the chain committed to. */
export const sealedDigestsMatch = (data: unknown): boolean => {
  if (data === null || typeof data !== "object") return true
  if (isSealedValue(data))
    return (
      typeof data.ciphertext === "string" &&
      hash("sha256", Buffer.from(data.ciphertext, "base64"), "hex") === data.digest
    )
  const record = data as Readonly<Record<string, unknown>>
  for (const key of Object.keys(record)) if (!sealedDigestsMatch(record[key])) return false
  return true
}

/**
 * Checks one event against the head of its stream's chain: the right stream,
 * the next version, `prevHash` the head's hash, `hash` recomputed, each sealed
 * value's ciphertext matching its committed digest. Returns the first problem,
 * or undefined when the link holds. The auditor calls it event by event, so a
 * whole log is verified keeping only each stream's head.
 *
 * @example
 * ```ts
 * let head = emptyChain
 * for (const event of events) {
 *   const problem = checkLink(streamId, head, event)
 *   if (problem !== undefined) throw new Error(`${streamId}@${event.version}: ${problem}`)
 *   head = { version: event.version, hash: event.hash }
 * }
 * ```
 */
export const checkLink = (
  streamId: string,
  head: ChainHead,
  event: StoredEvent,
): ChainProblem | undefined => {
  if (event.streamId !== streamId) return "wrong-stream"
  if (event.version !== head.version + 1) return "version-gap"
  if (event.prevHash !== head.hash) return "prev-hash-mismatch"
  if (hashEvent(head.hash, event) !== event.hash) return "hash-mismatch"
  if (!sealedDigestsMatch(event.data)) return "digest-mismatch"
  return undefined
}

/**
 * Verifies a whole stream: versions contiguous from 1, each `prevHash` the
 * previous `hash`, each `hash` recomputed, each sealed value's ciphertext
 * matching its committed digest. Detects any change, removal or reordering of
 * events, while a redacted value (digest kept, ciphertext gone) still verifies.
 */
export const verifyStream = (streamId: string, events: ReadonlyArray<StoredEvent>): ChainCheck => {
  let head = emptyChain
  for (const event of events) {
    const problem = checkLink(streamId, head, event)
    if (problem !== undefined) return { ok: false, streamId, version: event.version, problem }
    head = { version: event.version, hash: event.hash }
  }
  return { ok: true, head: head.hash, length: events.length }
}
