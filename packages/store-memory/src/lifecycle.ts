/**
 * Whether the store is still open, shared by its parts so `close()` stops
 * them all at once.
 *
 * @module
 */
import { StoreError } from "@lethe/core"

/**
 * The open/closed state of one memory store.
 *
 * @example
 * ```ts
 * const lifecycle = new Lifecycle()
 * lifecycle.close()
 * lifecycle.ensureOpen("events.append") // throws StoreError: store is closed
 * ```
 */
export class Lifecycle {
  #closed = false

  /** Marks the store closed; later calls to `ensureOpen` throw. Closing twice is a no-op. */
  close(): void {
    this.#closed = true
  }

  /** Throws `StoreError` naming `operation` once the store is closed. */
  ensureOpen(operation: string): void {
    if (this.#closed) throw new StoreError({ operation, detail: "store is closed" })
  }
}
