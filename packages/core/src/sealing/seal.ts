/**
 * Sealing one personal value: AES-256-GCM under the data key of its (member,
 * category), with the event's stream, version and field path as additional
 * authenticated data, so a sealed value cannot be moved to another event or
 * field without failing to open.
 *
 * @module
 */
import { createCipheriv, createDecipheriv, createHash } from "node:crypto"
import type { PersonalCategory } from "../member/events.js"
import type { SealedValue } from "../spi/sealed-value.js"
import { randomBytesPooled } from "./random.js"

/** The id of a member's data key for a category. One key per (member, category), never reissued. */
export const dataKeyId = (memberId: string, category: PersonalCategory): string =>
  `dk:${memberId}:${category}`

/** What a sealed value is bound to. */
export interface SealPlace {
  readonly streamId: string
  readonly version: number
  /** Where in the event, e.g. "fields.email". */
  readonly path: string
}

const aad = (place: SealPlace) => Buffer.from(`${place.streamId}\n${place.version}\n${place.path}`)

/** Hex SHA-256 of the ciphertext: what the hash chain commits to. */
export const digestOf = (ciphertext: string): string =>
  createHash("sha256").update(Buffer.from(ciphertext, "base64")).digest("hex")

/** Encrypts `plaintext` under `key` (32 bytes) for `place`. */
export const seal = (
  key: Uint8Array,
  keyId: string,
  category: PersonalCategory,
  plaintext: string,
  place: SealPlace,
): SealedValue => {
  const iv = randomBytesPooled(12)
  const cipher = createCipheriv("aes-256-gcm", key, iv).setAAD(aad(place))
  const bytes = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()])
  return {
    _tag: "Sealed",
    keyId,
    category,
    iv: iv.toString("base64"),
    ciphertext: bytes.toString("base64"),
    // digestOf(ciphertext), without decoding the text just encoded.
    digest: createHash("sha256").update(bytes).digest("hex"),
  }
}

/**
 * Decrypts a sealed value. Throws if anything was changed: the ciphertext, the
 * nonce, the digest, or the place it is opened for.
 */
export const unseal = (key: Uint8Array, sealed: SealedValue, place: SealPlace): string => {
  if (digestOf(sealed.ciphertext) !== sealed.digest) throw new Error("digest does not match the ciphertext")
  const bytes = Buffer.from(sealed.ciphertext, "base64")
  if (bytes.length < 16) throw new Error("ciphertext too short")
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(sealed.iv, "base64")).setAAD(aad(place))
  decipher.setAuthTag(bytes.subarray(bytes.length - 16))
  return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]).toString(
    "utf8",
  )
}
