/**
 * Retention: the built-in rules and the given policies, planned from
 * directory queries and applied member by member through the domain's
 * commands and guards, as Lethe's own actor (R12, R15, R20, R23, R24, R25, R29).
 *
 * @module
 */
import { Effect, Either, Schema } from "effect"
import type { LetheError } from "../errors.js"
import { InvalidCommand, RetentionBlocked } from "../errors.js"
import { absurd } from "../member/state.js"
import type { RetentionAction } from "../retention/plan.js"
import { builtInRetentionRules, retentionSteps } from "../retention/plan.js"
import { RetentionPolicy } from "../retention/policies.js"
import { runRetentionSteps } from "../retention/run.js"
import { fromStore } from "../spi/store-call.js"
import type { Call } from "./context.js"
import { retentionPageSize, validate } from "./context.js"
import { clip, issuesOf } from "./issues.js"
import { retentionActor } from "./options.js"
import type { Executed, Pipeline } from "./pipeline.js"
import type { LetheImplementation } from "./service.js"

const decodePolicies = Schema.decodeUnknownEither(
  Schema.Struct({ policies: Schema.Array(RetentionPolicy) }),
  {
    errors: "all",
  },
)

/**
 * Policies decoded, their ids unique and distinct from the built-in rules';
 * `InvalidCommand` otherwise, naming `command` and each policy's problem
 * (`runRetention: policies[0].months must be an integer (got 1.5)`).
 */
export const validatePolicies = (
  policies: ReadonlyArray<unknown>,
  command = "runRetention",
): Effect.Effect<ReadonlyArray<RetentionPolicy>, InvalidCommand> => {
  const decoded = decodePolicies({ policies })
  if (Either.isLeft(decoded))
    return Effect.fail(new InvalidCommand({ command, issues: issuesOf(decoded.left, { policies }) }))
  const ids = [...builtInRetentionRules, ...decoded.right.policies.map((p) => p.id)]
  const repeated = [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))]
  if (repeated.length === 0) return Effect.succeed(decoded.right.policies)
  return Effect.fail(
    new InvalidCommand({
      command,
      issues: [
        {
          path: "policies",
          message: `must have unique ids, none a built-in rule's (repeated: ${clip(repeated.join(", "), 80)})`,
        },
      ],
    }),
  )
}

/** The retention operation of one instance. */
export const retention = (pipeline: Pipeline): Pick<LetheImplementation, "runRetention"> => {
  const { ctx, run, execute } = pipeline

  /** One member's retention action, through the domain commands and their guards. */
  const applyRetention = (
    memberId: string,
    action: RetentionAction,
    call: Call,
  ): Effect.Effect<Pick<Executed, "erasure" | "warnings">, LetheError> => {
    switch (action._tag) {
      case "FinishErasure":
        return pipeline.finishErasure(memberId).pipe(Effect.map((erasure) => ({ erasure, warnings: [] })))
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
        const batchSize = options.batchSize ?? retentionPageSize
        const correlationId = ctx.newId()
        const call: Call = { actor: retentionActor, correlationId }
        const dryRun = options.dryRun === true
        // One checkpoint at the end of the run, not one per member erased (R41).
        const report = yield* pipeline.checkpoints.deferring(
          runRetentionSteps(
            retentionSteps(yield* ctx.now, ctx.config, policies, ctx.store.keys),
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
              dryRun,
              batchSize,
              ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
            },
          ),
        )
        // Never fails the run: a checkpoint not written stays due (see `Checkpoints.settle`).
        if (!dryRun) yield* pipeline.checkpoints.write("retention").pipe(Effect.ignore)
        return report
      }),
  }
}
