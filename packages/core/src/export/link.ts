/**
 * Export download links (R13): a token that says which member's export, in
 * which format, on whose authority and until when, signed with HMAC-SHA-256
 * under the keyring's link-signing key. Nothing is stored: the token carries
 * its claims, and the signature makes them trustworthy.
 *
 * @module
 */
import { createHmac, timingSafeEqual } from "node:crypto"
import { Either, Schema } from "effect"
import { ExportLinkInvalid } from "../errors.js"
import type { Actor } from "../member/config.js"
import { ExportFormat } from "./member-export.js"

/** How long a link is valid unless the caller says otherwise: 24 hours (R13). */
export const defaultExportLinkValidity = 24 * 60 * 60 * 1000

const Claims = Schema.Struct({
  v: Schema.Literal(1),
  /** A random id, so two links to the same export differ. */
  linkId: Schema.String,
  memberId: Schema.String,
  format: ExportFormat,
  actor: Schema.Struct({ id: Schema.String, roles: Schema.Array(Schema.String) }),
  requestId: Schema.NullOr(Schema.String),
  /** Epoch milliseconds after which the link is refused. */
  expiresAt: Schema.Number,
  /** The person's locale and time zone for readable dates, when the link's creator gave them. */
  locale: Schema.optional(Schema.String),
  timeZone: Schema.optional(Schema.String),
})

/** What an export link grants. */
export type ExportLinkClaims = Omit<typeof Claims.Type, "v" | "actor"> & { readonly actor: Actor }

const decodeClaims = Schema.decodeUnknownEither(Schema.parseJson(Claims))
const segment = /^[A-Za-z0-9_-]+$/

const mac = (payload: string, key: Uint8Array): Buffer =>
  createHmac("sha256", key).update(payload, "ascii").digest()

/**
 * Signs the claims into a URL-safe token: `<payload>.<signature>`, both base64url.
 *
 * @example
 * ```ts
 * const token = signExportLink({ linkId, memberId, format: "html", actor, requestId: null, expiresAt }, key)
 * ```
 */
export const signExportLink = (claims: ExportLinkClaims, key: Uint8Array): string => {
  const payload = Buffer.from(JSON.stringify({ v: 1, ...claims }), "utf8").toString("base64url")
  return `${payload}.${mac(payload, key).toString("base64url")}`
}

/**
 * The claims of a token signed under `key`, or why it is refused: `malformed`
 * (not a token), `tampered` (the signature does not match: changed, or signed
 * under another key), `expired` (at or after `expiresAt`).
 */
export const openExportLink = (
  token: string,
  key: Uint8Array,
  now: number,
): Either.Either<ExportLinkClaims, ExportLinkInvalid> => {
  const parts = token.trim().split(".")
  const [payload, signature] = parts
  if (
    parts.length !== 2 ||
    payload === undefined ||
    signature === undefined ||
    !segment.test(payload) ||
    !segment.test(signature)
  )
    return Either.left(new ExportLinkInvalid({ reason: "malformed" }))
  // Compared as text, not as decoded bytes: base64url's spare bits would let two spellings pass.
  const expected = Buffer.from(mac(payload, key).toString("base64url"), "ascii")
  const given = Buffer.from(signature, "ascii")
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return Either.left(new ExportLinkInvalid({ reason: "tampered" }))
  const claims = decodeClaims(Buffer.from(payload, "base64url").toString("utf8"))
  if (Either.isLeft(claims)) return Either.left(new ExportLinkInvalid({ reason: "malformed" }))
  const { v: _, ...granted } = claims.right
  if (now >= granted.expiresAt) return Either.left(new ExportLinkInvalid({ reason: "expired" }))
  return Either.right(granted)
}
