/**
 * The command pipeline: load a member's state, ask the pure core to decide,
 * encode, seal and chain the events, append them with the member's
 * directory row in one transaction, and finish what an erasure event calls
 * for (crypto-shredding). A conflict with another writer is retried from a
 * fresh read, after an exponential backoff with jitter.
 *
 * @module
 */
import { Duration, Effect, Either, Runtime, Schedule } from "effect"
import { hashEvent } from "../audit/hash-chain.js"
import type { AnonymizationWarning, DomainError, LetheError } from "../errors.js"
import { InvalidCommand } from "../errors.js"
import type { MemberCommand } from "../member/commands.js"
import type { DecideContext } from "../member/config.js"
import { decide } from "../member/decide.js"
import type { MemberEvent, PersonalCategory } from "../member/events.js"
import { PersonalCategory as PersonalCategorySchema, retainedOnAnonymization } from "../member/events.js"
import type { MemberState } from "../member/state.js"
import { fold } from "../member/state.js"
import type { EventCodec, RecordedEvent } from "../sealing/codec.js"
import type { ErasureReport } from "../sealing/shredding.js"
import { erasureMarker, erasureMarkerId, shred } from "../sealing/shredding.js"
import type { MessageEntry } from "../spi/directory.js"
import type { AppendRequest, AppendResult, EventMetadata, NewEvent } from "../spi/event-store.js"
import { memberStream } from "../spi/event-store.js"
import type { StoredKey } from "../spi/key-store.js"
import { fromStore } from "../spi/store-call.js"
import type { CheckpointOptions, Checkpoints } from "./checkpoints.js"
import { makeCheckpoints } from "./checkpoints.js"
import type { Call, ServiceContext } from "./context.js"
import { operationOf, validate } from "./context.js"
import { memberRow } from "./directory-row.js"
import type { Current, Loaded, Loader } from "./loading.js"
import { unborn } from "./loading.js"
import type { Lookups } from "./lookups.js"
import type { Projection, Projections } from "./projections.js"
import { makeProjections } from "./projections.js"

/** An append ready to go: the request (events encoded, sealed and chained, the directory row) and where it leaves the member. */
export interface PreparedAppend {
  readonly memberId: string
  readonly loaded: Loaded
  readonly state: MemberState
  readonly events: ReadonlyArray<MemberEvent>
  readonly request: AppendRequest
  readonly head: string
  readonly codec: EventCodec
}

/** What one execution appended, and erased. */
export interface Executed {
  readonly memberId: string
  readonly state: MemberState
  readonly version: number
  readonly events: ReadonlyArray<MemberEvent>
  /** The member's history up to and including what this execution appended, when asked for. */
  readonly history?: ReadonlyArray<RecordedEvent>
  readonly warnings: ReadonlyArray<AnonymizationWarning>
  readonly erasure: ErasureReport | null
}

/** How `execute` runs its commands. */
export interface ExecuteOptions {
  /** The member may not exist yet (register, subscribe, import). */
  readonly create?: boolean
  /** Its id was minted just now, so its stream is not read (were it there after all, the append conflicts and the retry reads it). */
  readonly fresh?: boolean
  /** Decides only: it refuses exactly as the real run would, and writes nothing. */
  readonly check?: boolean
  /** The result carries the member's whole decoded history. */
  readonly history?: boolean
}

/** The pipeline every operation that records something goes through. */
export interface Pipeline {
  readonly ctx: ServiceContext
  readonly loader: Loader
  readonly lookups: Lookups
  /** The log's signed checkpoints (R41): noted at every append, written when due. */
  readonly checkpoints: Checkpoints
  /** The application's projections (R36): appends go through them, so inline ones run in the append's transaction. */
  readonly projections: Projections
  /** Decides each command on the state the previous one left; all or nothing. */
  decideAll(
    loaded: Current,
    commands: ReadonlyArray<MemberCommand>,
    ctx: DecideContext,
  ): Either.Either<
    { state: MemberState; events: Array<MemberEvent>; warnings: Array<AnonymizationWarning> },
    DomainError
  >
  /** Encodes, seals and chains the events, with the member's new directory row and the keys minted. */
  prepareAppend(
    memberId: string,
    loaded: Loaded,
    state: MemberState,
    events: ReadonlyArray<MemberEvent>,
    call: Call,
    at: number,
    codec: EventCodec,
  ): Effect.Effect<PreparedAppend, LetheError>
  /** Keeps the member's state after its append landed; returns the events as stored. */
  landed(prepared: PreparedAppend, result: AppendResult): Effect.Effect<ReadonlyArray<RecordedEvent>>
  /**
   * Runs commands on one member: load, decide, append; again from a fresh
   * read when another writer moved the stream in between (optimistic
   * concurrency), or minted the same key first.
   */
  execute(
    memberId: string,
    commands: (loaded: Loaded) => Effect.Effect<ReadonlyArray<MemberCommand>, LetheError>,
    call: Call,
    options?: ExecuteOptions,
  ): Effect.Effect<Executed, LetheError>
  /**
   * One command, validated before anything is read: `InvalidCommand` naming
   * the operation that runs it, or `UnknownPurpose` for a purpose the
   * catalogue does not hold, whatever else is wrong (R45).
   */
  run(memberId: string, raw: () => unknown, call: Call): Effect.Effect<Executed, LetheError>
  /**
   * Finishes the erasure a purged or anonymized member's status calls for
   * (an earlier one interrupted after its event was appended): destroys the
   * keys still live, redacts, checks. Null for a member of any other status.
   */
  finishErasure(memberId: string): Effect.Effect<ErasureReport | null, LetheError>
}

const allCategories: ReadonlyArray<PersonalCategory> = PersonalCategorySchema.literals

/**
 * How long a writer waits before its next attempt after a conflict: 2 ms,
 * doubling up to 20 ms, each delay jittered (80–120%) so that writers which
 * collided do not collide again in step, at most `retries` times. Runs on
 * Effect's `Clock`, so `TestClock` drives it in tests.
 */
export const conflictBackoff = (retries: number): Schedule.Schedule<unknown, unknown> =>
  Schedule.exponential(Duration.millis(2)).pipe(
    // The shorter of the two delays: the doubling stops at 20 ms.
    Schedule.union(Schedule.spaced(Duration.millis(20))),
    Schedule.jittered,
    Schedule.intersect(Schedule.recurs(Math.max(0, Math.floor(retries)))),
  )

/** The errors after which a fresh read may succeed. */
const isConflict = (error: LetheError): boolean =>
  error._tag === "ConcurrencyConflict" || error._tag === "KeyExists"

/** The pipeline of one instance. */
/** A refusal as the facade reports it: an `InvalidCommand` of `decide` names the operation, not the command's tag. */
const namedRefusal = (error: DomainError, command: MemberCommand): DomainError =>
  error._tag === "InvalidCommand" && error.command === command._tag
    ? new InvalidCommand({ command: operationOf[command._tag], issues: error.issues })
    : error

export const makePipeline = (
  ctx: ServiceContext,
  loader: Loader,
  lookups: Lookups,
  options: {
    readonly retries?: number
    readonly projections?: ReadonlyArray<Projection>
  } & CheckpointOptions,
): Pipeline => {
  const { store, config, now, newId, sealer } = ctx
  const backoff = conflictBackoff(options.retries ?? 5)
  const checkpoints = makeCheckpoints(ctx, options, backoff)
  const projections = makeProjections(ctx, options.projections)

  const decideAll: Pipeline["decideAll"] = (loaded, commands, decideCtx) => {
    let state = loaded.state
    const events: Array<MemberEvent> = []
    const warnings: Array<AnonymizationWarning> = []
    for (const command of commands) {
      const decided = decide(state, command, decideCtx)
      if (Either.isLeft(decided)) return Either.left(namedRefusal(decided.left, command))
      events.push(...decided.right.events)
      warnings.push(...decided.right.warnings)
      state = fold(decided.right.events, state)
    }
    return Either.right({ state, events, warnings })
  }

  const prepareAppend: Pipeline["prepareAppend"] = (memberId, loaded, state, events, call, at, codec) =>
    Effect.gen(function* () {
      const streamId = memberStream(memberId)
      const metadata: EventMetadata = {
        actor: call.actor.id,
        source:
          call.source === undefined
            ? "api"
            : call.source.tag === undefined
              ? call.source.kind
              : `${call.source.kind}:${call.source.tag}`,
        tenantId: state.tenantId,
        correlationId: call.correlationId ?? newId(),
      }
      const prepared: Array<NewEvent> = []
      let prevHash = loaded.head
      for (const [i, event] of events.entries()) {
        const version = loaded.version + i + 1
        const place = { streamId, version, tenantId: state.tenantId, memberId, recordedAt: at }
        const data = yield* codec.encode(event, place)
        const hash = hashEvent(prevHash, {
          streamId,
          version,
          type: event._tag,
          data,
          metadata,
          recordedAt: at,
        })
        prepared.push({ type: event._tag, data, metadata, recordedAt: at, prevHash, hash })
        prevHash = hash
      }
      const version = loaded.version + events.length
      const messages: Array<MessageEntry> = events.flatMap((e) =>
        e._tag === "MessageSent"
          ? [{ messageId: e.messageId, memberId, tenantId: state.tenantId, sentAt: e.at }]
          : [],
      )
      const member = memberRow(state, version, yield* lookups.emailKeyOf(state))
      // An erasure's marker commits with its event, and goes once its keys have gone (see `erasureDone`).
      // One already stored stands for this erasure as it is: live, left by an append whose key store
      // committed and whose log did not (keys apart from the log commit first); destroyed, when the
      // log was restored from a backup older than the key store and the erasure is done again (R42).
      const markers: Array<StoredKey> = []
      for (const e of events)
        if (e._tag === "Purged" || e._tag === "Anonymized") {
          const marker = erasureMarker(
            memberId,
            state.tenantId,
            e._tag === "Purged" ? "purge" : "anonymize",
            at,
          )
          const stored = yield* fromStore("keys.get", () => store.keys.get(marker.keyId))
          if (stored === undefined) markers.push(marker)
        }
      const keys = [...codec.newKeys(), ...markers]
      const request: AppendRequest = {
        streamId,
        expectedVersion: loaded.version === 0 ? "no_stream" : loaded.version,
        events: prepared,
        directory: { member, messages },
        ...(keys.length === 0 ? {} : { keys }),
      }
      return { memberId, loaded, state, events, request, head: prevHash, codec }
    })

  const landed: Pipeline["landed"] = (prepared, result) => {
    const { memberId, loaded, state, events, request, head, codec } = prepared
    const version = loaded.version + events.length
    return loader.keep(memberId, { state, version, head, snapshotAt: loaded.snapshotAt }, codec).pipe(
      Effect.zipRight(checkpoints.appended(result.position, events)),
      Effect.as(
        request.events.map(
          (event, i): RecordedEvent => ({
            event: events[i] as MemberEvent,
            stored: {
              ...event,
              streamId: request.streamId,
              version: loaded.version + i + 1,
              position: result.position - request.events.length + 1 + i,
            },
          }),
        ),
      ),
    )
  }

  /**
   * Destroys the data keys an erasure calls for, redacts what they sealed,
   * and checks nothing readable is left (docs/design.md §3). Runs after the
   * erasure event is appended, and again when the same command is repeated,
   * so an interrupted erasure is finished by running it again.
   */
  const shredAfter = (
    memberId: string,
    state: MemberState,
    commands: ReadonlyArray<MemberCommand>,
    events: ReadonlyArray<MemberEvent>,
    at: number,
    version: number,
  ): Effect.Effect<ErasureReport | null, LetheError> => {
    const wanted = new Set<PersonalCategory>()
    let all = false
    for (const event of events) {
      if (event._tag === "Anonymized")
        for (const c of allCategories) if (!retainedOnAnonymization.has(c)) wanted.add(c)
      if (event._tag === "PersonalDataErased") for (const c of event.categories) wanted.add(c)
    }
    for (const command of commands) {
      if (command._tag === "Purge" && state.status === "purged") all = true
      if (command._tag === "ErasePersonalData") for (const c of command.categories) wanted.add(c)
    }
    if (!all && wanted.size === 0) return Effect.succeed(null)
    // A purge keeps what the state still holds: the categories under legal hold (R37).
    const include = (category: PersonalCategory) =>
      wanted.has(category) || (all && state.personal[category] === undefined)
    return erasing(
      shred(store, memberId, include, at, version).pipe(
        Effect.tap((report) => erasureDone(memberId, state, report, at)),
      ),
    )
  }

  /** `steps` as one erasure for the store (`LetheStore.erasing`): erased bytes flushed once, at the end. */
  const erasing = <A>(steps: Effect.Effect<A, LetheError>): Effect.Effect<A, LetheError> => {
    const scope = store.erasing?.bind(store)
    if (scope === undefined) return steps
    return Effect.flatMap(Effect.runtime<never>(), (runtime) =>
      fromStore("erasing", () => scope(() => Runtime.runPromiseExit(runtime)(steps))),
    ).pipe(Effect.flatten)
  }

  /** After a member's keys are gone: its snapshot forgotten, and its purge's or anonymization's marker destroyed. */
  const erasureDone = (memberId: string, state: MemberState, report: ErasureReport, at: number) =>
    Effect.gen(function* () {
      if (store.snapshots !== undefined && report.categories.length > 0) loader.snapshotRemoved(memberId)
      if (state.status !== "purged" && state.status !== "anonymized") return
      const markerId = erasureMarkerId(memberId, state.status === "purged" ? "purge" : "anonymize")
      yield* fromStore("keys.destroy", () => store.keys.destroy(markerId, at))
    })

  const execute: Pipeline["execute"] = (memberId, commands, givenCall, options = {}) => {
    let attempts = 0
    let call = givenCall
    return Effect.gen(function* () {
      const first = attempts++ === 0
      // One correlation id for the operation, whichever attempt lands, and whatever state it was decided on.
      if (first && options.check !== true && call.correlationId === undefined)
        call = { ...call, correlationId: newId() }
      const wanted = { history: options.history === true }
      const at = yield* now
      /** Decides on `loaded` and, unless only checking, prepares the append: nothing written yet. */
      const decideOn = (loaded: Loaded, reading: EventCodec) =>
        Effect.gen(function* () {
          const batch = yield* commands(loaded)
          const decided = decideAll(loaded, batch, { now: at, actor: call.actor, config })
          if (Either.isLeft(decided)) return yield* Effect.fail(decided.left)
          const { state, events } = decided.right
          // A member with no event has no key: new keys are minted without asking the store first.
          const codec = loaded.version === 0 ? sealer.session({ newMember: first }) : reading
          const prepared =
            options.check === true || events.length === 0
              ? undefined
              : yield* prepareAppend(memberId, loaded, state, events, call, at, codec)
          return { loaded, batch, ...decided.right, prepared }
        })
      const fresh = Effect.suspend(() => {
        const reading = sealer.session()
        const read =
          options.fresh === true && first
            ? Effect.succeed<Loaded>({ ...unborn, ...(wanted.history ? { history: [] } : {}) })
            : options.create === true || options.fresh === true
              ? loader.load(memberId, reading, wanted)
              : loader.loadExisting(memberId, reading, wanted)
        return Effect.flatMap(read, (loaded) => decideOn(loaded, reading))
      })
      // Optimistic: the first attempt decides on the state this instance kept, without reading the
      // stream; the append at its version is the check that nobody moved it (docs/design.md §2b.2).
      // What it cannot prove that way (a refusal, nothing to record, a key another writer destroyed
      // meanwhile) is decided again on a fresh read, with a fresh codec: nothing was written yet.
      const kept =
        first && options.check !== true && options.history !== true && options.fresh !== true
          ? loader.kept(memberId)
          : undefined
      const { loaded, batch, state, events, warnings, prepared } =
        kept === undefined
          ? yield* fresh
          : yield* decideOn(kept, sealer.session()).pipe(
              Effect.filterOrFail(
                (decision) => decision.prepared !== undefined,
                () => "unproven" as const,
              ),
              Effect.orElse(() => fresh),
            )
      const unchanged = { memberId, version: loaded.version, warnings }
      if (options.check === true)
        return {
          ...unchanged,
          ...(loaded.history === undefined ? {} : { history: loaded.history }),
          state,
          events,
          erasure: null,
        }
      const appended =
        prepared === undefined
          ? []
          : yield* projections.append(prepared).pipe(Effect.flatMap((result) => landed(prepared, result)))
      const erasure = yield* shredAfter(memberId, state, batch, events, at, loaded.version + appended.length)
      return {
        ...unchanged,
        ...(loaded.history === undefined ? {} : { history: [...loaded.history, ...appended] }),
        state,
        version: loaded.version + appended.length,
        events,
        erasure,
      }
    }).pipe(
      Effect.retry({ schedule: backoff, while: isConflict }),
      // After an erasure, or every `checkpointEvery` events: the log's head signed (R41).
      Effect.tap(() => checkpoints.settle),
    )
  }

  const finishErasure: Pipeline["finishErasure"] = (memberId) =>
    Effect.gen(function* () {
      const { state, version } = yield* loader.loadExisting(memberId)
      if (state.status !== "purged" && state.status !== "anonymized") return null
      const at = yield* now
      // Every category but those the state still holds: what the law keeps until its retention ends (R24, R37).
      return yield* erasing(
        shred(store, memberId, (category) => state.personal[category] === undefined, at, version).pipe(
          Effect.tap((report) => erasureDone(memberId, state, report, at)),
        ),
      )
    })

  return {
    ctx,
    loader,
    lookups,
    checkpoints,
    projections,
    finishErasure,
    decideAll,
    prepareAppend,
    landed,
    execute,
    run: (memberId, raw, call) =>
      validate(raw, { catalogue: config.consentCatalogue }).pipe(
        Effect.flatMap((command) => execute(memberId, () => Effect.succeed([command]), call)),
      ),
  }
}
