/**
 * `@lethe/store-memory`: the in-memory storage adapter, the reference every
 * other adapter is checked against (docs/design.md §4). Nothing survives the process;
 * use it for tests, demos and as the model of the conformance suite.
 *
 * @module
 */
import type { LetheStore } from "@lethe/core"
import { memoryDirectory } from "./directory.js"
import { memoryEventStore } from "./event-store.js"
import { memoryKeyStore } from "./key-store.js"
import { Lifecycle } from "./lifecycle.js"
import { memoryProjectionStore } from "./projection-store.js"
import { memorySnapshotStore } from "./snapshot-store.js"

/**
 * A fresh, empty store held in memory, with member snapshots and projections
 * (each projection's state a `Map<string, unknown>`, see `memoryProjectionStore`). Appends are
 * atomic (events and directory update together) and serialized; everything
 * stored is a copy, so callers cannot change the store through objects they
 * passed or got back.
 * After `close()`, every call rejects with `StoreError` ("store is closed").
 *
 * @example
 * ```ts
 * import { createLethe, keyringFromSecret } from "@lethe/core"
 * import { memoryStore } from "@lethe/store-memory"
 *
 * const lethe = await createLethe({ store: memoryStore(), keyring: keyringFromSecret(secret) })
 * ```
 */
export const memoryStore = (): LetheStore => {
  const lifecycle = new Lifecycle()
  const directory = memoryDirectory(lifecycle)
  const keys = memoryKeyStore(lifecycle)
  const eventStore = memoryEventStore(lifecycle, directory, keys)
  // The projection store's own steps stay off the SPI's event store.
  const { appendWith: _appendWith, head: _head, ...events } = eventStore
  return {
    name: "memory",
    events,
    keys: keys.keys,
    directory: directory.directory,
    snapshots: memorySnapshotStore(lifecycle),
    projections: memoryProjectionStore(lifecycle, eventStore),
    close: async () => lifecycle.close(),
  }
}

export { MemoryStore } from "./layer.js"
