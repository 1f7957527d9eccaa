/**
 * The data map (R18, R34): which categories of personal data Lethe holds,
 * where, why (purposes and their lawful bases) and for how long. It is a pure
 * description computed from the configuration, the store's name and the
 * retention policies the application runs; it reads nothing from the store.
 * The controller turns it into its register of processing activities
 * (art. 30 GDPR, see docs/records-of-processing.md).
 *
 * @module
 */
import type { LawfulBasis, PersonalCategory } from "../member/events.js"
import {
  PersonalCategory as PersonalCategorySchema,
  retainedOnAnonymization,
  specialCategories,
} from "../member/events.js"
import { absurd } from "../member/state.js"
import type { RetentionRule } from "../retention/plan.js"
import { builtInRetentionRules } from "../retention/plan.js"
import type { RetentionPolicy } from "../retention/policies.js"
import type { LetheConfig } from "./inputs.js"

/** The version of the data map's shape; it changes only when a field changes meaning or goes away. */
export const dataMapVersion = 1

/**
 * A directory column that holds a category's value in clear (or its blind index) for lookups.
 *
 * @inline
 */
export interface DataMapDirectoryColumn {
  readonly column: string
  readonly holds: string
  /** When the column is filled; it is emptied at once otherwise. */
  readonly while: string
}

/**
 * One category of personal data (`PersonalCategory`).
 *
 * @inline
 */
export interface DataMapCategory {
  readonly category: PersonalCategory
  /** What the category is meant to contain; the application chooses the field names. */
  readonly contains: string
  /** A special category of art. 9 GDPR: recorded only with an explicit consent (R17). */
  readonly specialCategory: boolean
  /** Purposes of the catalogue whose consent allows recording it (special categories only). */
  readonly coveredBy: ReadonlyArray<string>
  /** Where the values are: always sealed in the event log under a key per member and category. */
  readonly eventLog: string
  /** Directory columns that hold the value in clear (or its blind index) while the member is active. */
  readonly directory: ReadonlyArray<DataMapDirectoryColumn>
  /** What forgetting, purging and anonymizing do to it. */
  readonly erasure: string
  /** Kept after anonymization until its legal retention ends (R24). */
  readonly keptOnAnonymization: boolean
}

/**
 * One purpose of the consent catalogue, with its lawful bases (R16, R17, R33).
 *
 * @inline
 */
export interface DataMapPurpose {
  readonly purpose: string
  readonly description: string
  /** Bases a consent record for the purpose may cite; the first is the default. */
  readonly lawfulBases: ReadonlyArray<LawfulBasis>
  /** A basis that allows processing without a consent record, or null (R16). */
  readonly standingBasis: {
    readonly basis: Exclude<LawfulBasis, "consent">
    readonly customersOnly: boolean
  } | null
  /** Consent must be explicit (art. 9). */
  readonly explicit: boolean
  /** Special categories the purpose's consent allows recording. */
  readonly covers: ReadonlyArray<PersonalCategory>
  /** Depends on profiling; refused while profiling is disabled for the member (R31). */
  readonly profiling: boolean
  /** The consent wordings shown to people, oldest first. */
  readonly wordingVersions: ReadonlyArray<string>
}

/**
 * A rule Lethe applies on every retention run.
 *
 * @inline
 */
export interface DataMapBuiltInRule {
  readonly rule: RetentionRule
  readonly description: string
}

/**
 * One retention policy the application runs (R12, R15, R20).
 *
 * @inline
 */
export interface DataMapPolicy {
  readonly id: string
  readonly kind: RetentionPolicy["_tag"]
  readonly action: "anonymize" | "forget"
  readonly period: { readonly months: number } | { readonly days: number }
  /** The tenant it is limited to, or null for every tenant. */
  readonly tenantId: string | null
  readonly description: string
}

/**
 * Retention periods and deadlines (R5, R11, R12, R15, R20, R24).
 *
 * @inline
 */
export interface DataMapRetention {
  /** Days a forgotten member can still be restored (R5); purged after that. */
  readonly restoreWindowDays: number
  readonly purge: string
  /** Years invoices keep name and address after anonymization (R24). */
  readonly invoiceRetentionYears: number
  /** Days to fulfil an erasure request (R11). */
  readonly erasureDeadlineDays: number
  /** Days to fulfil an access request (art. 12(3)). */
  readonly accessDeadlineDays: number
  readonly builtInRules: ReadonlyArray<DataMapBuiltInRule>
  /** The policies passed to `dataMap`, as the application runs them with `runRetention`. */
  readonly policies: ReadonlyArray<DataMapPolicy>
}

/**
 * Where the data is kept (R28, R29).
 *
 * @inline
 */
export interface DataMapStorage {
  /** The store adapter's name, e.g. "memory", "sqlite", "postgres". */
  readonly store: string
  readonly eventLog: string
  readonly directory: string
  readonly keys: string
  /** Records linked to a member id that are not sealed. */
  readonly inClear: string
  readonly residency: string
}

/** What `dataMap()` returns: plain data, JSON-serializable. */
export interface DataMap {
  readonly version: typeof dataMapVersion
  readonly categories: ReadonlyArray<DataMapCategory>
  readonly purposes: ReadonlyArray<DataMapPurpose>
  readonly retention: DataMapRetention
  readonly storage: DataMapStorage
  /** Systems outside Lethe that may hold the same people's data, handled by hand (R14). */
  readonly otherSystems: ReadonlyArray<string>
}

/** What `dataMap` needs: nothing read from a store. */
export interface DataMapInput {
  readonly config: LetheConfig
  readonly storeName: string
  readonly policies?: ReadonlyArray<RetentionPolicy>
}

const contents: Readonly<Record<PersonalCategory, string>> = {
  identity: "The person's name",
  contact: "E-mail address and phone number",
  address: "Postal address",
  photo: "The member's photo",
  documents: "Documents about the member (identity documents, signed forms)",
  notes: "Staff notes about the member",
  training: "Training plans and measurements",
  activity: "Personal details of visits, classes, transactions and page views (what was bought, which page)",
  invoice: "Name and address as printed on invoices and receipts (accounting law)",
  health: "Health data: measurements, conditions, injuries",
  ethnicOrigin: "Racial or ethnic origin",
  politicalOpinions: "Political opinions",
  religiousBeliefs: "Religious or philosophical beliefs",
}

const whileActive = "the member is active"

const directoryColumns: Readonly<Partial<Record<PersonalCategory, ReadonlyArray<DataMapDirectoryColumn>>>> = {
  identity: [
    { column: "name", holds: "the name, in clear, for member lists", while: whileActive },
    { column: "searchText", holds: "the name, lower-cased, for search", while: whileActive },
  ],
  contact: [
    { column: "email", holds: "the e-mail address, in clear, for member lists", while: whileActive },
    { column: "searchText", holds: "the e-mail address, lower-cased, for search", while: whileActive },
    { column: "emailKey", holds: "a keyed blind index of the e-mail (not the address)", while: whileActive },
    {
      column: "restoreKey",
      holds: "the same blind index, to restore a member who subscribes again (R5)",
      while: "the member is forgotten and still restorable",
    },
  ],
}

const erasureOf = (category: PersonalCategory): string =>
  retainedOnAnonymization.has(category)
    ? "Key destroyed on purge; kept on anonymization until the invoice retention ends, then its key is destroyed"
    : "Key destroyed on purge and on anonymization, and on erasePersonalData for this category"

const policyOf = (policy: RetentionPolicy): DataMapPolicy => {
  const tenantId = policy.tenantId ?? null
  const where = tenantId === null ? "every tenant" : `tenant ${tenantId}`
  switch (policy._tag) {
    case "AnonymizeAfterContractEnd":
      return {
        id: policy.id,
        kind: policy._tag,
        action: "anonymize",
        period: { months: policy.months },
        tenantId,
        description: `Anonymize members ${policy.months} months after their last contract ended (${where})`,
      }
    case "AnonymizeInactive":
      return {
        id: policy.id,
        kind: policy._tag,
        action: "anonymize",
        period: { months: policy.months },
        tenantId,
        description: `Anonymize members with no visit, class, transaction, page view or purchase for ${policy.months} months (${where})`,
      }
    case "ForgetColdLeads":
      return {
        id: policy.id,
        kind: policy._tag,
        action: "forget",
        period: { days: policy.days },
        tenantId,
        description: `Forget leads who never became customers and gave no sign of life for ${policy.days} days (${where})`,
      }
    default:
      return absurd(policy)
  }
}

const ruleDescription = (rule: RetentionRule, config: LetheConfig): string => {
  switch (rule) {
    case "finish-erasure":
      return "Finish every purge or anonymization whose key destruction was interrupted: its keys destroyed, sealed values redacted"
    case "purge-forgotten":
      return `Purge members forgotten more than ${config.restoreWindowDays} days ago: every key destroyed, sealed values redacted`
    case "end-invoice-retention":
      return `Destroy the invoice key of members anonymized more than ${config.invoiceRetentionYears} years ago`
    default:
      return absurd(rule)
  }
}

/**
 * The data map of a Lethe configuration (R18): categories held, purposes with
 * their lawful bases, retention rules and policies, storage, and the other
 * systems to handle by hand. Pure: the same input gives the same map.
 */
export const dataMap = (input: DataMapInput): DataMap => {
  const { config } = input
  const purposes = Object.values(config.consentCatalogue)
  const categories = PersonalCategorySchema.literals.map(
    (category): DataMapCategory => ({
      category,
      contains: contents[category],
      specialCategory: specialCategories.has(category),
      coveredBy: specialCategories.has(category)
        ? purposes.filter((p) => p.covers.includes(category)).map((p) => p.purpose)
        : [],
      eventLog: "sealed (AES-256-GCM) in the event log under a data key of its own per member and category",
      directory: directoryColumns[category] ?? [],
      erasure: erasureOf(category),
      keptOnAnonymization: retainedOnAnonymization.has(category),
    }),
  )
  return {
    version: dataMapVersion,
    categories,
    purposes: purposes.map((p) => ({
      purpose: p.purpose,
      description: p.description,
      lawfulBases: [...p.bases],
      standingBasis:
        p.standingBasis === undefined
          ? null
          : { basis: p.standingBasis.basis, customersOnly: p.standingBasis.customersOnly },
      explicit: p.explicit,
      covers: [...p.covers],
      profiling: p.profiling,
      wordingVersions: [...p.wordingVersions],
    })),
    retention: {
      restoreWindowDays: config.restoreWindowDays,
      purge: `A forgotten member is purged by the next retention run after ${config.restoreWindowDays} days: keys destroyed, sealed values redacted from the log`,
      invoiceRetentionYears: config.invoiceRetentionYears,
      erasureDeadlineDays: config.erasureDeadlineDays,
      accessDeadlineDays: config.accessDeadlineDays,
      builtInRules: builtInRetentionRules.map((rule) => ({
        rule,
        description: ruleDescription(rule, config),
      })),
      policies: (input.policies ?? []).map(policyOf),
    },
    storage: {
      store: input.storeName,
      eventLog:
        "Append-only event log, one stream per member; personal values sealed, hash-chained over their ciphertext digests",
      directory:
        "One row per member for lists, search, deadlines and retention queries; name and e-mail in clear only while the member is active",
      keys: "Data keys per member and category in the store's key table, wrapped by the application's keyring; destroyed keys leave a tombstone and are never reissued",
      inClear:
        "Member and tenant ids, consents (purpose, basis, time, method, wording version), contracts, wallet, purchases, instalments, debt cases, requests, message proofs and event metadata (actor, source): pseudonymous once the member's keys are destroyed",
      residency:
        "The library sends nothing anywhere: data stays in the store the application runs, where the application deploys it (R28)",
    },
    otherSystems: [...config.otherSystems],
  }
}
