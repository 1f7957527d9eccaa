/**
 * Data keys in memory: live keys and the tombstones of destroyed ones.
 *
 * Complexity: `put`, `get`, `destroy` O(1); `listForMember` O(k log k) for the
 * member's k keys.
 *
 * @module
 */
import type { KeyEntry, KeyStore, StoredKey } from "@lethe/core"
import { KeyDestroyed, KeyExists } from "@lethe/core"
import type { Lifecycle } from "./lifecycle.js"

/** The columns of a stored key, copied and frozen (every field is a primitive). */
const ownKey = (key: StoredKey): StoredKey =>
  Object.freeze({
    keyId: key.keyId,
    tenantId: key.tenantId,
    memberId: key.memberId,
    category: key.category,
    wrappedKey: key.wrappedKey,
    kekId: key.kekId,
    createdAt: key.createdAt,
  })

/**
 * A key store held in memory, checking `lifecycle` on every call. A tombstone
 * is never removed, so a destroyed id can never be `put` again.
 *
 * @example
 * ```ts
 * const keys = memoryKeyStore(new Lifecycle())
 * await keys.put(key)
 * await keys.destroy(key.keyId, Date.now())
 * await keys.get(key.keyId) // { _tag: "Destroyed", tombstone: { ... } }
 * ```
 */
export const memoryKeyStore = (lifecycle: Lifecycle): KeyStore => {
  const entries = new Map<string, KeyEntry>()
  /** Key ids per member, live and destroyed. */
  const byMember = new Map<string, Set<string>>()

  return {
    put: async (key) => {
      lifecycle.ensureOpen("keys.put")
      const existing = entries.get(key.keyId)
      if (existing?._tag === "Live") throw new KeyExists({ keyId: key.keyId })
      if (existing?._tag === "Destroyed") throw new KeyDestroyed({ keyId: key.keyId })
      entries.set(key.keyId, Object.freeze({ _tag: "Live", key: ownKey(key) }))
      const ids = byMember.get(key.memberId)
      if (ids === undefined) byMember.set(key.memberId, new Set([key.keyId]))
      else ids.add(key.keyId)
    },

    get: async (keyId) => {
      lifecycle.ensureOpen("keys.get")
      return entries.get(keyId)
    },

    destroy: async (keyId, at) => {
      lifecycle.ensureOpen("keys.destroy")
      const entry = entries.get(keyId)
      // Unknown ids and tombstones are left as they are: destroying is idempotent.
      if (entry?._tag !== "Live") return
      const { tenantId, memberId, category } = entry.key
      entries.set(
        keyId,
        Object.freeze({
          _tag: "Destroyed",
          tombstone: Object.freeze({ keyId, tenantId, memberId, category, destroyedAt: at }),
        }),
      )
    },

    listForMember: async (memberId) => {
      lifecycle.ensureOpen("keys.listForMember")
      return [...(byMember.get(memberId) ?? [])].sort().flatMap((keyId) => {
        const entry = entries.get(keyId)
        return entry === undefined ? [] : [entry]
      })
    },
  }
}
