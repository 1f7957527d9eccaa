/**
 * The stored form of a personal value (docs/design.md §3), as adapters see it inside
 * an event's `data`: sealed under a data key, or erased after the key was
 * destroyed. Adapters never open sealed values; they only replace them on
 * `redact`, with `redactSealedValues`.
 *
 * @module
 */

/** A personal value encrypted (AES-256-GCM) under the data key `keyId`. */
export interface SealedValue {
  readonly _tag: "Sealed"
  readonly keyId: string
  readonly category: string
  /** Base64 nonce. */
  readonly iv: string
  /** Base64 ciphertext with its authentication tag. */
  readonly ciphertext: string
  /** Hex SHA-256 of the ciphertext: what the hash chain commits to. */
  readonly digest: string
}

/** What a sealed value becomes once redacted: the category and the digest, nothing to decrypt. */
export interface ErasedSealedValue {
  readonly _tag: "Erased"
  readonly category: string
  readonly digest: string
}

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  value !== null && typeof value === "object"

/** Whether a JSON value is a `SealedValue`. */
export const isSealedValue = (value: unknown): value is SealedValue =>
  isRecord(value) &&
  value._tag === "Sealed" &&
  typeof value.keyId === "string" &&
  typeof value.category === "string" &&
  typeof value.digest === "string"

/**
 * `data` with every sealed value whose key id is in `keyIds` replaced by its
 * erased form, and how many were replaced. Untouched parts are shared, not
 * copied. Every adapter's `redact` uses this, so all agree.
 */
export const redactSealedValues = (
  data: unknown,
  keyIds: ReadonlySet<string>,
): { readonly data: unknown; readonly redacted: number } => {
  if (!isRecord(data)) return { data, redacted: 0 }
  if (isSealedValue(data))
    return keyIds.has(data.keyId)
      ? { data: { _tag: "Erased", category: data.category, digest: data.digest }, redacted: 1 }
      : { data, redacted: 0 }
  let redacted = 0
  const walk = (inner: unknown): unknown => {
    const result = redactSealedValues(inner, keyIds)
    redacted += result.redacted
    return result.data
  }
  const next = Array.isArray(data)
    ? data.map(walk)
    : Object.fromEntries(Object.entries(data).map(([key, inner]) => [key, walk(inner)]))
  return redacted === 0 ? { data, redacted: 0 } : { data: next, redacted }
}

/**
 * The key ids of every sealed value in `data`, each once, in the order met.
 * Adapters that index `readStream`'s `sealedUnder` store these with the event.
 */
export const sealedKeyIds = (data: unknown): ReadonlyArray<string> => {
  const found = new Set<string>()
  const walk = (value: unknown): void => {
    if (!isRecord(value)) return
    if (isSealedValue(value)) {
      found.add(value.keyId)
      return
    }
    for (const inner of Array.isArray(value) ? value : Object.values(value)) walk(inner)
  }
  walk(data)
  return [...found]
}
