/**
 * A store as an Effect resource: opened (and migrated) when a scope starts,
 * closed when it ends, its open failures typed. Each adapter's `make` and
 * `layer` (`SqliteStore`, `PostgresStore`, `MemoryStore`) are these over its
 * own constructor.
 *
 * @module
 */
import { Context, Effect, Layer, type Scope } from "effect"
import { StoreError, type StoreUnavailable } from "../errors.js"
import type { LetheStore } from "./store.js"
import { storeFailure } from "./store-call.js"

/**
 * The store as an Effect service: what a store's layer provides
 * (`SqliteStore.layer(...)`) and `Lethe.layerFromStore` consumes. Also
 * reachable as `Lethe.Store`.
 */
export class LetheStoreTag extends Context.Tag("@lethe/core/LetheStore")<LetheStoreTag, LetheStore>() {}

/** What opening a store can fail with: the database cannot be reached now, or refuses (§4.5). */
export type StoreOpenError = StoreError | StoreUnavailable

/** What an adapter's constructor threw or rejected with, as `StoreError` or `StoreUnavailable`. */
const openFailure = (error: unknown): StoreOpenError => {
  const failure = storeFailure("open", error)
  return failure._tag === "StoreError" || failure._tag === "StoreUnavailable"
    ? failure
    : new StoreError({ operation: "open", detail: failure.message })
}

/**
 * Opens a store with `open` (an adapter's constructor, synchronous or not)
 * and closes it when the scope ends. What `open` throws or rejects with is
 * in the error channel, never a defect.
 *
 * @example
 * ```ts
 * const make = (options: MyOptions) => acquireStore(() => myStore(options))
 * ```
 */
export const acquireStore = (
  open: () => LetheStore | Promise<LetheStore>,
): Effect.Effect<LetheStore, StoreOpenError, Scope.Scope> =>
  Effect.acquireRelease(Effect.tryPromise({ try: async () => open(), catch: openFailure }), (store) =>
    Effect.tryPromise(() => store.close()).pipe(Effect.ignore),
  )

/**
 * A layer providing the store `open` opens (`LetheStoreTag`), closed when the
 * layer's scope ends.
 */
export const storeLayer = (
  open: () => LetheStore | Promise<LetheStore>,
): Layer.Layer<LetheStoreTag, StoreOpenError> => Layer.scoped(LetheStoreTag, acquireStore(open))
