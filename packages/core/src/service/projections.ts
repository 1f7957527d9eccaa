/**
 * Applications' own projections (R36, docs/design.md §12): read models over
 * the members' events in global order, each with a checkpoint the store
 * writes in the same transaction as the read model's own writes.
 *
 * A projection is caught up in batches: the events after its checkpoint
 * are read (`readAll`), the members' events decoded (personal values opened
 * while their keys exist, `Erased` markers after), and applied in one
 * transaction with the new checkpoint (`ProjectionStore.commit`, which
 * compares and sets it, so two runners never apply an event twice). Events
 * of the reserved streams (`lethe:`...) move the checkpoint and reach no
 * projection. An inline projection is applied to the events of every
 * append of this instance inside the append's transaction, with the events
 * as decided (never read back), and caught up when Lethe starts and
 * whenever an append finds it behind (another writer appended without it).
 *
 * @module
 */
import { Effect } from "effect"
import type { LetheError } from "../errors.js"
import { InvalidCommand, StoreError } from "../errors.js"
import type { MemberEvent } from "../member/events.js"
import type { AppendRequest, AppendResult, EventMetadata, StoredEvent } from "../spi/event-store.js"
import type { InlineProjections, ProjectionStore, ProjectionWork } from "../spi/projection-store.js"
import { fromStore } from "../spi/store-call.js"
import type { ServiceContext } from "./context.js"

/**
 * An application's own projection (R36): a name, its own tables (or, on
 * the memory store, its own state) and how each member event changes them.
 * `Tx` is the store's transaction handle: the better-sqlite3 `Database` on
 * SQLite, a client (`query(text, params)`) on PostgreSQL, a
 * `Map<string, unknown>` on memory.
 *
 * Events come in global order, each exactly once, through `apply`, inside
 * the transaction that also moves the projection's checkpoint. On SQLite
 * and memory `apply`, `setup` and `reset` must be synchronous.
 *
 * Erasure reaches projections: when a member is forgotten, purged or
 * anonymized (`Forgotten`, `Purged`, `Anonymized`), or a category of their
 * data erased (`PersonalDataErased`), the projection receives that event
 * and must drop what it holds of the person (docs/gdpr.md). Events read
 * after a key was destroyed carry `Erased` markers instead of the values.
 *
 * @example
 * ```ts
 * import type Database from "better-sqlite3"
 *
 * const visitsPerClub: Projection<Database.Database> = {
 *   name: "visits-per-club",
 *   setup: (db) => db.exec("CREATE TABLE IF NOT EXISTS visits (club TEXT PRIMARY KEY, n INTEGER NOT NULL)"),
 *   apply: ({ event }, db) => {
 *     if (event._tag === "ActivityRecorded" && event.kind === "visit")
 *       db.prepare("INSERT INTO visits VALUES (?, 1) ON CONFLICT (club) DO UPDATE SET n = n + 1").run(event.clubId)
 *   },
 *   reset: (db) => db.exec("DELETE FROM visits"),
 * }
 * const lethe = await createLethe({ store, keyring, projections: [visitsPerClub] })
 * await lethe.catchUpProjection("visits-per-club")
 * ```
 */
export interface Projection<Tx = unknown> {
  /** Unique per store: the checkpoint is kept under it. Letters, digits and `-_.:`, at most 200 characters. */
  readonly name: string
  /**
   * Applied inside the transaction of every append this instance makes, so
   * the read model never lags behind them (default false: applied by
   * `catchUpProjection` and `followProjection`). A throw fails the append.
   */
  readonly inline?: boolean
  /**
   * Creates the projection's tables if missing; run once per instance, and
   * after `reset` in a rebuild. What it returns is ignored, but a promise is
   * waited for (PostgreSQL; refused on SQLite and memory), as for `apply`
   * and `reset`.
   */
  setup?(tx: Tx): unknown
  /** Applies one member event. */
  apply(event: Projection.Event, tx: Tx): unknown
  /** Drops everything the projection wrote (a rebuild then applies the whole log again). */
  reset(tx: Tx): unknown
}

/** The types that go with {@link Projection}. */
export declare namespace Projection {
  /** A member event as a projection receives it. */
  interface Event {
    /** Its position in the global log. */
    readonly position: number
    readonly memberId: string
    readonly tenantId: string
    /** Its version in the member's stream. */
    readonly version: number
    /** When it was recorded (epoch milliseconds). */
    readonly recordedAt: number
    /** Who recorded it, from where, under which correlation id. */
    readonly metadata: EventMetadata
    /** The event, personal values opened while their keys exist, `Erased` markers after. */
    readonly event: MemberEvent
  }

  /** Where a projection stands. */
  interface Status {
    readonly name: string
    /** The position of the last event it applied (0: none). */
    readonly checkpoint: number
    /** The position of the last event of the log. */
    readonly head: number
    /** Events it has still to read: `head - checkpoint`. */
    readonly lag: number
  }

  /** How a catch-up reads the log. */
  interface CatchUpOptions {
    /** Events read, decoded and applied per transaction (default 500, at most 10,000). */
    readonly batchSize?: number
  }

  /** How `followProjection` follows the log. */
  interface FollowOptions extends CatchUpOptions {
    /** Milliseconds between two looks at the log when nothing woke it (default 1,000, at most one hour). */
    readonly intervalMs?: number
    /** Stops following; the call then resolves with the projection's status. */
    readonly signal?: AbortSignal
  }
}

type CatchUpOptions = Projection.CatchUpOptions
type FollowOptions = Projection.FollowOptions

/** An append the pipeline prepared: its request and the member events it holds, as decided. */
export interface DecidedAppend {
  readonly memberId: string
  readonly events: ReadonlyArray<MemberEvent>
  readonly request: AppendRequest
}

/** The projections of one instance, as the pipeline and the service use them. */
export interface Projections {
  /** Checks the projections against the store, sets up and catches up the inline ones. */
  readonly start: Effect.Effect<void, LetheError>
  /** `append`, with the inline projections applied in its transaction. */
  append(prepared: DecidedAppend): Effect.Effect<AppendResult, LetheError>
  /** Whether `appendBatch` can run the inline projections (or none are registered). */
  readonly canBatch: boolean
  /** `appendBatch`, with the inline projections applied in its transaction. */
  appendBatch(prepared: ReadonlyArray<DecidedAppend>): Effect.Effect<ReadonlyArray<AppendResult>, LetheError>
  catchUp(name: string, options?: CatchUpOptions): Effect.Effect<Projection.Status, LetheError>
  follow(name: string, options?: FollowOptions): Effect.Effect<Projection.Status, LetheError>
  rebuild(name: string, options?: CatchUpOptions): Effect.Effect<Projection.Status, LetheError>
  status(name: string): Effect.Effect<Projection.Status, LetheError>
  read<A, Tx>(name: string, read: (tx: Tx) => A | Promise<A>): Effect.Effect<A, LetheError>
}

/** Events read, decoded and applied per transaction by default. */
export const defaultProjectionBatch = 500

/** The erasure events, after which what a projection deleted must leave no copy. */
const erasureTags: ReadonlySet<MemberEvent["_tag"]> = new Set([
  "Forgotten",
  "Purged",
  "Anonymized",
  "PersonalDataErased",
])

const memberPrefix = "member-"

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof (value as { readonly then?: unknown } | null)?.then === "function"

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/** What `apply` threw, as the `StoreError` the call fails with. */
const applyFailed = (name: string, position: number, error: unknown): StoreError =>
  new StoreError({
    operation: `projection ${name}`,
    detail: `apply failed at position ${position}: ${messageOf(error)}`,
  })

/**
 * Runs `step` on each item in order: synchronously while each returns
 * nothing, waiting for a promise when one returns one (so a synchronous
 * store's transaction sees a synchronous work).
 */
const eachInOrder = <A>(items: ReadonlyArray<A>, step: (item: A) => unknown): void | Promise<void> => {
  let i = 0
  const next = (): void | Promise<void> => {
    while (i < items.length) {
      const result = step(items[i++] as A)
      if (isThenable(result)) return Promise.resolve(result).then(next)
    }
  }
  return next()
}

/** What a projection's method returned, as a store's work returns it: a promise stays one. */
const asWork = (result: unknown): void | Promise<void> =>
  isThenable(result) ? Promise.resolve(result).then(() => undefined) : undefined

/** `first`, then `second`, synchronously when `first` is. */
const andThen = (first: unknown, second: () => unknown): ReturnType<ProjectionWork> =>
  isThenable(first)
    ? Promise.resolve(first).then(async () => {
        await second()
      })
    : eachInOrder([second], (step) => step())

/** The events a projection applies, through `tx`, each failure named with its position. */
const applyAll = (
  projection: Projection,
  events: ReadonlyArray<Projection.Event>,
  tx: unknown,
): void | Promise<void> =>
  eachInOrder(events, (event) => {
    try {
      const result = projection.apply(event, tx)
      return isThenable(result)
        ? Promise.resolve(result).catch((error: unknown) => {
            throw applyFailed(projection.name, event.position, error)
          })
        : result
    } catch (error) {
      throw applyFailed(projection.name, event.position, error)
    }
  })

/** A stored member event and its decoded domain event, as a projection gets them. */
const projected = (stored: StoredEvent, event: MemberEvent): Projection.Event => ({
  position: stored.position,
  memberId: stored.streamId.slice(memberPrefix.length),
  tenantId: stored.metadata.tenantId,
  version: stored.version,
  recordedAt: stored.recordedAt,
  metadata: stored.metadata,
  event,
})

const validName = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/

/** The problems of the projections given to `createLethe`, or a reason the store cannot keep them. */
const checkRegistered = (
  projections: ReadonlyArray<Projection>,
  store: ServiceContext["store"],
): LetheError | undefined => {
  const issues: Array<{ path: string; message: string }> = []
  const seen = new Set<string>()
  for (const [i, projection] of projections.entries()) {
    const name: unknown = projection?.name
    if (typeof name !== "string" || !validName.test(name))
      issues.push({
        path: `projections[${i}].name`,
        message: "must be 1 to 200 letters, digits or _ . : - starting with a letter or digit",
      })
    else if (seen.has(name))
      issues.push({ path: `projections[${i}].name`, message: `names a projection twice: ${name}` })
    else seen.add(name)
    for (const method of ["apply", "reset"] as const)
      if (typeof projection?.[method] !== "function")
        issues.push({ path: `projections[${i}].${method}`, message: "must be a function" })
  }
  if (issues.length > 0) return new InvalidCommand({ command: "createLethe", issues })
  if (projections.length > 0 && store.projections === undefined)
    return new StoreError({
      operation: "projections",
      detail: `the ${store.name} store keeps no projections (an optional part of the SPI)`,
    })
  return undefined
}

/** The projections of an instance over `ctx`. */
export const makeProjections = (
  ctx: ServiceContext,
  registered: ReadonlyArray<Projection> = [],
): Projections => {
  const { store, sealer } = ctx
  const problem = checkRegistered(registered, store)
  const byName = new Map(registered.map((projection) => [projection.name, projection]))
  const inline = registered.filter((projection) => projection.inline === true)
  /** One catch-up of a projection at a time in this instance (another process is kept out by `commit`). */
  const locks = new Map(registered.map((projection) => [projection.name, Effect.unsafeMakeSemaphore(1)]))
  const setUp = new Set<string>()
  /** Followers waiting for the next look at the log, woken early by this instance's appends. */
  const sleepers = new Set<() => void>()

  const wake = () => {
    for (const sleeper of [...sleepers]) sleeper()
  }

  const storeOf = (): Effect.Effect<ProjectionStore, LetheError> =>
    problem !== undefined
      ? Effect.fail(problem)
      : store.projections === undefined
        ? Effect.fail(
            new StoreError({
              operation: "projections",
              detail: `the ${store.name} store keeps no projections`,
            }),
          )
        : Effect.succeed(store.projections)

  const find = (operation: string, name: string): Effect.Effect<Projection, LetheError> => {
    const projection = byName.get(name)
    return projection === undefined
      ? Effect.fail(
          new InvalidCommand({
            command: operation,
            issues: [{ path: "name", message: `names no projection given to createLethe (got "${name}")` }],
          }),
        )
      : Effect.succeed(projection)
  }

  const status = (name: string): Effect.Effect<Projection.Status, LetheError> =>
    Effect.gen(function* () {
      const projections = yield* storeOf()
      const checkpoint = yield* fromStore("projections.checkpoint", () => projections.checkpoint(name))
      const head = yield* fromStore("projections.head", () => projections.head())
      return { name, checkpoint, head, lag: Math.max(0, head - checkpoint) }
    })

  /** Runs the projection's `setup` once per instance, in a transaction that leaves its checkpoint where it is. */
  const ensureSetUp = (projections: ProjectionStore, projection: Projection) =>
    Effect.gen(function* () {
      if (setUp.has(projection.name)) return
      const setup = projection.setup?.bind(projection)
      if (setup !== undefined)
        for (;;) {
          const at = yield* fromStore("projections.checkpoint", () => projections.checkpoint(projection.name))
          const done = yield* fromStore("projections.commit", () =>
            projections.commit(projection.name, at, at, (tx) => asWork(setup(tx))),
          )
          if (done) break
        }
      setUp.add(projection.name)
    })

  /** The members' events of a page, decoded; the reserved streams' left out. */
  const decodePage = (events: ReadonlyArray<StoredEvent>) => {
    const codec = sealer.session()
    return Effect.forEach(
      events.filter((stored) => stored.streamId.startsWith(memberPrefix)),
      (stored) => Effect.map(codec.decode(stored), (event) => projected(stored, event)),
    )
  }

  const catchUpWith = (projection: Projection, batchSize: number) =>
    Effect.gen(function* () {
      const projections = yield* storeOf()
      yield* ensureSetUp(projections, projection)
      const name = projection.name
      let checkpoint = yield* fromStore("projections.checkpoint", () => projections.checkpoint(name))
      for (;;) {
        const after = checkpoint
        const page = yield* fromStore("events.readAll", () =>
          store.events.readAll({ after, limit: batchSize }),
        )
        if (page.events.length === 0) break
        const events = yield* decodePage(page.events)
        const erasure = events.some(({ event }) => erasureTags.has(event._tag))
        const moved = yield* fromStore("projections.commit", () =>
          projections.commit(name, after, page.next, (tx) => applyAll(projection, events, tx), { erasure }),
        )
        // Another runner moved the checkpoint: go on from where it is now.
        checkpoint = moved
          ? page.next
          : yield* fromStore("projections.checkpoint", () => projections.checkpoint(name))
        if (moved && page.done) break
      }
      return yield* status(name)
    }).pipe(locks.get(projection.name)?.withPermits(1) ?? ((effect) => effect))

  const batchOf = (options: CatchUpOptions | undefined) => options?.batchSize ?? defaultProjectionBatch

  const catchUp: Projections["catchUp"] = (name, options) =>
    find("catchUpProjection", name).pipe(
      Effect.flatMap((projection) => catchUpWith(projection, batchOf(options))),
    )

  /** Waits `ms` milliseconds, or until `signal` aborts or this instance appends. */
  const pause = (ms: number, signal: AbortSignal | undefined) =>
    Effect.async<void>((resume) => {
      let done = false
      const finish = () => {
        if (done) return
        done = true
        clearTimeout(timer)
        signal?.removeEventListener("abort", finish)
        sleepers.delete(finish)
        resume(Effect.void)
      }
      const timer = setTimeout(finish, ms)
      signal?.addEventListener("abort", finish)
      sleepers.add(finish)
      return Effect.sync(() => {
        done = true
        clearTimeout(timer)
        signal?.removeEventListener("abort", finish)
        sleepers.delete(finish)
      })
    })

  const follow: Projections["follow"] = (name, options = {}) =>
    Effect.gen(function* () {
      const projection = yield* find("followProjection", name)
      const stopped = () => options.signal?.aborted === true
      for (;;) {
        const reached = yield* catchUpWith(projection, batchOf(options))
        if (stopped()) return reached
        yield* pause(options.intervalMs ?? 1000, options.signal)
        if (stopped()) return yield* status(name)
      }
    })

  const rebuild: Projections["rebuild"] = (name, options) =>
    Effect.gen(function* () {
      const projection = yield* find("rebuildProjection", name)
      const projections = yield* storeOf()
      const reset = projection.reset.bind(projection)
      const setup = projection.setup?.bind(projection)
      yield* fromStore("projections.reset", () =>
        projections.reset(name, (tx) => andThen(reset(tx), () => setup?.(tx))),
      ).pipe(locks.get(name)?.withPermits(1) ?? ((effect) => effect))
      setUp.add(name)
      return yield* catchUpWith(projection, batchOf(options))
    })

  const read: Projections["read"] = <A, Tx>(name: string, work: (tx: Tx) => A | Promise<A>) =>
    Effect.gen(function* () {
      yield* find("readProjection", name)
      if (typeof work !== "function")
        return yield* Effect.fail(
          new InvalidCommand({
            command: "readProjection",
            issues: [{ path: "read", message: "must be a function of the store's transaction handle" }],
          }),
        )
      const projections = yield* storeOf()
      return yield* fromStore("projections.read", () => projections.read(name, (tx) => work(tx as Tx)))
    })

  /**
   * The inline projections for an append of `prepared`: each applied to the
   * decided events of the appended ones, and the names the store applied.
   */
  const inlineFor = (prepared: ReadonlyArray<DecidedAppend>) => {
    const decided = prepared.flatMap(({ events }) => events)
    const applied = new Set<string>()
    const projections: InlineProjections = {
      names: inline.map((projection) => projection.name),
      erasure: decided.some((event) => erasureTags.has(event._tag)),
      apply: (name, tx, stored) => {
        const projection = byName.get(name)
        if (projection === undefined || stored.length !== decided.length)
          throw new StoreError({
            operation: `projection ${name}`,
            detail: `the store handed ${stored.length} appended events for ${decided.length} decided`,
          })
        applied.add(name)
        return applyAll(
          projection,
          stored.map((event, i) => projected(event, decided[i] as MemberEvent)),
          tx,
        )
      },
    }
    return { projections, applied }
  }

  /** After an append: the inline projections the store did not apply, caught up now; followers woken. */
  const afterAppend = (applied: ReadonlySet<string>) =>
    Effect.forEach(
      inline.filter((projection) => !applied.has(projection.name)),
      (projection) =>
        // The append stands; a projection that cannot catch up now is caught up by the next append.
        catchUpWith(projection, defaultProjectionBatch).pipe(Effect.ignore),
      { discard: true },
    ).pipe(Effect.zipRight(Effect.sync(wake)))

  const useInline = inline.length > 0 && store.projections !== undefined

  const append: Projections["append"] = (prepared) => {
    const projections = store.projections
    if (!useInline || projections === undefined)
      return fromStore("append", () => store.events.append(prepared.request)).pipe(Effect.tap(() => wake()))
    const { projections: running, applied } = inlineFor([prepared])
    return fromStore("append", () => projections.append(prepared.request, running)).pipe(
      Effect.tap(() => afterAppend(applied)),
    )
  }

  const appendBatch: Projections["appendBatch"] = (prepared) => {
    const projections = store.projections
    const requests = prepared.map(({ request }) => request)
    if (!useInline || projections === undefined) {
      const batch = store.events.appendBatch?.bind(store.events)
      if (batch === undefined)
        return Effect.fail(
          new StoreError({ operation: "appendBatch", detail: "the store appends no batches" }),
        )
      return fromStore("appendBatch", () => batch(requests)).pipe(Effect.tap(() => wake()))
    }
    const batch = projections.appendBatch?.bind(projections)
    if (batch === undefined)
      return Effect.fail(
        new StoreError({
          operation: "appendBatch",
          detail: "the store runs no inline projections in a batch",
        }),
      )
    const { projections: running, applied } = inlineFor(prepared)
    return fromStore("appendBatch", () => batch(requests, running)).pipe(
      Effect.tap(() => afterAppend(applied)),
    )
  }

  const start: Projections["start"] = Effect.gen(function* () {
    if (problem !== undefined) return yield* Effect.fail(problem)
    for (const projection of inline) yield* catchUpWith(projection, defaultProjectionBatch)
  })

  return {
    start,
    append,
    canBatch: !useInline || store.projections?.appendBatch !== undefined,
    appendBatch,
    catchUp,
    follow,
    rebuild,
    status: (name) => find("projectionStatus", name).pipe(Effect.flatMap(() => status(name))),
    read,
  }
}
