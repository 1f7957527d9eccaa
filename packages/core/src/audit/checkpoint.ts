/**
 * Signed checkpoints of the log (R41): the running log digest over every
 * stored event in global order, and the checkpoint the keyring signs over it.
 *
 * The per-stream hash chain (§7.1) shows a changed event, but whoever can
 * write to the database can recompute it with `hashEvent`, and a stream
 * deleted whole, or the last events of a stream, leave it nothing to break.
 * The log digest closes both: `L_p = SHA-256(L_(p-1) || [position, streamId,
 * version, hash])`, over every event of every stream, so any rewrite (chain
 * recomputed or not), deletion, insertion or renumbering before a checkpoint
 * changes the digest that checkpoint signed, and only the keyring can sign
 * another. It costs the audit one SHA-256 of some 150 bytes per event.
 *
 * @module
 */
import { createHash, createPublicKey, hash, verify } from "node:crypto"
import { canonicalJson, quote } from "./hash-chain.js"

/** The format named in every checkpoint. */
export const checkpointFormat = "lethe-checkpoint/1"

/**
 * What a checkpoint's signature covers is this text, a newline, then the
 * canonical JSON of its fields. An erasure receipt's signature covers
 * canonical JSON alone, which starts with `{`: no signature of one verifies
 * as the other, although the keyring signs both with its one Ed25519 key.
 */
export const checkpointDomain = "lethe/checkpoint/v1"

/** The log digest before the first event. */
export const emptyLogDigest = ""

/** The stored event type of a checkpoint, in the reserved stream `checkpointStream`. */
export const checkpointEventType = "CheckpointSigned"

/**
 * A signed checkpoint of the log's head: the digest of every event up to
 * `position`, signed with the keyring's Ed25519 key (the one that signs
 * erasure receipts). Stored as the data of a `CheckpointSigned` event of the
 * reserved stream `lethe:checkpoints`, so it is in the store, in
 * `readAll` and in `lethe export-log`.
 *
 * @example
 * ```ts
 * const checkpoint = await lethe.checkpoint()
 * if (checkpoint !== null) verifyCheckpoint(checkpoint, await keyring.receiptPublicKey()) // true
 * ```
 */
export interface Checkpoint {
  readonly format: typeof checkpointFormat
  /** The global position of the last event the digest covers. */
  readonly position: number
  /** The log digest (hex SHA-256) over every event up to and including `position`. */
  readonly logDigest: string
  /**
   * Why it was signed: after an erasure (forget, purge, anonymize, erasure of
   * categories), at the end of a retention run, every `checkpointEvery`
   * events, or on request (`checkpoint()`).
   */
  readonly reason: "erasure" | "retention" | "interval" | "requested"
  /** When it was signed (epoch milliseconds). */
  readonly at: number
  /** Hex SHA-256 of the signing key's DER (SPKI) form: compare it with the controller's published key. */
  readonly keyFingerprint: string
  /** The public key that verifies it (PEM, SPKI), as the signer recorded it. Not covered by the signature: `keyFingerprint` is. */
  readonly publicKey: string
  /** Base64 Ed25519 signature over `checkpointPayload`. */
  readonly signature: string
}

/** One step of the log digest: the digest after `event`, given the digest before it. */
export const logDigestStep = (
  previous: string,
  event: {
    readonly position: number
    readonly streamId: string
    readonly version: number
    readonly hash: string
  },
): string =>
  // JSON: no field can run into the next whatever a stored row holds; the previous digest is 0 or 64 characters.
  hash(
    "sha256",
    `${previous}[${json(event.position)},${json(event.streamId)},${json(event.version)},${json(event.hash)}]`,
    "hex",
  )

/**
 * `JSON.stringify` of one value, without its call for the strings and
 * integers every stored event has: the audit takes this step for each.
 */
const json = (value: unknown): string =>
  typeof value === "string"
    ? quote(value)
    : typeof value === "number" && Number.isSafeInteger(value)
      ? `${value}`
      : (JSON.stringify(value) ?? "null")

/** The bytes a checkpoint's signature covers: every field but the public key and the signature. */
export const checkpointPayload = (checkpoint: Omit<Checkpoint, "signature" | "publicKey">): Uint8Array =>
  new TextEncoder().encode(
    `${checkpointDomain}\n${canonicalJson({
      format: checkpoint.format,
      position: checkpoint.position,
      logDigest: checkpoint.logDigest,
      reason: checkpoint.reason,
      at: checkpoint.at,
      keyFingerprint: checkpoint.keyFingerprint,
    })}`,
  )

/**
 * The fingerprint of a public key (PEM): hex SHA-256 of its DER (SPKI)
 * form, whatever the PEM's line breaks. Throws for text that is not a key.
 */
export const keyFingerprint = (publicKey: string): string =>
  createHash("sha256")
    .update(createPublicKey(publicKey).export({ type: "spki", format: "der" }))
    .digest("hex")

/**
 * Whether `checkpoint` is signed by the holder of `publicKey` (PEM) and
 * intact: any changed field, or another key, fails.
 *
 * @example
 * ```ts
 * verifyCheckpoint(checkpoint, readFileSync("controller.pub.pem", "utf8"))
 * ```
 */
export const verifyCheckpoint = (checkpoint: Checkpoint, publicKey: string): boolean => {
  try {
    return (
      keyFingerprint(publicKey) === checkpoint.keyFingerprint &&
      verify(
        null,
        checkpointPayload(checkpoint),
        createPublicKey(publicKey),
        Buffer.from(checkpoint.signature, "base64"),
      )
    )
  } catch {
    return false
  }
}

const reasons: ReadonlySet<unknown> = new Set(["erasure", "retention", "interval", "requested"])
const isHex64 = (value: unknown): value is string => typeof value === "string" && /^[0-9a-f]{64}$/.test(value)

/** The checkpoint a stored event's data holds, or why it is not one. */
export const parseCheckpoint = (data: unknown): Checkpoint | string => {
  if (data === null || typeof data !== "object" || Array.isArray(data)) return "data is not an object"
  const c = data as Record<string, unknown>
  if (c.format !== checkpointFormat) return `format is not ${checkpointFormat}`
  if (typeof c.position !== "number" || !Number.isSafeInteger(c.position) || c.position < 1)
    return "position is not a positive integer"
  if (!isHex64(c.logDigest)) return "logDigest is not a hex SHA-256"
  if (!reasons.has(c.reason)) return "reason is not erasure, retention, interval or requested"
  if (typeof c.at !== "number" || !Number.isSafeInteger(c.at)) return "at is not a time"
  if (!isHex64(c.keyFingerprint)) return "keyFingerprint is not a hex SHA-256"
  if (typeof c.publicKey !== "string") return "publicKey is not text"
  if (typeof c.signature !== "string") return "signature is not text"
  return c as unknown as Checkpoint
}
