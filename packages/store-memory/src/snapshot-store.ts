/**
 * Member snapshots in memory: per member, the snapshot of the highest version
 * written, or after `remove` the version floor below which none is kept.
 *
 * Complexity: `read` and `remove` O(1); `write` O(size of the state), the
 * check and the copy.
 *
 * @module
 */
import type { SnapshotStore, StoredSnapshot } from "@lethe/core/spi"
import { checkSnapshotFloor, snapshotStateJson } from "@lethe/core/spi"
import type { Lifecycle } from "./lifecycle.js"
import { frozenFromJson } from "./snapshot.js"

/**
 * A snapshot store held in memory, checking `lifecycle` on every call.
 *
 * A snapshot is checked (`snapshotStateJson`) before anything changes, so a
 * refused one leaves the member's stored snapshot as it was. The stored state
 * is parsed from the checked JSON text and deep-frozen: it reads back as the
 * SQL adapters' does, what the caller passed can change afterwards without
 * touching it, and what a read returns cannot be changed.
 *
 * @example
 * ```ts
 * const snapshots = memorySnapshotStore(new Lifecycle())
 * await snapshots.write({ memberId: "m1", tenantId: "t1", version: 3, head: "h3", state, takenAt: 0 }) // true
 * await snapshots.write({ memberId: "m1", tenantId: "t1", version: 2, head: "h2", state, takenAt: 0 }) // false
 * ```
 */
export const memorySnapshotStore = (lifecycle: Lifecycle): SnapshotStore => {
  const snapshots = new Map<string, StoredSnapshot>()
  /** Per removed member, the version up to which no snapshot is kept any more. */
  const floors = new Map<string, number>()

  return {
    read: async (memberId) => {
      lifecycle.ensureOpen("snapshots.read")
      return snapshots.get(memberId)
    },

    // No `await` in here: the version comparison and the write happen in one synchronous step,
    // so of concurrent writers of one member the one of the latest version stays.
    write: async (snapshot) => {
      const operation = "snapshots.write"
      lifecycle.ensureOpen(operation)
      // Each field read once, so the fields checked are the fields stored.
      const { memberId, tenantId, version, head, state, takenAt } = snapshot
      const fields = { memberId, tenantId, version, head, state, takenAt }
      const owned = frozenFromJson(snapshotStateJson(operation, fields))
      const stored = snapshots.get(memberId)
      if (stored !== undefined && stored.version >= version) return false
      if ((floors.get(memberId) ?? 0) >= version) return false
      snapshots.set(memberId, Object.freeze({ ...fields, state: owned }))
      return true
    },

    remove: async (memberId, upTo) => {
      const operation = "snapshots.remove"
      lifecycle.ensureOpen(operation)
      const floor = checkSnapshotFloor(operation, upTo)
      floors.set(memberId, Math.max(floors.get(memberId) ?? 0, floor))
      return snapshots.delete(memberId)
    },
  }
}
