/**
 * Proof of erasure (R10): a receipt saying what was erased, or will be, and
 * when, signed with the keyring's Ed25519 key, that anyone holding the
 * public key can verify later (docs/design.md §7.4).
 *
 * @module
 */
import { createPublicKey, verify } from "node:crypto"
import { keyFingerprint } from "./checkpoint.js"
import { canonicalJson } from "./hash-chain.js"

/** One destroyed data key. */
export interface ErasedKey {
  readonly keyId: string
  readonly category: string
  /** ISO 8601. */
  readonly destroyedAt: string
}

/**
 * A receipt of format 1, as issued before format 2: what a purge or an
 * anonymization did, signed over the canonical JSON of every other field.
 * Still verified by `verifyReceipt`; no longer issued.
 */
export interface ErasureReceiptV1 {
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

/** The format of the receipts Lethe issues. */
export const receiptFormat = "lethe-erasure-receipt/2"

/** What every receipt of format 2 holds. */
export interface ErasureReceiptFields {
  readonly format: typeof receiptFormat
  /** The pseudonymous member id: no personal data is in a receipt. */
  readonly memberId: string
  readonly tenantId: string
  /** Categories kept by law after the erasure, e.g. invoices (R24); none after a purge. */
  readonly keptCategories: ReadonlyArray<string>
  /** The member's stream head the receipt attests: ties it to the log. */
  readonly streamHead: { readonly version: number; readonly hash: string }
  /** Hex SHA-256 of the signing key's DER (SPKI) form, as on checkpoints: compare it with the controller's published key. */
  readonly keyFingerprint: string
  /** Base64 Ed25519 signature over `receiptPayload`. */
  readonly signature: string
}

/**
 * "Erasure scheduled" (R10, R5): the member is forgotten, restorable until
 * `restorableUntil`, and their data is destroyed by `destroyBy` at the
 * latest. `forget` returns it; `erasureReceipt` gives it while the member
 * is forgotten.
 */
export interface ScheduledErasureReceipt extends ErasureReceiptFields {
  readonly status: "scheduled"
  /** When the member was forgotten (ISO 8601). */
  readonly forgottenAt: string
  /** Who forgot them (the actor recorded on the event). */
  readonly forgottenBy: string
  /** The end of the restore window (ISO 8601): until then `restore` brings everything back (R5). */
  readonly restorableUntil: string
  /**
   * The latest date the data is destroyed (ISO 8601): `restorableUntil` plus
   * `LetheOptions.purgeGraceDays`, the promise that `runRetention` purges
   * within that many days of the window's end (R29; the audit's
   * `purge-deadline` holds it).
   */
  readonly destroyBy: string
}

/** The final receipt: what a purge or an anonymization destroyed (R10). */
export interface FinalErasureReceipt extends ErasureReceiptFields {
  readonly status: "purged" | "anonymized"
  /** When the member was purged or anonymized (ISO 8601). */
  readonly erasedAt: string
  /** Who did it (the actor recorded on the event). */
  readonly erasedBy: string
  /** Keys destroyed, with their category. */
  readonly keys: ReadonlyArray<ErasedKey>
  /**
   * Until when `keptCategories` are kept (ISO 8601): an anonymization plus
   * `config.invoiceRetentionYears` (R24); null when nothing is kept.
   */
  readonly keptUntil: string | null
  /** Sealed values replaced in the stored log by their erased form. */
  readonly sealedValuesRemoved: number
}

/**
 * A signed erasure receipt: scheduled or final (format 2), or one issued
 * in format 1 before. The fields are the member's pseudonymous id, dates,
 * actors, categories and key ids: never a personal value.
 */
export type ErasureReceipt = ErasureReceiptV1 | ScheduledErasureReceipt | FinalErasureReceipt

/**
 * What a receipt's signature covers, before the canonical JSON of its
 * fields, per kind: a signature of one kind never verifies as another, nor
 * as a checkpoint (`lethe/checkpoint/v1`). Format 1 signed the JSON alone,
 * which starts with `{`.
 */
export const receiptDomains = {
  scheduled: "lethe/erasure-scheduled/v2",
  final: "lethe/erasure-receipt/v2",
} as const

/** The bytes a receipt's signature covers. */
export const receiptPayload = (receipt: Omit<ErasureReceipt, "signature">): Uint8Array => {
  const { signature: _, ...fields } = receipt as ErasureReceipt
  const json = canonicalJson(fields)
  if (receipt.format !== receiptFormat) return new TextEncoder().encode(json)
  const domain = receipt.status === "scheduled" ? receiptDomains.scheduled : receiptDomains.final
  return new TextEncoder().encode(`${domain}\n${json}`)
}

/**
 * Whether a receipt is intact and signed by the holder of `publicKey` (PEM):
 * any changed field fails, and so does another key (format 2 names its key's
 * fingerprint).
 *
 * @example
 * ```ts
 * const receipt = await lethe.erasureReceipt(memberId)
 * verifyReceipt(receipt, await keyring.receiptPublicKey()) // true
 * ```
 */
export const verifyReceipt = (receipt: ErasureReceipt, publicKey: string): boolean => {
  try {
    if (receipt.format === receiptFormat && receipt.keyFingerprint !== keyFingerprint(publicKey)) return false
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

/** The reserved stream where the receipts of `memberId` are recorded (docs/design.md §7.4). */
export const receiptStream = (memberId: string): string => `${receiptStreamPrefix}${memberId}`

/** What every receipt stream's id starts with. */
export const receiptStreamPrefix = "lethe:receipts:"

/** The stored event type of a recorded receipt. */
export const receiptEventType = "ErasureReceiptIssued"

const isText = (value: unknown): value is string => typeof value === "string"
const isTime = (value: unknown): value is string => isText(value) && !Number.isNaN(Date.parse(value))
const isTexts = (value: unknown): boolean => Array.isArray(value) && value.every(isText)

/** The receipt of format 2 a stored event's data holds, or why it is not one. */
export const parseReceipt = (data: unknown): ScheduledErasureReceipt | FinalErasureReceipt | string => {
  if (data === null || typeof data !== "object" || Array.isArray(data)) return "data is not an object"
  const r = data as Record<string, unknown>
  if (r.format !== receiptFormat) return `format is not ${receiptFormat}`
  if (!isText(r.memberId) || !isText(r.tenantId)) return "memberId or tenantId is not text"
  if (!isTexts(r.keptCategories)) return "keptCategories is not a list of text"
  const head = r.streamHead as Record<string, unknown> | null
  if (head === null || typeof head !== "object" || typeof head.version !== "number" || !isText(head.hash))
    return "streamHead is not a version and a hash"
  if (!isText(r.keyFingerprint) || !isText(r.signature)) return "keyFingerprint or signature is not text"
  if (r.status === "scheduled") {
    if (!isTime(r.forgottenAt) || !isTime(r.restorableUntil) || !isTime(r.destroyBy))
      return "forgottenAt, restorableUntil or destroyBy is not a time"
    if (!isText(r.forgottenBy)) return "forgottenBy is not text"
    return r as unknown as ScheduledErasureReceipt
  }
  if (r.status !== "purged" && r.status !== "anonymized")
    return "status is not scheduled, purged or anonymized"
  if (!isTime(r.erasedAt) || !isText(r.erasedBy)) return "erasedAt or erasedBy is not a time and an actor"
  if (!Array.isArray(r.keys) || typeof r.sealedValuesRemoved !== "number")
    return "keys or sealedValuesRemoved is missing"
  if (r.keptUntil !== null && !isTime(r.keptUntil)) return "keptUntil is not a time"
  return r as unknown as FinalErasureReceipt
}
