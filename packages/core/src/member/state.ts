/**
 * A member's state, folded from its events by `evolve`. Pure and total: any
 * sequence of events `decide` can produce folds without throwing.
 *
 * @module
 */
import type { MemberStatus } from "../errors.js"
import {
  type ActivityKind,
  type ConsentMethod,
  factDate,
  type LawfulBasis,
  type MemberEvent,
  type PersonalCategory,
  type PersonalFields,
  type PersonalValue,
  retainedOnAnonymization,
  type Source,
  type SuppressionReason,
} from "./events.js"

/** The latest consent record of one purpose (R33). */
export interface ConsentRecord {
  readonly purpose: string
  readonly basis: LawfulBasis
  readonly explicit: boolean
  readonly method: ConsentMethod
  readonly wordingVersion: string
  readonly source: Source
  readonly givenAt: number
  /** Null while the consent is in force. */
  readonly withdrawnAt: number | null
}

/** A contract as `ContractSigned` and `ContractEnded` left it. Times are epoch milliseconds. */
export interface ContractState {
  readonly contractId: string
  readonly clubId: string
  readonly startsAt: number
  readonly endsAt: number | null
  /** When the contract was ended early or cancelled: `ContractEnded`'s fact date (R38). */
  readonly endedAt: number | null
}

/** A debt-collection case; `closedAt` is null while it is open (R25). */
export interface DebtCaseState {
  readonly caseId: string
  readonly clubId: string
  readonly openedAt: number
  readonly closedAt: number | null
}

/** A recorded purchase and whether it is paid; `at` is when it was made: its fact date (R38). */
export interface PurchaseState {
  readonly purchaseId: string
  readonly amount: number
  readonly paid: boolean
  readonly at: number
}

/** A missed instalment and whether it has since been paid (R27). */
export interface InstalmentState {
  readonly instalmentId: string
  readonly clubId: string
  readonly amount: number
  readonly paid: boolean
}

/** One other system's confirmation of its part of a request (R14). */
export interface SystemConfirmation {
  readonly system: string
  /** When it was recorded (`SystemConfirmed`). */
  readonly at: number
}

/**
 * An erasure or access request with its deadline (R11) and the other systems that must confirm it (R14).
 * Times are epoch milliseconds.
 */
export interface RequestState {
  readonly requestId: string
  readonly kind: "erasure" | "access"
  readonly receivedAt: number
  readonly dueBy: number
  /** The other systems that must confirm it (R14), fixed when it was made; empty for none. */
  readonly systems: ReadonlyArray<string>
  /** The confirmations recorded so far, oldest first, one per system at most. */
  readonly confirmations: ReadonlyArray<SystemConfirmation>
  /** When Lethe's own part was done (forget, anonymize or export), null until then. */
  readonly handledAt: number | null
  /**
   * When it was fulfilled: Lethe's own part done and every system confirmed, at the later of the two;
   * null while open.
   */
  readonly fulfilledAt: number | null
}

/**
 * The systems of `request` that have not confirmed yet (R14), in the request's order.
 *
 * @example
 * ```ts
 * pendingSystems(state.requests[requestId]) // ["Accounting"]
 * ```
 */
export const pendingSystems = (
  request: Pick<RequestState, "systems" | "confirmations">,
): ReadonlyArray<string> =>
  request.systems.filter((system) => !request.confirmations.some((c) => c.system === system))

/** Counts that survive erasure, so statistics stay right (R19). */
export interface ActivityCounts {
  readonly visit: number
  readonly class: number
  readonly transaction: number
  readonly "page-view": number
  readonly messages: number
  readonly exports: number
}

/** Everything the guards and views need about one member. */
export interface MemberState {
  /** False until `MemberRegistered`. */
  readonly exists: boolean
  readonly memberId: string
  readonly tenantId: string
  readonly status: MemberStatus
  /** When the member registered: `MemberRegistered`'s fact date (R38). */
  readonly registeredAt: number
  readonly source: Source | null
  /** Latest personal values by category; values may be `Erased` markers after key destruction. */
  readonly personal: Readonly<Partial<Record<PersonalCategory, PersonalFields>>>
  readonly consents: Readonly<Record<string, ConsentRecord>>
  /** Purposes the member unsubscribed from (R4), with when and how. */
  readonly unsubscribed: Readonly<Record<string, { readonly at: number; readonly via: "link" | "staff" }>>
  readonly profiling: boolean
  readonly contracts: Readonly<Record<string, ContractState>>
  readonly walletBalance: number
  readonly debtCases: Readonly<Record<string, DebtCaseState>>
  readonly purchases: Readonly<Record<string, PurchaseState>>
  readonly instalments: Readonly<Record<string, InstalmentState>>
  /** The suppression of the member's address in force (R43): since when (its fact date) and why. */
  readonly suppression: { readonly since: number; readonly reason: SuppressionReason } | null
  /** The restriction of processing in force; its reason is free text, sealed in the log (an `Erased` marker once erased). */
  readonly restriction: { readonly since: number; readonly reason: PersonalValue } | null
  readonly requests: Readonly<Record<string, RequestState>>
  readonly forgottenAt: number | null
  readonly restorableUntil: number | null
  readonly anonymizedAt: number | null
  readonly purgedAt: number | null
  /**
   * When the member's data was last erased, or the member restored (`PersonalDataErased`, `Forgotten`,
   * `Restored`, `Purged`, `Anonymized`), null if never: no business fact may be dated before it (R38).
   */
  readonly lastErasureAt: number | null
  readonly counts: ActivityCounts
  /** Last activity or purchase, by fact date (R38); registration if none. */
  readonly lastActivityAt: number
  /** Last sign of life from the person (registration, consent, activity, purchase). */
  readonly lastContactAt: number
  /**
   * Whether the log holds free text of the member sealed under the `notes` key (a restriction's or an
   * erasure's reason, a person's words on leaving) not erased since: erasing the notes category then
   * has something to erase even when no notes value was recorded (R29).
   */
  readonly freeText: boolean
  /** Message ids sent to the member, oldest first. */
  readonly messageIds: ReadonlyArray<string>
}

/** The state before any event: a member that does not exist. */
export const initialState: MemberState = {
  exists: false,
  memberId: "",
  tenantId: "",
  status: "active",
  registeredAt: 0,
  source: null,
  personal: {},
  consents: {},
  unsubscribed: {},
  profiling: true,
  contracts: {},
  walletBalance: 0,
  debtCases: {},
  purchases: {},
  instalments: {},
  restriction: null,
  suppression: null,
  freeText: false,
  requests: {},
  forgottenAt: null,
  restorableUntil: null,
  anonymizedAt: null,
  purgedAt: null,
  lastErasureAt: null,
  counts: { visit: 0, class: 0, transaction: 0, "page-view": 0, messages: 0, exports: 0 },
  lastActivityAt: 0,
  lastContactAt: 0,
  messageIds: [],
}

const put = <V>(record: Readonly<Record<string, V>>, key: string, value: V): Readonly<Record<string, V>> => ({
  ...record,
  [key]: value,
})

const update = <V>(
  record: Readonly<Record<string, V>>,
  key: string,
  change: (value: V) => V,
): Readonly<Record<string, V>> => {
  const current = record[key]
  return current === undefined ? record : put(record, key, change(current))
}

/** Lethe's own part of a request done at `at`: fulfilled then, unless a system has yet to confirm (R14). */
const handle = (request: RequestState, at: number): RequestState =>
  request.handledAt !== null
    ? request
    : { ...request, handledAt: at, fulfilledAt: pendingSystems(request).length === 0 ? at : null }

/** `system` confirmed `request` at `at`: fulfilled then, if it was the last and Lethe's part is done (R14). */
const confirm = (request: RequestState, system: string, at: number): RequestState => {
  if (!request.systems.includes(system) || request.confirmations.some((c) => c.system === system))
    return request
  const confirmed = { ...request, confirmations: [...request.confirmations, { system, at }] }
  return confirmed.handledAt !== null && pendingSystems(confirmed).length === 0
    ? { ...confirmed, fulfilledAt: at }
    : confirmed
}

/** Erasure does Lethe's part of every open request: nothing is left to give or to erase. */
const closeRequests = (requests: MemberState["requests"], at: number): MemberState["requests"] =>
  Object.fromEntries(Object.entries(requests).map(([id, r]) => [id, handle(r, at)]))

/**
 * The categories the member holds that the law keeps after an anonymization or a purge until their
 * retention ends (R24, R37: invoice data), sorted.
 */
export const keptByLaw = (state: Pick<MemberState, "personal">): Array<PersonalCategory> =>
  (Object.keys(state.personal) as Array<PersonalCategory>)
    .filter((c) => retainedOnAnonymization.has(c))
    .sort()

const withoutCategories = (
  personal: MemberState["personal"],
  categories: ReadonlyArray<PersonalCategory>,
): MemberState["personal"] =>
  Object.fromEntries(Object.entries(personal).filter(([c]) => !categories.includes(c as PersonalCategory)))

const onlyCategories = (
  personal: MemberState["personal"],
  categories: ReadonlyArray<PersonalCategory>,
): MemberState["personal"] =>
  Object.fromEntries(Object.entries(personal).filter(([c]) => categories.includes(c as PersonalCategory)))

const touch = (state: MemberState, at: number): MemberState => ({
  ...state,
  lastActivityAt: Math.max(state.lastActivityAt, at),
  lastContactAt: Math.max(state.lastContactAt, at),
})

const countActivity = (counts: ActivityCounts, kind: ActivityKind): ActivityCounts => ({
  ...counts,
  [kind]: counts[kind] + 1,
})

/** Folds one event into the state. */
export const evolve = (state: MemberState, event: MemberEvent): MemberState => {
  switch (event._tag) {
    case "MemberRegistered":
      return {
        ...initialState,
        exists: true,
        memberId: event.memberId,
        tenantId: event.tenantId,
        registeredAt: factDate(event),
        source: event.source,
        lastActivityAt: factDate(event),
        lastContactAt: factDate(event),
      }
    case "PersonalDataRecorded":
      return {
        ...state,
        personal: {
          ...state.personal,
          [event.category]: { ...state.personal[event.category], ...event.fields },
        },
      }
    case "PersonalDataErased":
      return {
        ...state,
        personal: withoutCategories(state.personal, event.categories),
        lastErasureAt: event.at,
        // The reason is sealed under the notes key: erased with it when the notes are what goes.
        freeText: event.categories.includes("notes")
          ? false
          : state.freeText || typeof event.reason === "string",
      }
    case "ConsentGiven": {
      const { unsubscribed, consents } = state
      const { [event.purpose]: _, ...stillUnsubscribed } = unsubscribed
      return {
        ...state,
        lastContactAt: Math.max(state.lastContactAt, event.at),
        unsubscribed: stillUnsubscribed,
        consents: put(consents, event.purpose, {
          purpose: event.purpose,
          basis: event.basis,
          explicit: event.explicit,
          method: event.method,
          wordingVersion: event.wordingVersion,
          source: event.source,
          givenAt: event.givenAt,
          withdrawnAt: null,
        }),
      }
    }
    case "ConsentWithdrawn":
      return {
        ...state,
        consents: update(state.consents, event.purpose, (c) => ({ ...c, withdrawnAt: event.at })),
        freeText: state.freeText || typeof event.note === "string",
      }
    case "Unsubscribed":
      return {
        ...state,
        unsubscribed: put(state.unsubscribed, event.purpose, { at: factDate(event), via: event.via }),
        freeText: state.freeText || typeof event.note === "string",
      }
    case "ContactSuppressed":
      return { ...state, suppression: { since: factDate(event), reason: event.reason } }
    case "ProfilingDisabled":
      return { ...state, profiling: false }
    case "ProfilingEnabled":
      return { ...state, profiling: true }
    case "ContractSigned":
      return {
        ...state,
        contracts: put(state.contracts, event.contractId, {
          contractId: event.contractId,
          clubId: event.clubId,
          startsAt: event.startsAt,
          endsAt: event.endsAt,
          endedAt: null,
        }),
      }
    case "ContractEnded":
      return {
        ...state,
        contracts: update(state.contracts, event.contractId, (c) => ({ ...c, endedAt: factDate(event) })),
      }
    case "WalletCredited":
      return { ...state, walletBalance: state.walletBalance + event.amount }
    case "WalletDebited":
      return { ...state, walletBalance: state.walletBalance - event.amount }
    case "DebtCaseOpened":
      return {
        ...state,
        debtCases: put(state.debtCases, event.caseId, {
          caseId: event.caseId,
          clubId: event.clubId,
          openedAt: factDate(event),
          closedAt: null,
        }),
      }
    case "DebtCaseClosed":
      return {
        ...state,
        debtCases: update(state.debtCases, event.caseId, (c) => ({ ...c, closedAt: factDate(event) })),
      }
    case "PurchaseRecorded":
      return touch(
        {
          ...state,
          purchases: put(state.purchases, event.purchaseId, {
            purchaseId: event.purchaseId,
            amount: event.amount,
            paid: event.paid,
            at: factDate(event),
          }),
        },
        factDate(event),
      )
    case "PurchasePaid":
      return { ...state, purchases: update(state.purchases, event.purchaseId, (p) => ({ ...p, paid: true })) }
    case "InstalmentMissed":
      return {
        ...state,
        instalments: put(state.instalments, event.instalmentId, {
          instalmentId: event.instalmentId,
          clubId: event.clubId,
          amount: event.amount,
          paid: false,
        }),
      }
    case "InstalmentPaid":
      return {
        ...state,
        instalments: update(state.instalments, event.instalmentId, (i) => ({ ...i, paid: true })),
      }
    case "ActivityRecorded":
      return touch({ ...state, counts: countActivity(state.counts, event.kind) }, factDate(event))
    case "MessageSent":
      return {
        ...state,
        counts: { ...state.counts, messages: state.counts.messages + 1 },
        messageIds: [...state.messageIds, event.messageId],
      }
    case "ErasureRequested":
    case "AccessRequested":
      return {
        ...state,
        requests: put(state.requests, event.requestId, {
          requestId: event.requestId,
          kind: event._tag === "ErasureRequested" ? "erasure" : "access",
          receivedAt: event.receivedAt,
          dueBy: event.dueBy,
          systems: [...new Set(event.systems ?? [])],
          confirmations: [],
          handledAt: null,
          fulfilledAt: null,
        }),
      }
    case "DataExported":
      return {
        ...state,
        counts: { ...state.counts, exports: state.counts.exports + 1 },
        requests:
          event.requestId === null
            ? state.requests
            : update(state.requests, event.requestId, (r) => handle(r, event.at)),
      }
    case "SystemConfirmed":
      return {
        ...state,
        // Own entries only: a forged log's "constructor" is no request, and the fold stays total.
        requests: Object.hasOwn(state.requests, event.requestId)
          ? update(state.requests, event.requestId, (r) => confirm(r, event.system, event.at))
          : state.requests,
        freeText: state.freeText || typeof event.note === "string",
      }
    case "ProcessingRestricted":
      return {
        ...state,
        restriction: { since: event.at, reason: event.reason },
        freeText: state.freeText || typeof event.reason === "string",
      }
    case "ProcessingRestrictionLifted":
      return { ...state, restriction: null }
    case "Forgotten":
      return {
        ...state,
        status: "forgotten",
        forgottenAt: event.at,
        restorableUntil: event.restorableUntil,
        requests: closeRequests(state.requests, event.at),
        lastErasureAt: event.at,
        freeText: state.freeText || typeof event.note === "string",
      }
    case "Restored":
      return { ...state, status: "active", forgottenAt: null, restorableUntil: null, lastErasureAt: event.at }
    case "Purged":
      return {
        ...state,
        status: "purged",
        purgedAt: event.at,
        restorableUntil: null,
        personal: onlyCategories(state.personal, event.keptCategories ?? []),
        lastErasureAt: event.at,
        freeText: false,
      }
    case "Anonymized":
      return {
        ...state,
        status: "anonymized",
        anonymizedAt: event.at,
        personal: withoutCategories(state.personal, event.erasedCategories),
        requests: closeRequests(state.requests, event.at),
        lastErasureAt: event.at,
        freeText: false,
      }
    default:
      return absurd(event)
  }
}

/** Exhaustiveness check: a new event type fails to compile where it is not handled. */
export const absurd = (value: never): never => {
  throw new Error(`Unhandled case: ${JSON.stringify(value)}`)
}

/** Folds a whole history from the initial state. */
export const fold = (events: Iterable<MemberEvent>, from: MemberState = initialState): MemberState => {
  let state = from
  for (const event of events) state = evolve(state, event)
  return state
}
