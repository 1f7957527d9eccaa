/**
 * The per-stream hash chain (docs/design.md §7). Each event's hash is SHA-256 over the
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
export const quote = (text: string): string => (escaped.test(text) ? JSON.stringify(text) : `"${text}"`)

/** What comes before a property's value: its quoted key and a colon, after a comma unless it is the first. */
interface KeyText {
  readonly first: string
  readonly next: string
}

// The same few keys come back in every event: their text is kept, up to a bound, so memory
// stays flat whatever the log holds.
const keyTexts = new Map<string, KeyText>()
const keyText = (key: string): KeyText => {
  let text = keyTexts.get(key)
  if (text === undefined) {
    const quoted = quote(key)
    text = { first: `${quoted}:`, next: `,${quoted}:` }
    if (keyTexts.size < 1024 && key.length <= 64) keyTexts.set(key, text)
  }
  return text
}

/** The texts of 0 to 999, plain and padded to three digits; made on first use. */
let threeDigits: { readonly plain: ReadonlyArray<string>; readonly padded: ReadonlyArray<string> } | undefined

/**
 * The digits of a positive safe integer, three at a time from tables: a
 * safe integer's ToString is all its digits. `String` would put each new one
 * in V8's number-to-string cache, allocated in the old generation, where the
 * audit's millions of times (in milliseconds) would pile up as garbage.
 */
const integerText = (value: number): string => {
  threeDigits ??= {
    plain: Array.from({ length: 1000 }, (_, i) => String(i)),
    padded: Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, "0")),
  }
  let rest = value
  let out = ""
  while (rest >= 1000) {
    // `%` and a division of a multiple of 1000 are exact, where flooring a quotient may round up.
    const group = rest % 1000
    out = (threeDigits.padded[group] as string) + out
    rest = (rest - group) / 1000
  }
  return (threeDigits.plain[rest] as string) + out
}

/** `JSON.stringify` of a number: its ToString when finite, else null. */
const numberJson = (value: number): string => {
  if (!Number.isFinite(value)) return "null"
  return value >= 2 ** 30 && Number.isSafeInteger(value) ? integerText(value) : String(value)
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
export const canonicalJson = (value: unknown): string => canonical(value, undefined)

/** Whether every sealed value met so far matches its digest; cleared at the first that does not. */
interface DigestCheck {
  holds: boolean
}

/**
 * `canonicalJson`, and with `check`, `sealedDigestsMatch` in the same walk:
 * where the text stops at a digest, the check takes the subtree as
 * `sealedDigestsMatch` would, and everywhere else both read the same values.
 */
const canonical = (value: unknown, check: DigestCheck | undefined): string => {
  switch (typeof value) {
    case "string":
      return quote(value)
    case "number":
      return numberJson(value)
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
    // An array's own keys may be more than its indices: it is checked apart (events hold few arrays).
    if (check?.holds === true) check.holds = sealedDigestsMatch(value)
    let out = "["
    for (let i = 0; i < value.length; i++) out += (i === 0 ? "" : ",") + canonical(value[i], undefined)
    return `${out}]`
  }
  if (isDigested(value)) {
    if (check?.holds === true) check.holds = sealedDigestsMatch(value)
    return `{"$digest":${quote(value.digest)}}`
  }
  const record = value as Readonly<Record<string, unknown>>
  const keys = sortKeys(Object.keys(record))
  let out = "{"
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string
    const inner = record[key]
    if (inner === undefined) continue
    const text = keyText(key)
    out += (out.length === 1 ? text.first : text.next) + canonical(inner, check)
  }
  return `${out}}`
}

/** A field of the chained event, after a comma unless it is the first. */
const chainedField = (out: string, key: KeyText, value: unknown, check?: DigestCheck): string =>
  value === undefined ? out : out + (out.length === 1 ? key.first : key.next) + canonical(value, check)

const chainedKeys = {
  data: keyText("data"),
  metadata: keyText("metadata"),
  recordedAt: keyText("recordedAt"),
  streamId: keyText("streamId"),
  type: keyText("type"),
  version: keyText("version"),
}

/**
 * `canonicalJson` of the chained fields, without building the object: the keys
 * are known, and written in their sorted order.
 */
const chainedJson = (event: ChainedFields, check?: DigestCheck): string => {
  let out = "{"
  out = chainedField(out, chainedKeys.data, event.data, check)
  out = chainedField(out, chainedKeys.metadata, event.metadata)
  out = chainedField(out, chainedKeys.recordedAt, event.recordedAt)
  out = chainedField(out, chainedKeys.streamId, event.streamId)
  out = chainedField(out, chainedKeys.type, event.type)
  out = chainedField(out, chainedKeys.version, event.version)
  return `${out}}`
}

/** The hash of an event chained to `prevHash` (hex SHA-256). */
export const hashEvent = (prevHash: string, event: ChainedFields): string => chainedHash(prevHash, event)

/** `hashEvent`, and with `check`, `sealedDigestsMatch` of the event's data on the way. */
const chainedHash = (prevHash: string, event: ChainedFields, check?: DigestCheck): string =>
  // One string hashed at once is the same UTF-8 bytes as its three parts in turn ("\n" never
  // pairs with a surrogate), and the one-shot hash spares a Hash object per event.
  typeof prevHash === "string"
    ? hash("sha256", `${prevHash}\n${chainedJson(event, check)}`, "hex")
    : createHash("sha256").update(prevHash).update("\n").update(chainedJson(event, check)).digest("hex")

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
export const checkLink = (streamId: string, head: ChainHead, event: StoredEvent): ChainProblem | undefined =>
  linkProblem(streamId, head.version, event.prevHash === head.hash, event)

/**
 * `checkLink`, told whether the event's `prevHash` is the head's hash rather
 * than given the hash: the auditor keeps each head as bytes, not as a string.
 */
export const linkProblem = (
  streamId: string,
  headVersion: number,
  prevHashIsHead: boolean,
  event: StoredEvent,
): ChainProblem | undefined => {
  if (event.streamId !== streamId) return "wrong-stream"
  if (event.version !== headVersion + 1) return "version-gap"
  if (!prevHashIsHead) return "prev-hash-mismatch"
  // The previous hash is the head's: the link is hashed from it, the digests checked on the way.
  const digests: DigestCheck = { holds: true }
  if (chainedHash(event.prevHash, event, digests) !== event.hash) return "hash-mismatch"
  if (!digests.holds) return "digest-mismatch"
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
