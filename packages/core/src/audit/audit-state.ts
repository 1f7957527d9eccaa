/**
 * The member's state as the audit keeps it between two events of a stream:
 * the facts its checks read, nothing more, so memory stays flat however long
 * each member's history grows (docs/design.md §5), and an event that changes none of
 * those facts costs no fold at all.
 *
 * `auditState` is a projection of `MemberState` that commutes with `evolve`:
 * folding an event into the projected state and projecting again gives the
 * projection of the fully folded state. Every check reads only projected
 * facts, so it finds on the projection exactly what it finds on the full state.
 *
 * @module
 */
import type { MemberEvent } from "../member/events.js"
import type { MemberState, PurchaseState } from "../member/state.js"
import { absurd, initialState } from "../member/state.js"

/**
 * Of purchases the audit needs only whether there is one (`isCustomer`, for
 * a basis that holds for customers only): any purchases at all become this
 * one stand-in, so a customer's thousandth purchase costs nothing.
 */
const anyPurchase: MemberState["purchases"] = Object.freeze({
  "": Object.freeze<PurchaseState>({ purchaseId: "", amount: 0, paid: true, at: 0 }),
})

const isEmpty = (record: object): boolean => {
  for (const key in record) if (Object.hasOwn(record, key)) return false
  return true
}

/** A fulfilled request is done with: its lateness is judged when it is fulfilled. */
const openOnly = (requests: MemberState["requests"]): MemberState["requests"] => {
  for (const id in requests)
    if (requests[id]?.fulfilledAt !== null)
      return Object.fromEntries(Object.entries(requests).filter(([, r]) => r.fulfilledAt === null))
  return requests
}

/**
 * The facts the audit's checks read (status and dates, consents, unsubscribes,
 * profiling, contracts, debt cases, wallet, restriction, open requests, and
 * whether the member bought anything), without what none reads: personal
 * values (the subject's confirmation is `decide`'s alone), activity counts and
 * dates, message ids, instalments, fulfilled requests. A purged or anonymized
 * member, whom no later event may change but the other systems' confirmations
 * of its open requests (R14), keeps only its status, dates and open requests.
 *
 * @example
 * ```ts
 * state = auditState(evolve(state, event))
 * ```
 */
export const auditState = (state: MemberState): MemberState => {
  if (state.status === "purged" || state.status === "anonymized")
    return {
      ...initialState,
      exists: state.exists,
      memberId: state.memberId,
      tenantId: state.tenantId,
      status: state.status,
      registeredAt: state.registeredAt,
      forgottenAt: state.forgottenAt,
      anonymizedAt: state.anonymizedAt,
      purgedAt: state.purgedAt,
      lastErasureAt: state.lastErasureAt,
      requests: openOnly(state.requests),
    }
  return {
    ...state,
    source: null,
    personal: initialState.personal,
    purchases: isEmpty(state.purchases) ? initialState.purchases : anyPurchase,
    instalments: initialState.instalments,
    requests: openOnly(state.requests),
    counts: initialState.counts,
    lastActivityAt: 0,
    lastContactAt: 0,
    messageIds: initialState.messageIds,
  }
}

/**
 * Whether folding `event` into `state` (an `auditState`) may change it. When
 * false, `auditState(evolve(state, event))` equals `state`: the audit checks
 * the event and skips the fold. The most frequent events (activity, messages,
 * purchases, personal data) are of that kind.
 */
export const changesAuditState = (state: MemberState, event: MemberEvent): boolean => {
  switch (event._tag) {
    case "PersonalDataRecorded":
    case "PurchasePaid":
    case "InstalmentMissed":
    case "InstalmentPaid":
    case "ActivityRecorded":
    case "MessageSent":
      return false
    case "PurchaseRecorded":
      return isEmpty(state.purchases)
    case "DataExported":
      return event.requestId !== null
    case "MemberRegistered":
    case "PersonalDataErased":
    case "ConsentGiven":
    case "ConsentWithdrawn":
    case "Unsubscribed":
    case "ContactSuppressed":
    case "ProfilingDisabled":
    case "ProfilingEnabled":
    case "ContractSigned":
    case "ContractEnded":
    case "WalletCredited":
    case "WalletDebited":
    case "DebtCaseOpened":
    case "DebtCaseClosed":
    case "ErasureRequested":
    case "AccessRequested":
    case "ProcessingRestricted":
    case "ProcessingRestrictionLifted":
    case "Forgotten":
    case "Restored":
    case "Purged":
    case "Anonymized":
    case "SystemConfirmed":
      return true
    default:
      return absurd(event)
  }
}
