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

/**
 * Canonical JSON written as UTF-8 bytes into one buffer, reused from event to
 * event: the audit hashes every event of a log, and a text built by
 * concatenation would cost each event some thousands of bytes of garbage, a
 * flat copy for the hash, and an encoding to UTF-8. Text that is all ASCII
 * and needs no escape (nearly all of it) is copied a code unit a byte; any
 * other is written as `JSON.stringify` writes it, encoded as `hash` would
 * encode it.
 */
class CanonicalWriter {
  bytes: Buffer = Buffer.allocUnsafe(1 << 12)
  length = 0
  /** Whether a canonical text is being written: a call made meanwhile (a getter's) takes another writer. */
  busy = false

  /** Makes room for `extra` more bytes. */
  reserve(extra: number): void {
    if (this.length + extra <= this.bytes.length) return
    const bytes = Buffer.allocUnsafe(Math.max(2 * this.bytes.length, this.length + extra))
    this.bytes.copy(bytes, 0, 0, this.length)
    this.bytes = bytes
  }

  /** Any text, as UTF-8 (a lone surrogate as U+FFFD, as `hash` encodes a string). */
  text(text: string): void {
    const n = text.length
    this.reserve(n)
    const bytes = this.bytes
    let at = this.length
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i)
      if (c >= 0x80) {
        this.reserve(3 * n)
        this.length += this.bytes.write(text, this.length, "utf8")
        return
      }
      bytes[at++] = c
    }
    this.length = at
  }

  /** `quote(text)`: a JSON string. */
  string(text: string): void {
    const n = text.length
    this.reserve(n + 2)
    const bytes = this.bytes
    let at = this.length
    bytes[at++] = 34
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i)
      // Quote, backslash, control characters: escaped; beyond ASCII: encoded (and lone surrogates escaped).
      if (c < 0x20 || c === 34 || c === 92 || c >= 0x80) {
        this.text(JSON.stringify(text))
        return
      }
      bytes[at++] = c
    }
    bytes[at++] = 34
    this.length = at
  }

  /** A byte of ASCII. */
  byte(c: number): void {
    this.reserve(1)
    this.bytes[this.length++] = c
  }

  /**
   * `JSON.stringify` of a number: a safe integer digit by digit (its ToString
   * is all its digits; `String` would keep each new one in V8's
   * number-to-string cache, in the old generation), any other by its ToString
   * when finite, else null.
   */
  number(value: number): void {
    if (!Number.isSafeInteger(value)) {
      this.text(Number.isFinite(value) ? String(value) : "null")
      return
    }
    this.reserve(17)
    let rest = value
    if (rest < 0) {
      this.bytes[this.length++] = 45
      rest = -rest
    }
    if (rest < 1e8) {
      this.digits(rest, 0)
      return
    }
    // Two halves below 10^8, so that the digits are taken with small-integer arithmetic: a
    // time in milliseconds is no small integer, and `%` of a double calls into the runtime.
    let high = Math.floor(rest / 1e8)
    let low = rest - high * 1e8
    // The quotient may have rounded up to the next integer; the product is exact (below 2^53).
    if (low < 0) {
      high -= 1
      low += 1e8
    }
    this.digits(high, 0)
    this.digits(low, 8)
  }

  /** The digits of an integer from 0 to 10^8 - 1, padded with zeros to `width`. */
  digits(value: number, width: number): void {
    const bytes = this.bytes
    let count = 1
    for (let x = value; x >= 10; count++) x = (x / 10) | 0
    if (count < width) count = width
    let at = this.length + count
    this.length = at
    let rest = value | 0
    for (let i = 0; i < count; i++) {
      const next = (rest / 10) | 0
      bytes[--at] = 48 + rest - 10 * next
      rest = next
    }
  }

  /** `canonical(value)`, and with `check`, `sealedDigestsMatch` on the way. */
  value(value: unknown, check: DigestCheck | undefined): void {
    switch (typeof value) {
      case "string":
        this.string(value)
        return
      case "number":
        this.number(value)
        return
      case "boolean":
        this.text(value ? "true" : "false")
        return
      case "object":
        break
      default:
        this.text(JSON.stringify(value) ?? "null")
        return
    }
    if (value === null) {
      this.text("null")
      return
    }
    if (Array.isArray(value)) {
      // An array's own keys may be more than its indices: it is checked apart (events hold few arrays).
      if (check?.holds === true) check.holds = sealedDigestsMatch(value)
      this.byte(91)
      for (let i = 0; i < value.length; i++) {
        if (i > 0) this.byte(44)
        this.value(value[i], undefined)
      }
      this.byte(93)
      return
    }
    if (isDigested(value)) {
      if (check?.holds === true) check.holds = sealedDigestsMatch(value)
      this.text('{"$digest":')
      this.string(value.digest)
      this.byte(125)
      return
    }
    const record = value as Readonly<Record<string, unknown>>
    const keys = sortKeys(Object.keys(record))
    this.byte(123)
    let first = true
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string
      const inner = record[key]
      if (inner === undefined) continue
      this.field(first, key)
      first = false
      this.value(inner, check)
    }
    this.byte(125)
  }

  /** A property's key and colon, after a comma unless it is the first. */
  field(first: boolean, key: string): void {
    if (!first) this.byte(44)
    this.string(key)
    this.byte(58)
  }

  /**
   * `canonicalJson` of the chained fields, without building the object: the
   * keys are known, and written in their sorted order.
   */
  chained(event: ChainedFields, check: DigestCheck | undefined): void {
    this.byte(123)
    let first = this.chainedField(true, "data", event.data, check)
    first = this.chainedField(first, "metadata", event.metadata, undefined)
    first = this.chainedField(first, "recordedAt", event.recordedAt, undefined)
    first = this.chainedField(first, "streamId", event.streamId, undefined)
    first = this.chainedField(first, "type", event.type, undefined)
    this.chainedField(first, "version", event.version, undefined)
    this.byte(125)
  }

  /** A field of the chained event unless it is undefined; whether the next is still the first. */
  chainedField(first: boolean, key: string, value: unknown, check: DigestCheck | undefined): boolean {
    if (value === undefined) return first
    this.field(first, key)
    this.value(value, check)
    return false
  }
}

const shared = new CanonicalWriter()

/** The shared writer, emptied, or a new one if it is in use; give it back with `release`. */
const acquire = (): CanonicalWriter => {
  const writer = shared.busy ? new CanonicalWriter() : shared
  writer.busy = true
  writer.length = 0
  return writer
}

const release = (writer: CanonicalWriter): void => {
  writer.busy = false
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
  const writer = acquire()
  try {
    writer.value(value, undefined)
    return writer.bytes.toString("utf8", 0, writer.length)
  } finally {
    release(writer)
  }
}

/** Whether every sealed value met so far matches its digest; cleared at the first that does not. */
interface DigestCheck {
  holds: boolean
}

/** The hash of an event chained to `prevHash` (hex SHA-256). */
export const hashEvent = (prevHash: string, event: ChainedFields): string => chainedHash(prevHash, event)

/** `hashEvent`, and with `check`, `sealedDigestsMatch` of the event's data on the way. */
const chainedHash = (prevHash: string, event: ChainedFields, check?: DigestCheck): string => {
  const writer = acquire()
  try {
    // The bytes of the text `${prevHash}\n${canonical JSON}` ("\n" never pairs with a
    // surrogate), hashed at once: the one-shot hash spares a Hash object per event.
    if (typeof prevHash === "string") {
      writer.text(prevHash)
      writer.byte(10)
      writer.chained(event, check)
      return hash("sha256", writer.bytes.subarray(0, writer.length), "hex")
    }
    writer.chained(event, check)
    return createHash("sha256")
      .update(prevHash)
      .update("\n")
      .update(writer.bytes.subarray(0, writer.length))
      .digest("hex")
  } finally {
    release(writer)
  }
}

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

/** Where a ciphertext is decoded to be hashed: the audit hashes one in every other event. */
let ciphertextBytes = Buffer.allocUnsafe(256)

/** Hex SHA-256 of the bytes of a base64 ciphertext, decoded as `Buffer.from(text, "base64")` decodes it. */
const ciphertextDigest = (text: string): string => {
  // Base64 decodes to at most 3 bytes for every 4 characters.
  const room = Math.ceil((3 * text.length) / 4)
  if (room > ciphertextBytes.length) ciphertextBytes = Buffer.allocUnsafe(room)
  const length = ciphertextBytes.write(text, 0, "base64")
  return hash("sha256", ciphertextBytes.subarray(0, length), "hex")
}

/** Whether every sealed value in `data` still matches the digest the chain committed to. */
export const sealedDigestsMatch = (data: unknown): boolean => {
  if (data === null || typeof data !== "object") return true
  if (isSealedValue(data))
    return typeof data.ciphertext === "string" && ciphertextDigest(data.ciphertext) === data.digest
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
