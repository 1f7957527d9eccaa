/**
 * The invariant guards, each a named pure function of state and context, so
 * each has its own property test and the auditor re-runs the same code (R35).
 *
 * @module
 */
import type {
  AnonymizationBlocker,
  AnonymizationWarning,
  ErasureBlocker,
  MessagingBlocker,
} from "../errors.js"
import type { Actor, DomainConfig, Permission, PurposeDefinition } from "./config.js"
import { systemRole } from "./config.js"
import type { BasisInForce, LawfulBasis, PersonalCategory } from "./events.js"
import { specialCategories } from "./events.js"
import type { ContractState, MemberState } from "./state.js"

/**
 * Whether the actor's roles grant the permission (R8, R26). Only the
 * configuration's own roles count: `toString` or `__proto__` grant nothing.
 */
export const isPermitted = (actor: Actor, permission: Permission, config: DomainConfig): boolean =>
  actor.roles.some(
    (role) =>
      role === systemRole ||
      (Object.hasOwn(config.permissions, role) && (config.permissions[role]?.includes(permission) ?? false)),
  )

/** A contract that runs at `now`: started, not ended early, not past its end. */
export const isContractActive = (contract: ContractState, now: number): boolean =>
  contract.endedAt === null && contract.startsAt <= now && (contract.endsAt === null || contract.endsAt > now)

/** A contract that starts after `now` and was not cancelled. */
export const isContractFuture = (contract: ContractState, now: number): boolean =>
  contract.endedAt === null && contract.startsAt > now

/**
 * E-mails compare case-insensitively after trimming, in Unicode's composed form (NFC), so `josé` typed
 * with a combining accent is the same address as with `é` (R1, R9). The blind index is computed from it.
 */
export const normalizeEmail = (email: string): string => email.normalize("NFC").trim().toLowerCase()

/** The member's stored e-mail, if any is readable. */
export const storedEmail = (state: MemberState): string | undefined => {
  const email = state.personal.contact?.email
  return typeof email === "string" ? email : undefined
}

/** Whether the member's identity is confirmed for a staff-initiated anonymization (R9). */
export const isSubjectConfirmed = (state: MemberState, confirmEmail: string | null): boolean => {
  const email = storedEmail(state)
  // Nothing to confirm against: a member recorded without an e-mail.
  if (email === undefined) return true
  return confirmEmail !== null && normalizeEmail(confirmEmail) === normalizeEmail(email)
}

/**
 * Every blocker of an anonymization that holds, at once (R25, R23, R9).
 * `policyRun` is true for retention policies, which need no subject confirmation.
 */
export const anonymizationBlockers = (
  state: MemberState,
  now: number,
  confirmation: { readonly policyRun: boolean; readonly confirmEmail: string | null },
): ReadonlyArray<AnonymizationBlocker> => {
  const contracts = Object.values(state.contracts)
  const reasons: Array<AnonymizationBlocker> = []
  if (contracts.some((c) => isContractActive(c, now))) reasons.push("ActiveContract")
  if (contracts.some((c) => isContractFuture(c, now))) reasons.push("FutureContract")
  if (Object.values(state.debtCases).some((c) => c.closedAt === null)) reasons.push("OpenDebtCase")
  if (state.walletBalance > 0) reasons.push("WalletNotEmpty")
  if (state.restriction !== null) reasons.push("ProcessingRestricted")
  if (state.status === "anonymized") reasons.push("AlreadyAnonymized")
  if (!confirmation.policyRun && !isSubjectConfirmed(state, confirmation.confirmEmail))
    reasons.push("SubjectNotConfirmed")
  return reasons
}

/**
 * Every reason the member's data may not be erased now (forget, erasing categories, purge): processing is
 * restricted (art. 18 GDPR, R23), and restricted data is kept until the restriction is lifted.
 */
export const erasureBlockers = (state: MemberState): ReadonlyArray<ErasureBlocker> =>
  state.restriction !== null ? ["ProcessingRestricted"] : []

/** Reminders that come back with an anonymization but never block it (R27). */
export const anonymizationWarnings = (
  state: MemberState,
  config: DomainConfig,
): ReadonlyArray<AnonymizationWarning> => {
  const warnings: Array<AnonymizationWarning> = []
  if (Object.values(state.purchases).some((p) => !p.paid)) warnings.push("UnpaidPurchases")
  const usesDebtCollection = (clubId: string) => config.clubs[clubId]?.debtCollection ?? true
  if (Object.values(state.instalments).some((i) => !i.paid && !usesDebtCollection(i.clubId)))
    warnings.push("ArrearsWithoutDebtCollection")
  return warnings
}

/** Has signed a contract or bought something: the member is a customer (R16). */
export const isCustomer = (state: MemberState): boolean =>
  Object.keys(state.contracts).length > 0 || Object.keys(state.purchases).length > 0

/**
 * The lawful basis for processing the purpose, if one is in force (R16, R33):
 * a consent record not withdrawn, or, for a purpose where the member never
 * gave nor withdrew a consent, the purpose's standing basis.
 */
export const basisInForce = (state: MemberState, definition: PurposeDefinition): BasisInForce | null => {
  const consent = state.consents[definition.purpose]
  // A withdrawn consent is an objection: no falling back on another basis (art. 7(3), 21(3)).
  if (consent !== undefined && consent.withdrawnAt !== null) return null
  if (consent !== undefined)
    return {
      basis: consent.basis,
      consentGivenAt: consent.givenAt,
      method: consent.method,
      wordingVersion: consent.wordingVersion,
    }
  const standing = definition.standingBasis
  if (standing !== undefined && (!standing.customersOnly || isCustomer(state)))
    return { basis: standing.basis, consentGivenAt: null, method: null, wordingVersion: null }
  return null
}

/** Whether messages on `basis` are marketing, which a suppressed address no longer gets (R43). */
export const isMarketingBasis = (basis: LawfulBasis): boolean =>
  basis === "consent" || basis === "legitimate-interest"

/**
 * Every reason a message for the purpose may not go to an active member (R4,
 * R16, R23, R31, R43). Erasure is checked before this (R2).
 */
export const messagingBlockers = (
  state: MemberState,
  definition: PurposeDefinition | undefined,
): ReadonlyArray<MessagingBlocker> => {
  const reasons: Array<MessagingBlocker> = []
  const basis = definition === undefined ? null : basisInForce(state, definition)
  if (basis === null) reasons.push("NoLawfulBasis")
  if (definition !== undefined && state.unsubscribed[definition.purpose] !== undefined)
    reasons.push("Unsubscribed")
  if (state.restriction !== null) reasons.push("ProcessingRestricted")
  if (definition?.profiling === true && !state.profiling) reasons.push("ProfilingDisabled")
  // Marketing (a consent or a legitimate interest) stops at a suppressed address; messages a contract or the
  // law calls for do not (R43).
  if (state.suppression !== null && (basis === null || isMarketingBasis(basis.basis)))
    reasons.push("Suppressed")
  return reasons
}

/** Whether the member was forgotten, purged or anonymized: nothing more is recorded or sent (R2). */
export const isErased = (state: MemberState): boolean => state.status !== "active"

/**
 * Whether `Restored` may follow: forgotten and still within the window (R5,
 * R22). Takes a member's state or its directory row.
 */
export const isRestorable = (state: Pick<MemberState, "status" | "restorableUntil">, now: number): boolean =>
  state.status === "forgotten" && state.restorableUntil !== null && now < state.restorableUntil

/** Whether the window is over and the member can be purged. */
export const isPurgeable = (state: MemberState, now: number): boolean =>
  state.status === "forgotten" && state.restorableUntil !== null && now >= state.restorableUntil

/**
 * Purposes whose explicit consent, in force, allows recording data of a special
 * category (R17). Empty when the category is not special or a consent covers it.
 */
export const missingExplicitConsent = (
  state: MemberState,
  category: PersonalCategory,
  config: DomainConfig,
): { readonly missing: boolean; readonly purposes: ReadonlyArray<string> } => {
  if (!specialCategories.has(category)) return { missing: false, purposes: [] }
  const purposes = Object.values(config.consentCatalogue).filter((d) => d.covers.includes(category))
  const covered = purposes.some((d) => {
    const consent = state.consents[d.purpose]
    return consent !== undefined && consent.withdrawnAt === null && consent.explicit
  })
  return { missing: !covered, purposes: purposes.map((d) => d.purpose) }
}
