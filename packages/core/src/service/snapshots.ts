/**
 * Member snapshots as the service writes and reads them (see
 * `SnapshotStore`): the folded state, its personal values sealed by the
 * codec, in an envelope naming the fold it came from and authenticated by
 * an HMAC under the keyring's snapshot key, over the member, the version,
 * the head hash and the state. A snapshot is a cache of what the log says:
 * one of another fold, whose MAC does not verify, or not shaped like a
 * state, is not used, and the stream is folded from its first event instead.
 *
 * @module
 */
import { createHmac, timingSafeEqual } from "node:crypto"
import { canonicalJson } from "../audit/hash-chain.js"
import type { MemberState } from "../member/state.js"
import { initialState } from "../member/state.js"

/**
 * The fold snapshots are taken with. Raise it whenever `evolve` or the shape
 * of `MemberState` changes: older snapshots are then not used.
 */
export const snapshotFold = 5

/** A snapshot's state: the member's state with `personal` and the restriction's reason sealed. */
export interface SnapshotEnvelope {
  readonly fold: number
  readonly state: Omit<MemberState, "personal" | "restriction"> & {
    readonly personal: unknown
    readonly restriction: { readonly since: number; readonly reason: unknown } | null
  }
  /** Hex HMAC-SHA-256 (see `macOf`). */
  readonly mac: string
}

/** What a snapshot's MAC covers besides its state. */
export interface SnapshotBinding {
  readonly memberId: string
  readonly version: number
  readonly head: string
}

/** The MAC of a snapshot: over its fold, member, version, head and state, in canonical JSON. */
const macOf = (key: Uint8Array, binding: SnapshotBinding, fold: unknown, state: unknown): Buffer =>
  createHmac("sha256", key)
    .update(
      canonicalJson({
        fold,
        memberId: binding.memberId,
        version: binding.version,
        head: binding.head,
        state,
      }),
    )
    .digest()

const kindOf = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "array" : typeof value

/** The kind of each field of a state; a field that starts null may also hold an object or a number. */
const fieldKinds: ReadonlyArray<readonly [string, string]> = Object.entries(initialState)
  .filter(([field]) => field !== "personal")
  .map(([field, initial]) => [field, kindOf(initial)] as const)

/**
 * `state` in its envelope, authenticated under `key`, with its personal values and its restriction's
 * reason (free text, docs/design.md §2.1) replaced by their sealed forms.
 */
export const toEnvelope = (
  key: Uint8Array,
  binding: SnapshotBinding,
  state: MemberState,
  sealedPersonal: unknown,
  sealedReason: unknown,
): SnapshotEnvelope => {
  const restriction =
    state.restriction === null ? null : { since: state.restriction.since, reason: sealedReason }
  const sealed = { ...state, personal: sealedPersonal, restriction }
  return { fold: snapshotFold, state: sealed, mac: macOf(key, binding, snapshotFold, sealed).toString("hex") }
}

/**
 * The envelope a stored snapshot holds, or `undefined` when it is of another
 * fold, its MAC does not verify under `key` for `binding`, or it is not
 * shaped like a state of that member.
 */
export const fromEnvelope = (
  key: Uint8Array,
  binding: SnapshotBinding,
  value: unknown,
): SnapshotEnvelope | undefined => {
  if (kindOf(value) !== "object") return undefined
  const envelope = value as Readonly<Record<string, unknown>>
  if (envelope.fold !== snapshotFold || kindOf(envelope.state) !== "object") return undefined
  if (typeof envelope.mac !== "string" || !/^[0-9a-f]{64}$/.test(envelope.mac)) return undefined
  const expected = macOf(key, binding, envelope.fold, envelope.state)
  if (!timingSafeEqual(expected, Buffer.from(envelope.mac, "hex"))) return undefined
  const state = envelope.state as Readonly<Record<string, unknown>>
  if (state.exists !== true || state.memberId !== binding.memberId) return undefined
  for (const [field, kind] of fieldKinds) {
    const actual = kindOf(state[field])
    if (actual !== kind && !(kind === "null" && (actual === "object" || actual === "number")))
      return undefined
  }
  return value as SnapshotEnvelope
}
