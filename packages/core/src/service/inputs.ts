/**
 * What the application passes to Lethe's operations and what it gets back.
 * Times are `Date`s here, at the edge; inside they are epoch milliseconds.
 *
 * @module
 */
import type { Duration } from "effect"
import type { AnonymizationWarning, LetheError, MemberStatus } from "../errors.js"
import type { ControllerContact, ExportFormat } from "../export/member-export.js"
import type { ContactFileOptions, RejectedRow } from "../import/contacts-csv.js"
import type { Actor, DomainConfig } from "../member/config.js"
import type {
  ActivityKind,
  Channel,
  ConsentMethod,
  LawfulBasis,
  LeavingReason,
  MemberEvent,
  PersonalCategory,
  Source,
} from "../member/events.js"
import type { ErasureReport } from "../sealing/shredding.js"

export type { ErasureReport }

/** A source (R32), or just its kind: `"form"` is `{ kind: "form" }`. */
export type SourceInput = Source | Source["kind"]

/** Every operation may name who acts; privileged ones must. */
export interface Acting {
  /** Who acts (default: an anonymous actor with no role). */
  readonly actor?: Actor
  /** Ties the events of one business operation together in their metadata. */
  readonly correlationId?: string
}

/** Privileged operations need an actor with the permission (R8, R26). */
export interface Privileged {
  readonly actor: Actor
  readonly correlationId?: string
}

/**
 * The input of `register`: the tenant, the name, e-mail and phone to record, and where the contact came from
 * (R32).
 */
export interface RegisterInput extends Acting {
  readonly tenantId: string
  readonly personal: { readonly name?: string; readonly email?: string; readonly phone?: string }
  readonly source: SourceInput
  /**
   * When the person became a member, if before now (R38): for a migration of history, whose business facts
   * may then be dated from it. Not in the future; kept beside the time it is recorded.
   */
  readonly occurredAt?: Date
}

/** The input of `recordPersonalData`: named values of one category, and their source (R32). */
export interface RecordPersonalDataInput extends Acting {
  readonly category: PersonalCategory
  readonly fields: Readonly<Record<string, string>>
  readonly source: SourceInput
}

/** The input of `erasePersonalData`: the categories to erase, and why. */
export interface ErasePersonalDataInput extends Privileged {
  readonly categories: ReadonlyArray<PersonalCategory>
  readonly reason: string
}

/** The input of `giveConsent` (R33). */
export interface GiveConsentInput extends Acting {
  readonly purpose: string
  /** Default: the first basis the catalogue allows for the purpose. */
  readonly basis?: LawfulBasis
  /** Default false. Special-category purposes need true (R17). */
  readonly explicit?: boolean
  readonly method: ConsentMethod
  /** Default: the purpose's latest wording version in the catalogue. */
  readonly wordingVersion?: string
  readonly source: SourceInput
  /** When the person gave it, if before now (imports). */
  readonly givenAt?: Date
}

/** The input of `withdrawConsent`; the source defaults to `api`. */
export interface WithdrawConsentInput extends Acting {
  readonly purpose: string
  readonly source?: SourceInput /**
   * Why the person leaves (R44): one of a fixed set, and optionally their own words, sealed under the
   * member's key. Shown in the member's export.
   */
  readonly leaving?: { readonly why: LeavingReason; readonly note?: string }
}

/** The input of `unsubscribe` (R4). */
export interface UnsubscribeInput extends Acting {
  readonly purpose: string
  /** The link in a message, or staff on the profile (R4). */
  readonly via: "link" | "staff" /**
   * Why the person leaves (R44): one of a fixed set, and optionally their own words, sealed under the
   * member's key. Shown in the member's export.
   */
  readonly leaving?: { readonly why: LeavingReason; readonly note?: string }
}

/** The input of `subscribe`: the consent of a person known by e-mail, member or not yet (R4, R5). */
export interface SubscribeInput extends Acting {
  readonly tenantId: string
  readonly email: string
  readonly purpose: string
  readonly source: SourceInput
  /** Recorded for a new member only (checked on every subscription, like the e-mail). */
  readonly name?: string
  /** Default "checkbox". */
  readonly method?: ConsentMethod
  readonly wordingVersion?: string
}

/** The input of `signContract`. */
export interface SignContractInput extends Acting {
  readonly contractId: string
  readonly clubId: string
  readonly startsAt: Date
  /** Absent or null: open-ended. */
  readonly endsAt?: Date | null
  /**
   * When the fact happened, if not now (R38): for a migration of history. Not in the future, not before the
   * member's registration or last erasure; kept beside the time it is recorded.
   */
  readonly occurredAt?: Date
}

/** The input of `endContract`: the contract to end. */
export interface ContractInput extends Acting {
  readonly contractId: string
  /**
   * When the fact happened, if not now (R38): for a migration of history. Not in the future, not before the
   * member's registration or last erasure; kept beside the time it is recorded.
   */
  readonly occurredAt?: Date
}

/** The input of `creditWallet` and `debitWallet`. */
export interface AmountInput extends Acting {
  /** Integer minor units (cents), positive. */
  readonly amount: number
  /**
   * When the fact happened, if not now (R38): for a migration of history. Not in the future, not before the
   * member's registration or last erasure; kept beside the time it is recorded.
   */
  readonly occurredAt?: Date
}

/** The input of `openDebtCase`: the case and the club it is open in. */
export interface DebtCaseInput extends Acting {
  readonly caseId: string
  readonly clubId: string
  /**
   * When the fact happened, if not now (R38): for a migration of history. Not in the future, not before the
   * member's registration or last erasure; kept beside the time it is recorded.
   */
  readonly occurredAt?: Date
}

/** The input of `closeDebtCase`. */
export interface CloseDebtCaseInput extends Acting {
  readonly caseId: string
  /**
   * When the fact happened, if not now (R38): for a migration of history. Not in the future, not before the
   * member's registration or last erasure; kept beside the time it is recorded.
   */
  readonly occurredAt?: Date
}

/** The input of `recordPurchase`; `amount` is in integer minor units, positive. */
export interface PurchaseInput extends Acting {
  readonly purchaseId: string
  readonly amount: number
  readonly paid: boolean
  /**
   * When the fact happened, if not now (R38): for a migration of history. Not in the future, not before the
   * member's registration or last erasure; kept beside the time it is recorded.
   */
  readonly occurredAt?: Date
}

/** The input of `markPurchasePaid`: the purchase recorded earlier. */
export interface PurchaseRefInput extends Acting {
  readonly purchaseId: string
  /**
   * When the fact happened, if not now (R38): for a migration of history. Not in the future, not before the
   * member's registration or last erasure; kept beside the time it is recorded.
   */
  readonly occurredAt?: Date
}

/** The input of `recordMissedInstalment`; `amount` is in integer minor units, positive. */
export interface InstalmentInput extends Acting {
  readonly instalmentId: string
  readonly clubId: string
  readonly amount: number
  /**
   * When the fact happened, if not now (R38): for a migration of history. Not in the future, not before the
   * member's registration or last erasure; kept beside the time it is recorded.
   */
  readonly occurredAt?: Date
}

/** The input of `markInstalmentPaid`: the instalment recorded earlier. */
export interface InstalmentRefInput extends Acting {
  readonly instalmentId: string
  /**
   * When the fact happened, if not now (R38): for a migration of history. Not in the future, not before the
   * member's registration or last erasure; kept beside the time it is recorded.
   */
  readonly occurredAt?: Date
}

/** The input of `recordActivity`. */
export interface ActivityInput extends Acting {
  readonly kind: ActivityKind
  readonly clubId?: string | null
  /** Personal details (what was bought, which page); erased with the member (R24). */
  readonly details?: Readonly<Record<string, string>>
  /**
   * When the fact happened, if not now (R38): for a migration of history. Not in the future, not before the
   * member's registration or last erasure; kept beside the time it is recorded.
   */
  readonly occurredAt?: Date
}

/** The input of `sendMessage`. */
export interface SendMessageInput extends Acting {
  readonly purpose: string
  readonly channel: string
  /** Who sends it: a staff member, a campaign, a system. */
  readonly sentBy: string
  /** A test send; refused exactly like a real one (R2). */
  readonly test?: boolean
  /**
   * Default: a new UUIDv7. An id the store already holds, for this member or another, is refused with
   * `DuplicateReference`: a message id proves one message.
   */
  readonly messageId?: string
}

/** The input of `restrictProcessing`: why processing is restricted. */
export interface RestrictInput extends Acting {
  readonly reason: string
}

/** The input of `requestErasure` and `requestAccess` (R11). */
export interface RequestInput extends Acting {
  /** Default: now. */
  readonly receivedAt?: Date
  readonly via: Channel
  /** Default: a new UUIDv7. */
  readonly requestId?: string
}

/**
 * The input of `confirmSystem` (R14): which system of which request has done its part. Needs
 * `member:forget` for an erasure request, `member:export` for an access request.
 */
export interface ConfirmSystemInput extends Privileged {
  readonly requestId: string
  /** One of the systems the request recorded (`RequestResult.otherSystems`), as written there. */
  readonly system: string
  /** Staff's words, e.g. where the confirmation came from; sealed like any free text. */
  readonly note?: string
}

/** The input of `forget` (permission `member:forget`). */
export interface ForgetInput extends Privileged {
  /** The erasure request this fulfils (R11). */
  readonly requestId?: string /**
   * Why the person leaves (R44): one of a fixed set, and optionally their own words, sealed under the
   * member's key. Shown in the member's export.
   */
  readonly leaving?: { readonly why: LeavingReason; readonly note?: string }
}

/** The input of `forgetMany` (permission `member:forget`, R7). */
export interface ForgetManyInput extends Privileged {
  /** Called after each member, whether it was forgotten or refused. */
  readonly onProgress?: (progress: BulkProgress) => void /**
   * Why the person leaves (R44): one of a fixed set, and optionally their own words, sealed under the
   * member's key. Shown in the member's export.
   */
  readonly leaving?: { readonly why: LeavingReason; readonly note?: string }
}

/** The input of `anonymize` (permission `member:anonymize`). */
export interface AnonymizeInput extends Privileged {
  /** The subject's e-mail as staff confirmed it (R9). */
  readonly confirmEmail?: string
  readonly requestId?: string
}

/** What a command recorded. `recorded` is empty when the command changed nothing. */
export interface CommandResult {
  readonly memberId: string
  /** The member's stream version after the command. */
  readonly version: number
  readonly recorded: ReadonlyArray<MemberEvent["_tag"]>
}

/** What `subscribe` did, with what it recorded. */
export interface SubscribeResult extends CommandResult {
  /** A new member, a consent on an existing one, or a forgotten member restored within the window (R5). */
  readonly outcome: "created" | "subscribed" | "restored"
}

/** What `sendMessage` recorded, with the message's id (R3: give it to `proveMessage`). */
export interface MessageResult extends CommandResult {
  readonly messageId: string
}

/** What `requestErasure` or `requestAccess` recorded, with the request's id and due date (R11). */
export interface RequestResult extends CommandResult {
  readonly requestId: string
  readonly dueBy: Date
  /**
   * Systems outside Lethe staff must handle by hand for this request (R14), from `config.otherSystems`:
   * recorded on the request, each to be confirmed with `confirmSystem`.
   */
  readonly otherSystems: ReadonlyArray<string>
}

/** Where a request stands after `confirmSystem` (R14). */
export interface ConfirmSystemResult extends CommandResult {
  readonly requestId: string
  /** The request's systems that have yet to confirm it. */
  readonly pendingSystems: ReadonlyArray<string>
  /** When Lethe's own part was done (forget, anonymize or export), null until then. */
  readonly handledAt: Date | null
  /** When the request was fulfilled (Lethe's part done and every system confirmed), null while open. */
  readonly fulfilledAt: Date | null
}

/** What `anonymize` recorded and erased (R24), with the reminders that did not block it (R27). */
export interface AnonymizeResult extends CommandResult {
  /** Reminders that did not block it (R27). */
  readonly warnings: ReadonlyArray<AnonymizationWarning>
  readonly erasedCategories: ReadonlyArray<PersonalCategory>
  /** Kept until their legal retention ends (R24). */
  readonly keptCategories: ReadonlyArray<PersonalCategory>
  readonly erasure: ErasureReport | null
}

/** One member's outcome in a bulk operation: a refusal does not stop the others (R7). */
export type BulkOutcome<A> =
  | { readonly memberId: string; readonly ok: true; readonly result: A }
  | { readonly memberId: string; readonly ok: false; readonly error: LetheError }

/** Where a bulk operation (`forgetMany`) is, reported after each member. */
export interface BulkProgress {
  /** Members handled so far, this one included. */
  readonly done: number
  /** Members in the operation. */
  readonly total: number
  /** The member just handled. */
  readonly memberId: string
  /** Whether it succeeded; the error of a failure is in the member's `BulkOutcome`. */
  readonly ok: boolean
}

/** A directory hit: enough to show a list, without replaying the member. */
export interface MemberSummary {
  readonly memberId: string
  readonly tenantId: string
  readonly status: MemberStatus
  readonly name: string | null
  readonly email: string | null
  readonly restricted: boolean
}

/** An open request with its deadline (R11) and what it waits for (R14). */
export interface DueRequest {
  readonly memberId: string
  readonly tenantId: string
  readonly requestId: string
  readonly kind: "erasure" | "access"
  readonly receivedAt: Date
  readonly dueBy: Date
  /** The other systems recorded on the request (R14). */
  readonly systems: ReadonlyArray<string>
  /** Those that have yet to confirm it. */
  readonly pendingSystems: ReadonlyArray<string>
  /** When Lethe's own part was done (forget, anonymize or export), null while it is still to do. */
  readonly handledAt: Date | null
}

/** The configuration an application may set; every field has a default. */
export interface LetheConfig extends DomainConfig {
  /** Other systems staff must handle by hand on an access or erasure request (R14). */
  readonly otherSystems: ReadonlyArray<string>
  /** Years invoices keep name and address after anonymization (R24). Default 5. */
  readonly invoiceRetentionYears: number
  /**
   * The longest an export link may be valid, in milliseconds (R13): a larger
   * `validFor` is `InvalidCommand`. Default 7 days; a link is valid 24 hours
   * unless `validFor` says otherwise.
   */
  readonly maxExportLinkValidity: number
  /**
   * Days after the end of a forgotten member's restore window by which
   * `runRetention` purges them, at the latest (R29): the schedule's promise,
   * named as the destruction date of the "erasure scheduled" receipt (R10).
   * Run retention at least that often, and give the audit the same
   * `purgeGraceDays`. Default 1.
   */
  readonly purgeGraceDays: number
  /**
   * Who is responsible for the members' data (art. 13, 15 GDPR): named in
   * every access export with how to reach them, the data protection officer
   * and the supervisory authority a person may complain to (R13). The
   * default names the keys to set; set it before handing exports to people.
   */
  readonly controller: ControllerContact
  /**
   * The BCP 47 locale readable dates are written in, in the HTML and PDF
   * exports (e.g. `"pl-PL"`, `"sv-SE"`). Default `"en-GB"`; an export may
   * ask for another (`ExportInput.locale`).
   */
  readonly locale: string
  /**
   * The IANA time zone readable dates are written in, in the HTML and PDF
   * exports (e.g. `"Europe/Warsaw"`). Default `"UTC"`; an export may ask for
   * another (`ExportInput.timeZone`). The JSON and CSV keep ISO 8601 in UTC.
   */
  readonly timeZone: string
}

/** A sent message, proven from the log without personal data (R3); works after purge. */
export interface MessageProof {
  readonly messageId: string
  readonly memberId: string
  readonly tenantId: string
  readonly sentAt: Date
  readonly purpose: string
  readonly channel: string
  readonly sentBy: string
  readonly test: boolean
  /** The lawful basis in force when it was sent. */
  readonly lawfulBasis: {
    readonly basis: LawfulBasis
    /** When the consent was given, or null for a basis that needs none. */
    readonly consentGivenAt: Date | null
    readonly method: ConsentMethod | null
    readonly wordingVersion: string | null
  }
  /** The member's status today. */
  readonly memberStatus: MemberStatus
  /** Where the proof sits in the log: the event's version and hash. */
  readonly event: { readonly version: number; readonly hash: string }
}

/** The input of `exportMember` (permission `member:export`). */
export interface ExportInput extends Privileged {
  /**
   * `json` (the versioned document), `csv` (one file per section), `html` (a printable page) or `pdf` (a
   * printable document, as bytes).
   */
  readonly format: ExportFormat
  /** The access request this export fulfils (R11, R13). */
  readonly requestId?: string
  /** The person's locale for readable dates in HTML and PDF (BCP 47); default `config.locale`. */
  readonly locale?: string
  /** The person's time zone for readable dates in HTML and PDF (IANA); default `config.timeZone`. */
  readonly timeZone?: string
}

/** The input of `createExportLink` (permission `member:export`). */
export interface ExportLinkInput extends Privileged {
  readonly format: ExportFormat
  /**
   * How long the link works: milliseconds or an Effect duration such as `"2 hours"`. Default 24 hours, at
   * most `config.maxExportLinkValidity` (7 days by default, R13).
   */
  readonly validFor?: Duration.DurationInput
  /** The access request the export will fulfil when the link is redeemed. */
  readonly requestId?: string
  /** The person's locale for readable dates, carried by the link; default `config.locale`. */
  readonly locale?: string
  /** The person's time zone for readable dates, carried by the link; default `config.timeZone`. */
  readonly timeZone?: string
}

/** A signed download link's token; give it to `redeemExportLink`. */
export interface ExportLink {
  readonly token: string
  readonly memberId: string
  readonly format: ExportFormat
  readonly expiresAt: Date
}

/**
 * The input of `importCsv` (R6, R32, R43): the tenant, whether forgotten members may be restored, and how
 * the file is read (`mapping`, `purpose`, `dateFormat`, `timeZone`, `separator`, `encoding`).
 */
export interface ImportCsvInput extends Privileged, ContactFileOptions {
  readonly tenantId: string
  /** Rows matching a member forgotten within the window restore it (R5, R6); without it they are rejected. */
  readonly restoreForgotten: boolean
  /** The source tag of rows without a `source_tag`, e.g. the file's name (R32). */
  readonly source?: string
}

/**
 * What an import did to one row: a new member with its consent, a consent on an existing one, a restore,
 * an unsubscribe or a suppression of the address (on the member holding the e-mail or a new one, R43), or
 * nothing new.
 */
export type ImportOutcome =
  | "created"
  | "subscribed"
  | "restored"
  | "unsubscribed"
  | "suppressed"
  | "unchanged"

/** What an import applied and what it rejected, each with its row number (R6). */
export interface ImportReport {
  readonly applied: ReadonlyArray<{
    readonly row: number
    readonly line: number
    readonly memberId: string
    readonly outcome: ImportOutcome
  }>
  readonly rejected: ReadonlyArray<RejectedRow>
  /** Rows per outcome, and the rejected ones (R43). */
  readonly counts: Readonly<Record<ImportOutcome | "rejected", number>>
  /** Header columns no field maps, as the file names them: ignored (R43). */
  readonly ignoredColumns: ReadonlyArray<string>
  /** What the reader should know of the file as a whole, e.g. dates read as UTC for want of a zone. */
  readonly warnings: ReadonlyArray<string>
}
