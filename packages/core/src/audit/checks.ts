/**
 * The auditor's per-event checks: each event of the log is re-checked against
 * the member's state just before it, with the same guards `decide` runs
 * (R35). An event that `decide` would have refused is a finding. Pure: state,
 * event and configuration in, findings out.
 *
 * @module
 */
import type { AnonymizationBlocker, MessagingBlocker } from "../errors.js"
import type { DomainConfig } from "../member/config.js"
import { dayMs, purposeDefinition } from "../member/config.js"
import type { BasisInForce, BusinessFact, EventOf, MemberEvent } from "../member/events.js"
import {
  anonymizationBlockers,
  basisInForce,
  erasureBlockers,
  isContractActive,
  isContractFuture,
  isErased,
  isPurgeable,
  isRestorable,
  messagingBlockers,
  missingExplicitConsent,
} from "../member/guards.js"
import type { MemberState, RequestState } from "../member/state.js"
import { absurd, pendingSystems } from "../member/state.js"
import { yearsAfter } from "../member/view.js"
import type { Evidence, FindingDraft, RequirementId } from "./findings.js"
import { isoOrNull } from "./findings.js"

/** No finding: most events, so one shared empty list rather than a new one each. */
const none: ReadonlyArray<FindingDraft> = Object.freeze([])

const unique = (ids: ReadonlyArray<RequirementId>): ReadonlyArray<RequirementId> =>
  [...new Set(ids)].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)))

const anonymizationRequirements: Readonly<Record<AnonymizationBlocker, ReadonlyArray<RequirementId>>> = {
  ActiveContract: ["R25"],
  FutureContract: ["R25"],
  OpenDebtCase: ["R25"],
  WalletNotEmpty: ["R25"],
  ProcessingRestricted: ["R23", "R25"],
  AlreadyAnonymized: ["R22", "R25"],
  SubjectNotConfirmed: ["R9"],
}

/** Why a message may not be sent, with erasure (checked first by `decide`) among them. */
export type MessageBlocker = MessagingBlocker | "MemberErased"

const messageRequirements: Readonly<Record<MessageBlocker, ReadonlyArray<RequirementId>>> = {
  NoLawfulBasis: ["R16"],
  Unsubscribed: ["R4"],
  ProcessingRestricted: ["R23"],
  ProfilingDisabled: ["R31"],
  Suppressed: ["R43"],
  MemberErased: ["R2"],
}

const lifecycle = (message: string, evidence: Evidence = {}): FindingDraft => ({
  rule: "lifecycle",
  requirements: ["R35"],
  message,
  evidence,
})

const erasedMember = (state: MemberState, event: MemberEvent): FindingDraft => {
  const irreversible =
    (event._tag === "Forgotten" || event._tag === "Anonymized") &&
    (state.status === "purged" || state.status === "anonymized")
  return {
    rule: "erased-member",
    requirements: irreversible ? ["R2", "R22"] : ["R2"],
    message: `${event._tag} recorded for a member who is ${state.status}`,
    evidence: {
      status: state.status,
      forgottenAt: isoOrNull(state.forgottenAt),
      purgedAt: isoOrNull(state.purgedAt),
      anonymizedAt: isoOrNull(state.anonymizedAt),
    },
  }
}

const checkAnonymized = (state: MemberState, event: EventOf<"Anonymized">): ReadonlyArray<FindingDraft> => {
  if (state.status === "forgotten" || state.status === "purged") return [erasedMember(state, event)]
  // The confirmation e-mail is not in the log (and the stored one is sealed): R9 is decide's alone.
  const blockers = anonymizationBlockers(state, event.at, { policyRun: true, confirmEmail: null })
  if (blockers.length === 0) return []
  const contracts = Object.values(state.contracts)
  const contractEvidence = (select: (c: (typeof contracts)[number]) => boolean) =>
    contracts.filter(select).map((c) => ({
      contractId: c.contractId,
      clubId: c.clubId,
      startsAt: isoOrNull(c.startsAt),
      endsAt: isoOrNull(c.endsAt),
    }))
  return [
    {
      rule: "anonymization-guard",
      requirements: unique(blockers.flatMap((b) => anonymizationRequirements[b])),
      message: `Anonymized while blocked: ${blockers.join(", ")}`,
      evidence: {
        blockers,
        policyId: event.policyId,
        activeContracts: contractEvidence((c) => isContractActive(c, event.at)),
        futureContracts: contractEvidence((c) => isContractFuture(c, event.at)),
        openDebtCases: Object.values(state.debtCases)
          .filter((c) => c.closedAt === null)
          .map((c) => ({ caseId: c.caseId, clubId: c.clubId, openedAt: isoOrNull(c.openedAt) })),
        walletBalance: state.walletBalance,
        restrictedSince: isoOrNull(state.restriction?.since ?? null),
        anonymizedAt: isoOrNull(state.anonymizedAt),
      },
    },
  ]
}

const sameBasis = (a: BasisInForce, b: BasisInForce): boolean =>
  a.basis === b.basis &&
  a.consentGivenAt === b.consentGivenAt &&
  a.method === b.method &&
  a.wordingVersion === b.wordingVersion

const checkMessage = (
  state: MemberState,
  event: EventOf<"MessageSent">,
  config: DomainConfig,
): ReadonlyArray<FindingDraft> => {
  const definition = purposeDefinition(config.consentCatalogue, event.purpose)
  const blockers: ReadonlyArray<MessageBlocker> = isErased(state)
    ? ["MemberErased"]
    : messagingBlockers(state, definition)
  const consent = state.consents[event.purpose]
  // Built only for a finding: most messages have none.
  const common = () => ({
    messageId: event.messageId,
    purpose: event.purpose,
    channel: event.channel,
    sentBy: event.sentBy,
    test: event.test,
    recordedBasis: event.lawfulBasis.basis,
  })
  if (blockers.length > 0) {
    const unknown = definition === undefined ? " (the purpose is not in the consent catalogue)" : ""
    return [
      {
        rule: "message-guard",
        requirements: unique(blockers.flatMap((b) => messageRequirements[b])),
        message: `MessageSent ${event.messageId} for "${event.purpose}" while refused: ${blockers.join(", ")}${unknown}`,
        evidence: {
          ...common(),
          blockers,
          status: state.status,
          consent:
            consent === undefined
              ? null
              : {
                  basis: consent.basis,
                  givenAt: isoOrNull(consent.givenAt),
                  withdrawnAt: isoOrNull(consent.withdrawnAt),
                },
          unsubscribedAt: isoOrNull(state.unsubscribed[event.purpose]?.at ?? null),
          restrictedSince: isoOrNull(state.restriction?.since ?? null),
          profiling: state.profiling,
        },
      },
    ]
  }
  const inForce = definition === undefined ? null : basisInForce(state, definition)
  if (inForce !== null && !sameBasis(inForce, event.lawfulBasis))
    return [
      {
        rule: "message-proof",
        requirements: ["R3"],
        message: `MessageSent ${event.messageId} records a lawful basis other than the one in force`,
        evidence: {
          ...common(),
          recorded: { ...event.lawfulBasis, consentGivenAt: isoOrNull(event.lawfulBasis.consentGivenAt) },
          inForce: { ...inForce, consentGivenAt: isoOrNull(inForce.consentGivenAt) },
        },
      },
    ]
  return none
}

const checkRestored = (state: MemberState, event: EventOf<"Restored">): ReadonlyArray<FindingDraft> => {
  if (isRestorable(state, event.at)) return []
  const why =
    state.status === "anonymized"
      ? "after anonymization"
      : state.status === "forgotten"
        ? "after the restore window ended"
        : `while ${state.status}`
  return [
    {
      rule: "restore-guard",
      requirements: state.status === "anonymized" ? ["R22"] : ["R5"],
      message: `Restored ${why}`,
      evidence: {
        status: state.status,
        by: event.by,
        forgottenAt: isoOrNull(state.forgottenAt),
        restorableUntil: isoOrNull(state.restorableUntil),
        restoredAt: isoOrNull(event.at),
      },
    },
  ]
}

/** An erasure recorded while processing was restricted (R23), else nothing. */
const erasureGuard = (
  state: MemberState,
  event: EventOf<"Forgotten" | "PersonalDataErased" | "Purged">,
): ReadonlyArray<FindingDraft> => {
  // The guard decide refuses with decides here too; the restriction's start is its evidence.
  const blockers = erasureBlockers(state)
  if (blockers.length === 0) return none
  const since = isoOrNull(state.restriction?.since ?? null)
  return [
    {
      rule: "erasure-guard",
      requirements: ["R23"],
      message: `${event._tag} while processing was restricted (since ${since})`,
      evidence: { blockers, restrictedSince: since, at: isoOrNull(event.at) },
    },
  ]
}

const checkPurged = (state: MemberState, event: EventOf<"Purged">): ReadonlyArray<FindingDraft> => [
  ...erasureGuard(state, event),
  ...checkPurgeWindow(state, event),
]

const checkPurgeWindow = (state: MemberState, event: EventOf<"Purged">): ReadonlyArray<FindingDraft> =>
  isPurgeable(state, event.at)
    ? []
    : [
        {
          rule: "purge-guard",
          requirements: ["R5"],
          message:
            state.status === "forgotten"
              ? "Purged before the restore window ended"
              : `Purged a member who is ${state.status}`,
          evidence: {
            status: state.status,
            forgottenAt: isoOrNull(state.forgottenAt),
            restorableUntil: isoOrNull(state.restorableUntil),
            purgedAt: isoOrNull(event.at),
          },
        },
      ]

const checkForgotten = (
  state: MemberState,
  event: EventOf<"Forgotten">,
  config: DomainConfig,
): ReadonlyArray<FindingDraft> => {
  if (state.status !== "active") return [erasedMember(state, event)]
  const windowMs = event.restorableUntil - event.at
  const expected = config.restoreWindowDays * dayMs
  return windowMs === expected
    ? erasureGuard(state, event)
    : [
        ...erasureGuard(state, event),
        {
          rule: "restore-window",
          requirements: windowMs < expected ? ["R5"] : ["R29"],
          message: `Forgotten with a restore window of ${windowMs / dayMs} days; the configuration says ${config.restoreWindowDays}`,
          evidence: {
            forgottenAt: isoOrNull(event.at),
            restorableUntil: isoOrNull(event.restorableUntil),
            configuredDays: config.restoreWindowDays,
          },
        },
      ]
}

const checkSpecialCategory = (
  state: MemberState,
  event: EventOf<"PersonalDataRecorded">,
  config: DomainConfig,
): ReadonlyArray<FindingDraft> => {
  const consent = missingExplicitConsent(state, event.category, config)
  return consent.missing
    ? [
        {
          rule: "special-category",
          requirements: ["R17"],
          message: `${event.category} data recorded without an explicit consent in force`,
          evidence: {
            category: event.category,
            coveringPurposes: consent.purposes,
            consents: consent.purposes.map((purpose) => {
              const c = state.consents[purpose]
              return c === undefined
                ? { purpose, given: false }
                : { purpose, given: true, explicit: c.explicit, withdrawnAt: isoOrNull(c.withdrawnAt) }
            }),
          },
        },
      ]
    : []
}

const checkRequestDue = (
  event: EventOf<"ErasureRequested"> | EventOf<"AccessRequested">,
  config: DomainConfig,
): ReadonlyArray<FindingDraft> => {
  const erasure = event._tag === "ErasureRequested"
  const days = erasure ? config.erasureDeadlineDays : config.accessDeadlineDays
  if (event.dueBy - event.receivedAt <= days * dayMs) return []
  return [
    {
      rule: erasure ? "erasure-deadline" : "access-deadline",
      requirements: erasure ? ["R11"] : ["R13"],
      message: `${erasure ? "Erasure" : "Access"} request ${event.requestId} is due ${((event.dueBy - event.receivedAt) / dayMs).toFixed(1)} days after receipt; the deadline is ${days} days`,
      evidence: {
        requestId: event.requestId,
        receivedAt: isoOrNull(event.receivedAt),
        dueBy: isoOrNull(event.dueBy),
        deadlineDays: days,
      },
    },
  ]
}

/**
 * A confirmation `decide` would not have recorded (R14): for a request that is not open, for a system the
 * request does not list, or repeated. Allowed whatever the member's status: the systems confirm after erasure.
 */
const checkSystemConfirmed = (
  state: MemberState,
  event: EventOf<"SystemConfirmed">,
): ReadonlyArray<FindingDraft> => {
  // The audit keeps open requests only: a fulfilled one has every system confirmed already.
  const request = Object.hasOwn(state.requests, event.requestId) ? state.requests[event.requestId] : undefined
  const problem =
    request === undefined || request.fulfilledAt !== null
      ? `for request ${event.requestId}, which is not open`
      : !request.systems.includes(event.system)
        ? `names a system request ${event.requestId} does not list`
        : request.confirmations.some((c) => c.system === event.system)
          ? `repeats a confirmation of request ${event.requestId}`
          : undefined
  return problem === undefined
    ? none
    : [lifecycle(`SystemConfirmed ${problem}`, { requestId: event.requestId, system: event.system })]
}

/**
 * What a request with other systems (R14) waited for, as a finding's evidence: nothing for a request
 * without, so the findings of logs written before R14's tracking stay as they were.
 */
const systemsEvidence = (request: RequestState): Evidence =>
  request.systems.length === 0
    ? {}
    : {
        handledAt: isoOrNull(request.handledAt),
        systems: request.systems,
        confirmations: request.confirmations.map((c) => ({ system: c.system, at: isoOrNull(c.at) })),
        pendingSystems: pendingSystems(request),
      }

/**
 * A business fact (or a registration) dated where `decide` refuses a date (R38): after its own recording,
 * before the member's registration, or before the member's data was last erased or the member restored (history flowing back
 * into what was erased).
 */
const checkFactDate = (
  state: MemberState,
  event: BusinessFact | EventOf<"MemberRegistered">,
): ReadonlyArray<FindingDraft> => {
  const occurredAt = event.occurredAt
  if (occurredAt === undefined) return none
  const problem =
    occurredAt > event.at
      ? "after it was recorded"
      : state.exists && occurredAt < state.registeredAt
        ? "before the member's registration"
        : state.lastErasureAt !== null && occurredAt < state.lastErasureAt
          ? "before the member's last erasure"
          : undefined
  if (problem === undefined) return none
  return [
    {
      rule: "fact-date",
      requirements: ["R38"],
      message: `${event._tag} dated ${problem}`,
      evidence: {
        occurredAt: isoOrNull(occurredAt),
        recordedAt: isoOrNull(event.at),
        registeredAt: isoOrNull(state.registeredAt),
        lastErasureAt: isoOrNull(state.lastErasureAt),
      },
    },
  ]
}

/**
 * Every rule the event breaks, given the member's state just before it:
 * `decide`'s own guards, evaluated at the event's time.
 *
 * @example
 * ```ts
 * const findings = checkEvent(state, event, defaultDomainConfig)
 * state = evolve(state, event)
 * ```
 */
export const checkEvent = (
  state: MemberState,
  event: MemberEvent,
  config: DomainConfig,
): ReadonlyArray<FindingDraft> => {
  if (event._tag === "MemberRegistered")
    return state.exists
      ? [lifecycle("MemberRegistered for a member already registered", { memberId: event.memberId })]
      : checkFactDate(state, event)
  if (!state.exists) return [lifecycle(`${event._tag} before MemberRegistered`)]
  switch (event._tag) {
    case "PersonalDataErased":
      return erasureGuard(state, event)
    case "Forgotten":
      return checkForgotten(state, event, config)
    case "Restored":
      return checkRestored(state, event)
    case "Purged":
      return checkPurged(state, event)
    case "Anonymized":
      return checkAnonymized(state, event)
    case "MessageSent":
      return checkMessage(state, event, config)
    case "PersonalDataRecorded":
      return isErased(state) ? [erasedMember(state, event)] : checkSpecialCategory(state, event, config)
    case "ErasureRequested":
    case "AccessRequested":
      return isErased(state) ? [erasedMember(state, event)] : checkRequestDue(event, config)
    case "ContractSigned":
    case "ContractEnded":
    case "WalletCredited":
    case "WalletDebited":
    case "DebtCaseOpened":
    case "DebtCaseClosed":
    case "PurchaseRecorded":
    case "PurchasePaid":
    case "InstalmentMissed":
    case "InstalmentPaid":
    case "ActivityRecorded":
      return isErased(state) ? [erasedMember(state, event)] : checkFactDate(state, event)
    case "ConsentGiven":
    case "ConsentWithdrawn":
    case "Unsubscribed":
    case "ContactSuppressed":
    case "ProfilingDisabled":
    case "ProfilingEnabled":
    case "DataExported":
    case "ProcessingRestricted":
    case "ProcessingRestrictionLifted":
      return isErased(state) ? [erasedMember(state, event)] : none
    case "SystemConfirmed":
      return checkSystemConfirmed(state, event)
    default:
      return absurd(event)
  }
}

/**
 * A request fulfilled after its due date (R11, R13): Lethe's own part done late, or one of its other
 * systems confirmed late (R14), whom the message names.
 */
export const lateRequest = (request: RequestState): FindingDraft | undefined => {
  if (request.fulfilledAt === null || request.fulfilledAt <= request.dueBy) return undefined
  const late = request.confirmations.filter((c) => c.at > request.dueBy).map((c) => c.system)
  return {
    rule: request.kind === "erasure" ? "erasure-deadline" : "access-deadline",
    requirements: request.kind === "erasure" ? ["R11"] : ["R13"],
    message: `${request.kind === "erasure" ? "Erasure" : "Access"} request ${request.requestId} fulfilled ${((request.fulfilledAt - request.dueBy) / dayMs).toFixed(1)} days after its due date${late.length === 0 ? "" : `; confirmed late by ${late.join(", ")}`}`,
    evidence: {
      requestId: request.requestId,
      receivedAt: isoOrNull(request.receivedAt),
      dueBy: isoOrNull(request.dueBy),
      fulfilledAt: isoOrNull(request.fulfilledAt),
      ...systemsEvidence(request),
    },
  }
}

/**
 * A request still open after its due date at `asOf` (R11, R13), naming the other systems that have yet to
 * confirm it (R14).
 */
export const overdueRequest = (request: RequestState, asOf: number): FindingDraft | undefined => {
  if (request.fulfilledAt !== null || request.dueBy >= asOf) return undefined
  const pending = pendingSystems(request)
  const waiting =
    pending.length === 0
      ? ""
      : `; ${request.handledAt === null ? "Lethe's part not done, and " : ""}waiting for ${pending.join(", ")}`
  return {
    rule: request.kind === "erasure" ? "erasure-deadline" : "access-deadline",
    requirements: request.kind === "erasure" ? ["R11"] : ["R13"],
    at: new Date(request.dueBy),
    message: `${request.kind === "erasure" ? "Erasure" : "Access"} request ${request.requestId} still open ${((asOf - request.dueBy) / dayMs).toFixed(1)} days after its due date${waiting}`,
    evidence: {
      requestId: request.requestId,
      receivedAt: isoOrNull(request.receivedAt),
      dueBy: isoOrNull(request.dueBy),
      asOf: isoOrNull(asOf),
      ...systemsEvidence(request),
    },
  }
}

/**
 * A forgotten member not purged by the end of the window plus `graceMs`:
 * purged late (`purgedAt`), or not purged at all by `asOf` (R29).
 */
export const latePurge = (
  state: MemberState,
  graceMs: number,
  when: { readonly purgedAt: number } | { readonly asOf: number },
): FindingDraft | undefined => {
  if (state.status !== "forgotten" || state.restorableUntil === null) return undefined
  const deadline = state.restorableUntil + graceMs
  const purged = "purgedAt" in when
  const at = purged ? when.purgedAt : when.asOf
  if (at <= deadline) return undefined
  return {
    rule: "purge-deadline",
    requirements: ["R29"],
    at: new Date(deadline),
    message: purged
      ? `Purged ${((at - deadline) / dayMs).toFixed(1)} days after the restore window and grace ended`
      : `Forgotten member still not purged ${((at - deadline) / dayMs).toFixed(1)} days after the restore window and grace ended`,
    evidence: {
      forgottenAt: isoOrNull(state.forgottenAt),
      restorableUntil: isoOrNull(state.restorableUntil),
      graceDays: graceMs / dayMs,
      deadline: isoOrNull(deadline),
      ...(purged ? { purgedAt: isoOrNull(at) } : { asOf: isoOrNull(at) }),
    },
  }
}

/** What an erasure kept under legal hold (R24, R37): the categories, and when the erasure was. */
export interface LegalHold {
  readonly since: number
  readonly categories: ReadonlySet<string>
}

/**
 * The legal hold `event` starts: the categories a purge or an anonymization
 * kept; null for one that kept nothing, undefined for any other event.
 */
export const legalHoldOf = (event: MemberEvent): LegalHold | null | undefined => {
  if (event._tag !== "Purged" && event._tag !== "Anonymized") return undefined
  const kept = event.keptCategories ?? []
  return kept.length === 0 ? null : { since: event.at, categories: new Set(kept) }
}

/** `hold` once `event` ran: an erasure of kept categories ends their hold. */
export const holdAfter = (hold: LegalHold | null, event: MemberEvent): LegalHold | null => {
  if (hold === null || event._tag !== "PersonalDataErased") return hold
  const categories = new Set([...hold.categories].filter((c) => !event.categories.includes(c as never)))
  return categories.size === 0 ? null : { since: hold.since, categories }
}

/**
 * Data kept under legal hold past its retention (`retentionYears` after the
 * erasure) and `graceMs`, still not erased by `asOf` (R24, R37): the law
 * that kept it no longer does.
 */
export const lateHold = (
  hold: LegalHold | null,
  retentionYears: number,
  graceMs: number,
  asOf: number,
): FindingDraft | undefined => {
  if (hold === null) return undefined
  const ends = yearsAfter(hold.since, retentionYears).getTime()
  const deadline = ends + graceMs
  if (asOf <= deadline) return undefined
  const categories = [...hold.categories].sort()
  return {
    rule: "legal-hold",
    requirements: ["R37", "R24"],
    at: new Date(deadline),
    message: `${categories.join(", ")} kept ${((asOf - deadline) / dayMs).toFixed(1)} days past the end of its ${retentionYears}-year retention and grace; run retention (end-invoice-retention)`,
    evidence: {
      categories,
      keptSince: isoOrNull(hold.since),
      retentionYears,
      retentionEnded: isoOrNull(ends),
      graceDays: graceMs / dayMs,
      asOf: isoOrNull(asOf),
    },
  }
}
