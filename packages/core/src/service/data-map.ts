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

/**
 * A lawful basis with the article of the GDPR that grants it.
 *
 * @inline
 */
export interface DataMapLawfulBasis {
  readonly basis: LawfulBasis
  /** E.g. `"art. 6(1)(b)"`; `"art. 6(1)(a), 9(2)(a)"` for the explicit consent a special category needs. */
  readonly article: string
}

/**
 * One kind of data held about a person, as an access export explains it
 * (art. 15(1) GDPR, R13): a personal category, or a kind of record Lethe
 * keeps in clear (contracts, wallet, consents...), with why it is processed,
 * on which lawful bases, for how long and where it comes from.
 *
 * @inline
 */
export interface DataMapProcessing {
  /** A `PersonalCategory`, or the record kind: `membership`, `consents`, `contracts`, `wallet`, `purchases`, `instalments`, `debt-cases`, `messages`, `requests`. */
  readonly category: string
  /** The name a person reads. */
  readonly title: string
  readonly contains: string
  /** What it is processed for. */
  readonly purposes: ReadonlyArray<string>
  readonly lawfulBases: ReadonlyArray<DataMapLawfulBasis>
  /** How long it is kept, from the configuration (restore window, invoice retention) and the policies given. */
  readonly retention: string
  /** Where it comes from. */
  readonly source: string
}

/** What `dataMap()` returns: plain data, JSON-serializable. */
export interface DataMap {
  readonly version: typeof dataMapVersion
  readonly categories: ReadonlyArray<DataMapCategory>
  /**
   * Every kind of data held, personal categories first, with purposes, lawful bases, retention and source:
   * what an access export tells the person (R13).
   */
  readonly processing: ReadonlyArray<DataMapProcessing>
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
    ? "Kept on purge and on anonymization until the invoice retention ends, then its key is destroyed"
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
      return `Purge members forgotten more than ${config.restoreWindowDays} days ago: every key destroyed but the invoice data's, which the law keeps, sealed values redacted`
    case "end-invoice-retention":
      return `Destroy the invoice key of members anonymized or purged more than ${config.invoiceRetentionYears} years ago`
    default:
      return absurd(rule)
  }
}

/** The article of the GDPR that grants each lawful basis (art. 6(1)). */
export const lawfulBasisArticles: Readonly<Record<LawfulBasis, string>> = {
  consent: "art. 6(1)(a)",
  contract: "art. 6(1)(b)",
  "legal-obligation": "art. 6(1)(c)",
  "vital-interest": "art. 6(1)(d)",
  "public-task": "art. 6(1)(e)",
  "legitimate-interest": "art. 6(1)(f)",
}

const titles: Readonly<Record<PersonalCategory, string>> = {
  identity: "Name",
  contact: "Contact details",
  address: "Address",
  photo: "Photo",
  documents: "Documents",
  notes: "Staff notes",
  training: "Training",
  activity: "Visits, classes, transactions and page views",
  invoice: "Invoice details",
  health: "Health data",
  ethnicOrigin: "Ethnic origin",
  politicalOpinions: "Political opinions",
  religiousBeliefs: "Religious or philosophical beliefs",
}

const membership = "Managing the membership, its contracts and payments"

/** The purposes and bases of each personal category that are not special (those follow their consents). */
const ordinaryProcessing: Readonly<
  Record<
    Exclude<PersonalCategory, "health" | "ethnicOrigin" | "politicalOpinions" | "religiousBeliefs">,
    { readonly purposes: ReadonlyArray<string>; readonly bases: ReadonlyArray<LawfulBasis> }
  >
> = {
  identity: { purposes: [membership, "Addressing messages to the person"], bases: ["contract", "consent"] },
  contact: { purposes: [membership], bases: ["contract"] },
  address: { purposes: [membership], bases: ["contract"] },
  photo: { purposes: ["Recognising the member at the club's entrance"], bases: ["contract"] },
  documents: {
    purposes: [membership, "Keeping signed forms as proof"],
    bases: ["contract", "legal-obligation"],
  },
  notes: { purposes: ["Serving the member well (staff notes)"], bases: ["legitimate-interest"] },
  training: { purposes: ["Training plans the member asked for"], bases: ["contract"] },
  activity: {
    purposes: ["Giving access to clubs and classes, recording what was bought", "Security of the premises"],
    bases: ["contract", "legitimate-interest"],
  },
  invoice: {
    purposes: ["Issuing invoices and keeping them as accounting law requires"],
    bases: ["legal-obligation"],
  },
}

const unique = <A>(items: ReadonlyArray<A>): ReadonlyArray<A> => [...new Set(items)]
const withArticles = (bases: ReadonlyArray<LawfulBasis>): ReadonlyArray<DataMapLawfulBasis> =>
  unique(bases).map((basis) => ({ basis, article: lawfulBasisArticles[basis] }))

const processingOf = (
  config: LetheConfig,
  policies: ReadonlyArray<DataMapPolicy>,
): ReadonlyArray<DataMapProcessing> => {
  const catalogue = Object.values(config.consentCatalogue)
  const messagePurposes = catalogue.filter((p) => p.covers.length === 0 && !p.profiling)
  const profilingPurposes = catalogue.filter((p) => p.profiling)
  const byPolicy = policies.length === 0 ? "" : ` ${policies.map((p) => `${p.description}.`).join(" ")}`
  const personalRetention = `Kept while the person is a member or a contact, unless they ask for it to be erased.${byPolicy} Forgetting keeps it restorable for ${config.restoreWindowDays} days, then destroys it for good; anonymizing destroys it at once.`
  const recordRetention = `Kept in the member's log; once the personal data is destroyed (anonymization, or ${config.restoreWindowDays} days after forgetting) it no longer identifies the person.`
  const personal = PersonalCategorySchema.literals.map((category): DataMapProcessing => {
    const base = { category, title: titles[category], contains: contents[category] }
    if (specialCategories.has(category)) {
      const covering = catalogue.filter((p) => p.covers.includes(category))
      return {
        ...base,
        purposes:
          covering.length === 0
            ? ["Not processed: no purpose of the consent catalogue covers it"]
            : covering.map((p) => p.description),
        lawfulBases: [{ basis: "consent", article: "art. 6(1)(a), 9(2)(a) (explicit consent)" }],
        retention: `${personalRetention} Withdrawing the consent stops its use.`,
        source: "The person, with their explicit consent",
      }
    }
    const ordinary = ordinaryProcessing[category as keyof typeof ordinaryProcessing]
    const extra = category === "contact" ? messagePurposes : category === "activity" ? profilingPurposes : []
    return {
      ...base,
      purposes: [...ordinary.purposes, ...extra.map((p) => p.description)],
      lawfulBases: withArticles([...ordinary.bases, ...extra.flatMap((p) => p.bases)]),
      retention:
        category === "invoice"
          ? `Kept ${config.invoiceRetentionYears} years after anonymization or purge, as accounting law requires, then destroyed.`
          : personalRetention,
      source:
        category === "activity"
          ? "The club's entrance, booking and till systems, and the website"
          : category === "notes"
            ? "The club's staff"
            : "The person (sign-up forms, the club's desk), staff, or an import from an earlier system",
    }
  })
  const record = (
    category: string,
    title: string,
    contains: string,
    purposes: ReadonlyArray<string>,
    bases: ReadonlyArray<LawfulBasis>,
    source: string,
  ): DataMapProcessing => ({
    category,
    title,
    contains,
    purposes,
    lawfulBases: withArticles(bases),
    retention: recordRetention,
    source,
  })
  return [
    ...personal,
    record(
      "membership",
      "Membership",
      "The pseudonymous member id, the tenant, the status, when and how the person registered, the profiling switch, a restriction of processing",
      [membership],
      ["contract"],
      "The person's registration, staff, or an import",
    ),
    record(
      "consents",
      "Consents",
      "Each consent with its purpose, wording version, method, time and source, and every withdrawal and unsubscribe",
      ["Proving the consents given and withdrawn (art. 7(1) GDPR)"],
      ["legal-obligation"],
      "The person (forms, links in messages), staff, or an import",
    ),
    record(
      "contracts",
      "Contracts",
      "Contracts with clubs and their dates",
      [membership],
      ["contract"],
      "The club's staff and systems",
    ),
    record(
      "wallet",
      "Wallet",
      "The wallet's balance and movements",
      [membership],
      ["contract"],
      "The club's till and systems",
    ),
    record(
      "purchases",
      "Purchases",
      "Purchases and their payment",
      [membership, "Accounting"],
      ["contract", "legal-obligation"],
      "The club's till and shop",
    ),
    record(
      "instalments",
      "Missed instalments",
      "Instalments missed and paid later",
      [membership],
      ["contract"],
      "The club's payment systems",
    ),
    record(
      "debt-cases",
      "Debt-collection cases",
      "Debt-collection cases opened and closed",
      ["Recovering unpaid amounts"],
      ["legitimate-interest"],
      "The club's staff",
    ),
    record(
      "messages",
      "Messages",
      "Each message sent: purpose, channel, sender and the lawful basis in force",
      ["Proving on which basis each message was sent", ...messagePurposes.map((p) => p.description)],
      ["legal-obligation", ...messagePurposes.flatMap((p) => p.bases)],
      "The club's messaging",
    ),
    record(
      "requests",
      "Requests and exports",
      "Access and erasure requests, their deadlines, who handled them, and every export",
      ["Answering the person's requests within the deadline, and proving it (art. 12, 5(2) GDPR)"],
      ["legal-obligation"],
      "The person's requests, recorded by staff",
    ),
  ]
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
  const policies = (input.policies ?? []).map(policyOf)
  return {
    version: dataMapVersion,
    categories,
    processing: processingOf(config, policies),
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
      policies,
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
