/**
 * The application's key material. Lethe never invents long-lived secrets: the
 * application hands it a `Keyring`, derived from one secret or backed by a KMS.
 *
 * @module
 */
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  hkdfSync,
  sign,
} from "node:crypto"
import { randomBytesPooled } from "./random.js"

/** A data key wrapped (encrypted) under a key-encryption key: what `Keyring.wrapKey` returns. */
export interface WrappedKey {
  /** Which key-encryption key wrapped it, so keys can be rotated. */
  readonly kekId: string
  /** Base64. */
  readonly wrapped: string
}

/**
 * Where Lethe gets its keys. Implement it to plug a KMS (wrap/unwrap as KMS
 * calls, signing in an HSM); `keyringFromSecret` derives everything from one
 * secret.
 */
export interface Keyring {
  /** The HMAC key of a tenant's e-mail blind index (32 bytes). */
  blindIndexKey(tenantId: string): Promise<Uint8Array>
  /** Encrypts a data key; `keyId` is bound as additional authenticated data. */
  wrapKey(dataKey: Uint8Array, keyId: string): Promise<WrappedKey>
  /** Decrypts a data key wrapped by `wrapKey` for the same `keyId`. */
  unwrapKey(wrapped: WrappedKey, keyId: string): Promise<Uint8Array>
  /** Signs an erasure receipt (Ed25519), returning the signature. */
  signReceipt(payload: Uint8Array): Promise<Uint8Array>
  /** The public key that verifies receipts (PEM, SPKI). */
  receiptPublicKey(): Promise<string>
  /**
   * The HMAC-SHA-256 key that signs export download links (32 bytes, R13).
   * Links signed under one key are refused under another, so replacing it
   * revokes every open link.
   */
  linkSigningKey(): Promise<Uint8Array>
  /**
   * The HMAC-SHA-256 key that authenticates member snapshots (32 bytes):
   * a snapshot whose MAC does not verify is not used, so whoever can write
   * to the database but does not hold the keyring cannot make Lethe decide on
   * a state the log does not hold. Optional: without it, Lethe takes and
   * reads no snapshots.
   */
  snapshotKey?(): Promise<Uint8Array>
}

/** Shortest secret `keyringFromSecret` accepts, in bytes. */
export const minimumSecretBytes = 32

// PKCS#8 header of an Ed25519 private key; the 32-byte seed follows it (RFC 8410).
const ed25519Pkcs8Prefix = Buffer.from("302e020100300506032b657004220420", "hex")

const aesGcm = "aes-256-gcm"

/**
 * A keyring whose keys are derived from one secret with HKDF-SHA-256, a
 * separate key per purpose and tenant: the key-encryption key, the blind-index
 * keys, the Ed25519 receipt-signing key and the export-link signing key. Keep
 * the secret out of the database and its backups. `kekId` names the secret's
 * generation, so a new secret can be rolled out while keys wrapped under the
 * old one are rewrapped.
 *
 * @example
 * ```ts
 * const keyring = keyringFromSecret(process.env.LETHE_SECRET ?? "")
 * ```
 */
export const keyringFromSecret = (secret: string | Uint8Array, kekId = "secret-v1"): Keyring => {
  const material = typeof secret === "string" ? new TextEncoder().encode(secret) : secret
  if (material.byteLength < minimumSecretBytes)
    throw new RangeError(`keyringFromSecret needs at least ${minimumSecretBytes} bytes of secret`)
  const derive = (info: string) => Buffer.from(hkdfSync("sha256", material, "lethe/v1", info, 32))
  const kek = derive(`kek/${kekId}`)
  const signingKey = createPrivateKey({
    key: Buffer.concat([ed25519Pkcs8Prefix, derive("receipt-signing")]),
    format: "der",
    type: "pkcs8",
  })
  const publicKey = createPublicKey(signingKey).export({ type: "spki", format: "pem" }).toString()
  const blindKeys = new Map<string, Uint8Array>()
  const linkKey = new Uint8Array(derive("export-link-signing"))
  const snapshotKey = new Uint8Array(derive("snapshot-authentication"))
  return {
    blindIndexKey: async (tenantId) => {
      let key = blindKeys.get(tenantId)
      if (key === undefined) {
        key = new Uint8Array(derive(`blind-index/${tenantId}`))
        blindKeys.set(tenantId, key)
      }
      return key
    },
    wrapKey: async (dataKey, keyId) => {
      const iv = randomBytesPooled(12)
      const cipher = createCipheriv(aesGcm, kek, iv).setAAD(Buffer.from(keyId))
      const body = Buffer.concat([cipher.update(dataKey), cipher.final(), cipher.getAuthTag()])
      return { kekId, wrapped: Buffer.concat([iv, body]).toString("base64") }
    },
    unwrapKey: async (wrapped, keyId) => {
      if (wrapped.kekId !== kekId)
        throw new Error(`key ${keyId} is wrapped under ${wrapped.kekId}, this keyring holds ${kekId}`)
      const bytes = Buffer.from(wrapped.wrapped, "base64")
      const decipher = createDecipheriv(aesGcm, kek, bytes.subarray(0, 12)).setAAD(Buffer.from(keyId))
      decipher.setAuthTag(bytes.subarray(bytes.length - 16))
      return new Uint8Array(
        Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]),
      )
    },
    signReceipt: async (payload) => new Uint8Array(sign(null, payload, signingKey)),
    receiptPublicKey: async () => publicKey,
    linkSigningKey: async () => new Uint8Array(linkKey),
    snapshotKey: async () => new Uint8Array(snapshotKey),
  }
}
