/**
 * The application's key material. Lethe never invents secrets: the
 * application hands it a `Keyring`, derived from one secret or backed by a KMS.
 *
 * @module
 */
import { hkdfSync } from "node:crypto"

/**
 * Where Lethe gets its keys. Implement it to plug a KMS; `keyringFromSecret`
 * derives everything from one secret.
 */
export interface Keyring {
  /** The HMAC key of a tenant's e-mail blind index (32 bytes). */
  blindIndexKey(tenantId: string): Promise<Uint8Array>
}

/** Shortest secret `keyringFromSecret` accepts, in bytes. */
export const minimumSecretBytes = 32

/**
 * A keyring whose keys are derived from one secret with HKDF-SHA-256, a
 * separate key per purpose and tenant. Keep the secret out of the database
 * and its backups.
 *
 * @example
 * ```ts
 * const keyring = keyringFromSecret(process.env.LETHE_SECRET ?? "")
 * ```
 */
export const keyringFromSecret = (secret: string | Uint8Array): Keyring => {
  const material = typeof secret === "string" ? new TextEncoder().encode(secret) : secret
  if (material.byteLength < minimumSecretBytes)
    throw new RangeError(`keyringFromSecret needs at least ${minimumSecretBytes} bytes of secret`)
  const derive = (info: string) => new Uint8Array(hkdfSync("sha256", material, "lethe/v1", info, 32))
  const cache = new Map<string, Uint8Array>()
  return {
    blindIndexKey: async (tenantId) => {
      const info = `blind-index/${tenantId}`
      const cached = cache.get(info)
      if (cached !== undefined) return cached
      const key = derive(info)
      cache.set(info, key)
      return key
    },
  }
}
