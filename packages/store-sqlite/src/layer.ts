/**
 * The SQLite store for Effect programs: a scoped resource, opened and
 * migrated when the scope starts, closed when it ends.
 *
 * @module
 */
import type { Lethe, LetheStore } from "@lethe/core"
import { acquireStore, type StoreOpenError, storeLayer } from "@lethe/core/spi"
import type { Effect, Layer, Scope } from "effect"
import type { SqliteStoreOptions } from "./connection.js"
import { sqliteStore } from "./index.js"

/**
 * The SQLite store as an Effect resource. Opening fails in the error
 * channel, never as a defect: `StoreUnavailable` for a file that cannot be
 * opened now (a missing directory, a lock held past 5 s), `StoreError` for a
 * file of another program or of a newer schema.
 *
 * @example
 * ```ts
 * import { keyringFromSecret, Lethe } from "@lethe/core"
 * import { SqliteStore } from "@lethe/store-sqlite"
 *
 * const LetheLive = Lethe.layerFromStore({ keyring: keyringFromSecret(secret) }).pipe(
 *   Layer.provide(SqliteStore.layer({ filename: "./lethe.db" })),
 * )
 * ```
 */
export const SqliteStore: {
  /** Opens the store in `filename` (see `sqliteStore`); it is closed when the scope ends. */
  readonly make: (options: SqliteStoreOptions) => Effect.Effect<LetheStore, StoreOpenError, Scope.Scope>
  /** A layer providing the store as `Lethe.Store`, closed when the layer's scope ends. */
  readonly layer: (options: SqliteStoreOptions) => Layer.Layer<Lethe.Store, StoreOpenError>
} = {
  make: (options) => acquireStore(() => sqliteStore(options)),
  layer: (options) => storeLayer(() => sqliteStore(options)),
}
