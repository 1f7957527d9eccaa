/**
 * The Lethe application service, composed: one context, one loader, one
 * pipeline, and the capabilities built on them (member commands,
 * messaging, erasure, rights, queries, retention, import), exposed as the
 * `Lethe` Effect service and its layer.
 *
 * @module
 */
import { Context, Effect, Layer } from "effect"
import type { LetheError } from "../errors.js"
import { checkKeyring } from "../sealing/keyring-check.js"
import { LetheStoreTag } from "../spi/store-layer.js"
import { guarded } from "./arguments.js"
import { serviceContext } from "./context.js"
import { erasure } from "./erasure.js"
import { contactImport } from "./import.js"
import { makeLoader } from "./loading.js"
import { makeLookups } from "./lookups.js"
import { memberCommands } from "./member-commands.js"
import { messaging } from "./messaging.js"
import type { LetheOptions } from "./options.js"
import { makePipeline } from "./pipeline.js"
import { queries } from "./queries.js"
import { retention } from "./retention.js"
import { rights } from "./rights.js"
import type { LetheService } from "./service.js"

/** Builds the service over a store (used by `Lethe.layer`). */
export const makeLethe = (options: LetheOptions): LetheService => buildLethe(options).service

/**
 * The service over a store, and what must run before it serves: the
 * projections' start (inline ones set up and caught up, docs/design.md §12).
 */
const buildLethe = (
  options: LetheOptions,
): { readonly service: LetheService; readonly start: Effect.Effect<void, LetheError> } => {
  const ctx = serviceContext(options)
  const pipeline = makePipeline(ctx, makeLoader(ctx, options), makeLookups(ctx), options)
  const service = guarded({
    config: ctx.config,
    ...memberCommands(pipeline),
    ...messaging(pipeline),
    ...erasure(pipeline),
    ...rights(pipeline),
    ...queries(pipeline),
    ...retention(pipeline),
    ...contactImport(pipeline),
    checkpoint: () => pipeline.checkpoints.write("requested"),
    catchUpProjection: (name, options) => pipeline.projections.catchUp(name, options),
    followProjection: (name, options) => pipeline.projections.follow(name, options),
    rebuildProjection: (name, options) => pipeline.projections.rebuild(name, options),
    projectionStatus: (name) => pipeline.projections.status(name),
    readProjection: (name, read) => pipeline.projections.read(name, read),
  })
  // What every instance's first command would otherwise do: read the last checkpoint, fetch the snapshot key.
  const warm = Effect.all([pipeline.checkpoints.start, pipeline.loader.start], { discard: true })
  return { service, start: Effect.zipRight(pipeline.projections.start, warm) }
}

/**
 * Builds the service over `options.store` and runs what must run before it
 * serves: the keyring check (`KeyringMismatch`, writing nothing) and the
 * projections' start.
 */
const startLethe = (options: LetheOptions): Effect.Effect<LetheService, LetheError> =>
  Effect.suspend(() => {
    const { service: lethe, start } = buildLethe(options)
    const keyCheck = options.keyCheck ?? "record"
    const checked =
      keyCheck === "skip"
        ? Effect.void
        : serviceContext(options).now.pipe(
            Effect.flatMap((now) => checkKeyring(options.store, options.keyring, now, keyCheck === "record")),
          )
    // Inline projections are caught up before the first append, so they never lag.
    return checked.pipe(Effect.zipRight(start), Effect.as(lethe))
  })

/**
 * The Lethe service tag. Build it with `Lethe.layer(options)` over a store
 * you opened, or with `Lethe.layerFromStore(options)` over a store's layer
 * (`SqliteStore.layer`, `PostgresStore.layer`, `MemoryStore.layer`), which
 * opens and closes it.
 *
 * @example
 * ```ts
 * const program = Effect.gen(function* () {
 *   const lethe = yield* Lethe
 *   const { memberId } = yield* lethe.register({ tenantId: "club", personal: { name: "Ada" }, source: "staff" })
 *   return yield* lethe.get(memberId)
 * })
 * Effect.runPromise(program.pipe(Effect.provide(Lethe.layer({ store: memoryStore(), keyring }))))
 * ```
 */
export class Lethe extends Context.Tag("@lethe/core/Lethe")<Lethe, LetheService>() {
  /**
   * Builds the service; the store is closed when the layer's scope ends.
   * Fails with `KeyringMismatch`, writing nothing and closing the store,
   * when the keyring is not the one the store was written with.
   */
  static layer(options: LetheOptions): Layer.Layer<Lethe, LetheError> {
    const close = Effect.tryPromise(() => options.store.close()).pipe(Effect.ignore)
    return Layer.scoped(
      Lethe,
      Effect.acquireRelease(startLethe(options).pipe(Effect.tapError(() => close)), () => close),
    )
  }

  /**
   * The store as an Effect service (`LetheStoreTag`): what a store's layer
   * provides and `Lethe.layerFromStore` consumes.
   */
  static readonly Store = LetheStoreTag

  /**
   * Builds the service over the store in the context, which a store's layer
   * provides and closes (`SqliteStore.layer`, `PostgresStore.layer`,
   * `MemoryStore.layer`): opening the store, the keyring check and the
   * projections' start are then all in the layer's error type.
   *
   * @example
   * ```ts
   * const LetheLive = Lethe.layerFromStore({ keyring }).pipe(
   *   Layer.provide(SqliteStore.layer({ filename: "./lethe.db" })),
   * ) // Layer<Lethe, LetheError>
   * ```
   */
  static layerFromStore(options: Omit<LetheOptions, "store">): Layer.Layer<Lethe, LetheError, Lethe.Store> {
    return Layer.effect(
      Lethe,
      Effect.flatMap(LetheStoreTag, (store) => startLethe({ ...options, store })),
    )
  }
}

/** The types that go with {@link Lethe}. */
export declare namespace Lethe {
  /** The store's Context tag, `Lethe.Store`. */
  type Store = LetheStoreTag
}
