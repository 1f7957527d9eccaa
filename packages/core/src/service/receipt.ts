/**
 * Proof of erasure (R10): a receipt saying what was erased and when, signed
 * with the keyring's Ed25519 key, that anyone holding the public key can
 * verify later.
 *
 * @module
 */
import { createPublicKey, verify } from "node:crypto"
import { canonicalJson } from "../audit/hash-chain.js"

/** One destroyed data key. */
export interface ErasedKey {
  readonly keyId: string
  readonly category: string
  /** ISO 8601. */
  readonly destroyedAt: string
}

/** What a member's erasure did, as signed by the controller. */
export interface ErasureReceipt {
  readonly format: "lethe-erasure-receipt/1"
  /** The pseudonymous member id: no personal data is in a receipt. */
  readonly memberId: string
  readonly tenantId: string
  readonly status: "purged" | "anonymized"
  /** When the member was purged or anonymized (ISO 8601). */
  readonly erasedAt: string
  /** Who did it (the actor recorded on the event). */
  readonly erasedBy: string
  /** Keys destroyed, with their category. */
  readonly keys: ReadonlyArray<ErasedKey>
  /** Categories kept by law for now, e.g. invoices (R24). */
  readonly keptCategories: ReadonlyArray<string>
  /** Sealed values replaced in the stored log by their erased form. */
  readonly sealedValuesRemoved: number
  /** The member's stream head when the receipt was issued: ties the receipt to the log. */
  readonly streamHead: { readonly version: number; readonly hash: string }
  readonly issuedAt: string
  /** Base64 Ed25519 signature over the canonical JSON of every other field. */
  readonly signature: string
}

/** The bytes a receipt's signature covers. */
export const receiptPayload = (receipt: Omit<ErasureReceipt, "signature">): Uint8Array => {
  const { signature: _, ...fields } = receipt as ErasureReceipt
  return new TextEncoder().encode(canonicalJson(fields))
}

/**
 * Whether a receipt is intact and signed by the holder of `publicKey` (PEM):
 * any changed field fails.
 *
 * @example
 * ```ts
 * const receipt = await lethe.erasureReceipt(memberId)
 * verifyReceipt(receipt, await keyring.receiptPublicKey()) // true
 * ```
 */
export const verifyReceipt = (receipt: ErasureReceipt, publicKey: string): boolean => {
  try {
    return verify(
      null,
      receiptPayload(receipt),
      createPublicKey(publicKey),
      Buffer.from(receipt.signature, "base64"),
    )
  } catch {
    return false
  }
}
