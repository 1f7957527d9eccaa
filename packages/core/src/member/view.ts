/**
 * What `get` shows of a member: derived from the state, with personal data
 * only while the member is active (R1, R19, R24).
 *
 * @module
 */
import type { MemberStatus } from "../errors.js"
import type { ConsentMethod, LawfulBasis, PersonalCategory, PersonalFields, Source } from "./events.js"
import { isContractActive } from "./guards.js"
import type { ActivityCounts, MemberState } from "./state.js"
import { keptByLaw } from "./state.js"

/** One purpose's consent as shown to staff (R33). */
export interface ConsentView {
  readonly purpose: string
  readonly basis: LawfulBasis
  readonly explicit: boolean
  readonly method: ConsentMethod
  readonly wordingVersion: string
  readonly source: Source
  readonly givenAt: Date
  readonly withdrawnAt: Date | null
  /** Given, not withdrawn. */
  readonly inForce: boolean
  /** Unsubscribed from this purpose (R4). */
  readonly unsubscribed: boolean
}

/**
 * A contract as `get` shows it. `active` is true when, at the time of the view, it has started and neither
 * ended nor run past `endsAt`.
 */
export interface ContractView {
  readonly contractId: string
  readonly clubId: string
  readonly startsAt: Date
  readonly endsAt: Date | null
  readonly endedAt: Date | null
  readonly active: boolean
}

/** A member as `get` returns it. */
export interface MemberView {
  readonly memberId: string
  readonly tenantId: string
  readonly status: MemberStatus
  /** Name, e-mail and phone while active; empty once forgotten, purged or anonymized. */
  readonly personal: { readonly name?: string; readonly email?: string; readonly phone?: string }
  /**
   * Personal data by category while active. After anonymization or purge only
   * the categories kept by law (invoice) remain, until their retention ends
   * (R24, R37); after forget, nothing.
   */
  readonly data: Readonly<Partial<Record<PersonalCategory, PersonalFields>>>
  /** What member lists show: the name, or a placeholder once anonymized (R24). */
  readonly displayName: string
  /**
   * The consents recorded, kept as proof (R3). Once the member is forgotten, purged or anonymized none is
   * in force: nothing is processed under them (R2).
   */
  readonly consents: ReadonlyArray<ConsentView>
  readonly unsubscribed: ReadonlyArray<string>
  /** Profiling allowed; false once the member is erased. */
  readonly profiling: boolean
  readonly restricted: boolean
  /** Zero once the member is erased: no finance detail outlives the person (R24). */
  readonly walletBalance: number
  /** Contracts with their club and dates, kept for statistics after erasure (R19); none active then. */
  readonly contracts: ReadonlyArray<ContractView>
  /** Empty once the member is erased. */
  readonly openDebtCases: ReadonlyArray<{ readonly caseId: string; readonly clubId: string }>
  /** Zero once the member is erased. */
  readonly unpaidPurchases: number
  /**
   * Categories kept by law after anonymization or purge (invoice data, R24, R37), each with the day its
   * retention ends, after which retention destroys it; `until` is null when no retention period is known.
   * Empty for a member who is neither anonymized nor purged.
   */
  readonly kept: ReadonlyArray<{ readonly category: PersonalCategory; readonly until: Date | null }>
  readonly registeredAt: Date
  readonly forgottenAt: Date | null
  readonly restorableUntil: Date | null
  readonly anonymizedAt: Date | null
  readonly purgedAt: Date | null
  /** Counts kept for statistics after erasure (R19). */
  readonly counts: ActivityCounts
}

/** What member lists show in place of an anonymized member's name. */
export const anonymizedName = "Anonymized member"

/** `ms` as a `Date`, or null. */
export const dateOrNull = (ms: number | null): Date | null => (ms === null ? null : new Date(ms))

const text = (fields: PersonalFields | undefined, key: string): string | undefined => {
  const value = fields?.[key]
  return typeof value === "string" ? value : undefined
}

/** How long the law keeps what anonymization keeps, for the view's `kept` dates. */
export interface ViewSettings {
  /** Years invoice data is kept after anonymization (accounting law). */
  readonly invoiceRetentionYears?: number
}

/** The day `years` calendar years after `ms` (UTC), as retention counts them. */
export const yearsAfter = (ms: number, years: number): Date => {
  const day = new Date(ms)
  day.setUTCFullYear(day.getUTCFullYear() + years)
  return day
}

/** Builds the view of a member at `now` (for contracts' `active`). */
export const memberView = (state: MemberState, now: number, settings: ViewSettings = {}): MemberView => {
  const active = state.status === "active"
  const erasedAt =
    state.status === "anonymized" ? state.anonymizedAt : state.status === "purged" ? state.purgedAt : null
  const kept =
    erasedAt === null
      ? []
      : keptByLaw(state).map((category) => ({
          category,
          until:
            settings.invoiceRetentionYears === undefined
              ? null
              : yearsAfter(erasedAt, settings.invoiceRetentionYears),
        }))
  // Active: everything; anonymized or purged: what the law keeps (the state holds nothing else); forgotten: nothing.
  const data = active || erasedAt !== null ? state.personal : {}
  const name = active ? text(state.personal.identity, "name") : undefined
  const email = active ? text(state.personal.contact, "email") : undefined
  const phone = active ? text(state.personal.contact, "phone") : undefined
  return {
    memberId: state.memberId,
    tenantId: state.tenantId,
    status: state.status,
    personal: {
      ...(name === undefined ? {} : { name }),
      ...(email === undefined ? {} : { email }),
      ...(phone === undefined ? {} : { phone }),
    },
    data,
    displayName:
      state.status === "anonymized" ? anonymizedName : (name ?? (active ? "" : `Member ${state.memberId}`)),
    consents: Object.values(state.consents).map((c) => ({
      purpose: c.purpose,
      basis: c.basis,
      explicit: c.explicit,
      method: c.method,
      wordingVersion: c.wordingVersion,
      source: c.source,
      givenAt: new Date(c.givenAt),
      withdrawnAt: dateOrNull(c.withdrawnAt),
      inForce: active && c.withdrawnAt === null,
      unsubscribed: state.unsubscribed[c.purpose] !== undefined,
    })),
    unsubscribed: Object.keys(state.unsubscribed),
    profiling: active && state.profiling,
    restricted: state.restriction !== null,
    walletBalance: active ? state.walletBalance : 0,
    contracts: Object.values(state.contracts).map((c) => ({
      contractId: c.contractId,
      clubId: c.clubId,
      startsAt: new Date(c.startsAt),
      endsAt: dateOrNull(c.endsAt),
      endedAt: dateOrNull(c.endedAt),
      active: active && isContractActive(c, now),
    })),
    openDebtCases: active
      ? Object.values(state.debtCases)
          .filter((c) => c.closedAt === null)
          .map((c) => ({ caseId: c.caseId, clubId: c.clubId }))
      : [],
    unpaidPurchases: active ? Object.values(state.purchases).filter((p) => !p.paid).length : 0,
    kept,
    registeredAt: new Date(state.registeredAt),
    forgottenAt: dateOrNull(state.forgottenAt),
    restorableUntil: dateOrNull(state.restorableUntil),
    anonymizedAt: dateOrNull(state.anonymizedAt),
    purgedAt: dateOrNull(state.purgedAt),
    counts: state.counts,
  }
}
