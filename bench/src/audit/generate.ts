/**
 * A realistic `lethe export-log` file for the audit case (docs/design.md §5): the
 * events of 40,000 members, interleaved day by day, with sealed and erased
 * values and valid hash chains, and the members' key records at the end.
 * Ciphertexts come from a pool, as sealing a million values for real would
 * measure sealing, not the audit.
 *
 * @module
 */
import { createHash, randomBytes } from "node:crypto"
import { once } from "node:events"
import { createWriteStream } from "node:fs"
import { hashEvent } from "@lethe/core/audit"
import { dayMs } from "@lethe/core/domain"
import type { EventMetadata, StoredEvent } from "@lethe/core/spi"
import { dataKeyId } from "../../../packages/core/src/sealing/seal.js"

/** Members in every generated log, whatever its length: a longer log has more events per member. */
export const members = 40_000
const start = Date.UTC(2025, 0, 1, 8)

/** A pool of ciphertexts with their digests: sealing a million values for real would measure sealing, not the audit. */
const pool = Array.from({ length: 4096 }, () => {
  const ciphertext = randomBytes(24 + Math.floor(Math.random() * 24)).toString("base64")
  return { ciphertext, digest: createHash("sha256").update(Buffer.from(ciphertext, "base64")).digest("hex") }
})
let drawn = 0
const sealed = (memberId: string, category: string, erased: boolean) => {
  const { ciphertext, digest } = pool[drawn++ % pool.length] as (typeof pool)[number]
  return erased
    ? { _tag: "Erased", category, digest }
    : {
        _tag: "Sealed",
        keyId: dataKeyId(memberId, category as "contact"),
        category,
        iv: "AAAAAAAAAAAAAAAA",
        ciphertext,
        digest,
      }
}

type Kind = "active" | "unsubscribes" | "forgotten" | "anonymized"
const kindOf = (i: number): Kind => {
  const k = i % 10
  return k < 7 ? "active" : k === 7 ? "unsubscribes" : k === 8 ? "forgotten" : "anonymized"
}

/** The data of member `i`'s event on day `j`, or undefined when the member has no more events. */
const eventOf = (
  i: number,
  memberId: string,
  j: number,
  at: number,
): { type: string; data: object } | undefined => {
  const kind = kindOf(i)
  const erased = kind === "forgotten" || kind === "anonymized"
  const consentAt = start + 3 * dayMs + i * 1000
  const message = () => ({
    type: "MessageSent",
    data: {
      at,
      messageId: `${memberId}-m${j}`,
      purpose: "newsletter",
      channel: "email",
      sentBy: "campaign:weekly",
      test: false,
      lawfulBasis: {
        basis: "consent",
        consentGivenAt: consentAt,
        method: "double-opt-in",
        wordingVersion: "v1",
      },
    },
  })
  const activity = () => ({
    type: "ActivityRecorded",
    data: { at, kind: "page-view", clubId: null, details: { page: sealed(memberId, "activity", erased) } },
  })
  const purchase = () => ({
    type: "PurchaseRecorded",
    data: { at, purchaseId: `p${j}`, amount: 1_999, paid: true },
  })
  switch (j) {
    case 0:
      return { type: "MemberRegistered", data: { at, memberId, tenantId: "shop", source: { kind: "form" } } }
    case 1:
      return {
        type: "PersonalDataRecorded",
        data: {
          at,
          category: "identity",
          fields: { name: sealed(memberId, "identity", erased) },
          source: { kind: "form" },
        },
      }
    case 2:
      return {
        type: "PersonalDataRecorded",
        data: {
          at,
          category: "contact",
          fields: { email: sealed(memberId, "contact", erased), phone: sealed(memberId, "contact", erased) },
          source: { kind: "form" },
        },
      }
    case 3:
      return {
        type: "ConsentGiven",
        data: {
          at,
          purpose: "newsletter",
          basis: "consent",
          explicit: false,
          method: "double-opt-in",
          wordingVersion: "v1",
          source: { kind: "form", tag: "footer" },
          givenAt: at,
        },
      }
    default:
      break
  }
  if (kind === "forgotten") {
    if (j === 10)
      return {
        type: "ErasureRequested",
        data: { at, requestId: `${memberId}-r`, receivedAt: at, dueBy: at + 30 * dayMs, via: "email" },
      }
    if (j === 12)
      return { type: "Forgotten", data: { at, restorableUntil: at + 7 * dayMs, requestId: `${memberId}-r` } }
    if (j === 20) return { type: "Purged", data: { at } }
    if (j > 12) return undefined
  }
  if (kind === "anonymized") {
    if (j === 5)
      return {
        type: "ContractSigned",
        data: { at, contractId: "c1", clubId: "club-a", startsAt: at, endsAt: null },
      }
    if (j === 6) return { type: "WalletCredited", data: { at, amount: 5_000 } }
    if (j === 8) return { type: "WalletDebited", data: { at, amount: 5_000 } }
    if (j === 9) return { type: "ContractEnded", data: { at, contractId: "c1" } }
    if (j === 11)
      return {
        type: "Anonymized",
        data: {
          at,
          erasedCategories: ["activity", "contact", "identity"],
          keptCategories: [],
          policyId: null,
          requestId: null,
        },
      }
    if (j > 11) return undefined
  }
  if (kind === "unsubscribes" && j === 7)
    return { type: "Unsubscribed", data: { at, purpose: "newsletter", via: "link" } }
  const unsubscribed = kind === "unsubscribes" && j > 7
  switch (j % 5) {
    case 0:
      return unsubscribed ? activity() : message()
    case 1:
      return purchase()
    default:
      return activity()
  }
}

/** What `generate` wrote: the events, and when the last day of the log began. */
export interface GeneratedLog {
  readonly events: number
  readonly lastAt: number
}

/** Writes `total` events of the members, day by day, each day every member once, as a log file. */
export const generate = async (file: string, total: number): Promise<GeneratedLog> => {
  const out = createWriteStream(file)
  const write = async (line: string) => {
    if (!out.write(`${line}\n`)) await once(out, "drain")
  }
  await write(
    JSON.stringify({
      format: "lethe-log/1",
      exportedAt: new Date().toISOString(),
      source: "bench",
      members: true,
    }),
  )
  const ids = Array.from({ length: members }, (_, i) => `0190${i.toString(16).padStart(8, "0")}-bench-member`)
  const heads = ids.map(() => ({ version: 0, hash: "" }))
  let position = 0
  // The members whose erasure (Purged, Anonymized) the log holds: only their keys are destroyed, so a short
  // log, which ends before some members' erasure, stays consistent with its key records (R42).
  const erasedInLog = new Set<number>()
  for (let j = 0; position < total; j++) {
    let wrote = false
    for (let i = 0; i < members && position < total; i++) {
      const memberId = ids[i] as string
      const at = start + j * dayMs + i * 1000
      const event = eventOf(i, memberId, j, at)
      if (event === undefined) continue
      if (event.type === "Purged" || event.type === "Anonymized") erasedInLog.add(i)
      wrote = true
      const head = heads[i] as { version: number; hash: string }
      const metadata: EventMetadata = {
        actor: "staff:bench",
        source: "form",
        tenantId: "shop",
        correlationId: `${memberId}-${j}`,
      }
      const unhashed = {
        position: ++position,
        streamId: `member-${memberId}`,
        version: head.version + 1,
        type: event.type,
        data: event.data,
        metadata,
        recordedAt: at,
        prevHash: head.hash,
      }
      const stored: StoredEvent = { ...unhashed, hash: hashEvent(head.hash, unhashed) }
      heads[i] = { version: stored.version, hash: stored.hash }
      await write(JSON.stringify(stored))
    }
    if (!wrote) throw new Error(`members ran out of events at ${position}`)
  }
  for (const [i, memberId] of ids.entries()) {
    const kind = kindOf(i)
    const destroyedAt =
      kind === "active" || kind === "unsubscribes" || !erasedInLog.has(i)
        ? null
        : new Date(start).toISOString()
    const keys = ["identity", "contact", "activity"].map((category) => ({
      keyId: dataKeyId(memberId, category as "contact"),
      category,
      destroyedAt,
    }))
    await write(JSON.stringify({ member: { memberId, streamVersion: heads[i]?.version ?? 0, keys } }))
  }
  out.end()
  await once(out, "finish")
  return { events: position, lastAt: start + Math.ceil(position / members) * dayMs }
}
