/**
 * Erasure: forgetting members (one or many) and restoring them within the
 * window, purging, anonymizing, erasing categories of personal data, and
 * the signed receipts: "erasure scheduled" from `forget`, the final one
 * after a purge or an anonymization (R10, `receipt-issuer.ts`).
 * The shredding itself runs in the pipeline, after the erasure event.
 *
 * @module
 */
import { Effect, Either } from "effect"
import type { ScheduledErasureReceipt } from "../audit/receipt.js"
import { leavingCommand, simple } from "./commands.js"
import { callOf, result } from "./context.js"
import type { BulkOutcome, CommandResult, ForgetInput } from "./inputs.js"
import type { Executed, Pipeline } from "./pipeline.js"
import { receiptIssuer } from "./receipt-issuer.js"
import type { LetheImplementation } from "./service.js"

/** The erasure operations. */
export type Erasure = Pick<
  LetheImplementation,
  "forget" | "forgetMany" | "restore" | "purge" | "anonymize" | "erasePersonalData" | "erasureReceipt"
>

/** The erasure operations of one instance. */
export const erasure = (pipeline: Pipeline): Erasure => {
  const { run, loader } = pipeline
  const one = simple(pipeline)
  const receipts = receiptIssuer(pipeline)
  /**
   * Runs an erasure and records its receipt before the checkpoint the
   * erasure is due, so that checkpoint covers the receipt too (R10, R41).
   */
  const withReceipt = <E, R>(memberId: string, effect: Effect.Effect<Executed, E, R>) =>
    pipeline.checkpoints
      .deferring(
        Effect.flatMap(effect, (executed) =>
          receipts.issue(memberId, executed.erasure).pipe(Effect.map((receipt) => ({ executed, receipt }))),
        ),
      )
      .pipe(Effect.ensuring(pipeline.checkpoints.settle))
  const forget = (memberId: string, input: ForgetInput) =>
    run(
      memberId,
      () => ({ _tag: "Forget", requestId: input.requestId ?? null, ...leavingCommand(input.leaving) }),
      callOf(input),
    ).pipe(
      (forgetting) => withReceipt(memberId, forgetting),
      Effect.map(({ executed, receipt }) => ({
        ...result(executed),
        receipt: receipt as ScheduledErasureReceipt,
      })),
    )
  return {
    forget,
    // One checkpoint after the whole batch, not one per member (R41).
    forgetMany: (memberIds, input) =>
      pipeline.checkpoints
        .deferring(
          Effect.forEach(memberIds, (memberId, i) =>
            forget(memberId, input).pipe(
              Effect.either,
              Effect.map(
                (outcome): BulkOutcome<CommandResult> =>
                  Either.isRight(outcome)
                    ? { memberId, ok: true, result: outcome.right }
                    : { memberId, ok: false, error: outcome.left },
              ),
              Effect.tap((outcome) =>
                Effect.sync(() =>
                  input.onProgress?.({ done: i + 1, total: memberIds.length, memberId, ok: outcome.ok }),
                ),
              ),
            ),
          ),
        )
        .pipe(Effect.tap(() => pipeline.checkpoints.settle)),
    restore: one(() => ({ _tag: "Restore", by: "staff" })),
    purge: (memberId, input) =>
      // The final receipt, recorded in the log once the keys are destroyed (R10).
      withReceipt(
        memberId,
        run(memberId, () => ({ _tag: "Purge" }), callOf(input)),
      ).pipe(Effect.map(({ executed }) => ({ ...result(executed), erasure: executed.erasure }))),
    anonymize: (memberId, input) =>
      run(
        memberId,
        () => ({
          _tag: "Anonymize",
          confirmEmail: input.confirmEmail ?? null,
          policyId: null,
          requestId: input.requestId ?? null,
        }),
        callOf(input),
      ).pipe(
        // Anonymized before, but the keys of that erasure are still live (it was interrupted): finish it.
        Effect.catchTag("AnonymizationBlocked", (blocked) =>
          blocked.reasons.includes("AlreadyAnonymized")
            ? pipeline.finishErasure(memberId).pipe(
                Effect.flatMap((report) =>
                  report === null || report.keyIdsDestroyed.length + report.sealedValuesRemoved === 0
                    ? Effect.fail(blocked)
                    : loader.loadExisting(memberId).pipe(
                        Effect.map(
                          (loaded): Executed => ({
                            memberId,
                            state: loaded.state,
                            version: loaded.version,
                            events: [],
                            warnings: [],
                            erasure: report,
                          }),
                        ),
                      ),
                ),
              )
            : Effect.fail(blocked),
        ),
        (anonymizing) => withReceipt(memberId, anonymizing),
        Effect.map(({ executed }) => {
          const anonymized = executed.events.find((e) => e._tag === "Anonymized")
          return {
            ...result(executed),
            warnings: executed.warnings,
            erasedCategories: anonymized?.erasedCategories ?? [],
            keptCategories: anonymized?.keptCategories ?? [],
            erasure: executed.erasure,
          }
        }),
      ),
    erasePersonalData: one((input) => ({
      _tag: "ErasePersonalData",
      categories: input.categories,
      reason: input.reason,
    })),
    erasureReceipt: (memberId) => receipts.issue(memberId),
  }
}
