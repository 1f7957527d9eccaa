/**
 * The access export (R13, R21, R30): everything Lethe holds about one member,
 * as one versioned document built from the member's decoded events. The JSON
 * export is this document; the CSV and HTML exports are flat views of it.
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
  type PersonalCategory,
  type PersonalFields,
  type Source,
} from "../member/events.js"
import type { MemberState } from "../member/state.js"
import { absurd } from "../member/state.js"
import type { RecordedEvent } from "../sealing/codec.js"

/** The formats `exportMember` produces. */
export const ExportFormat = Schema.Literal("json", "csv", "html")
export type ExportFormat = typeof ExportFormat.Type

/** The schema version of the document; a reader checks it before anything else. */
export const memberExportFormat = "lethe-member-export/1"

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
}

/**
 * Everything Lethe holds about a member (R13, R21, R30), schema
 * `lethe-member-export/1`. Times are ISO 8601 in UTC; money is in integer
 * minor units; `null` means "none" or "not applicable".
 */
export interface MemberExport {
  /** The schema version, `lethe-member-export/1`; a reader checks it before anything else. */
  readonly format: typeof memberExportFormat
  /** When the export was recorded (its `DataExported` event). */
  readonly exportedAt: string
  /** The access request this export fulfils, if any (R11). */
  readonly requestId: string | null
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
  /** Systems outside Lethe that may hold the member's data; staff handle them by hand (R14). */
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

/**
 * Builds the export document of a member from its decoded history and the
 * state that history folds to.
 *
 * @example
 * ```ts
 * const document = memberExport(history, state, { exportedAt: Date.now(), requestId: null, otherSystems: [], catalogue })
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
  const exports: Array<ExportedExport> = []
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

  for (const { event } of history) {
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
        break
      case "DataExported":
        exports.push({ at: iso(event.at), format: event.format, requestId: event.requestId })
        break
      // What these record is in the document through the state (status, contracts, purchases...).
      case "MemberRegistered":
      case "PersonalDataErased":
      case "ProfilingDisabled":
      case "ProfilingEnabled":
      case "ContractEnded":
      case "DebtCaseOpened":
      case "DebtCaseClosed":
      case "ProcessingRestricted":
      case "ProcessingRestrictionLifted":
      case "Forgotten":
      case "Restored":
      case "Purged":
      case "Anonymized":
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

  return {
    format: memberExportFormat,
    exportedAt: iso(context.exportedAt),
    requestId: context.requestId,
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
    })),
    exports,
    otherSystems: context.otherSystems,
    log: { streamId: last?.streamId ?? "", version: last?.version ?? 0, head: last?.hash ?? "" },
  }
}
