/**
 * The member's events (docs/design.md §2). `_tag` names are public and stable: logs
 * written today must replay in every later version. Times are epoch
 * milliseconds; money is integer minor units.
 *
 * Personal values (`PersonalValue`) are plain strings in the domain. The
 * application layer seals them before they reach a store, and a value whose
 * key was destroyed comes back as an `Erased` marker of its category.
 *
 * @module
 */
import { Schema } from "effect"

/** Epoch milliseconds. */
export const Millis = Schema.Number.pipe(Schema.int(), Schema.nonNegative())

/** An amount of money in integer minor units (cents, grosze). */
export const Amount = Schema.Number.pipe(Schema.int(), Schema.positive())

/** A non-empty identifier (contract, club, case, purchase, request, message). */
export const Id = Schema.String.pipe(Schema.trimmed(), Schema.minLength(1), Schema.maxLength(200))

/**
 * Categories of personal data (docs/design.md §2, R17, R24). Each has its own data key per
 * member, so erasing one destroys exactly that.
 */
export const PersonalCategory = Schema.Literal(
  "identity",
  "contact",
  "address",
  "photo",
  "documents",
  "notes",
  "training",
  "activity",
  "invoice",
  "health",
  "ethnicOrigin",
  "politicalOpinions",
  "religiousBeliefs",
)
export type PersonalCategory = typeof PersonalCategory.Type

/** Special categories of art. 9 GDPR: recorded only with an explicit consent (R17). */
export const specialCategories: ReadonlySet<PersonalCategory> = new Set([
  "health",
  "ethnicOrigin",
  "politicalOpinions",
  "religiousBeliefs",
])

/** Categories kept after anonymization until their legal retention ends (R24: invoices). */
export const retainedOnAnonymization: ReadonlySet<PersonalCategory> = new Set(["invoice"])

/** What a personal value becomes once its key is destroyed. */
export const ErasedValue = Schema.TaggedStruct("Erased", { category: PersonalCategory })
export type ErasedValue = typeof ErasedValue.Type

/** A personal value: the clear string, or the marker left after erasure. */
export const PersonalValue = Schema.Union(Schema.String, ErasedValue)
export type PersonalValue = typeof PersonalValue.Type

/**
 * The category whose data key seals free text staff write about a member (a restriction's or an
 * erasure's reason): erased with the member's notes, and by every purge and anonymization.
 */
export const freeTextCategory: PersonalCategory = "notes"

/**
 * The event fields that hold free text a person writes, by event: each is a {@link PersonalValue},
 * sealed under the member's {@link freeTextCategory} key like any personal value (R29). Every other
 * text of an event is an id, a literal or a token.
 */
export const freeTextFields: Readonly<Partial<Record<string, ReadonlyArray<string>>>> = {
  PersonalDataErased: ["reason"],
  ProcessingRestricted: ["reason"],
  ConsentWithdrawn: ["note"],
  Unsubscribed: ["note"],
  Forgotten: ["note"],
  SystemConfirmed: ["note"],
}

/**
 * Why a person leaves, as they or staff say it when they unsubscribe, withdraw a consent or ask to be
 * forgotten (R44): a fixed set, so staff can count and tell an unsubscribe from a wish to be deleted.
 * Anything more the person says goes in the event's `note`, sealed like any free text.
 */
export const LeavingReason = Schema.Literal("too-many-messages", "not-interested", "wants-deletion", "other")
export type LeavingReason = typeof LeavingReason.Type

/** The reason a person gave for leaving, and their own words (sealed), on the events that record it. */
const leaving = {
  why: Schema.optional(LeavingReason),
  note: Schema.optional(PersonalValue),
}

/** Named personal values of one category, e.g. `{ name: "Anna", email: "a@x.org" }`. */
export const PersonalFields = Schema.Record({ key: Schema.String, value: PersonalValue })
export type PersonalFields = typeof PersonalFields.Type

/** The longest token (a source tag, a correlation id, an actor id): 128 characters. */
export const maxTokenLength = 128

/**
 * What a token looks like: a letter or digit, then letters, digits and `_ . : / -`, at most
 * {@link maxTokenLength} characters in all. No space, no `@`, nothing outside ASCII: a token names a
 * form, a system, a run or a person's role, never the person (docs/design.md §2.1, R29).
 */
export const tokenPattern = /^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,127}$/

/**
 * A short non-personal token: a source tag (`web:signup-form`, `crm-export.csv`), a correlation id (a
 * UUID, `job:2026-03-01`), an actor id (`staff:ola`). Text a person writes about a member is never a
 * token: it is sealed (see {@link freeTextFields}).
 *
 * @example
 * ```ts
 * Schema.is(Token)("web:signup-form") // true
 * Schema.is(Token)("Anna Kowalska, anna@example.org") // false
 * ```
 */
export const Token = Schema.String.pipe(
  Schema.pattern(tokenPattern, {
    message: () =>
      `must be a token: a letter or digit, then letters, digits and _ . : / - (at most ${maxTokenLength} characters)`,
  }),
)

/**
 * Where a contact or a data item came from (R32), as stored. Commands take the tag as a {@link Token}
 * (`SourceInput` in `member/commands.ts`); a log written before tags were tokens may hold any text here,
 * which the audit reports (rule `sealing`).
 */
export const Source = Schema.Struct({
  kind: Schema.Literal("form", "import", "api", "staff", "subject", "system"),
  /** A token, e.g. "footer-form", "checkout", the import file's name. */
  tag: Schema.optional(Schema.String),
})
export type Source = typeof Source.Type

/** Lawful bases of art. 6 GDPR that Lethe records (R16). */
export const LawfulBasis = Schema.Literal(
  "consent",
  "legitimate-interest",
  "contract",
  "legal-obligation",
  "vital-interest",
  "public-task",
)
export type LawfulBasis = typeof LawfulBasis.Type

/** How a consent was collected (R33). */
export const ConsentMethod = Schema.Literal("checkbox", "double-opt-in", "paper", "verbal", "import", "api")
export type ConsentMethod = typeof ConsentMethod.Type

/** What a member did or was part of (R2, R24). */
export const ActivityKind = Schema.Literal("visit", "class", "transaction", "page-view")
export type ActivityKind = typeof ActivityKind.Type

/** How a request or an unsubscribe reached the controller. */
export const Channel = Schema.Literal("link", "staff", "email", "form", "letter", "phone", "api")
export type Channel = typeof Channel.Type

const at = { at: Millis }

/**
 * The times of a business fact (R38): `at`, when Lethe recorded it, and `occurredAt`, when it happened, if
 * the command gave a date of its own (a migration of history). Absent in events recorded without one, so
 * logs written before it read and hash the same.
 */
const fact = { ...at, occurredAt: Schema.optional(Millis) }

/**
 * A member was registered in a tenant, with where the contact came from (R32); `occurredAt`, when given, is
 * when they became a member, for a migrated history (R38).
 */
export const MemberRegistered = Schema.TaggedStruct("MemberRegistered", {
  ...fact,
  memberId: Id,
  tenantId: Id,
  source: Source,
})
/**
 * Personal values of one category were recorded, with their source (R32). Merged field by field into the
 * category's current values.
 */
export const PersonalDataRecorded = Schema.TaggedStruct("PersonalDataRecorded", {
  ...at,
  category: PersonalCategory,
  fields: PersonalFields,
  source: Source,
})
/** Whole categories of personal data were erased; their data keys are destroyed. */
export const PersonalDataErased = Schema.TaggedStruct("PersonalDataErased", {
  ...at,
  categories: Schema.Array(PersonalCategory),
  /** Free text, sealed (category `notes`); an `Erased` marker once its key is destroyed. */
  reason: PersonalValue,
})
/**
 * A consent was given for a purpose, with its lawful basis, wording version, method and source (R16, R33).
 * It ends an unsubscribe from the purpose (R4).
 */
export const ConsentGiven = Schema.TaggedStruct("ConsentGiven", {
  ...at,
  purpose: Id,
  basis: LawfulBasis,
  explicit: Schema.Boolean,
  method: ConsentMethod,
  wordingVersion: Id,
  source: Source,
  /** When the person gave it (may precede `at`, e.g. in an import). */
  givenAt: Millis,
})
/** The consent for a purpose was withdrawn (R33). */
export const ConsentWithdrawn = Schema.TaggedStruct("ConsentWithdrawn", {
  ...at,
  purpose: Id,
  source: Source,
  ...leaving,
})
/**
 * The member unsubscribed from a purpose, through the link in a message or by staff (R4); `occurredAt`, when
 * given, is when they did, e.g. in the tool a contact list was imported from (R43).
 */
export const Unsubscribed = Schema.TaggedStruct("Unsubscribed", {
  ...fact,
  purpose: Id,
  via: Schema.Literal("link", "staff"),
  ...leaving,
})
/**
 * Why messages may no longer go to a contact's address (R43): it `bounced` or was `cleaned` (undeliverable),
 * was `blocklisted` in the tool it came from, or its owner `complained` (marked a message as spam).
 */
export const SuppressionReason = Schema.Literal("bounced", "cleaned", "blocklisted", "complained")
export type SuppressionReason = typeof SuppressionReason.Type
/**
 * The member's address is suppressed (R43): no marketing message (a purpose on consent or legitimate
 * interest) may go to it. `occurredAt` is when the tool it came from suppressed it, if known.
 */
export const ContactSuppressed = Schema.TaggedStruct("ContactSuppressed", {
  ...fact,
  reason: SuppressionReason,
  source: Source,
})
/** Profiling was turned off for the member (R31). */
export const ProfilingDisabled = Schema.TaggedStruct("ProfilingDisabled", { ...at })
/** Profiling was turned back on for the member (R31). */
export const ProfilingEnabled = Schema.TaggedStruct("ProfilingEnabled", { ...at })
/** A contract with a club was signed, running from `startsAt` to `endsAt` (null: open-ended). */
export const ContractSigned = Schema.TaggedStruct("ContractSigned", {
  ...fact,
  contractId: Id,
  clubId: Id,
  startsAt: Millis,
  endsAt: Schema.NullOr(Millis),
})
/** A contract was ended before its `endsAt`, or cancelled before it started. */
export const ContractEnded = Schema.TaggedStruct("ContractEnded", { ...fact, contractId: Id })
/** An amount was added to the member's wallet. */
export const WalletCredited = Schema.TaggedStruct("WalletCredited", { ...fact, amount: Amount })
/** An amount was taken from the member's wallet. */
export const WalletDebited = Schema.TaggedStruct("WalletDebited", { ...fact, amount: Amount })
/** A debt-collection case was opened in a club. */
export const DebtCaseOpened = Schema.TaggedStruct("DebtCaseOpened", { ...fact, caseId: Id, clubId: Id })
/** A debt-collection case was closed. */
export const DebtCaseClosed = Schema.TaggedStruct("DebtCaseClosed", { ...fact, caseId: Id })
/** A purchase was recorded, paid or not. */
export const PurchaseRecorded = Schema.TaggedStruct("PurchaseRecorded", {
  ...fact,
  purchaseId: Id,
  amount: Amount,
  paid: Schema.Boolean,
})
/** A recorded purchase was paid. */
export const PurchasePaid = Schema.TaggedStruct("PurchasePaid", { ...fact, purchaseId: Id })
/** The member missed an instalment in a club. */
export const InstalmentMissed = Schema.TaggedStruct("InstalmentMissed", {
  ...fact,
  instalmentId: Id,
  clubId: Id,
  amount: Amount,
})
/** A missed instalment was paid. */
export const InstalmentPaid = Schema.TaggedStruct("InstalmentPaid", { ...fact, instalmentId: Id })
/** A visit, class, transaction or page view, with its personal details. */
export const ActivityRecorded = Schema.TaggedStruct("ActivityRecorded", {
  ...fact,
  kind: ActivityKind,
  clubId: Schema.NullOr(Id),
  /** Personal details of the activity (what was bought, which page); sealed as category "activity". */
  details: PersonalFields,
})
/** The lawful basis in force when a message was sent, kept for proof (R3). */
export const BasisInForce = Schema.Struct({
  basis: LawfulBasis,
  /** When the consent was given, or null for a basis that needs no consent record. */
  consentGivenAt: Schema.NullOr(Millis),
  method: Schema.NullOr(ConsentMethod),
  wordingVersion: Schema.NullOr(Schema.String),
})
export type BasisInForce = typeof BasisInForce.Type
/**
 * A message was sent for a purpose, with the lawful basis in force at the time, kept as proof after erasure
 * (R3).
 */
export const MessageSent = Schema.TaggedStruct("MessageSent", {
  ...at,
  messageId: Id,
  purpose: Id,
  channel: Id,
  sentBy: Id,
  test: Schema.Boolean,
  lawfulBasis: BasisInForce,
})
/**
 * The other systems outside Lethe (accounting, an e-mail tool...) a request must be handled in by hand
 * (R14), fixed when the request is made: each must confirm (`SystemConfirmed`) before the request is
 * fulfilled. Absent in logs written before it, and when none was configured: none to confirm.
 */
const requestSystems = { systems: Schema.optional(Schema.Array(Id)) }
/**
 * An erasure request was received at `receivedAt`; `dueBy` is its deadline (R11); `systems`, the other
 * systems that must confirm it (R14).
 */
export const ErasureRequested = Schema.TaggedStruct("ErasureRequested", {
  ...at,
  requestId: Id,
  receivedAt: Millis,
  dueBy: Millis,
  via: Channel,
  ...requestSystems,
})
/**
 * An access request was received at `receivedAt`; `dueBy` is its deadline (R11); `systems`, the other
 * systems that must confirm it (R14).
 */
export const AccessRequested = Schema.TaggedStruct("AccessRequested", {
  ...at,
  requestId: Id,
  receivedAt: Millis,
  dueBy: Millis,
  via: Channel,
  ...requestSystems,
})
/**
 * The member's data was exported in `format`, fulfilling the access request `requestId` if not null (R13).
 */
export const DataExported = Schema.TaggedStruct("DataExported", {
  ...at,
  format: Id,
  requestId: Schema.NullOr(Id),
})
/**
 * One of the other systems recorded on request `requestId` confirmed its part of it (R14): the person's
 * data erased there, or given out. Recordable after the member was forgotten, purged or anonymized, for
 * the systems often confirm after Lethe's own part is done; it holds no personal data but its `note`.
 */
export const SystemConfirmed = Schema.TaggedStruct("SystemConfirmed", {
  ...at,
  requestId: Id,
  /** The system, as the request recorded it. */
  system: Id,
  /** Free text, sealed (category `notes`); an `Erased` marker once its key is destroyed. */
  note: Schema.optional(PersonalValue),
})
/** Processing of the member's data was restricted (art. 18 GDPR), with the reason. */
export const ProcessingRestricted = Schema.TaggedStruct("ProcessingRestricted", {
  ...at,
  /** Free text, sealed (category `notes`); an `Erased` marker once its key is destroyed. */
  reason: PersonalValue,
})
/** The restriction of processing was lifted. */
export const ProcessingRestrictionLifted = Schema.TaggedStruct("ProcessingRestrictionLifted", { ...at })
/**
 * The member was forgotten (R1, R2): restorable until `restorableUntil` (R5), purgeable after. Fulfils the
 * member's open requests.
 */
export const Forgotten = Schema.TaggedStruct("Forgotten", {
  ...at,
  restorableUntil: Millis,
  requestId: Schema.NullOr(Id),
  ...leaving,
})
/** A forgotten member was restored within the restore window (R5). */
export const Restored = Schema.TaggedStruct("Restored", {
  ...at,
  /** "staff" for `restore`, "subject" when the person subscribed again within the window (R5). */
  by: Schema.Literal("staff", "subject"),
})
/**
 * A forgotten member was purged after the restore window: every data key is destroyed, for good, but
 * those of `keptCategories`, which the law keeps (invoice data, R37) until their retention ends; then the
 * retention run erases them. Absent in logs written before legal holds: nothing was kept.
 */
export const Purged = Schema.TaggedStruct("Purged", {
  ...at,
  keptCategories: Schema.optional(Schema.Array(PersonalCategory)),
})
/**
 * The member was anonymized (R19, R22, R24): `erasedCategories` erased for good, `keptCategories` kept until
 * their legal retention ends. Fulfils the member's open requests.
 */
export const Anonymized = Schema.TaggedStruct("Anonymized", {
  ...at,
  erasedCategories: Schema.Array(PersonalCategory),
  keptCategories: Schema.Array(PersonalCategory),
  /** The retention policy that ran it, or null when staff did (R20). */
  policyId: Schema.NullOr(Id),
  requestId: Schema.NullOr(Id),
})

/** Every event of a member's stream. */
export const MemberEvent = Schema.Union(
  MemberRegistered,
  PersonalDataRecorded,
  PersonalDataErased,
  ConsentGiven,
  ConsentWithdrawn,
  Unsubscribed,
  ContactSuppressed,
  ProfilingDisabled,
  ProfilingEnabled,
  ContractSigned,
  ContractEnded,
  WalletCredited,
  WalletDebited,
  DebtCaseOpened,
  DebtCaseClosed,
  PurchaseRecorded,
  PurchasePaid,
  InstalmentMissed,
  InstalmentPaid,
  ActivityRecorded,
  MessageSent,
  ErasureRequested,
  AccessRequested,
  DataExported,
  SystemConfirmed,
  ProcessingRestricted,
  ProcessingRestrictionLifted,
  Forgotten,
  Restored,
  Purged,
  Anonymized,
)
export type MemberEvent = typeof MemberEvent.Type

/** The tags of the business-fact events, which may carry a date of their own, `occurredAt` (R38). */
export const businessFactTags = [
  "ContractSigned",
  "ContractEnded",
  "WalletCredited",
  "WalletDebited",
  "DebtCaseOpened",
  "DebtCaseClosed",
  "PurchaseRecorded",
  "PurchasePaid",
  "InstalmentMissed",
  "InstalmentPaid",
  "ActivityRecorded",
] as const satisfies ReadonlyArray<MemberEvent["_tag"]>

/** A business-fact event: a contract, wallet, debt-case, purchase, instalment or activity event (R38). */
export type BusinessFact = Extract<MemberEvent, { readonly _tag: (typeof businessFactTags)[number] }>

const factTags: ReadonlySet<string> = new Set(businessFactTags)

/** Whether `event` is a business fact, which may carry an `occurredAt` (R38). */
export const isBusinessFact = (event: MemberEvent): event is BusinessFact => factTags.has(event._tag)

/**
 * When a business fact happened (R38): its `occurredAt` if it was given a date, else when it was recorded.
 *
 * @example
 * ```ts
 * factDate({ _tag: "WalletCredited", at: 2_000, occurredAt: 1_000, amount: 500 }) // 1_000
 * factDate({ _tag: "WalletCredited", at: 2_000, amount: 500 }) // 2_000
 * ```
 */
export const factDate = (event: { readonly at: number; readonly occurredAt?: number | undefined }): number =>
  event.occurredAt ?? event.at

/** One event type by its tag, e.g. `EventOf<"Forgotten">`. */
export type EventOf<T extends MemberEvent["_tag"]> = Extract<MemberEvent, { readonly _tag: T }>
