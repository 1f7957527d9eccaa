/**
 * The hash chain's functions as they were first written, kept verbatim as the
 * reference for the optimized ones: every hash stored before must verify, and
 * the auditor must find what it found.
 */
import { createHash } from "node:crypto"
import type { ChainedFields, ChainProblem } from "@lethe/core/audit"
import type { StoredEvent } from "@lethe/core/spi"
import { isSealedValue } from "@lethe/core/spi"
import type { ChainHead } from "../src/audit/hash-chain.js"

const isDigested = (value: object): value is { readonly digest: string } =>
  "_tag" in value &&
  (value._tag === "Sealed" || value._tag === "Erased") &&
  "digest" in value &&
  typeof value.digest === "string"

export const referenceJson = (value: unknown): string => {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null"
  // Built by concatenation, not by arrays of entries: the audit hashes every event of a log.
  if (Array.isArray(value)) {
    let out = "["
    for (let i = 0; i < value.length; i++) out += (i === 0 ? "" : ",") + referenceJson(value[i])
    return `${out}]`
  }
  if (isDigested(value)) return `{"$digest":${JSON.stringify(value.digest)}}`
  const record = value as Readonly<Record<string, unknown>>
  let out = "{"
  let first = true
  for (const key of Object.keys(record).sort()) {
    const inner = record[key]
    if (inner === undefined) continue
    out += `${first ? "" : ","}${JSON.stringify(key)}:${referenceJson(inner)}`
    first = false
  }
  return `${out}}`
}

export const referenceHash = (prevHash: string, event: ChainedFields): string =>
  createHash("sha256")
    .update(prevHash)
    .update("\n")
    .update(
      referenceJson({
        streamId: event.streamId,
        version: event.version,
        type: event.type,
        data: event.data,
        metadata: event.metadata,
        recordedAt: event.recordedAt,
      }),
    )
    .digest("hex")

export const referenceDigests = (data: unknown): boolean => {
  if (data === null || typeof data !== "object") return true
  if (isSealedValue(data))
    return (
      typeof data.ciphertext === "string" &&
      createHash("sha256").update(Buffer.from(data.ciphertext, "base64")).digest("hex") === data.digest
    )
  return Object.values(data).every(referenceDigests)
}

export const referenceCheckLink = (
  streamId: string,
  head: ChainHead,
  event: StoredEvent,
): ChainProblem | undefined => {
  if (event.streamId !== streamId) return "wrong-stream"
  if (event.version !== head.version + 1) return "version-gap"
  if (event.prevHash !== head.hash) return "prev-hash-mismatch"
  if (referenceHash(head.hash, event) !== event.hash) return "hash-mismatch"
  if (!referenceDigests(event.data)) return "digest-mismatch"
  return undefined
}
