/**
 * Registering a member and recording the business facts of their life:
 * personal data, profiling, contracts, wallet, debt cases, purchases,
 * instalments, activity, and restriction of processing.
 *
 * @module
 */
import { Effect } from "effect"
import { registerCommand, simple } from "./commands.js"
import { callOf, millis, result, toSource, validate } from "./context.js"
import type { Pipeline } from "./pipeline.js"
import type { LetheImplementation } from "./service.js"

/** The operations that register members and record business facts. */
export type MemberCommands = Pick<
  LetheImplementation,
  | "register"
  | "recordPersonalData"
  | "disableProfiling"
  | "enableProfiling"
  | "signContract"
  | "endContract"
  | "creditWallet"
  | "debitWallet"
  | "openDebtCase"
  | "closeDebtCase"
  | "recordPurchase"
  | "markPurchasePaid"
  | "recordMissedInstalment"
  | "markInstalmentPaid"
  | "recordActivity"
  | "restrictProcessing"
  | "liftRestriction"
>

/** A business fact's own date (R38), as the command takes it: absent when the input gives none. */
const occurred = (input: { readonly occurredAt?: Date }): { readonly occurredAt?: number | undefined } =>
  input.occurredAt === undefined ? {} : { occurredAt: millis(input.occurredAt) }

/** The member commands of one instance. */
export const memberCommands = (pipeline: Pipeline): MemberCommands => {
  const one = simple(pipeline)
  return {
    register: (input) =>
      Effect.gen(function* () {
        const memberId = pipeline.ctx.newId()
        const command = yield* validate(() => registerCommand(memberId, input ?? {}), {
          operation: "register",
        })
        // The e-mail is checked by the store, in the append (EmailTaken names who holds it).
        return result(
          yield* pipeline.execute(memberId, () => Effect.succeed([command]), callOf(input, input.source), {
            fresh: true,
          }),
        )
      }),
    recordPersonalData: one(
      (input) => ({
        _tag: "RecordPersonalData",
        category: input.category,
        fields: input.fields,
        source: toSource(input.source),
      }),
      (input) => input.source,
    ),
    disableProfiling: one(() => ({ _tag: "DisableProfiling" })),
    enableProfiling: one(() => ({ _tag: "EnableProfiling" })),
    signContract: one((input) => ({
      _tag: "SignContract",
      contractId: input.contractId,
      clubId: input.clubId,
      startsAt: millis(input.startsAt),
      endsAt: input.endsAt === undefined || input.endsAt === null ? null : millis(input.endsAt),
      ...occurred(input),
    })),
    endContract: one((input) => ({ _tag: "EndContract", contractId: input.contractId, ...occurred(input) })),
    creditWallet: one((input) => ({ _tag: "CreditWallet", amount: input.amount, ...occurred(input) })),
    debitWallet: one((input) => ({ _tag: "DebitWallet", amount: input.amount, ...occurred(input) })),
    openDebtCase: one((input) => ({
      _tag: "OpenDebtCase",
      caseId: input.caseId,
      clubId: input.clubId,
      ...occurred(input),
    })),
    closeDebtCase: one((input) => ({ _tag: "CloseDebtCase", caseId: input.caseId, ...occurred(input) })),
    recordPurchase: one((input) => ({
      _tag: "RecordPurchase",
      purchaseId: input.purchaseId,
      amount: input.amount,
      paid: input.paid,
      ...occurred(input),
    })),
    markPurchasePaid: one((input) => ({
      _tag: "MarkPurchasePaid",
      purchaseId: input.purchaseId,
      ...occurred(input),
    })),
    recordMissedInstalment: one((input) => ({
      _tag: "RecordMissedInstalment",
      instalmentId: input.instalmentId,
      clubId: input.clubId,
      amount: input.amount,
      ...occurred(input),
    })),
    markInstalmentPaid: one((input) => ({
      _tag: "MarkInstalmentPaid",
      instalmentId: input.instalmentId,
      ...occurred(input),
    })),
    recordActivity: one((input) => ({
      _tag: "RecordActivity",
      kind: input.kind,
      clubId: input.clubId ?? null,
      details: input.details ?? {},
      ...occurred(input),
    })),
    restrictProcessing: one((input) => ({ _tag: "RestrictProcessing", reason: input.reason })),
    liftRestriction: one(() => ({ _tag: "LiftRestriction" })),
  }
}
