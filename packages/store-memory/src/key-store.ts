/**
 * Data keys in memory: live keys and the tombstones of destroyed ones.
 *
 * Complexity: `put`, `get`, `destroy` O(1); `listForMember` O(k log k) for the
 * member's k keys.
 *
 * @module
 */

import { KeyDestroyed, KeyExists } from "@lethe/core"
import type { KeyEntry, KeyStore, StoredKey } from "@lethe/core/spi"
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
 * The key store with its write side: the event store stages the keys of one
 * transaction (an append, or every append of a batch) in a draft, which
 * checks each against the stored keys and those staged before, then commits
 * them together.
 */
export interface MemoryKeyStore {
  readonly keys: KeyStore
  /** A new, empty draft of keys to store. */
  draft(): KeyDraft
}

/** New keys staged to be stored together, or not at all. */
export interface KeyDraft {
  /**
   * Checks `keys`: none stored or staged before (`KeyExists`), none
   * destroyed (`KeyDestroyed`), no id twice (`KeyExists`). A throw stages
   * none of them.
   */
  stage(keys: ReadonlyArray<StoredKey>): void
  /** Stores every staged key; it cannot fail. */
  commit(): void
}

/**
 * A key store held in memory, checking `lifecycle` on every call. A tombstone
 * is never removed, so a destroyed id can never be `put` again.
 *
 * @example
 * ```ts
 * const { keys } = memoryKeyStore(new Lifecycle())
 * await keys.put(key)
 * await keys.destroy(key.keyId, Date.now())
 * await keys.get(key.keyId) // { _tag: "Destroyed", tombstone: { ... } }
 * ```
 */
export const memoryKeyStore = (lifecycle: Lifecycle): MemoryKeyStore => {
  const entries = new Map<string, KeyEntry>()
  /** Key ids per member, live and destroyed. */
  const byMember = new Map<string, Set<string>>()

  const draft = (): KeyDraft => {
    const staged = new Map<string, StoredKey>()
    return {
      stage: (keys) => {
        const fresh = new Set<string>()
        for (const key of keys) {
          const existing = entries.get(key.keyId)
          if (existing?._tag === "Live" || staged.has(key.keyId) || fresh.has(key.keyId))
            throw new KeyExists({ keyId: key.keyId })
          if (existing?._tag === "Destroyed") throw new KeyDestroyed({ keyId: key.keyId })
          fresh.add(key.keyId)
        }
        for (const key of keys) staged.set(key.keyId, ownKey(key))
      },
      commit: () => {
        for (const key of staged.values()) {
          entries.set(key.keyId, Object.freeze({ _tag: "Live", key }))
          const ids = byMember.get(key.memberId)
          if (ids === undefined) byMember.set(key.memberId, new Set([key.keyId]))
          else ids.add(key.keyId)
        }
      },
    }
  }

  const keys: KeyStore = {
    put: async (key) => {
      lifecycle.ensureOpen("keys.put")
      const put = draft()
      put.stage([key])
      put.commit()
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
  return { keys, draft }
}
