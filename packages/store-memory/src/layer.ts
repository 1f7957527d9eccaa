/**
 * The memory store for Effect programs: a fresh store per scope, closed
 * when the scope ends.
 *
 * @module
 */
import { Lethe, type LetheStore } from "@lethe/core"
import { Effect, Layer, type Scope } from "effect"
import { memoryStore } from "./index.js"

/**
 * The memory store as an Effect resource, for tests and demos. Opening it
 * cannot fail (its error type is `never`).
 *
 * @example
 * ```ts
 * import { keyringFromSecret, Lethe } from "@lethe/core"
 * import { MemoryStore } from "@lethe/store-memory"
 *
 * const LetheTest = Lethe.layerFromStore({ keyring: keyringFromSecret(secret) }).pipe(
 *   Layer.provide(MemoryStore.layer()),
 * )
 * ```
 */
export const MemoryStore: {
  /** A fresh, empty store (see `memoryStore`); it is closed when the scope ends. */
  readonly make: () => Effect.Effect<LetheStore, never, Scope.Scope>
  /** A layer providing a fresh store as `Lethe.Store`, closed when the layer's scope ends. */
  readonly layer: () => Layer.Layer<Lethe.Store>
} = {
  make: () => Effect.acquireRelease(Effect.sync(memoryStore), (store) => Effect.promise(() => store.close())),
  layer: () => Layer.scoped(Lethe.Store, MemoryStore.make()),
}
