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
  return { service, start: pipeline.projections.start }
}

/**
 * The Lethe service tag. Build it with `Lethe.layer(options)`.
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
    const close = Effect.promise(() => options.store.close()).pipe(Effect.ignore)
    return Layer.scoped(
      Lethe,
      Effect.acquireRelease(
        Effect.suspend(() => {
          const { service: lethe, start } = buildLethe(options)
          const keyCheck = options.keyCheck ?? "record"
          const checked =
            keyCheck === "skip"
              ? Effect.void
              : serviceContext(options).now.pipe(
                  Effect.flatMap((now) =>
                    checkKeyring(options.store, options.keyring, now, keyCheck === "record"),
                  ),
                )
          // Inline projections are caught up before the first append, so they never lag.
          return checked.pipe(
            Effect.zipRight(start),
            Effect.tapError(() => close),
            Effect.as(lethe),
          )
        }),
        () => close,
      ),
    )
  }
}
