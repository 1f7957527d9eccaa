/**
 * `decide(state, command, context)`: the member's business and legal rules.
 * Pure: it reads no clock and no random source; `context.now` and the ids in
 * the command are all it knows. It returns the events to append with any
 * warnings, or a refusal that lists every reason at once. A refusal never
 * carries events.
 *
 * @module
 */
import { Either } from "effect"
import type { AnonymizationWarning, DomainError } from "../errors.js"
import {
  AnonymizationBlocked,
  BasisNotAllowed,
  DuplicateReference,
  ErasureBlocked,
  ExplicitConsentRequired,
  ExplicitFlagRequired,
  InsufficientFunds,
  InvalidCommand,
  MemberErased,
  MemberNotFound,
  MessageRefused,
  NothingToRestore,
  NotPermitted,
  NotPurgeable,
  RestoreWindowExpired,
  UnknownPurpose,
  UnknownReference,
  UnknownWordingVersion,
  WalletLimitExceeded,
} from "../errors.js"
import type { CommandOf, MemberCommand } from "./commands.js"
import type { DecideContext, Permission, PurposeDefinition } from "./config.js"
import { clockSkew, dayMs, purposeDefinition, systemRole } from "./config.js"
import type { LeavingReason, MemberEvent, PersonalCategory, PersonalFields } from "./events.js"
import { freeTextCategory, retainedOnAnonymization } from "./events.js"
import {
  anonymizationBlockers,
  anonymizationWarnings,
  basisInForce,
  erasureBlockers,
  isErased,
  isPermitted,
  isPurgeable,
  isRestorable,
  messagingBlockers,
  missingExplicitConsent,
} from "./guards.js"
import type { MemberState } from "./state.js"
import { absurd, keptByLaw } from "./state.js"

/** What an accepted command produces. */
export interface Decision {
  readonly events: ReadonlyArray<MemberEvent>
  readonly warnings: ReadonlyArray<AnonymizationWarning>
}

/**
 * What `decide` returns: the decision on the right, or the error that refuses the command on the left.
 *
 * @inline
 */
type Result = Either.Either<Decision, DomainError>

const accept = (...events: ReadonlyArray<MemberEvent>): Result => Either.right({ events, warnings: [] })
const refuse = (error: DomainError): Result => Either.left(error)
/** An accepted command with nothing to record (e.g. withdrawing a consent already withdrawn). */
const unchanged: Result = accept()

const requirePermission = (ctx: DecideContext, permission: Permission): NotPermitted | undefined =>
  isPermitted(ctx.actor, permission, ctx.config)
    ? undefined
    : new NotPermitted({ actorId: ctx.actor.id, permission })

/** Refuses an erasure of a member whose data is restricted, with every reason (R23). */
const erasureBlocked = (state: MemberState, command: MemberCommand): ErasureBlocked | undefined => {
  const [first, ...rest] = erasureBlockers(state)
  return first === undefined
    ? undefined
    : new ErasureBlocked({ memberId: state.memberId, attempted: command._tag, reasons: [first, ...rest] })
}

const erased = (state: MemberState, command: MemberCommand): MemberErased | undefined =>
  isErased(state)
    ? new MemberErased({ memberId: state.memberId, status: state.status, attempted: command._tag })
    : undefined

const purposeOf = (ctx: DecideContext, purpose: string): PurposeDefinition | undefined =>
  purposeDefinition(ctx.config.consentCatalogue, purpose)

/** Why the person leaves and their words (R44), as the command gives them: absent fields stay absent. */
const leavingOf = (
  command: CommandOf<"Unsubscribe" | "WithdrawConsent" | "Forget">,
): { readonly why?: LeavingReason; readonly note?: string } => ({
  ...(command.why === undefined ? {} : { why: command.why }),
  ...(command.note === undefined ? {} : { note: command.note }),
})

/**
 * The `occurredAt` a business fact records (R38): none when the command gives none (so the event is the
 * same as before dates of their own existed); refused with `InvalidCommand` when it lies in the future
 * (beyond the clocks' skew), before the member's registration (a registration itself may be dated any time
 * before now), or before the member's data was last erased or the member restored (history must not flow
 * back into what was erased); one within the skew is recorded as now.
 */
const occurredAtOf = (
  state: MemberState,
  command: MemberCommand,
  now: number,
): Either.Either<{ readonly occurredAt?: number }, InvalidCommand> => {
  const occurredAt = "occurredAt" in command ? command.occurredAt : undefined
  if (occurredAt === undefined) return Either.right({})
  const wrong = (message: string) =>
    Either.left(
      new InvalidCommand({
        command: command._tag,
        issues: [{ path: "occurredAt", message: `${message} (got ${new Date(occurredAt).toISOString()})` }],
      }),
    )
  if (occurredAt > now + clockSkew) return wrong("must not be in the future")
  if (!state.exists) return Either.right({ occurredAt: Math.min(occurredAt, now) })
  if (occurredAt < state.registeredAt)
    return wrong(
      `must not be before the member's registration, ${new Date(state.registeredAt).toISOString()}`,
    )
  if (state.lastErasureAt !== null && occurredAt < state.lastErasureAt)
    return wrong(
      `must not be before the member's last erasure, ${new Date(state.lastErasureAt).toISOString()}`,
    )
  return Either.right({ occurredAt: Math.min(occurredAt, now) })
}

/** Runs the checks in order and refuses with the first that fails, else decides. */
const guarded = (checks: ReadonlyArray<DomainError | undefined>, then: () => Result): Result => {
  for (const check of checks) if (check !== undefined) return refuse(check)
  return then()
}

const missing = (state: MemberState, kind: string, id: string) =>
  new UnknownReference({ memberId: state.memberId, kind, id })
const duplicate = (state: MemberState, kind: string, id: string) =>
  new DuplicateReference({ memberId: state.memberId, kind, id })

/** Categories an anonymization erases: every one the member has data in, but those kept by law (R24). */
const categoriesToErase = (state: MemberState): ReadonlyArray<PersonalCategory> => {
  const present = new Set(Object.keys(state.personal) as Array<PersonalCategory>)
  const activities =
    state.counts.visit + state.counts.class + state.counts.transaction + state.counts["page-view"]
  if (activities > 0) present.add("activity")
  return [...present].filter((c) => !retainedOnAnonymization.has(c)).sort()
}

const registerEvents = (
  command: CommandOf<"Register">,
  now: number,
  occurred: { readonly occurredAt?: number },
): ReadonlyArray<MemberEvent> => {
  const { name, email, phone } = command.personal
  const identity: PersonalFields = name === undefined ? {} : { name }
  const contact: PersonalFields = {
    ...(email === undefined ? {} : { email }),
    ...(phone === undefined ? {} : { phone }),
  }
  const data = (category: PersonalCategory, fields: PersonalFields): ReadonlyArray<MemberEvent> =>
    Object.keys(fields).length === 0
      ? []
      : [{ _tag: "PersonalDataRecorded", at: now, category, fields, source: command.source }]
  return [
    {
      _tag: "MemberRegistered",
      at: now,
      ...occurred,
      memberId: command.memberId,
      tenantId: command.tenantId,
      source: command.source,
    },
    ...data("identity", identity),
    ...data("contact", contact),
  ]
}

const decideConsent = (command: CommandOf<"GiveConsent">, ctx: DecideContext): Result => {
  const definition = purposeOf(ctx, command.purpose)
  if (definition === undefined) return refuse(new UnknownPurpose({ purpose: command.purpose }))
  if (!definition.wordingVersions.includes(command.wordingVersion))
    return refuse(
      new UnknownWordingVersion({
        purpose: command.purpose,
        wordingVersion: command.wordingVersion,
        known: definition.wordingVersions,
      }),
    )
  const basis = command.basis ?? definition.bases[0] ?? "consent"
  if (!definition.bases.includes(basis))
    return refuse(new BasisNotAllowed({ purpose: command.purpose, basis, allowed: definition.bases }))
  if (definition.explicit && !command.explicit)
    return refuse(new ExplicitFlagRequired({ purpose: command.purpose }))
  return accept({
    _tag: "ConsentGiven",
    at: ctx.now,
    purpose: command.purpose,
    basis,
    explicit: command.explicit,
    method: command.method,
    wordingVersion: command.wordingVersion,
    source: command.source,
    givenAt: Math.min(command.givenAt ?? ctx.now, ctx.now),
  })
}

const decideAnonymize = (state: MemberState, command: CommandOf<"Anonymize">, ctx: DecideContext): Result => {
  if (state.status === "forgotten" || state.status === "purged")
    return refuse(
      new MemberErased({ memberId: state.memberId, status: state.status, attempted: command._tag }),
    )
  const [first, ...rest] = anonymizationBlockers(state, ctx.now, {
    // Only Lethe's own jobs may skip the subject's confirmation, never a staff member naming a policy.
    policyRun: command.policyId !== null && ctx.actor.roles.includes(systemRole),
    confirmEmail: command.confirmEmail,
  })
  if (first !== undefined)
    return refuse(new AnonymizationBlocked({ memberId: state.memberId, reasons: [first, ...rest] }))
  if (command.requestId !== null && state.requests[command.requestId]?.kind !== "erasure")
    return refuse(missing(state, "erasure request", command.requestId))
  const erasedCategories = categoriesToErase(state)
  const keptCategories = keptByLaw(state)
  return Either.right({
    events: [
      {
        _tag: "Anonymized",
        at: ctx.now,
        erasedCategories,
        keptCategories,
        policyId: command.policyId,
        requestId: command.requestId,
      },
    ],
    warnings: anonymizationWarnings(state, ctx.config),
  })
}

const decideMessage = (state: MemberState, command: CommandOf<"SendMessage">, ctx: DecideContext): Result => {
  const definition = purposeOf(ctx, command.purpose)
  const [first, ...rest] = messagingBlockers(state, definition)
  if (first !== undefined)
    return refuse(
      new MessageRefused({ memberId: state.memberId, purpose: command.purpose, reasons: [first, ...rest] }),
    )
  const lawfulBasis = definition === undefined ? null : basisInForce(state, definition)
  if (lawfulBasis === null) return refuse(new UnknownPurpose({ purpose: command.purpose }))
  return accept({
    _tag: "MessageSent",
    at: ctx.now,
    messageId: command.messageId,
    purpose: command.purpose,
    channel: command.channel,
    sentBy: command.sentBy,
    test: command.test,
    lawfulBasis,
  })
}

const decideRestore = (state: MemberState, command: CommandOf<"Restore">, ctx: DecideContext): Result => {
  if (command.by === "staff") {
    const denied = requirePermission(ctx, "member:restore")
    if (denied !== undefined) return refuse(denied)
  }
  if (state.status === "active") return refuse(new NothingToRestore({ memberId: state.memberId }))
  if (!isRestorable(state, ctx.now))
    return refuse(
      new RestoreWindowExpired({
        memberId: state.memberId,
        status: state.status,
        restorableUntil: state.restorableUntil,
      }),
    )
  return accept({ _tag: "Restored", at: ctx.now, by: command.by })
}

const requestEvent = (
  state: MemberState,
  command: CommandOf<"RequestErasure"> | CommandOf<"RequestAccess">,
  ctx: DecideContext,
): Result => {
  if (state.requests[command.requestId] !== undefined)
    return refuse(duplicate(state, "request", command.requestId))
  const erasure = command._tag === "RequestErasure"
  const days = erasure ? ctx.config.erasureDeadlineDays : ctx.config.accessDeadlineDays
  const systems = [...new Set(command.systems ?? [])]
  const fields = {
    at: ctx.now,
    requestId: command.requestId,
    receivedAt: command.receivedAt,
    dueBy: command.receivedAt + days * dayMs,
    via: command.via,
    // Absent when there are none, so such a request's event is the one recorded before R14's tracking.
    ...(systems.length === 0 ? {} : { systems }),
  }
  return accept(erasure ? { _tag: "ErasureRequested", ...fields } : { _tag: "AccessRequested", ...fields })
}

/**
 * An other system's confirmation of its part of a request (R14), by whoever may fulfil the request. Allowed
 * whatever the member's status: the systems often confirm after the member was forgotten or purged.
 */
const decideConfirmSystem = (
  state: MemberState,
  command: CommandOf<"ConfirmSystem">,
  ctx: DecideContext,
): Result => {
  const request = Object.hasOwn(state.requests, command.requestId)
    ? state.requests[command.requestId]
    : undefined
  if (request === undefined) return refuse(missing(state, "request", command.requestId))
  const denied = requirePermission(ctx, request.kind === "erasure" ? "member:forget" : "member:export")
  if (denied !== undefined) return refuse(denied)
  if (!request.systems.includes(command.system)) return refuse(missing(state, "system", command.system))
  if (request.confirmations.some((c) => c.system === command.system)) return unchanged
  // A note is sealed under the member's notes key, which a purge or an anonymization destroyed.
  if (command.note !== undefined && (state.status === "purged" || state.status === "anonymized"))
    return refuse(
      new InvalidCommand({
        command: command._tag,
        issues: [
          {
            path: "note",
            message: `must be left out: the member is ${state.status}, so no free text about them can be recorded`,
          },
        ],
      }),
    )
  return accept({
    _tag: "SystemConfirmed",
    at: ctx.now,
    requestId: command.requestId,
    system: command.system,
    ...(command.note === undefined ? {} : { note: command.note }),
  })
}

/**
 * Decides a command against the member's state.
 *
 * @example
 * ```ts
 * const result = decide(state, { _tag: "Anonymize", confirmEmail: "a@x.org", policyId: null, requestId: null }, ctx)
 * if (Either.isLeft(result)) console.log(result.left._tag) // "AnonymizationBlocked"
 * ```
 */
export const decide = (state: MemberState, command: MemberCommand, ctx: DecideContext): Result => {
  const now = ctx.now
  if (command._tag === "Register") {
    if (state.exists) return refuse(duplicate(state, "member", command.memberId))
    const dated = occurredAtOf(state, command, now)
    return Either.isLeft(dated) ? refuse(dated.left) : accept(...registerEvents(command, now, dated.right))
  }
  if (!state.exists) return refuse(new MemberNotFound({ memberId: state.memberId }))
  const dated = occurredAtOf(state, command, now)
  if (Either.isLeft(dated)) return refuse(dated.left)
  const occurred = dated.right

  switch (command._tag) {
    case "RecordPersonalData":
      return guarded([erased(state, command)], () => {
        const consent = missingExplicitConsent(state, command.category, ctx.config)
        if (consent.missing)
          return refuse(
            new ExplicitConsentRequired({
              memberId: state.memberId,
              category: command.category,
              purposes: consent.purposes,
            }),
          )
        return accept({
          _tag: "PersonalDataRecorded",
          at: now,
          category: command.category,
          fields: command.fields,
          source: command.source,
        })
      })
    case "ErasePersonalData":
      return guarded([requirePermission(ctx, "member:forget")], () => {
        const categories = command.categories.filter(
          (c) => state.personal[c] !== undefined || (c === freeTextCategory && state.freeText),
        )
        if (categories.length === 0) return unchanged
        const blocked = erasureBlocked(state, command)
        if (blocked !== undefined) return refuse(blocked)
        // A purged or anonymized member's notes key is gone, and no new key is minted for them: the
        // reason (the end of a legal hold's retention) is recorded in erased form (R37, R29).
        const erased = state.status === "purged" || state.status === "anonymized"
        return accept({
          _tag: "PersonalDataErased",
          at: now,
          categories,
          reason: erased ? { _tag: "Erased", category: freeTextCategory } : command.reason,
        })
      })
    case "GiveConsent":
      return guarded([erased(state, command)], () => decideConsent(command, ctx))
    case "WithdrawConsent":
      return guarded([erased(state, command)], () => {
        if (purposeOf(ctx, command.purpose) === undefined)
          return refuse(new UnknownPurpose({ purpose: command.purpose }))
        const consent = state.consents[command.purpose]
        return consent === undefined || consent.withdrawnAt !== null
          ? unchanged
          : accept({
              _tag: "ConsentWithdrawn",
              at: now,
              purpose: command.purpose,
              source: command.source,
              ...leavingOf(command),
            })
      })
    case "Unsubscribe":
      return guarded([erased(state, command)], () => {
        if (purposeOf(ctx, command.purpose) === undefined)
          return refuse(new UnknownPurpose({ purpose: command.purpose }))
        return state.unsubscribed[command.purpose] !== undefined
          ? unchanged
          : accept({
              _tag: "Unsubscribed",
              at: now,
              purpose: command.purpose,
              ...occurred,
              via: command.via,
              ...leavingOf(command),
            })
      })
    case "Suppress":
      return guarded([erased(state, command)], () =>
        state.suppression !== null
          ? unchanged
          : accept({
              _tag: "ContactSuppressed",
              at: now,
              ...occurred,
              reason: command.reason,
              source: command.source,
            }),
      )
    case "DisableProfiling":
      return guarded([erased(state, command)], () =>
        state.profiling ? accept({ _tag: "ProfilingDisabled", at: now }) : unchanged,
      )
    case "EnableProfiling":
      return guarded([erased(state, command)], () =>
        state.profiling ? unchanged : accept({ _tag: "ProfilingEnabled", at: now }),
      )
    case "SignContract":
      return guarded([erased(state, command)], () =>
        state.contracts[command.contractId] !== undefined
          ? refuse(duplicate(state, "contract", command.contractId))
          : accept({
              _tag: "ContractSigned",
              at: now,
              ...occurred,
              contractId: command.contractId,
              clubId: command.clubId,
              startsAt: command.startsAt,
              endsAt: command.endsAt,
            }),
      )
    case "EndContract":
      return guarded([erased(state, command)], () => {
        const contract = state.contracts[command.contractId]
        if (contract === undefined) return refuse(missing(state, "contract", command.contractId))
        return contract.endedAt !== null
          ? unchanged
          : accept({ _tag: "ContractEnded", at: now, ...occurred, contractId: command.contractId })
      })
    case "CreditWallet":
      return guarded([erased(state, command)], () =>
        command.amount > Number.MAX_SAFE_INTEGER - state.walletBalance
          ? refuse(
              new WalletLimitExceeded({
                memberId: state.memberId,
                balance: state.walletBalance,
                amount: command.amount,
                limit: Number.MAX_SAFE_INTEGER,
              }),
            )
          : accept({ _tag: "WalletCredited", at: now, ...occurred, amount: command.amount }),
      )
    case "DebitWallet":
      return guarded([erased(state, command)], () =>
        command.amount > state.walletBalance
          ? refuse(
              new InsufficientFunds({
                memberId: state.memberId,
                balance: state.walletBalance,
                amount: command.amount,
              }),
            )
          : accept({ _tag: "WalletDebited", at: now, ...occurred, amount: command.amount }),
      )
    case "OpenDebtCase":
      return guarded([erased(state, command)], () =>
        state.debtCases[command.caseId] !== undefined
          ? refuse(duplicate(state, "debt case", command.caseId))
          : accept({
              _tag: "DebtCaseOpened",
              at: now,
              ...occurred,
              caseId: command.caseId,
              clubId: command.clubId,
            }),
      )
    case "CloseDebtCase":
      return guarded([erased(state, command)], () => {
        const debtCase = state.debtCases[command.caseId]
        if (debtCase === undefined) return refuse(missing(state, "debt case", command.caseId))
        return debtCase.closedAt !== null
          ? unchanged
          : accept({ _tag: "DebtCaseClosed", at: now, ...occurred, caseId: command.caseId })
      })
    case "RecordPurchase":
      return guarded([erased(state, command)], () =>
        state.purchases[command.purchaseId] !== undefined
          ? refuse(duplicate(state, "purchase", command.purchaseId))
          : accept({
              _tag: "PurchaseRecorded",
              at: now,
              ...occurred,
              purchaseId: command.purchaseId,
              amount: command.amount,
              paid: command.paid,
            }),
      )
    case "MarkPurchasePaid":
      return guarded([erased(state, command)], () => {
        const purchase = state.purchases[command.purchaseId]
        if (purchase === undefined) return refuse(missing(state, "purchase", command.purchaseId))
        return purchase.paid
          ? unchanged
          : accept({ _tag: "PurchasePaid", at: now, ...occurred, purchaseId: command.purchaseId })
      })
    case "RecordMissedInstalment":
      return guarded([erased(state, command)], () =>
        state.instalments[command.instalmentId] !== undefined
          ? refuse(duplicate(state, "instalment", command.instalmentId))
          : accept({
              _tag: "InstalmentMissed",
              at: now,
              ...occurred,
              instalmentId: command.instalmentId,
              clubId: command.clubId,
              amount: command.amount,
            }),
      )
    case "MarkInstalmentPaid":
      return guarded([erased(state, command)], () => {
        const instalment = state.instalments[command.instalmentId]
        if (instalment === undefined) return refuse(missing(state, "instalment", command.instalmentId))
        return instalment.paid
          ? unchanged
          : accept({ _tag: "InstalmentPaid", at: now, ...occurred, instalmentId: command.instalmentId })
      })
    case "RecordActivity":
      return guarded([erased(state, command)], () =>
        accept({
          _tag: "ActivityRecorded",
          at: now,
          ...occurred,
          kind: command.kind,
          clubId: command.clubId,
          details: command.details,
        }),
      )
    case "SendMessage":
      return guarded([erased(state, command)], () => decideMessage(state, command, ctx))
    case "RestrictProcessing":
      return guarded([erased(state, command)], () =>
        state.restriction !== null
          ? unchanged
          : accept({ _tag: "ProcessingRestricted", at: now, reason: command.reason }),
      )
    case "LiftRestriction":
      return guarded([erased(state, command)], () =>
        state.restriction === null ? unchanged : accept({ _tag: "ProcessingRestrictionLifted", at: now }),
      )
    case "RequestErasure":
    case "RequestAccess":
      return guarded([erased(state, command)], () => requestEvent(state, command, ctx))
    case "RecordExport":
      return guarded([requirePermission(ctx, "member:export"), erased(state, command)], () => {
        if (command.requestId !== null && state.requests[command.requestId]?.kind !== "access")
          return refuse(missing(state, "access request", command.requestId))
        return accept({ _tag: "DataExported", at: now, format: command.format, requestId: command.requestId })
      })
    case "ConfirmSystem":
      return decideConfirmSystem(state, command, ctx)
    case "Forget":
      return guarded([requirePermission(ctx, "member:forget")], () => {
        if (state.status === "forgotten") return unchanged
        if (state.status !== "active")
          return refuse(
            new MemberErased({ memberId: state.memberId, status: state.status, attempted: command._tag }),
          )
        if (command.requestId !== null && state.requests[command.requestId]?.kind !== "erasure")
          return refuse(missing(state, "erasure request", command.requestId))
        const blocked = erasureBlocked(state, command)
        if (blocked !== undefined) return refuse(blocked)
        return accept({
          _tag: "Forgotten",
          at: now,
          restorableUntil: now + ctx.config.restoreWindowDays * dayMs,
          requestId: command.requestId,
          ...leavingOf(command),
        })
      })
    case "Restore":
      return decideRestore(state, command, ctx)
    case "Purge":
      return guarded([requirePermission(ctx, "member:forget")], () => {
        if (state.status === "purged") return unchanged
        const blocked = erasureBlocked(state, command)
        if (blocked !== undefined) return refuse(blocked)
        // What the law keeps (invoice data) survives the purge until its retention ends (R37, R24).
        const kept = keptByLaw(state)
        return isPurgeable(state, now)
          ? accept({ _tag: "Purged", at: now, ...(kept.length > 0 ? { keptCategories: kept } : {}) })
          : refuse(
              new NotPurgeable({
                memberId: state.memberId,
                status: state.status,
                restorableUntil: state.restorableUntil,
              }),
            )
      })
    case "Anonymize":
      return guarded([requirePermission(ctx, "member:anonymize")], () => decideAnonymize(state, command, ctx))
    default:
      return absurd(command)
  }
}
