/**
 * Crypto-shredding: destroying a member's data keys, redacting the values
 * they sealed in the stored log, and checking, not trusting, that nothing
 * readable is left (docs/design.md §3).
 *
 * @module
 */
import { Effect } from "effect"
import type { LetheError } from "../errors.js"
import { ErasureIncomplete } from "../errors.js"
import type { PersonalCategory } from "../member/events.js"
import { memberStream } from "../spi/event-store.js"
import type { KeyEntry, StoredKey } from "../spi/key-store.js"
import { redactSealedValues } from "../spi/sealed-value.js"
import type { LetheStore } from "../spi/store.js"
import { fromStore } from "../spi/store-call.js"

/** Exactly what an erasure destroyed, checked after the fact (nothing readable left). */
export interface ErasureReport {
  /** Categories whose keys are now destroyed (including ones destroyed earlier). */
  readonly categories: ReadonlyArray<PersonalCategory>
  /** Keys this operation destroyed. */
  readonly keyIdsDestroyed: ReadonlyArray<string>
  /** Sealed values replaced in the stored log by their erased form (digest kept). */
  readonly sealedValuesRemoved: number
}

/** The erasures whose key destruction a marker stands for until it is done. */
export type ErasureKind = "purge" | "anonymize"

/**
 * The reserved member whose "keys" are erasure markers: one per purge or
 * anonymization, stored in the same transaction as its event and destroyed
 * once its keys are, so an erasure interrupted in between is found and
 * finished (by `runRetention`'s `finish-erasure` rule) instead of lost.
 */
export const erasureMarkerMember = "lethe:erasures"

/** The marker of a member's purge or anonymization. */
export const erasureMarkerId = (memberId: string, kind: ErasureKind): string =>
  `${erasureMarkerMember}:${kind}:${memberId}`

/** The member and erasure a marker stands for; undefined for another id. */
export const markedErasure = (
  keyId: string,
): { readonly memberId: string; readonly kind: ErasureKind } | undefined => {
  const match = /^lethe:erasures:(purge|anonymize):(.+)$/.exec(keyId)
  return match === null ? undefined : { kind: match[1] as ErasureKind, memberId: match[2] as string }
}

/** The marker stored with a member's erasure event: no key material, only the fact that keys are to go. */
export const erasureMarker = (
  memberId: string,
  tenantId: string,
  kind: ErasureKind,
  at: number,
): StoredKey => ({
  keyId: erasureMarkerId(memberId, kind),
  tenantId,
  memberId: erasureMarkerMember,
  category: kind,
  wrappedKey: "",
  kekId: "none",
  createdAt: at,
})

/** The id of the key an entry stands for, live or destroyed. */
export const entryKeyId = (entry: KeyEntry): string =>
  entry._tag === "Live" ? entry.key.keyId : entry.tombstone.keyId

/** The personal category an entry's key seals. */
export const entryCategory = (entry: KeyEntry): PersonalCategory =>
  (entry._tag === "Live" ? entry.key.category : entry.tombstone.category) as PersonalCategory

/**
 * Destroys the member's data keys of the categories `include` selects,
 * redacts what they sealed, removes the member's snapshot (no snapshot taken
 * before the erasure may come back), then checks: every key gone, no value
 * sealed under them left. `version` is the stream's version, its erasure
 * event included. Fails with `ErasureIncomplete` naming what is left.
 */
export const shred = (
  store: LetheStore,
  memberId: string,
  include: (category: PersonalCategory) => boolean,
  at: number,
  version: number,
): Effect.Effect<ErasureReport, LetheError> =>
  Effect.gen(function* () {
    const streamId = memberStream(memberId)
    const entries = yield* fromStore("keys.listForMember", () => store.keys.listForMember(memberId))
    const targets = entries.filter((entry) => include(entryCategory(entry)))
    const keyIds = targets.map(entryKeyId)
    const destroyed: Array<string> = []
    for (const entry of targets)
      if (entry._tag === "Live") {
        yield* fromStore("keys.destroy", () => store.keys.destroy(entry.key.keyId, at))
        destroyed.push(entry.key.keyId)
      }
    const sealedValuesRemoved =
      keyIds.length === 0 ? 0 : yield* fromStore("redact", () => store.events.redact(streamId, keyIds))
    // The snapshot's values under these keys are unreadable now; its bytes go too. The next one is
    // taken from the state after the erasure event, which holds nothing of the erased categories.
    const snapshots = store.snapshots
    if (snapshots !== undefined && keyIds.length > 0)
      yield* fromStore("snapshots.remove", () => snapshots.remove(memberId, version))
    const after = yield* fromStore("keys.listForMember", () => store.keys.listForMember(memberId))
    const stillLive = after.filter((e) => e._tag === "Live" && keyIds.includes(e.key.keyId)).map(entryKeyId)
    if (stillLive.length > 0)
      return yield* Effect.fail(
        new ErasureIncomplete({ memberId, detail: `keys still live: ${stillLive.join(", ")}` }),
      )
    // Only the events holding values sealed under these keys: the check costs the same however
    // long the member's activity history is.
    const stored =
      keyIds.length === 0
        ? []
        : yield* fromStore("readStream", () => store.events.readStream(streamId, { sealedUnder: keyIds }))
    const wanted = new Set(keyIds)
    const leftover = stored
      .filter((e) => redactSealedValues(e.data, wanted).redacted > 0)
      .map((e) => e.version)
    if (leftover.length > 0)
      return yield* Effect.fail(
        new ErasureIncomplete({ memberId, detail: `sealed values left in versions ${leftover.join(", ")}` }),
      )
    return {
      categories: [...new Set(targets.map(entryCategory))].sort(),
      keyIdsDestroyed: destroyed,
      sealedValuesRemoved,
    }
  })
