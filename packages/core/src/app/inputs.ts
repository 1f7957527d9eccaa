/**
 * What the application passes to Lethe's operations and what it gets back.
 * Times are `Date`s here, at the edge; inside they are epoch milliseconds.
 *
 * @module
 */
import type { AnonymizationWarning, LetheError, MemberStatus } from "../errors.js"
import type { Actor, DomainConfig } from "../member/config.js"
import type {
  ActivityKind,
  Channel,
  ConsentMethod,
  LawfulBasis,
  MemberEvent,
  PersonalCategory,
  Source,
} from "../member/events.js"

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

export interface RegisterInput extends Acting {
  readonly tenantId: string
  readonly personal: { readonly name?: string; readonly email?: string; readonly phone?: string }
  readonly source: SourceInput
}

export interface RecordPersonalDataInput extends Acting {
  readonly category: PersonalCategory
  readonly fields: Readonly<Record<string, string>>
  readonly source: SourceInput
}

export interface ErasePersonalDataInput extends Privileged {
  readonly categories: ReadonlyArray<PersonalCategory>
  readonly reason: string
}

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

export interface WithdrawConsentInput extends Acting {
  readonly purpose: string
  readonly source?: SourceInput
}

export interface UnsubscribeInput extends Acting {
  readonly purpose: string
  /** The link in a message, or staff on the profile (R4). */
  readonly via: "link" | "staff"
}

export interface SubscribeInput extends Acting {
  readonly tenantId: string
  readonly email: string
  readonly purpose: string
  readonly source: SourceInput
  /** Recorded for a new member only. */
  readonly name?: string
  /** Default "checkbox". */
  readonly method?: ConsentMethod
  readonly wordingVersion?: string
}

export interface SignContractInput extends Acting {
  readonly contractId: string
  readonly clubId: string
  readonly startsAt: Date
  /** Absent or null: open-ended. */
  readonly endsAt?: Date | null
}

export interface ContractInput extends Acting {
  readonly contractId: string
}

export interface AmountInput extends Acting {
  /** Integer minor units (cents), positive. */
  readonly amount: number
}

export interface DebtCaseInput extends Acting {
  readonly caseId: string
  readonly clubId: string
}

export interface CloseDebtCaseInput extends Acting {
  readonly caseId: string
}

export interface PurchaseInput extends Acting {
  readonly purchaseId: string
  readonly amount: number
  readonly paid: boolean
}

export interface PurchaseRefInput extends Acting {
  readonly purchaseId: string
}

export interface InstalmentInput extends Acting {
  readonly instalmentId: string
  readonly clubId: string
  readonly amount: number
}

export interface InstalmentRefInput extends Acting {
  readonly instalmentId: string
}

export interface ActivityInput extends Acting {
  readonly kind: ActivityKind
  readonly clubId?: string | null
  /** Personal details (what was bought, which page); erased with the member (R24). */
  readonly details?: Readonly<Record<string, string>>
}

export interface SendMessageInput extends Acting {
  readonly purpose: string
  readonly channel: string
  /** Who sends it: a staff member, a campaign, a system. */
  readonly sentBy: string
  /** A test send; refused exactly like a real one (R2). */
  readonly test?: boolean
  /** Default: a new UUIDv7. */
  readonly messageId?: string
}

export interface RestrictInput extends Acting {
  readonly reason: string
}

export interface RequestInput extends Acting {
  /** Default: now. */
  readonly receivedAt?: Date
  readonly via: Channel
  /** Default: a new UUIDv7. */
  readonly requestId?: string
}

export interface ForgetInput extends Privileged {
  /** The erasure request this fulfils (R11). */
  readonly requestId?: string
}

export interface ForgetManyInput extends Privileged {
  readonly onProgress?: (progress: BulkProgress) => void
}

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

export interface SubscribeResult extends CommandResult {
  /** A new member, a consent on an existing one, or a forgotten member restored within the window (R5). */
  readonly outcome: "created" | "subscribed" | "restored"
}

export interface MessageResult extends CommandResult {
  readonly messageId: string
}

export interface RequestResult extends CommandResult {
  readonly requestId: string
  readonly dueBy: Date
}

/** Exactly what an erasure destroyed, checked after the fact (nothing readable left). */
export interface ErasureReport {
  /** Categories whose keys are now destroyed (including ones destroyed earlier). */
  readonly categories: ReadonlyArray<PersonalCategory>
  /** Keys this operation destroyed. */
  readonly keyIdsDestroyed: ReadonlyArray<string>
  /** Sealed values replaced in the stored log by their erased form (digest kept). */
  readonly sealedValuesRemoved: number
}

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

export interface BulkProgress {
  readonly done: number
  readonly total: number
  readonly memberId: string
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

/** An open request with its deadline (R11). */
export interface DueRequest {
  readonly memberId: string
  readonly tenantId: string
  readonly requestId: string
  readonly kind: "erasure" | "access"
  readonly receivedAt: Date
  readonly dueBy: Date
}

/** The configuration an application may set; every field has a default. */
export interface LetheConfig extends DomainConfig {
  /** Other systems staff must handle by hand on an access or erasure request (R14). */
  readonly otherSystems: ReadonlyArray<string>
  /** Years invoices keep name and address after anonymization (R24). Default 5. */
  readonly invoiceRetentionYears: number
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

/** A built-in retention rule (more come as policies). */
export type RetentionRule = "purge-forgotten" | "end-invoice-retention"

export interface RetentionOptions {
  /** Plan only: report what would run, change nothing. */
  readonly dryRun?: boolean
  /** Members per directory page. Default 500. */
  readonly batchSize?: number
  readonly onProgress?: (progress: { readonly rule: RetentionRule; readonly done: number }) => void
}

/** What a retention run did (or, dry, would do). Running it twice does nothing the second time. */
export interface RetentionReport {
  readonly dryRun: boolean
  readonly planned: ReadonlyArray<{ readonly memberId: string; readonly rule: RetentionRule }>
  readonly executed: ReadonlyArray<{
    readonly memberId: string
    readonly rule: RetentionRule
    readonly erasure: ErasureReport | null
  }>
  readonly failed: ReadonlyArray<{
    readonly memberId: string
    readonly rule: RetentionRule
    readonly error: LetheError
  }>
}
