/**
 * Retention: the built-in rules and the given policies, planned from
 * directory queries and applied member by member through the domain's
 * commands and guards, as Lethe's own actor (R12, R15, R20, R23, R24, R25, R29).
 *
 * @module
 */
import { Effect, ParseResult, Schema } from "effect"
import type { LetheError } from "../errors.js"
import { InvalidCommand, RetentionBlocked } from "../errors.js"
import { absurd } from "../member/state.js"
import type { RetentionAction } from "../retention/plan.js"
import { builtInRetentionRules, retentionSteps } from "../retention/plan.js"
import { RetentionPolicy } from "../retention/policies.js"
import { runRetentionSteps } from "../retention/run.js"
import { fromStore } from "../spi/store-call.js"
import type { Call } from "./context.js"
import { pageSize, validate } from "./context.js"
import { retentionActor } from "./options.js"
import type { Executed, Pipeline } from "./pipeline.js"
import type { LetheService } from "./service.js"

/** Policies decoded, their ids unique and distinct from the built-in rules'; `InvalidCommand` otherwise. */
export const validatePolicies = (
  policies: ReadonlyArray<unknown>,
  command = "runRetention",
): Effect.Effect<ReadonlyArray<RetentionPolicy>, InvalidCommand> =>
  Schema.decodeUnknown(Schema.Array(RetentionPolicy))(policies).pipe(
    Effect.mapError(
      (e) => new InvalidCommand({ command, issues: ParseResult.TreeFormatter.formatErrorSync(e) }),
    ),
    Effect.filterOrFail(
      (decoded) => {
        const ids = [...builtInRetentionRules, ...decoded.map((p) => p.id)]
        return new Set(ids).size === ids.length
      },
      () =>
        new InvalidCommand({
          command,
          issues: "policy ids must be unique and differ from the built-in rules",
        }),
    ),
  )

/** The retention operation of one instance. */
export const retention = (pipeline: Pipeline): Pick<LetheService, "runRetention"> => {
  const { ctx, run, execute } = pipeline

  /** One member's retention action, through the domain commands and their guards. */
  const applyRetention = (
    memberId: string,
    action: RetentionAction,
    call: Call,
  ): Effect.Effect<Executed, LetheError> => {
    switch (action._tag) {
      case "Purge":
        return run(memberId, () => ({ _tag: "Purge" }), call)
      case "EraseInvoices":
        return run(
          memberId,
          () => ({ _tag: "ErasePersonalData", categories: ["invoice"], reason: "invoice retention ended" }),
          call,
        )
      case "Anonymize":
        // No subject confirmation: the domain lets Lethe's own actor skip it for a policy (R9, R20).
        return run(
          memberId,
          () => ({ _tag: "Anonymize", confirmEmail: null, policyId: action.policyId, requestId: null }),
          call,
        )
      case "Forget":
        // Staff may forget a restricted member on request; a policy may not (art. 18(1)(b, c), R23).
        return execute(
          memberId,
          (loaded) =>
            loaded.state.restriction !== null
              ? Effect.fail(
                  new RetentionBlocked({
                    memberId,
                    policyId: action.policyId,
                    reasons: ["ProcessingRestricted"],
                  }),
                )
              : validate(() => ({ _tag: "Forget", requestId: null })).pipe(
                  Effect.map((command) => [command]),
                ),
          call,
        )
      default:
        return absurd(action)
    }
  }

  return {
    runRetention: (options = {}) =>
      Effect.gen(function* () {
        const policies = yield* validatePolicies(options.policies ?? [])
        const batchSize = options.batchSize ?? pageSize
        const correlationId = ctx.newId()
        const call: Call = { actor: retentionActor, correlationId }
        return yield* runRetentionSteps(
          retentionSteps(yield* ctx.now, ctx.config, policies),
          {
            page: (step, after) =>
              fromStore("directory", () =>
                step.query(ctx.store.directory, {
                  limit: batchSize,
                  ...(after === undefined ? {} : { after }),
                }),
              ),
            apply: (memberId, action) =>
              applyRetention(memberId, action, call).pipe(
                Effect.map((executed) => ({ erasure: executed.erasure, warnings: executed.warnings })),
              ),
          },
          {
            correlationId,
            dryRun: options.dryRun === true,
            batchSize,
            ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
          },
        )
      }),
  }
}
