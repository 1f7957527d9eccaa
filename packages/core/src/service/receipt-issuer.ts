/**
 * Issuing erasure receipts (R10, docs/design.md §7.4): "erasure scheduled"
 * while a member is forgotten, the final receipt once purged or anonymized,
 * each signed with the keyring's Ed25519 key and recorded in the member's
 * reserved receipt stream `lethe:receipts:<memberId>`, where the audit
 * verifies it.
 *
 * A receipt attests the member's stream at its head, and its fields come
 * from the log and the key store only (no time of issue): asked again for
 * the same head it is the same receipt, recorded once.
 *
 * @module
 */
import { Effect, Schedule } from "effect"
import { keyFingerprint } from "../audit/checkpoint.js"
import { hashEvent } from "../audit/hash-chain.js"
import type { ErasedKey, FinalErasureReceipt, ScheduledErasureReceipt } from "../audit/receipt.js"
import { receiptEventType, receiptFormat, receiptPayload, receiptStream } from "../audit/receipt.js"
import type { LetheError } from "../errors.js"
import { NotErased } from "../errors.js"
import { yearsAfter } from "../member/view.js"
import type { ErasureReport } from "../sealing/shredding.js"
import type { EventMetadata } from "../spi/event-store.js"
import { memberStream } from "../spi/event-store.js"
import { fromStore } from "../spi/store-call.js"
import type { Pipeline } from "./pipeline.js"

/** Issues a member's receipts. */
export interface ReceiptIssuer {
  /**
   * The receipt of the member's erasure as the log stands, signed and
   * recorded (unless the last one recorded is the same). `NotErased` for an
   * active member. `erasure` is the report of the erasure just run, if
   * any: when it destroyed every key the member has lost, the values it
   * redacted are all the erased values of the stream, and the stream is
   * not read again to count them.
   */
  issue(
    memberId: string,
    erasure?: ErasureReport | null,
  ): Effect.Effect<ScheduledErasureReceipt | FinalErasureReceipt, LetheError>
}

const dayMs = 24 * 60 * 60 * 1000
const iso = (ms: number) => new Date(ms).toISOString()

/** How many values of a stored event's data are in erased form. */
const countErased = (data: unknown): number => {
  if (data === null || typeof data !== "object") return 0
  if ("_tag" in data && data._tag === "Erased") return 1
  return Object.values(data).reduce((n: number, inner) => n + countErased(inner), 0)
}

/**
 * Whether `erasure` destroyed every one of the member's destroyed `keys`.
 * A value is in erased form only once its key is destroyed, and a value
 * written after that is written erased only for a category whose key is
 * gone; so when no key was destroyed before this erasure, the values it
 * redacted are every erased value of the stream.
 */
const destroyedOnlyBy = (
  keys: ReadonlyArray<ErasedKey>,
  erasure: ErasureReport | null,
): erasure is ErasureReport =>
  erasure !== null && keys.length > 0 && keys.every((k) => erasure.keyIdsDestroyed.includes(k.keyId))

/** The receipt issuer of the instance of `pipeline`. */
export const receiptIssuer = ({ ctx, loader }: Pick<Pipeline, "ctx" | "loader">): ReceiptIssuer => {
  let fingerprint: string | undefined
  const signingFingerprint = Effect.gen(function* () {
    fingerprint ??= keyFingerprint(
      yield* fromStore("keyring.receiptPublicKey", () => ctx.keyring.receiptPublicKey()),
    )
    return fingerprint
  })

  /** The unsigned receipt of the member as the log stands. */
  const draft = (memberId: string, erasure: ErasureReport | null) =>
    Effect.gen(function* () {
      // The state (kept, or from a snapshot) and the stream's head; the stored events are read as they
      // are, never decoded: a receipt needs their actors and erased values, not their personal ones.
      const { state, version, head } = yield* loader.loadExisting(memberId)
      const streamId = memberStream(memberId)
      // The erasure's own event is among the stream's last: nothing follows Forgotten, Purged or
      // Anonymized but the end of an anonymized member's invoice retention. The whole stream is read only
      // for what a final receipt counts, and when the tail does not hold the event.
      let tail = yield* fromStore("events.readStream", () =>
        ctx.store.events.readStream(streamId, { fromVersion: Math.max(1, version - 3) }),
      )
      const whole = () =>
        fromStore("events.readStream", () => ctx.store.events.readStream(streamId)).pipe(
          Effect.tap((events) => {
            tail = events
          }),
        )
      const base = {
        format: receiptFormat,
        memberId,
        tenantId: state.tenantId,
        streamHead: { version, hash: head },
        keyFingerprint: yield* signingFingerprint,
      } as const
      const actorOf = (type: string) =>
        Effect.gen(function* () {
          const found =
            tail.findLast((e) => e.type === type) ?? (yield* whole()).findLast((e) => e.type === type)
          return found?.metadata.actor ?? ""
        })
      if (state.status === "forgotten") {
        const forgottenAt = state.forgottenAt ?? 0
        const restorableUntil = state.restorableUntil ?? forgottenAt
        const unsigned: Omit<ScheduledErasureReceipt, "signature"> = {
          ...base,
          status: "scheduled",
          forgottenAt: iso(forgottenAt),
          forgottenBy: yield* actorOf("Forgotten"),
          restorableUntil: iso(restorableUntil),
          destroyBy: iso(restorableUntil + ctx.config.purgeGraceDays * dayMs),
          // A purge destroys every key: nothing is kept.
          keptCategories: [],
        }
        return unsigned
      }
      if (state.status !== "purged" && state.status !== "anonymized")
        return yield* Effect.fail(new NotErased({ memberId, status: state.status }))
      const entries = yield* fromStore("keys.listForMember", () => ctx.store.keys.listForMember(memberId))
      const keys: Array<ErasedKey> = entries
        .flatMap((e) =>
          e._tag === "Destroyed"
            ? [
                {
                  keyId: e.tombstone.keyId,
                  category: e.tombstone.category,
                  destroyedAt: iso(e.tombstone.destroyedAt),
                },
              ]
            : [],
        )
        .sort((a, b) => (a.keyId < b.keyId ? -1 : 1))
      const keptCategories = [
        ...new Set(entries.flatMap((e) => (e._tag === "Live" ? [e.key.category] : []))),
      ].sort()
      const erasedAt = (state.status === "purged" ? state.purgedAt : state.anonymizedAt) ?? 0
      const unsigned: Omit<FinalErasureReceipt, "signature"> = {
        ...base,
        status: state.status,
        erasedAt: iso(erasedAt),
        erasedBy: yield* actorOf(state.status === "purged" ? "Purged" : "Anonymized"),
        keys,
        keptCategories,
        // What the law keeps (invoices, R24, R37) is kept this long after the anonymization or purge.
        keptUntil:
          keptCategories.length > 0
            ? yearsAfter(erasedAt, ctx.config.invoiceRetentionYears).toISOString()
            : null,
        sealedValuesRemoved: destroyedOnlyBy(keys, erasure)
          ? erasure.sealedValuesRemoved
          : (yield* whole()).reduce((n, e) => n + countErased(e.data), 0),
      }
      return unsigned
    })

  /** Appends `receipt` to the member's receipt stream, unless the last one there is the same. */
  const record = (receipt: ScheduledErasureReceipt | FinalErasureReceipt) =>
    Effect.gen(function* () {
      const streamId = receiptStream(receipt.memberId)
      const stored = yield* fromStore("events.readStream", () => ctx.store.events.readStream(streamId))
      const last = stored.at(-1)
      const lastData = last?.data as { readonly signature?: unknown } | null | undefined
      if (last !== undefined && last.unreadable === undefined && lastData?.signature === receipt.signature)
        return
      const version = (last?.version ?? 0) + 1
      const prevHash = last?.hash ?? ""
      const recordedAt = yield* ctx.now
      const metadata: EventMetadata = {
        actor: "lethe:system",
        source: "lethe",
        tenantId: receipt.tenantId,
        correlationId: `lethe:receipt:${receipt.memberId}:${receipt.streamHead.version}`,
      }
      const hash = hashEvent(prevHash, {
        streamId,
        version,
        type: receiptEventType,
        data: receipt,
        metadata,
        recordedAt,
      })
      yield* fromStore("append", () =>
        ctx.store.events.append({
          streamId,
          expectedVersion: last === undefined ? "no_stream" : last.version,
          events: [{ type: receiptEventType, data: receipt, metadata, recordedAt, prevHash, hash }],
        }),
      )
    }).pipe(
      // Another process recorded one first: read again (it is most likely this very receipt).
      Effect.retry({
        schedule: Schedule.recurs(3),
        while: (error: LetheError) => error._tag === "ConcurrencyConflict",
      }),
      // Still racing after that: others are recording this member's receipts, the same ones
      // (they come from the same log); asking again records this one if it is missing.
      Effect.catchIf(
        (error): error is Extract<LetheError, { _tag: "ConcurrencyConflict" }> =>
          error._tag === "ConcurrencyConflict",
        () => Effect.void,
      ),
    )

  return {
    issue: (memberId, erasure) =>
      Effect.gen(function* () {
        const unsigned = yield* draft(memberId, erasure ?? null)
        const signature = yield* fromStore("keyring.signReceipt", () =>
          ctx.keyring.signReceipt(receiptPayload(unsigned)),
        )
        const receipt = { ...unsigned, signature: Buffer.from(signature).toString("base64") } as
          | ScheduledErasureReceipt
          | FinalErasureReceipt
        yield* record(receipt)
        return receipt
      }),
  }
}
