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
 * Deterministic for equal inputs, whatever their key order.
 */
export const canonicalJson = (value: unknown): string => {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null"
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`
  if (isDigested(value)) return JSON.stringify({ $digest: value.digest })
  const entries = Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`
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

/** Where a stream's chain breaks, if it does. */
export type ChainCheck =
  | { readonly ok: true; readonly head: string; readonly length: number }
  | {
      readonly ok: false
      readonly streamId: string
      readonly version: number
      readonly problem:
        | "version-gap"
        | "prev-hash-mismatch"
        | "hash-mismatch"
        | "digest-mismatch"
        | "wrong-stream"
    }

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
 * Verifies a whole stream: versions contiguous from 1, each `prevHash` the
 * previous `hash`, each `hash` recomputed, each sealed value's ciphertext
 * matching its committed digest. Detects any change, removal or reordering of
 * events, while a redacted value (digest kept, ciphertext gone) still verifies.
 */
export const verifyStream = (streamId: string, events: ReadonlyArray<StoredEvent>): ChainCheck => {
  let prev = ""
  let expectedVersion = 1
  for (const event of events) {
    const broken = (problem: Extract<ChainCheck, { ok: false }>["problem"]): ChainCheck => ({
      ok: false,
      streamId,
      version: event.version,
      problem,
    })
    if (event.streamId !== streamId) return broken("wrong-stream")
    if (event.version !== expectedVersion) return broken("version-gap")
    if (event.prevHash !== prev) return broken("prev-hash-mismatch")
    if (hashEvent(prev, event) !== event.hash) return broken("hash-mismatch")
    if (!sealedDigestsMatch(event.data)) return broken("digest-mismatch")
    prev = event.hash
    expectedVersion += 1
  }
  return { ok: true, head: prev, length: events.length }
}
