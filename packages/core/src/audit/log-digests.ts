/**
 * The log digests of the last events the audit read, for checking the
 * checkpoints it meets. A checkpoint covers the log up to a position a little
 * before its own (events other writers appended while it was signed), so the
 * audit keeps the digests of the last `capacity` events, in a fixed buffer:
 * memory does not grow with the log.
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

/** The digests of the last `capacity` events read, by position. */
export class LogDigests {
  readonly #capacity: number
  readonly #positions: Float64Array
  readonly #ordinals: Float64Array
  readonly #digests: Array<string>
  #count = 0

  constructor(capacity = 1 << 16) {
    this.#capacity = capacity
    this.#positions = new Float64Array(capacity)
    this.#ordinals = new Float64Array(capacity)
    this.#digests = new Array<string>(capacity).fill("")
  }

  /** Keeps the digest after the `ordinal`-th event read, at `position`. */
  push(position: number, ordinal: number, digest: string): void {
    const slot = this.#count % this.#capacity
    this.#positions[slot] = typeof position === "number" ? position : Number.NaN
    this.#ordinals[slot] = ordinal
    this.#digests[slot] = digest
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
          digest: this.#digests[slot] as string,
          ordinal: this.#ordinals[slot] as number,
        }
      if (stored < position) return { _tag: "Missing" }
    }
    return this.#count > this.#capacity ? { _tag: "TooOld" } : { _tag: "Missing" }
  }
}
