/**
 * The states an instance keeps between operations, most recently used first,
 * at most `capacity` of them (a `Map` keeps insertion order: a hit is moved
 * to the end, the oldest entry is the first). Internal to the service.
 *
 * @module
 */
export class MemberCache<A> {
  readonly #entries = new Map<string, A>()
  readonly #capacity: number

  constructor(capacity: number) {
    this.#capacity = Math.max(0, Math.floor(capacity))
  }

  get(memberId: string): A | undefined {
    const entry = this.#entries.get(memberId)
    if (entry !== undefined) {
      this.#entries.delete(memberId)
      this.#entries.set(memberId, entry)
    }
    return entry
  }

  set(memberId: string, entry: A): void {
    if (this.#capacity === 0) return
    this.#entries.delete(memberId)
    this.#entries.set(memberId, entry)
    if (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next()
      if (oldest.done !== true) this.#entries.delete(oldest.value)
    }
  }

  get size(): number {
    return this.#entries.size
  }
}
