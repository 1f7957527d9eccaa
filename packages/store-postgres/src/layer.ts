/**
 * The PostgreSQL store for Effect programs: a scoped resource, created and
 * migrated when the scope starts, closed when it ends (the pool stays the
 * caller's).
 *
 * @module
 */
import type { Lethe, LetheStore } from "@lethe/core"
import { acquireStore, type StoreOpenError, storeLayer } from "@lethe/core/spi"
import type { Effect, Layer, Scope } from "effect"
import { type PostgresStoreOptions, postgresStore } from "./index.js"

/**
 * The PostgreSQL store as an Effect resource. Opening fails in the error
 * channel, never as a defect: `StoreUnavailable` for a server that cannot be
 * reached (connection refused, timeout), `StoreError` for a schema of another
 * program or of a newer Lethe. Closing it never ends the pool.
 *
 * @example
 * ```ts
 * import pg from "pg"
 * import { keyringFromSecret, Lethe } from "@lethe/core"
 * import { PostgresStore } from "@lethe/store-postgres"
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
 * const LetheLive = Lethe.layerFromStore({ keyring: keyringFromSecret(secret) }).pipe(
 *   Layer.provide(PostgresStore.layer({ pool })),
 * )
 * ```
 */
export const PostgresStore: {
  /** Opens the store (see `postgresStore`); it is closed when the scope ends. */
  readonly make: (options: PostgresStoreOptions) => Effect.Effect<LetheStore, StoreOpenError, Scope.Scope>
  /** A layer providing the store as `Lethe.Store`, closed when the layer's scope ends. */
  readonly layer: (options: PostgresStoreOptions) => Layer.Layer<Lethe.Store, StoreOpenError>
} = {
  make: (options) => acquireStore(() => postgresStore(options)),
  layer: (options) => storeLayer(() => postgresStore(options)),
}
