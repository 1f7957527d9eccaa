/**
 * The per-stream hash chain (DESIGN §3). Each event's hash is SHA-256 over the
 * previous hash and a canonical encoding of the event in which every sealed
 * value counts by the digest of its ciphertext, so erasing ciphertexts later
 * leaves the chain intact while any other change breaks it.
 *
 * @module
 */
import { createHash } from "node:crypto"
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

/**
 * JSON with sorted keys, and every sealed or erased value replaced by its digest.
 * Deterministic for equal inputs, whatever their key order. Keys sort by UTF-16
 * code units (`Array.prototype.sort`'s order); properties holding `undefined`
 * are left out, as `JSON.stringify` leaves them out.
 */
export const canonicalJson = (value: unknown): string => {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null"
  // Built by concatenation, not by arrays of entries: the audit hashes every event of a log.
  if (Array.isArray(value)) {
    let out = "["
    for (let i = 0; i < value.length; i++) out += (i === 0 ? "" : ",") + canonicalJson(value[i])
    return `${out}]`
  }
  if (isDigested(value)) return `{"$digest":${JSON.stringify(value.digest)}}`
  const record = value as Readonly<Record<string, unknown>>
  let out = "{"
  let first = true
  for (const key of Object.keys(record).sort()) {
    const inner = record[key]
    if (inner === undefined) continue
    out += `${first ? "" : ","}${JSON.stringify(key)}:${canonicalJson(inner)}`
    first = false
  }
  return `${out}}`
}

/** The hash of an event chained to `prevHash` (hex SHA-256). */
export const hashEvent = (prevHash: string, event: ChainedFields): string =>
  createHash("sha256")
    .update(prevHash)
    .update("\n")
    .update(
      canonicalJson({
        streamId: event.streamId,
        version: event.version,
        type: event.type,
        data: event.data,
        metadata: event.metadata,
        recordedAt: event.recordedAt,
      }),
    )
    .digest("hex")

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
      createHash("sha256").update(Buffer.from(data.ciphertext, "base64")).digest("hex") === data.digest
    )
  return Object.values(data).every(sealedDigestsMatch)
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
