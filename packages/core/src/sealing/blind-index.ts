/**
 * E-mail look-up without storing the address in clear: a keyed hash (blind
 * index) under a tenant-scoped key (docs/design.md §3).
 *
 * @module
 */
import { createHmac } from "node:crypto"
import { normalizeEmail } from "../member/guards.js"

/** HMAC-SHA-256 of the normalized e-mail, hex. Equal for addresses that differ only in case or spaces. */
export const emailIndex = (key: Uint8Array, email: string): string =>
  createHmac("sha256", key).update(normalizeEmail(email)).digest("hex")
