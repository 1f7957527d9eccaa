/**
 * Erasure: forgetting members (one or many) and restoring them within the
 * window, purging, anonymizing, erasing categories of personal data, and
 * the signed receipt of what a purge or an anonymization destroyed (R10).
 * The shredding itself runs in the pipeline, after the erasure event.
 *
 * @module
 */
import { Effect, Either } from "effect"
import { NotErased } from "../errors.js"
import { fromStore } from "../spi/store-call.js"
import { leavingCommand, simple } from "./commands.js"
import { callOf, result } from "./context.js"
import type { BulkOutcome, CommandResult, ForgetInput } from "./inputs.js"
import type { Executed, Pipeline } from "./pipeline.js"
import type { ErasureReceipt } from "./receipt.js"
import { receiptPayload } from "./receipt.js"
import type { LetheService } from "./service.js"

/** The erasure operations. */
export type Erasure = Pick<
  LetheService,
  "forget" | "forgetMany" | "restore" | "purge" | "anonymize" | "erasePersonalData" | "erasureReceipt"
>

const iso = (ms: number) => new Date(ms).toISOString()

/** How many values of a stored event's data are in erased form. */
const countErased = (data: unknown): number => {
  if (data === null || typeof data !== "object") return 0
  if ("_tag" in data && data._tag === "Erased") return 1
  return Object.values(data).reduce((n: number, inner) => n + countErased(inner), 0)
}

/** The erasure operations of one instance. */
export const erasure = (pipeline: Pipeline): Erasure => {
  const { ctx, run, loader } = pipeline
  const one = simple(pipeline)
  const forget = (memberId: string, input: ForgetInput) =>
    run(
      memberId,
      () => ({ _tag: "Forget", requestId: input.requestId ?? null, ...leavingCommand(input.leaving) }),
      callOf(input),
    ).pipe(Effect.map(result))
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
      run(memberId, () => ({ _tag: "Purge" }), callOf(input)).pipe(
        Effect.map((executed) => ({ ...result(executed), erasure: executed.erasure })),
      ),
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
        Effect.map((executed) => {
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
    erasureReceipt: (memberId) =>
      Effect.gen(function* () {
        const { history = [], state } = yield* loader.loadExisting(memberId, undefined, { history: true })
        const stored = history.map((recorded) => recorded.stored)
        let erasedAt = 0
        let erasedBy = ""
        for (const event of stored) {
          if (event.type === "Purged" || event.type === "Anonymized") {
            erasedAt = event.recordedAt
            erasedBy = event.metadata.actor
          }
        }
        if (state.status !== "purged" && state.status !== "anonymized")
          return yield* Effect.fail(new NotErased({ memberId, status: state.status }))
        const entries = yield* fromStore("keys.listForMember", () => ctx.store.keys.listForMember(memberId))
        const head = stored.at(-1)
        const unsigned: Omit<ErasureReceipt, "signature"> = {
          format: "lethe-erasure-receipt/1",
          memberId,
          tenantId: state.tenantId,
          status: state.status,
          erasedAt: iso(erasedAt),
          erasedBy,
          keys: entries
            .flatMap((e) =>
              e._tag === "Destroyed"
                ? [
                    {
                      keyId: e.tombstone.keyId,
                      category: e.tombstone.category,
                      destroyedAt: iso(e.tombstone.destroyedAt),
                    },
                  ]
                : [],
            )
            .sort((a, b) => (a.keyId < b.keyId ? -1 : 1)),
          keptCategories: entries.flatMap((e) => (e._tag === "Live" ? [e.key.category] : [])).sort(),
          sealedValuesRemoved: stored.reduce((n, e) => n + countErased(e.data), 0),
          streamHead: { version: head?.version ?? 0, hash: head?.hash ?? "" },
          issuedAt: iso(yield* ctx.now),
        }
        const signature = yield* fromStore("signReceipt", () =>
          ctx.keyring.signReceipt(receiptPayload(unsigned)),
        )
        return { ...unsigned, signature: Buffer.from(signature).toString("base64") }
      }),
  }
}
