/**
 * Where per-(member, category) data keys live, wrapped by the application's
 * key-encryption key (docs/design.md §3).
 *
 * @module
 */

/** A data key as stored: never in clear. */
export interface StoredKey {
  readonly keyId: string
  readonly tenantId: string
  readonly memberId: string
  readonly category: string
  /** The data key encrypted under the key-encryption key `kekId` (base64). */
  readonly wrappedKey: string
  readonly kekId: string
  /** Epoch milliseconds. */
  readonly createdAt: number
}

/** What is left of a destroyed key: the fact and the time, never the key. */
export interface KeyTombstone {
  readonly keyId: string
  readonly tenantId: string
  readonly memberId: string
  readonly category: string
  readonly destroyedAt: number
}

/** A key as the store knows it: live, or destroyed. */
export type KeyEntry =
  | { readonly _tag: "Live"; readonly key: StoredKey }
  | { readonly _tag: "Destroyed"; readonly tombstone: KeyTombstone }

/**
 * Data keys. `put` under an id that exists rejects with `KeyExists`, under a
 * destroyed id with `KeyDestroyed` (no resurrection, in any process).
 */
export interface KeyStore {
  /**
   * Stores a new data key. Rejects with `KeyExists` for an id that is live, `KeyDestroyed` for one
   * destroyed.
   */
  put(key: StoredKey): Promise<void>
  /** The key under `keyId`, live or destroyed; undefined for an id never stored. */
  get(keyId: string): Promise<KeyEntry | undefined>
  /** Destroys the key material and leaves a tombstone. Destroying twice, or an unknown id, is a no-op. */
  destroy(keyId: string, at: number): Promise<void>
  /** Every key of a member, live and destroyed. */
  listForMember(memberId: string): Promise<ReadonlyArray<KeyEntry>>
}
