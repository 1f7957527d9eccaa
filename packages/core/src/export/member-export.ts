/**
 * The access export (R13, R14, R21, R30): everything Lethe holds about one
 * member, as one versioned document built from the member's decoded events,
 * with what art. 15 GDPR asks to tell the person besides: purposes, lawful
 * bases, retention and source of each kind of data, recipients, the
 * controller's contact and the person's rights. The JSON export is this
 * document; the CSV, HTML and PDF exports are views of it.
 * The schema is documented field by field in docs/export-format.md.
 *
 * @module
 */
import { Schema } from "effect"
import type { MemberStatus } from "../errors.js"
import type { ConsentCatalogue } from "../member/config.js"
import {
  type ActivityKind,
  type Channel,
  type ConsentMethod,
  factDate,
  type LawfulBasis,
  type LeavingReason,
  type MemberEvent,
  type PersonalCategory,
  type PersonalFields,
  type Source,
} from "../member/events.js"
import type { MemberState } from "../member/state.js"
import { absurd } from "../member/state.js"
import type { RecordedEvent } from "../sealing/codec.js"

/** The formats `exportMember` produces. */
export const ExportFormat = Schema.Literal("json", "csv", "html", "pdf")
export type ExportFormat = typeof ExportFormat.Type

/** The schema version of the document; a reader checks it before anything else. */
export const memberExportFormat = "lethe-member-export/2"

/**
 * Who is responsible for the members' data (`LetheConfig.controller`), as
 * every access export names it (art. 13(1)(a)-(b), 15, 77 GDPR).
 *
 * @example
 * ```ts
 * const controller: ControllerContact = {
 *   name: "Fit Club Sp. z o.o.",
 *   contact: "privacy@fitclub.example, ul. Długa 1, 80-001 Gdańsk",
 *   dpo: "dpo@fitclub.example",
 *   supervisoryAuthority: { name: "Prezes Urzędu Ochrony Danych Osobowych (UODO)", url: "https://uodo.gov.pl" },
 * }
 * ```
 */
export interface ControllerContact {
  /** The controller's legal name. */
  readonly name: string
  /** How a person reaches the controller about their data: an e-mail address, a postal address, or both. */
  readonly contact: string
  /** The data protection officer's contact, when one is appointed (art. 37). */
  readonly dpo?: string
  /** The supervisory authority a person may complain to (art. 77). */
  readonly supervisoryAuthority: { readonly name: string; readonly url: string }
}

/**
 * The controller a configuration names until it sets its own: every field
 * says which configuration key to set, so an export made without it shows
 * what is missing, not a made-up name. The supervisory authority defaults to
 * the European Data Protection Board's list of national authorities.
 */
export const defaultController: ControllerContact = {
  name: "The controller (set config.controller.name)",
  contact: "Ask the club or shop where you are a member (set config.controller.contact)",
  supervisoryAuthority: {
    name: "The data protection authority of your country (set config.controller.supervisoryAuthority)",
    url: "https://www.edpb.europa.eu/about-edpb/about-edpb/members_en",
  },
}

/**
 * Where a value came from (R32): the kind, and the free tag if one was given.
 *
 * @inline
 */
export interface ExportedSource {
  readonly kind: Source["kind"]
  readonly tag: string | null
}

/**
 * One recorded personal value with its provenance (R32). Times are ISO 8601.
 *
 * @inline
 */
export interface ExportedValue {
  readonly category: PersonalCategory
  readonly field: string
  readonly value: string
  readonly source: ExportedSource
  readonly recordedAt: string
  /** False for a value a later record of the same field replaced; the log still holds it. */
  readonly current: boolean
}

/**
 * A purpose's consent as it stands (R16, R33).
 *
 * @inline
 */
export interface ExportedConsent {
  readonly purpose: string
  /** The purpose as the consent catalogue describes it, or null if the catalogue no longer has it. */
  readonly description: string | null
  readonly basis: LawfulBasis
  readonly explicit: boolean
  readonly method: ConsentMethod
  readonly wordingVersion: string
  readonly source: ExportedSource
  /** When the person gave it. */
  readonly givenAt: string
  /** When Lethe recorded it (later than `givenAt` for an import). */
  readonly recordedAt: string
  readonly withdrawnAt: string | null
  readonly unsubscribedAt: string | null
  /** Given, not withdrawn, not unsubscribed. */
  readonly inForce: boolean
}

/**
 * One giving, withdrawal or unsubscribe, in the order they happened (R4, R33).
 *
 * @inline
 */
export interface ExportedConsentChange {
  readonly purpose: string
  readonly action: "given" | "withdrawn" | "unsubscribed"
  readonly at: string
  readonly givenAt: string | null
  readonly basis: LawfulBasis | null
  readonly explicit: boolean | null
  readonly method: ConsentMethod | null
  readonly wordingVersion: string | null
  readonly source: ExportedSource | null
  /** For an unsubscribe: the link in a message, or staff. */
  readonly via: "link" | "staff" | null
  /** For a withdrawal or an unsubscribe: why the person left, when they said (R44). */
  readonly why: LeavingReason | null
  /** The person's own words about leaving; null when none were given or they are erased. */
  readonly note: string | null
}

/**
 * A contract the member signed; `endedAt` is when it was ended early or cancelled. Dates are when the facts
 * happened (R38); `recordedAt` is when Lethe recorded the signing.
 *
 * @inline
 */
export interface ExportedContract {
  readonly contractId: string
  readonly clubId: string
  readonly signedAt: string
  /** When Lethe recorded the signing (later than `signedAt` for a migrated history, R38). */
  readonly recordedAt: string
  readonly startsAt: string
  readonly endsAt: string | null
  readonly endedAt: string | null
}

/**
 * Money is in integer minor units (cents, grosze, öre) of the tenant's currency. A movement's `at` is when it
 * happened, `recordedAt` when Lethe recorded it (later for a migrated history, R38).
 *
 * @inline
 */
export interface ExportedWallet {
  readonly balance: number
  readonly movements: ReadonlyArray<{
    readonly at: string
    readonly recordedAt: string
    readonly kind: "credit" | "debit"
    readonly amount: number
  }>
}

/**
 * A purchase and whether, and when, it was paid. `amount` is in integer minor units. `at` is when it was
 * made, `recordedAt` when Lethe recorded it (later for a migrated history, R38).
 *
 * @inline
 */
export interface ExportedPurchase {
  readonly purchaseId: string
  readonly amount: number
  readonly at: string
  readonly recordedAt: string
  readonly paid: boolean
  readonly paidAt: string | null
}

/**
 * An instalment the member missed, and when it was paid. `amount` is in integer minor units.
 *
 * @inline
 */
export interface ExportedInstalment {
  readonly instalmentId: string
  readonly clubId: string
  readonly amount: number
  readonly missedAt: string
  readonly paidAt: string | null
}

/**
 * A debt-collection case; `closedAt` is null while it is open.
 *
 * @inline
 */
export interface ExportedDebtCase {
  readonly caseId: string
  readonly clubId: string
  readonly openedAt: string
  readonly closedAt: string | null
}

/**
 * A visit, class, transaction or page view, with its details opened (R21). `at` is when it happened,
 * `recordedAt` when Lethe recorded it (later for a migrated history, R38).
 *
 * @inline
 */
export interface ExportedActivity {
  readonly at: string
  readonly recordedAt: string
  readonly kind: ActivityKind
  readonly clubId: string | null
  readonly details: Readonly<Record<string, string>>
}

/**
 * A message sent to the member and the lawful basis it was sent under (R3).
 *
 * @inline
 */
export interface ExportedMessage {
  readonly messageId: string
  readonly sentAt: string
  readonly purpose: string
  readonly channel: string
  readonly sentBy: string
  readonly test: boolean
  readonly basis: LawfulBasis
  readonly consentGivenAt: string | null
  readonly method: ConsentMethod | null
  readonly wordingVersion: string | null
}

/**
 * An access or erasure request, with its deadline and when it was fulfilled (R11).
 *
 * @inline
 */
export interface ExportedRequest {
  readonly requestId: string
  readonly kind: "erasure" | "access"
  readonly via: Channel
  readonly receivedAt: string
  readonly dueBy: string
  readonly fulfilledAt: string | null
  /** Who recorded the request (the actor's id, e.g. a staff member's). */
  readonly recordedBy: string
  /** When Lethe's own part was done (an export, a forget, an anonymization), or null. */
  readonly handledAt: string | null
  /** Who did Lethe's own part, or null until it is done. */
  readonly handledBy: string | null
  /** The other systems that must confirm their part (R14), each with its confirmation once recorded. */
  readonly systems: ReadonlyArray<{
    readonly system: string
    readonly confirmedAt: string | null
    readonly confirmedBy: string | null
  }>
  /** Who did the last part that fulfilled it (Lethe's own, or a system's confirmation), or null while open. */
  readonly fulfilledBy: string | null
}

/**
 * One kind of data held about the person (art. 15(1) GDPR): what it contains, why it is processed, on which
 * lawful bases, for how long and where it comes from, from the data map (R18). `held` says whether this
 * person has any of it.
 *
 * @inline
 */
export interface ExportedCategory {
  /** A personal category or a record kind (`contracts`, `wallet`, `consents`...), as in the data map. */
  readonly category: string
  readonly title: string
  readonly contains: string
  /** Whether the document holds any data of this kind about the person. */
  readonly held: boolean
  readonly purposes: ReadonlyArray<string>
  readonly lawfulBases: ReadonlyArray<ExportedLawfulBasis>
  readonly retention: string
  readonly source: string
}

/**
 * A lawful basis with the article of the GDPR that grants it, e.g. `contract`, `art. 6(1)(b)`.
 *
 * @inline
 */
export interface ExportedLawfulBasis {
  readonly basis: LawfulBasis
  readonly article: string
}

/**
 * A right the person has under the GDPR, with its article and how to use it.
 *
 * @inline
 */
export interface ExportedRight {
  readonly right: string
  /** E.g. `"art. 15"`. */
  readonly article: string
  readonly description: string
}

/**
 * One event of the member's log, as a person reads it: what happened, when and who did it.
 *
 * @inline
 */
export interface ExportedHistoryEntry {
  readonly at: string
  /** The event's tag, e.g. `Forgotten`, `Restored`. */
  readonly event: string
  readonly description: string
  /** Who acted: the actor's id (a staff member, `lethe:retention`, the person through a link...). */
  readonly by: string
}

/**
 * An export of the member's data (R13), this one included, with the access request it fulfilled.
 *
 * @inline
 */
export interface ExportedExport {
  readonly at: string
  readonly format: string
  readonly requestId: string | null
  /** Who made the export (the actor's id). */
  readonly by: string
}

/**
 * Everything Lethe holds about a member (R13, R21, R30), schema
 * `lethe-member-export/2`. Times are ISO 8601 in UTC; money is in integer
 * minor units; `null` means "none" or "not applicable".
 */
export interface MemberExport {
  /** The schema version, `lethe-member-export/2`; a reader checks it before anything else. */
  readonly format: typeof memberExportFormat
  /** When the export was recorded (its `DataExported` event). */
  readonly exportedAt: string
  /** The access request this export fulfils, if any (R11). */
  readonly requestId: string | null
  /** The BCP 47 locale the HTML and PDF write readable dates in. */
  readonly locale: string
  /** The IANA time zone the HTML and PDF write readable dates in. */
  readonly timeZone: string
  /** Who is responsible for the data and how to reach them (`config.controller`). */
  readonly controller: {
    readonly name: string
    readonly contact: string
    readonly dpo: string | null
    readonly supervisoryAuthority: { readonly name: string; readonly url: string }
  }
  /** Every kind of data held, with purposes, lawful bases, retention and source (art. 15(1)). */
  readonly categories: ReadonlyArray<ExportedCategory>
  /** The person's rights, the complaint to the supervisory authority included (art. 15(1)(e)-(f)). */
  readonly rights: ReadonlyArray<ExportedRight>
  /** The member's ids, status, registration, source and flags; personal values are in `personalData`. */
  readonly member: {
    readonly memberId: string
    readonly tenantId: string
    readonly status: MemberStatus
    readonly registeredAt: string
    readonly source: ExportedSource | null
    readonly profiling: boolean
    /** The restriction in force; `reason` is null once its key was destroyed (category `notes`). */
    readonly restriction: { readonly since: string; readonly reason: string | null } | null
  }
  /** Every personal value held, by category, with its provenance; invoice data is in `invoices`. */
  readonly personalData: ReadonlyArray<ExportedValue>
  /** Each purpose's consent as it stands now (R16, R33). */
  readonly consents: ReadonlyArray<ExportedConsent>
  /** Every giving, withdrawal and unsubscribe, in the order they happened (R4, R33). */
  readonly consentHistory: ReadonlyArray<ExportedConsentChange>
  /** Every contract the member signed. */
  readonly contracts: ReadonlyArray<ExportedContract>
  /** The wallet's balance and every movement; money is in integer minor units of the tenant's currency. */
  readonly wallet: ExportedWallet
  /** Every purchase, paid or not. */
  readonly purchases: ReadonlyArray<ExportedPurchase>
  /** Every missed instalment, paid since or not. */
  readonly instalments: ReadonlyArray<ExportedInstalment>
  /** Every debt-collection case, open or closed. */
  readonly debtCases: ReadonlyArray<ExportedDebtCase>
  /** Name and address on invoices: kept by accounting law after anonymization (R24). */
  readonly invoices: ReadonlyArray<ExportedValue>
  /** Visits, classes, transactions and page views, with their details (R21). */
  readonly activity: ReadonlyArray<ExportedActivity>
  /** Messages sent to the member, each with the lawful basis it was sent under (R3). */
  readonly messages: ReadonlyArray<ExportedMessage>
  /** Access and erasure requests, with their deadlines (R11). */
  readonly requests: ReadonlyArray<ExportedRequest>
  /** Every export of the member's data, this one included (R13). */
  readonly exports: ReadonlyArray<ExportedExport>
  /** The whole log of the member, forgetting and restoring included: what happened, when, by whom. */
  readonly history: ReadonlyArray<ExportedHistoryEntry>
  /** Recipients: systems outside Lethe that may hold the member's data; staff handle them by hand (R14). */
  readonly otherSystems: ReadonlyArray<string>
  /** Where the document stands in the log: the member's stream and its head when exported. */
  readonly log: { readonly streamId: string; readonly version: number; readonly head: string }
}

/** What the document needs besides the member's history. */
export interface MemberExportContext {
  readonly exportedAt: number
  readonly requestId: string | null
  readonly otherSystems: ReadonlyArray<string>
  readonly catalogue: ConsentCatalogue
  readonly controller: ControllerContact
  /** The data map's `processing`: purposes, bases, retention and source of each kind of data. */
  readonly processing: ReadonlyArray<Omit<ExportedCategory, "held">>
  readonly locale: string
  readonly timeZone: string
}

const iso = (ms: number): string => new Date(ms).toISOString()
const isoOrNull = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : iso(ms)

const exportedSource = (source: Source): ExportedSource => ({ kind: source.kind, tag: source.tag ?? null })

/** The clear values of a record; `Erased` markers (key destroyed) hold nothing to export. */
const clearValues = (fields: PersonalFields): ReadonlyArray<readonly [string, string]> =>
  Object.entries(fields).flatMap(([name, value]) =>
    typeof value === "string" ? [[name, value] as const] : [],
  )

const dayMs = 86_400_000

const sourceText = (source: Source): string =>
  source.tag === undefined ? source.kind : `${source.kind} (${source.tag})`

/**
 * What an event means, in a sentence a person reads; personal values are not repeated (they are in their own
 * sections). Exhaustive: a new event type fails to compile here until it is described.
 */
export const describeEvent = (event: MemberEvent): string => {
  switch (event._tag) {
    case "MemberRegistered":
      return `Registered as a member of ${event.tenantId}, from ${sourceText(event.source)}`
    case "PersonalDataRecorded":
      return `Personal data recorded (${event.category}: ${Object.keys(event.fields).join(", ")}), from ${sourceText(event.source)}`
    case "PersonalDataErased":
      return `Personal data erased (${event.categories.join(", ")})`
    case "ConsentGiven":
      return `Consent given for ${event.purpose} (${event.basis}, ${event.method}, wording ${event.wordingVersion})`
    case "ConsentWithdrawn":
      return `Consent withdrawn for ${event.purpose}`
    case "Unsubscribed":
      return `Unsubscribed from ${event.purpose} (${event.via === "link" ? "through the link in a message" : "by staff"})`
    case "ContactSuppressed":
      return `Address suppressed (${event.reason}), from ${sourceText(event.source)}`
    case "ProfilingDisabled":
      return "Profiling turned off"
    case "ProfilingEnabled":
      return "Profiling turned back on"
    case "ContractSigned":
      return `Contract ${event.contractId} signed with club ${event.clubId}`
    case "ContractEnded":
      return `Contract ${event.contractId} ended`
    case "WalletCredited":
      return `Wallet credited with ${event.amount} (minor units)`
    case "WalletDebited":
      return `Wallet debited by ${event.amount} (minor units)`
    case "DebtCaseOpened":
      return `Debt-collection case ${event.caseId} opened in club ${event.clubId}`
    case "DebtCaseClosed":
      return `Debt-collection case ${event.caseId} closed`
    case "PurchaseRecorded":
      return `Purchase ${event.purchaseId} of ${event.amount} (minor units) recorded${event.paid ? ", paid" : ""}`
    case "PurchasePaid":
      return `Purchase ${event.purchaseId} paid`
    case "InstalmentMissed":
      return `Instalment ${event.instalmentId} of ${event.amount} (minor units) missed`
    case "InstalmentPaid":
      return `Instalment ${event.instalmentId} paid`
    case "ActivityRecorded":
      return `${event.kind === "page-view" ? "Page view" : `${event.kind[0]?.toUpperCase()}${event.kind.slice(1)}`} recorded${event.clubId === null ? "" : ` in club ${event.clubId}`}`
    case "MessageSent":
      return `${event.test ? "Test message" : "Message"} ${event.messageId} sent for ${event.purpose} by ${event.channel}`
    case "ErasureRequested":
      return `Erasure request ${event.requestId} received (${event.via})`
    case "AccessRequested":
      return `Access request ${event.requestId} received (${event.via})`
    case "DataExported":
      return `Data exported as ${event.format}${event.requestId === null ? "" : ` for request ${event.requestId}`}`
    case "SystemConfirmed":
      return `Request ${event.requestId} confirmed by ${event.system}`
    case "ProcessingRestricted":
      return "Processing restricted"
    case "ProcessingRestrictionLifted":
      return "Restriction of processing lifted"
    case "Forgotten":
      return `Forgotten: personal data hidden, restorable for ${Math.round((event.restorableUntil - event.at) / dayMs)} days${event.requestId === null ? "" : ` (request ${event.requestId})`}`
    case "Restored":
      return event.by === "subject" ? "Restored: the person subscribed again" : "Restored by staff"
    case "Purged":
      return "Purged: every personal value destroyed"
    case "Anonymized":
      return `Anonymized: ${event.erasedCategories.join(", ") || "nothing"} erased${event.keptCategories.length === 0 ? "" : `, ${event.keptCategories.join(", ")} kept as the law requires`}${event.policyId === null ? "" : ` (retention policy ${event.policyId})`}`
    default:
      return absurd(event)
  }
}

/**
 * The person's rights under the GDPR (arts. 7(3), 15-18, 20-22, 77), each with how to use it: by asking the
 * controller, or the supervisory authority for a complaint.
 */
export const rightsOf = (controller: ControllerContact): ReadonlyArray<ExportedRight> => {
  const ask = `Ask ${controller.name}: ${controller.contact}.`
  return [
    {
      right: "Access",
      article: "art. 15",
      description: `To get a copy of your data and this information, free of charge. ${ask}`,
    },
    {
      right: "Rectification",
      article: "art. 16",
      description: `To have wrong or incomplete data corrected. ${ask}`,
    },
    {
      right: "Erasure",
      article: "art. 17",
      description: `To have your data erased when there is no longer a reason to keep it. ${ask}`,
    },
    {
      right: "Restriction of processing",
      article: "art. 18",
      description: `To have the use of your data restricted while a dispute is settled. ${ask}`,
    },
    {
      right: "Data portability",
      article: "art. 20",
      description: `To receive the data you gave in a machine-readable format (JSON or CSV) and to have it sent to another controller. ${ask}`,
    },
    {
      right: "Objection",
      article: "art. 21",
      description: `To object to processing based on legitimate interests, and at any time to direct marketing. ${ask}`,
    },
    {
      right: "Withdrawing consent",
      article: "art. 7(3)",
      description: `To withdraw a consent at any time, as easily as you gave it (the link in any message, or ask us); what was done before stays lawful. ${ask}`,
    },
    {
      right: "No decisions by profiling alone",
      article: "art. 22",
      description: `Not to be subject to a decision based solely on automated processing, profiling included; you may have profiling turned off. ${ask}`,
    },
    {
      right: "Complaint to a supervisory authority",
      article: "art. 77",
      description: `To lodge a complaint with ${controller.supervisoryAuthority.name} (${controller.supervisoryAuthority.url}), or the authority where you live or work.`,
    },
  ]
}

/**
 * Builds the export document of a member from its decoded history and the
 * state that history folds to.
 *
 * @example
 * ```ts
 * const document = memberExport(history, state, {
 *   exportedAt: Date.now(),
 *   requestId: null,
 *   otherSystems: config.otherSystems,
 *   catalogue: config.consentCatalogue,
 *   controller: config.controller,
 *   processing: dataMap({ config, storeName: "memory" }).processing,
 *   locale: "pl-PL",
 *   timeZone: "Europe/Warsaw",
 * })
 * JSON.stringify(document) // the JSON export
 * ```
 */
export const memberExport = (
  history: ReadonlyArray<RecordedEvent>,
  state: MemberState,
  context: MemberExportContext,
): MemberExport => {
  const values: Array<ExportedValue> = []
  const latest = new Map<string, number>()
  const consentRecordedAt = new Map<string, number>()
  const consentHistory: Array<ExportedConsentChange> = []
  const signedAt = new Map<string, { readonly at: number; readonly recordedAt: number }>()
  const purchaseRecordedAt = new Map<string, number>()
  const movements: Array<ExportedWallet["movements"][number]> = []
  const paidAt = new Map<string, number>()
  const missedAt = new Map<string, number>()
  const activity: Array<ExportedActivity> = []
  const messages: Array<ExportedMessage> = []
  const requestVia = new Map<string, Channel>()
  const recordedBy = new Map<string, string>()
  const handledBy = new Map<string, string>()
  const confirmedBy = new Map<string, string>()
  const lastBy = new Map<string, string>()
  const unhandled = new Set<string>()
  const exports: Array<ExportedExport> = []
  const entries: Array<ExportedHistoryEntry> = []
  const change = {
    givenAt: null,
    basis: null,
    explicit: null,
    method: null,
    wordingVersion: null,
    source: null,
    via: null,
    why: null,
    note: null,
  } as const

  for (const { event, stored } of history) {
    const actor = stored.metadata.actor
    entries.push({ at: iso(event.at), event: event._tag, description: describeEvent(event), by: actor })
    switch (event._tag) {
      case "PersonalDataRecorded":
        for (const [field, value] of clearValues(event.fields)) {
          latest.set(`${event.category}\n${field}`, values.length)
          values.push({
            category: event.category,
            field,
            value,
            source: exportedSource(event.source),
            recordedAt: iso(event.at),
            current: false,
          })
        }
        break
      case "ConsentGiven":
        consentRecordedAt.set(event.purpose, event.at)
        consentHistory.push({
          ...change,
          purpose: event.purpose,
          action: "given",
          at: iso(event.at),
          givenAt: iso(event.givenAt),
          basis: event.basis,
          explicit: event.explicit,
          method: event.method,
          wordingVersion: event.wordingVersion,
          source: exportedSource(event.source),
        })
        break
      case "ConsentWithdrawn":
        consentHistory.push({
          ...change,
          purpose: event.purpose,
          action: "withdrawn",
          at: iso(event.at),
          source: exportedSource(event.source),
          why: event.why ?? null,
          note: typeof event.note === "string" ? event.note : null,
        })
        break
      case "Unsubscribed":
        consentHistory.push({
          ...change,
          purpose: event.purpose,
          action: "unsubscribed",
          at: iso(event.at),
          via: event.via,
          why: event.why ?? null,
          note: typeof event.note === "string" ? event.note : null,
        })
        break
      case "PurchaseRecorded":
        purchaseRecordedAt.set(event.purchaseId, event.at)
        break
      case "ContractSigned":
        signedAt.set(event.contractId, { at: factDate(event), recordedAt: event.at })
        break
      case "WalletCredited":
      case "WalletDebited":
        movements.push({
          at: iso(factDate(event)),
          recordedAt: iso(event.at),
          kind: event._tag === "WalletCredited" ? "credit" : "debit",
          amount: event.amount,
        })
        break
      case "PurchasePaid":
        paidAt.set(`purchase\n${event.purchaseId}`, factDate(event))
        break
      case "InstalmentMissed":
        missedAt.set(event.instalmentId, factDate(event))
        break
      case "InstalmentPaid":
        paidAt.set(`instalment\n${event.instalmentId}`, factDate(event))
        break
      case "ActivityRecorded":
        activity.push({
          at: iso(factDate(event)),
          recordedAt: iso(event.at),
          kind: event.kind,
          clubId: event.clubId,
          details: Object.fromEntries(clearValues(event.details)),
        })
        break
      case "MessageSent":
        messages.push({
          messageId: event.messageId,
          sentAt: iso(event.at),
          purpose: event.purpose,
          channel: event.channel,
          sentBy: event.sentBy,
          test: event.test,
          basis: event.lawfulBasis.basis,
          consentGivenAt: isoOrNull(event.lawfulBasis.consentGivenAt),
          method: event.lawfulBasis.method,
          wordingVersion: event.lawfulBasis.wordingVersion,
        })
        break
      case "ErasureRequested":
      case "AccessRequested":
        requestVia.set(event.requestId, event.via)
        recordedBy.set(event.requestId, actor)
        unhandled.add(event.requestId)
        break
      case "DataExported":
        exports.push({ at: iso(event.at), format: event.format, requestId: event.requestId, by: actor })
        if (event.requestId !== null && unhandled.delete(event.requestId)) {
          handledBy.set(event.requestId, actor)
          lastBy.set(event.requestId, actor)
        }
        break
      // Forgetting and anonymizing fulfil every open request.
      case "Forgotten":
      case "Anonymized":
        for (const requestId of unhandled) {
          handledBy.set(requestId, actor)
          lastBy.set(requestId, actor)
        }
        unhandled.clear()
        break
      // What these record is in the document through the state (status, contracts, purchases...).
      case "MemberRegistered":
      case "PersonalDataErased":
      case "ContactSuppressed":
      case "ProfilingDisabled":
      case "ProfilingEnabled":
      case "ContractEnded":
      case "DebtCaseOpened":
      case "DebtCaseClosed":
      case "ProcessingRestricted":
      case "ProcessingRestrictionLifted":
      case "Restored":
      case "Purged":
        break
      case "SystemConfirmed":
        confirmedBy.set(`${event.requestId}\n${event.system}`, actor)
        lastBy.set(event.requestId, actor)
        break
      default:
        absurd(event)
    }
  }

  const withCurrent = values.map((value, i) => {
    const held = state.personal[value.category]?.[value.field]
    return latest.get(`${value.category}\n${value.field}`) === i && held === value.value
      ? { ...value, current: true }
      : value
  })
  const last = history.at(-1)?.stored
  const holds = (category: string): boolean => {
    switch (category) {
      case "membership":
      case "requests":
        return true
      case "consents":
        return consentHistory.length > 0
      case "contracts":
        return Object.keys(state.contracts).length > 0
      case "wallet":
        return movements.length > 0
      case "purchases":
        return Object.keys(state.purchases).length > 0
      case "instalments":
        return Object.keys(state.instalments).length > 0
      case "debt-cases":
        return Object.keys(state.debtCases).length > 0
      case "messages":
        return messages.length > 0
      case "activity":
        return activity.length > 0 || values.some((v) => v.category === category)
      default:
        return values.some((v) => v.category === category)
    }
  }
  const { controller } = context

  return {
    format: memberExportFormat,
    exportedAt: iso(context.exportedAt),
    requestId: context.requestId,
    locale: context.locale,
    timeZone: context.timeZone,
    controller: {
      name: controller.name,
      contact: controller.contact,
      dpo: controller.dpo ?? null,
      supervisoryAuthority: { ...controller.supervisoryAuthority },
    },
    categories: context.processing.map((p) => ({
      category: p.category,
      title: p.title,
      contains: p.contains,
      held: holds(p.category),
      purposes: p.purposes,
      lawfulBases: p.lawfulBases,
      retention: p.retention,
      source: p.source,
    })),
    rights: rightsOf(controller),
    member: {
      memberId: state.memberId,
      tenantId: state.tenantId,
      status: state.status,
      registeredAt: iso(state.registeredAt),
      source: state.source === null ? null : exportedSource(state.source),
      profiling: state.profiling,
      restriction:
        state.restriction === null
          ? null
          : {
              since: iso(state.restriction.since),
              reason: typeof state.restriction.reason === "string" ? state.restriction.reason : null,
            },
    },
    personalData: withCurrent.filter((v) => v.category !== "invoice"),
    consents: Object.values(state.consents).map((c) => {
      const unsubscribed = state.unsubscribed[c.purpose]
      return {
        purpose: c.purpose,
        description: context.catalogue[c.purpose]?.description ?? null,
        basis: c.basis,
        explicit: c.explicit,
        method: c.method,
        wordingVersion: c.wordingVersion,
        source: exportedSource(c.source),
        givenAt: iso(c.givenAt),
        recordedAt: iso(consentRecordedAt.get(c.purpose) ?? c.givenAt),
        withdrawnAt: isoOrNull(c.withdrawnAt),
        unsubscribedAt: isoOrNull(unsubscribed?.at),
        inForce: c.withdrawnAt === null && unsubscribed === undefined,
      }
    }),
    consentHistory,
    contracts: Object.values(state.contracts).map((c) => ({
      contractId: c.contractId,
      clubId: c.clubId,
      signedAt: iso(signedAt.get(c.contractId)?.at ?? c.startsAt),
      recordedAt: iso(signedAt.get(c.contractId)?.recordedAt ?? c.startsAt),
      startsAt: iso(c.startsAt),
      endsAt: isoOrNull(c.endsAt),
      endedAt: isoOrNull(c.endedAt),
    })),
    wallet: { balance: state.walletBalance, movements },
    purchases: Object.values(state.purchases).map((p) => ({
      purchaseId: p.purchaseId,
      amount: p.amount,
      at: iso(p.at),
      recordedAt: iso(purchaseRecordedAt.get(p.purchaseId) ?? p.at),
      paid: p.paid,
      paidAt: isoOrNull(paidAt.get(`purchase\n${p.purchaseId}`)),
    })),
    instalments: Object.values(state.instalments).map((i) => ({
      instalmentId: i.instalmentId,
      clubId: i.clubId,
      amount: i.amount,
      missedAt: iso(missedAt.get(i.instalmentId) ?? 0),
      paidAt: isoOrNull(paidAt.get(`instalment\n${i.instalmentId}`)),
    })),
    debtCases: Object.values(state.debtCases).map((c) => ({
      caseId: c.caseId,
      clubId: c.clubId,
      openedAt: iso(c.openedAt),
      closedAt: isoOrNull(c.closedAt),
    })),
    invoices: withCurrent.filter((v) => v.category === "invoice"),
    activity,
    messages,
    requests: Object.values(state.requests).map((r) => ({
      requestId: r.requestId,
      kind: r.kind,
      via: requestVia.get(r.requestId) ?? "api",
      receivedAt: iso(r.receivedAt),
      dueBy: iso(r.dueBy),
      fulfilledAt: isoOrNull(r.fulfilledAt),
      recordedBy: recordedBy.get(r.requestId) ?? "",
      handledAt: isoOrNull(r.handledAt),
      handledBy: r.handledAt === null ? null : (handledBy.get(r.requestId) ?? null),
      systems: r.systems.map((system) => {
        const confirmation = r.confirmations.find((c) => c.system === system)
        return {
          system,
          confirmedAt: isoOrNull(confirmation?.at),
          confirmedBy:
            confirmation === undefined ? null : (confirmedBy.get(`${r.requestId}\n${system}`) ?? null),
        }
      }),
      fulfilledBy: r.fulfilledAt === null ? null : (lastBy.get(r.requestId) ?? null),
    })),
    exports,
    history: entries,
    otherSystems: context.otherSystems,
    log: { streamId: last?.streamId ?? "", version: last?.version ?? 0, head: last?.hash ?? "" },
  }
}
