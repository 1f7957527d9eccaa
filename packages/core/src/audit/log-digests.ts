/**
 * The log digests of the last events the audit read, for checking the
 * checkpoints it meets. A checkpoint covers the log up to a position a little
 * before its own (events other writers appended while it was signed), so the
 * audit keeps the digests of the last `capacity` events, in a fixed buffer:
 * memory does not grow with the log. Each digest is kept as its 32 bytes, not
 * as its text: a string kept for 65,536 events would outlive the young
 * generation and be promoted, then swept from the old one, a million times.
 *
 * @module
 */

/** Where a position stands among the digests kept. */
export type DigestAt =
  | { readonly _tag: "Found"; readonly digest: string; readonly ordinal: number }
  /** No event of the log has that position, though later ones are kept: it was deleted or renumbered. */
  | { readonly _tag: "Missing" }
  /** Older than every digest kept. */
  | { readonly _tag: "TooOld" }

/** The value of each lowercase hex digit's code, -1 for any other code below 128. */
const hexValues = Int8Array.from({ length: 128 }, (_, code) =>
  code >= 48 && code <= 57 ? code - 48 : code >= 97 && code <= 102 ? code - 87 : -1,
)

/**
 * Writes 64 lowercase hex digits as 32 bytes at `offset`; false, leaving the
 * bytes undefined, for any other text. A loop, not `Buffer.write`: a call into
 * the runtime per event costs more than decoding 64 digits.
 */
const writeHex = (bytes: Uint8Array, offset: number, text: string): boolean => {
  if (text.length !== 64) return false
  for (let i = 0; i < 32; i++) {
    const high = text.charCodeAt(2 * i)
    const low = text.charCodeAt(2 * i + 1)
    const value =
      high < 128 && low < 128 ? ((hexValues[high] as number) << 4) | (hexValues[low] as number) : -1
    if (value < 0) return false
    bytes[offset + i] = value
  }
  return true
}

/** The digests of the last `capacity` events read, by position. */
export class LogDigests {
  readonly #capacity: number
  readonly #positions: Float64Array
  readonly #ordinals: Float64Array
  /** 32 bytes a slot: the digest of a slot whose text is 64 lowercase hex digits. */
  readonly #bytes: Buffer
  /** Digests that are not 64 lowercase hex digits, by slot (none from `logDigestStep`). */
  readonly #other = new Map<number, string>()
  #count = 0

  constructor(capacity = 1 << 16) {
    this.#capacity = capacity
    this.#positions = new Float64Array(capacity)
    this.#ordinals = new Float64Array(capacity)
    this.#bytes = Buffer.alloc(32 * capacity)
  }

  /** Keeps the digest after the `ordinal`-th event read, at `position`. */
  push(position: number, ordinal: number, digest: string): void {
    const slot = this.#count % this.#capacity
    this.#positions[slot] = typeof position === "number" ? position : Number.NaN
    this.#ordinals[slot] = ordinal
    if (!writeHex(this.#bytes, slot * 32, digest)) this.#other.set(slot, digest)
    else if (this.#other.size > 0) this.#other.delete(slot)
    this.#count += 1
  }

  /** The digest after the event at `position`, searched from the newest back. */
  at(position: number): DigestAt {
    const kept = Math.min(this.#count, this.#capacity)
    for (let i = 1; i <= kept; i++) {
      const slot = (this.#count - i) % this.#capacity
      const stored = this.#positions[slot] as number
      if (stored === position)
        return {
          _tag: "Found",
          digest: this.#other.get(slot) ?? this.#bytes.toString("hex", slot * 32, slot * 32 + 32),
          ordinal: this.#ordinals[slot] as number,
        }
      if (stored < position) return { _tag: "Missing" }
    }
    return this.#count > this.#capacity ? { _tag: "TooOld" } : { _tag: "Missing" }
  }
}
