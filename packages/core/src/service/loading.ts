/**
 * A member's current state: the kept state with the events appended since
 * folded in, or its snapshot and the events after it, or its whole stream.
 * Owns the kept-state cache and the taking and reading of snapshots.
 *
 * @module
 */
import { Effect } from "effect"
import type { LetheError } from "../errors.js"
import { MemberNotFound } from "../errors.js"
import { freeTextCategory } from "../member/events.js"
import type { MemberState } from "../member/state.js"
import { evolve, initialState } from "../member/state.js"
import type { EventCodec, RecordedEvent } from "../sealing/codec.js"
import type { StoredEvent } from "../spi/event-store.js"
import { memberStream } from "../spi/event-store.js"
import { fromStore } from "../spi/store-call.js"
import type { ServiceContext } from "./context.js"
import { MemberCache } from "./member-cache.js"
import type { LetheOptions } from "./options.js"
import { fromEnvelope, toEnvelope } from "./snapshots.js"

/** A member as of a read: the state its events fold to, its version and the hash of its last event. */
export interface Current {
  readonly state: MemberState
  readonly version: number
  readonly head: string
  /** The version of the member's latest snapshot this instance knows of; 0 for none. */
  readonly snapshotAt: number
}

/** A loaded member, with its decoded history when the operation asked for it. */
export interface Loaded extends Current {
  readonly history?: ReadonlyArray<RecordedEvent>
}

/** A member with no event yet. */
export const unborn: Current = { state: initialState, version: 0, head: "", snapshotAt: 0 }

/** Reads members' states and keeps the latest ones. */
export interface Loader {
  /** The member's state; with `history`, its whole stream read and every event returned decoded. */
  load(
    memberId: string,
    codec?: EventCodec,
    options?: { readonly history?: boolean },
  ): Effect.Effect<Loaded, LetheError>
  /** `load`, failing with `MemberNotFound` when the member has no event. */
  loadExisting(
    memberId: string,
    codec?: EventCodec,
    options?: { readonly history?: boolean },
  ): Effect.Effect<Loaded, LetheError>
  /**
   * The state this instance kept after its last read or append of the
   * member, without reading the store: another writer may have moved the
   * stream since, which an append at its version finds out (a conflict).
   */
  kept(memberId: string): Current | undefined
  /** Keeps a member's state after an append landed, taking a snapshot when one is due. */
  keep(memberId: string, current: Current, codec: EventCodec): Effect.Effect<Current>
  /** Forgets the member's snapshot after an erasure removed it from the store. */
  snapshotRemoved(memberId: string): void
  /** Fetches the snapshot key when the instance starts, so that its first read does not; never fails. */
  readonly start: Effect.Effect<void>
}

/** The loader of one instance. */
export const makeLoader = (
  ctx: ServiceContext,
  options: Pick<LetheOptions, "memberCache" | "snapshotEvery">,
): Loader => {
  const { store, keyring, now } = ctx
  const kept = new MemberCache<Current>(options.memberCache ?? 5_000)
  const snapshotEvery = options.snapshotEvery ?? 100
  const snapshotKeyOf = keyring.snapshotKey?.bind(keyring)
  // Snapshots are taken and read only when the store keeps them and the keyring can authenticate them.
  const snapshots = snapshotEvery > 0 && snapshotKeyOf !== undefined ? store.snapshots : undefined
  let snapshotKeyHeld: Uint8Array | undefined
  const snapshotKey: Effect.Effect<Uint8Array, LetheError> = Effect.suspend(() =>
    snapshotKeyHeld !== undefined
      ? Effect.succeed(snapshotKeyHeld)
      : fromStore("snapshotKey", () =>
          snapshotKeyOf === undefined
            ? Promise.reject(new Error("the keyring has no snapshot key"))
            : snapshotKeyOf(),
        ).pipe(
          Effect.tap((key) =>
            Effect.sync(() => {
              snapshotKeyHeld = key
            }),
          ),
        ),
  )

  /**
   * The member's stored snapshot, opened, when there is one this fold can use
   * (its MAC verifies, it has a state's shape, its personal values open);
   * whether the log still holds the event it was folded to is the caller's check.
   */
  const readSnapshot = (memberId: string, codec: EventCodec): Effect.Effect<Current | undefined> =>
    snapshots === undefined
      ? Effect.succeed(undefined)
      : Effect.gen(function* () {
          // The member's keys are fetched meanwhile, in one call: opening the snapshot or the stream needs them.
          const [stored] = yield* Effect.all(
            [fromStore("snapshots.read", () => snapshots.read(memberId)), codec.prefetch(memberId)],
            { concurrency: "unbounded" },
          )
          if (stored === undefined) return undefined
          const binding = { memberId, version: stored.version, head: stored.head }
          const envelope = fromEnvelope(yield* snapshotKey, binding, stored.state)
          if (envelope === undefined) return undefined
          const place = { streamId: memberStream(memberId), memberId, version: stored.version }
          const personal = yield* codec.openPersonal(envelope.state.personal, place)
          const { restriction: sealedRestriction } = envelope.state
          const restriction =
            sealedRestriction === null
              ? null
              : {
                  since: sealedRestriction.since,
                  reason: yield* codec
                    .openPersonal({ [freeTextCategory]: { reason: sealedRestriction.reason } }, place)
                    .pipe(
                      Effect.flatMap((opened) => {
                        const reason = opened[freeTextCategory]?.reason
                        return reason === undefined ? Effect.fail("no reason") : Effect.succeed(reason)
                      }),
                    ),
                }
          return {
            state: { ...envelope.state, personal, restriction },
            version: stored.version,
            head: stored.head,
            snapshotAt: stored.version,
          }
        }).pipe(
          // A snapshot that cannot be read is a cache miss: the stream is read whole.
          Effect.catchAll(() => Effect.succeed(undefined)),
          Effect.catchAllDefect(() => Effect.succeed(undefined)),
        )

  /**
   * `current`, after taking a snapshot of it when the last one is
   * `snapshotEvery` events behind. A snapshot is a cache: failing to take
   * one fails nothing.
   */
  const snapshotted = (memberId: string, current: Current, codec: EventCodec): Effect.Effect<Current> => {
    if (snapshots === undefined || current.version - current.snapshotAt < snapshotEvery)
      return Effect.succeed(current)
    const place = { streamId: memberStream(memberId), memberId, version: current.version }
    const binding = { memberId, version: current.version, head: current.head }
    // The restriction's reason is free text: sealed like a personal value (an Erased marker stays one).
    const reason = current.state.restriction?.reason
    const sealReason =
      typeof reason === "string"
        ? Effect.map(
            codec.sealPersonal({ [freeTextCategory]: { reason } }, place),
            (sealed) =>
              (sealed as Record<string, Record<string, unknown>> | undefined)?.[freeTextCategory]?.reason,
          )
        : Effect.succeed(reason ?? null)
    return Effect.all([codec.sealPersonal(current.state.personal, place), sealReason, snapshotKey, now]).pipe(
      Effect.flatMap(([sealed, sealedReason, key, takenAt]) =>
        sealed === undefined || sealedReason === undefined
          ? Effect.succeed(current)
          : fromStore("snapshots.write", () =>
              snapshots.write({
                ...binding,
                tenantId: current.state.tenantId,
                state: toEnvelope(key, binding, current.state, sealed, sealedReason),
                takenAt,
              }),
            ).pipe(Effect.as({ ...current, snapshotAt: current.version })),
      ),
      // Nothing that goes wrong here fails the command, which has already been appended.
      Effect.catchAll(() => Effect.succeed(current)),
      Effect.catchAllDefect(() => Effect.succeed(current)),
    )
  }

  const readEvents = (memberId: string, fromVersion: number) =>
    fromStore("readStream", () => store.events.readStream(memberStream(memberId), { fromVersion }))

  const load: Loader["load"] = (memberId, codec = ctx.sealer.session(), options = {}) =>
    Effect.gen(function* () {
      let base = options.history === true ? undefined : kept.get(memberId)
      let stored: ReadonlyArray<StoredEvent> | undefined
      // Opening a member from its snapshot or its whole stream needs its keys: one store call for all.
      if (base === undefined && (options.history === true || snapshots === undefined))
        yield* codec.prefetch(memberId)
      if (base === undefined && options.history !== true) {
        const snapshot = yield* readSnapshot(memberId, codec)
        if (snapshot !== undefined) {
          // From the snapshot's own event: the log must still hold it, with the hash folded to.
          const since = yield* readEvents(memberId, snapshot.version)
          if (since[0]?.version === snapshot.version && since[0].hash === snapshot.head) {
            base = snapshot
            stored = since.slice(1)
          }
        }
      }
      stored ??= yield* readEvents(memberId, (base?.version ?? 0) + 1)
      const history: Array<RecordedEvent> = []
      let state = base?.state ?? initialState
      for (const event of stored) {
        const decoded = yield* codec.decode(event)
        if (options.history === true) history.push({ event: decoded, stored: event })
        state = evolve(state, decoded)
      }
      const last = stored.at(-1)
      const folded: Current = {
        state,
        version: last?.version ?? base?.version ?? 0,
        head: last?.hash ?? base?.head ?? "",
        snapshotAt: base?.snapshotAt ?? 0,
      }
      const current = state.exists ? yield* snapshotted(memberId, folded, codec) : folded
      if (state.exists) kept.set(memberId, current)
      return options.history === true ? { ...current, history } : current
    })

  return {
    load,
    loadExisting: (memberId, codec, options) =>
      load(memberId, codec, options).pipe(
        Effect.filterOrFail(
          (loaded) => loaded.state.exists,
          () => new MemberNotFound({ memberId }),
        ),
      ),
    kept: (memberId) => kept.get(memberId),
    keep: (memberId, current, codec) =>
      snapshotted(memberId, current, codec).pipe(
        Effect.tap((next) => Effect.sync(() => kept.set(memberId, next))),
      ),
    start: snapshots === undefined ? Effect.void : Effect.ignore(snapshotKey),
    snapshotRemoved: (memberId) => {
      const current = kept.get(memberId)
      if (current !== undefined) kept.set(memberId, { ...current, snapshotAt: 0 })
    },
  }
}
