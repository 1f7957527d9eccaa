/**
 * Deterministic Lethe instances for the cases that go through the facade: a
 * clock the case moves by hand, ids from a counter, a fixed secret, and ways
 * to turn what instances answer into plain data that two runs can compare.
 *
 * @module
 */
import type { LetheConfig, LetheStore, Projection } from "@lethe/core"
import { createLethe, keyringFromSecret } from "@lethe/core"
import { receiptStreamPrefix } from "@lethe/core/audit"
import type { StoredEvent } from "@lethe/core/spi"
import { checkpointStream, isSealedValue } from "@lethe/core/spi"

/** The secret every conformance instance derives its keys from (never use it elsewhere). */
export const conformanceSecret = "lethe conformance suite: fixed secret, not for production use"

/** Where every facade case's clock starts: Monday 2025-01-06T09:00:00Z. */
export const worldStart: number = Date.UTC(2025, 0, 6, 9)

/** A clock a case moves by hand. */
export interface TestClock {
  readonly now: () => Date
  readonly millis: () => number
  readonly advance: (ms: number) => void
}

/** A clock at `start` that moves only when told. */
export const testClock = (start: number = worldStart): TestClock => {
  let now = start
  return {
    now: () => new Date(now),
    millis: () => now,
    advance: (ms) => {
      now += ms
    },
  }
}

/**
 * A generator of UUID-shaped ids from a counter: two generators give the same
 * sequence. The first group is scrambled (a bijection of the counter), so the
 * order of ids is not the order of creation and `memberId` ordering is tested
 * for real.
 */
export const counterIds = (): (() => string) => {
  let n = 0
  return () => {
    n += 1
    const head = (Math.imul(n, 0x9e3779b1) >>> 0).toString(16).padStart(8, "0")
    return `${head}-0000-7000-8000-${n.toString(16).padStart(12, "0")}`
  }
}

/**
 * A Lethe over `store` with the suite's clock, counter ids (or the `newId`
 * given, to share one sequence between instances) and fixed secret.
 */
export const openLethe = (
  store: LetheStore,
  clock: TestClock,
  options: {
    readonly retries?: number
    readonly memberCache?: number
    readonly snapshotEvery?: number
    readonly newId?: () => string
    readonly projections?: ReadonlyArray<Projection>
    readonly config?: Partial<LetheConfig>
  } = {},
) =>
  createLethe({
    store,
    keyring: keyringFromSecret(conformanceSecret),
    clock: clock.now,
    newId: options.newId ?? counterIds(),
    ...(options.retries === undefined ? {} : { retries: options.retries }),
    ...(options.memberCache === undefined ? {} : { memberCache: options.memberCache }),
    ...(options.snapshotEvery === undefined ? {} : { snapshotEvery: options.snapshotEvery }),
    ...(options.projections === undefined ? {} : { projections: options.projections }),
    ...(options.config === undefined ? {} : { config: options.config }),
  })

/** How an operation ended, as plain data: its result, or its error's `_tag` and data. */
export type Outcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: Readonly<Record<string, unknown>> }

/** A tagged error as plain data (its `_tag` and own fields), so two runs compare by value. */
export const plainError = (error: unknown): Readonly<Record<string, unknown>> => {
  if (typeof error !== "object" || error === null) return { thrown: String(error) }
  const { stack: _stack, cause: _cause, ...fields } = Object.fromEntries(Object.entries(error))
  const tag = (error as { readonly _tag?: unknown })._tag
  return tag === undefined ? { thrown: String(error), ...fields } : { ...fields, _tag: tag }
}

/** The outcome of `run`, never a rejection. */
export const outcomeOf = async (run: () => Promise<unknown>): Promise<Outcome> => {
  try {
    return { ok: true, value: await run() }
  } catch (error) {
    return { ok: false, error: plainError(error) }
  }
}

/**
 * An event as two instances agree on it: sealed and erased values shown by
 * their category only (ciphertexts, nonces and digests are random), and no
 * hashes (they commit to the digests), nor a checkpoint's log digest and
 * signature, nor an erasure receipt's stream head hash and signature (they
 * commit to the hashes).
 */
export const comparableEvent = (event: StoredEvent) => ({
  position: event.position,
  streamId: event.streamId,
  version: event.version,
  type: event.type,
  data:
    event.streamId === checkpointStream
      ? comparableCheckpoint(event.data)
      : event.streamId.startsWith(receiptStreamPrefix)
        ? comparableReceipt(event.data)
        : comparableData(event.data),
  metadata: event.metadata,
  recordedAt: event.recordedAt,
})

const comparableCheckpoint = (value: unknown): unknown => {
  if (value === null || typeof value !== "object") return value
  const { logDigest: _digest, signature: _signature, ...rest } = value as Record<string, unknown>
  return rest
}

/** An erasure receipt (R10) without what commits to the hashes: the stream head's hash, the signature. */
const comparableReceipt = (value: unknown): unknown => {
  if (value === null || typeof value !== "object") return value
  const { signature: _signature, streamHead, ...rest } = value as Record<string, unknown>
  const { hash: _hash, ...head } = (streamHead ?? {}) as Record<string, unknown>
  return { ...rest, streamHead: head }
}

const comparableData = (value: unknown): unknown => {
  if (value === null || typeof value !== "object") return value
  if (Array.isArray(value)) return value.map(comparableData)
  if (isSealedValue(value)) return { _tag: "Sealed", category: value.category }
  const record = value as Readonly<Record<string, unknown>>
  if (record._tag === "Erased" && typeof record.category === "string")
    return { _tag: "Erased", category: record.category }
  return Object.fromEntries(Object.entries(record).map(([key, inner]) => [key, comparableData(inner)]))
}

/** A member's keys as two instances agree on them: no key material or ids, in category order. */
export const comparableKeys = async (store: LetheStore, memberId: string) =>
  (await store.keys.listForMember(memberId))
    .map((entry) =>
      entry._tag === "Live"
        ? {
            _tag: entry._tag,
            tenantId: entry.key.tenantId,
            memberId: entry.key.memberId,
            category: entry.key.category,
            createdAt: entry.key.createdAt,
          }
        : {
            _tag: entry._tag,
            tenantId: entry.tombstone.tenantId,
            memberId: entry.tombstone.memberId,
            category: entry.tombstone.category,
            destroyedAt: entry.tombstone.destroyedAt,
          },
    )
    .sort((a, b) => (a.category < b.category ? -1 : a.category > b.category ? 1 : 0))
