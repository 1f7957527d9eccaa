/**
 * The head hash of every stream the audit has met, 32 bytes each in one
 * buffer. Kept as strings, each event's hash would outlive many young
 * collections, be promoted, and be swept later from the old generation: at a
 * million events, that is most of the audit's garbage and of its memory peak.
 *
 * A head that is not 64 lowercase hex digits (the empty head of a new stream,
 * or whatever a tampered log holds) is kept as it is, so every head reads
 * back exactly as it was stored.
 *
 * @module
 */

const digitCodes = Array.from("0123456789abcdef", (d) => d.charCodeAt(0))

/** Head hashes by slot: one slot per stream. */
export class ChainHeads {
  #bytes = Buffer.alloc(32 * 1024)
  #slots = 0
  /** Heads that are not hex digests, by slot. */
  readonly #other = new Map<number, string>()

  /** A new stream's slot, its head the empty hash. */
  add(): number {
    const slot = this.#slots++
    if (this.#slots * 32 > this.#bytes.length) {
      const bytes = Buffer.alloc(this.#bytes.length * 2)
      this.#bytes.copy(bytes)
      this.#bytes = bytes
    }
    this.#other.set(slot, "")
    return slot
  }

  /** Makes `hash` the slot's head. */
  set(slot: number, hash: string): void {
    // 64 hex digits write 32 bytes (hex decoding stops at the first other character); only
    // lowercase ones read back as they were.
    const digest =
      typeof hash === "string" &&
      hash.length === 64 &&
      this.#bytes.write(hash, slot * 32, 32, "hex") === 32 &&
      hash.toLowerCase() === hash
    if (!digest) this.#other.set(slot, hash)
    else if (this.#other.size > 0) this.#other.delete(slot)
  }

  /** The slot's head. */
  get(slot: number): string {
    return this.#otherOf(slot) ?? this.#bytes.toString("hex", slot * 32, slot * 32 + 32)
  }

  /** Whether `hash` is the slot's head (`===`), without building the head's text. */
  is(slot: number, hash: string): boolean {
    const other = this.#otherOf(slot)
    if (other !== undefined) return hash === other
    if (typeof hash !== "string" || hash.length !== 64) return false
    const bytes = this.#bytes
    for (let i = 0, at = slot * 32; i < 32; i++, at++) {
      const byte = bytes[at] as number
      if (
        hash.charCodeAt(2 * i) !== digitCodes[byte >> 4] ||
        hash.charCodeAt(2 * i + 1) !== digitCodes[byte & 15]
      )
        return false
    }
    return true
  }

  #otherOf(slot: number): string | undefined {
    return this.#other.size === 0 ? undefined : this.#other.get(slot)
  }
}
