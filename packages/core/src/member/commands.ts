/**
 * Commands on a member, as the pure core receives them. Ids and times arrive
 * in the command (the application layer mints ids and reads the clock), so
 * `decide` stays pure. Each command is a Schema: input that fails it is an
 * `InvalidCommand` and writes nothing.
 *
 * @module
 */
import { Schema } from "effect"
import {
  ActivityKind,
  Amount,
  Channel,
  ConsentMethod,
  LawfulBasis,
  LeavingReason,
  Millis,
  PersonalCategory,
  Source,
  Id as StoredId,
  SuppressionReason,
  Token,
} from "./events.js"

/**
 * An identifier a command carries: what events hold (trimmed, 1 to 200 characters) and no control
 * characters. Events written before this rule still read: the rule is on what comes in.
 */
export const Id = StoredId.pipe(
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  Schema.pattern(/^[^\u0000-\u001f\u007f-\u009f]*$/, { message: () => "must not hold control characters" }),
)

/** The last millisecond of the year 9999: no date a command carries lies later. */
export const latestMillis = Date.UTC(9999, 11, 31, 23, 59, 59, 999)

/** A date a command carries, as epoch milliseconds: from 1970 to the end of the year 9999. */
export const Moment = Millis.pipe(
  Schema.lessThanOrEqualTo(latestMillis, { message: () => "must be a date before the year 10000" }),
)

/**
 * A plausible e-mail address: one @, no spaces, a dot in the domain, at most 254 characters, and no
 * control or zero-width characters (U+200B to U+200D, U+2060, U+FEFF), which would make two addresses
 * that look the same differ.
 */
export const Email = Schema.String.pipe(
  Schema.maxLength(254),
  Schema.pattern(/^[^\s@"]+@[^\s@]+\.[^\s@.]+$/, { message: () => "must be an e-mail address" }),
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  Schema.pattern(/^[^\u0000-\u001f\u007f\u200b-\u200d\u2060\ufeff]*$/, {
    message: () => "must not hold control or zero-width characters",
  }),
)

/**
 * A personal text value: not blank, at most 10,000 characters, and no control character (C0, DEL, C1)
 * but tab, line feed and carriage return. A NUL, which PostgreSQL cannot store, is so refused here, on
 * every adapter alike.
 */
export const Text = Schema.String.pipe(
  Schema.maxLength(10_000),
  Schema.pattern(/\S/, { message: () => "must not be blank" }),
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  Schema.pattern(/^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$/, {
    message: () => "must not hold control characters",
  }),
)

/**
 * Where a contact, a data item or a consent came from (R32), as a command gives it: the kind, and a tag
 * that is a {@link Token} (`web:signup-form`, `crm-export.csv`), never free text, for it is stored in clear.
 */
export const CommandSource = Schema.Struct({ kind: Source.fields.kind, tag: Schema.optional(Token) })

/**
 * Why a person leaves (R44), on `Unsubscribe`, `WithdrawConsent` and `Forget`: one of a fixed set, and
 * optionally their own words, a personal text sealed under the member's key.
 */
const leaving = {
  why: Schema.optional(LeavingReason),
  note: Schema.optional(Text),
}

/**
 * When a business fact happened, if not now (R38): a date of its own for a migration of history, from the
 * member's registration to now. `decide` refuses one in the future or before the registration.
 */
const occurred = { occurredAt: Schema.optional(Moment) }

/** Personal values given in a command: at least one field. */
export const InputFields = Schema.Record({ key: Schema.String.pipe(Schema.minLength(1)), value: Text }).pipe(
  Schema.filter((fields) => Object.keys(fields).length > 0 || "must name at least one field"),
)

/**
 * Registers a new member in a tenant: `MemberRegistered`, then the name (category `identity`) and the e-mail
 * and phone (category `contact`) given. Refused with `DuplicateReference` if the member exists. An
 * `occurredAt` dates the registration in the past, for a migrated history (R38): the member's business
 * facts may then be dated from it.
 */
export const Register = Schema.TaggedStruct("Register", {
  ...occurred,
  memberId: Id,
  tenantId: Id,
  personal: Schema.Struct({
    name: Schema.optional(Text),
    email: Schema.optional(Email),
    phone: Schema.optional(Text),
  }),
  source: CommandSource,
})
/**
 * Records personal values of one category, with their source (R32). A special category needs an explicit
 * consent in force that covers it (R17), else `ExplicitConsentRequired`.
 */
export const RecordPersonalData = Schema.TaggedStruct("RecordPersonalData", {
  category: PersonalCategory,
  fields: InputFields,
  source: CommandSource,
})
/**
 * Erases whole categories of a member's personal data, with the reason (permission `member:forget`).
 * Categories the member holds no data in are left out; with none left, nothing is recorded.
 */
export const ErasePersonalData = Schema.TaggedStruct("ErasePersonalData", {
  categories: Schema.NonEmptyArray(PersonalCategory),
  reason: Text,
})
/**
 * Records a consent for a purpose of the catalogue (R16, R33). Refused when the purpose, the wording version
 * or the basis is not in the catalogue, or when the purpose needs an explicit consent and `explicit` is
 * false.
 */
export const GiveConsent = Schema.TaggedStruct("GiveConsent", {
  purpose: Id,
  /** Defaults to the first basis the catalogue allows for the purpose. */
  basis: Schema.optional(LawfulBasis),
  explicit: Schema.Boolean,
  method: ConsentMethod,
  wordingVersion: Id,
  source: CommandSource,
  /** When the person gave it, if earlier than now (imports). */
  givenAt: Schema.optional(Moment),
})
/** Withdraws the consent for a purpose (R33). Nothing is recorded when no consent for it is in force. */
export const WithdrawConsent = Schema.TaggedStruct("WithdrawConsent", {
  purpose: Id,
  source: CommandSource,
  ...leaving,
})
/**
 * Stops messages for one purpose (R4), through the link in a message or by staff. Profile and history stay;
 * nothing is recorded when already unsubscribed.
 */
export const Unsubscribe = Schema.TaggedStruct("Unsubscribe", {
  purpose: Id,
  via: Schema.Literal("link", "staff"),
  ...leaving,
  /** When the person unsubscribed, if before now (an import from another tool, R43). */
  ...occurred,
})
/**
 * Suppresses the member's address (R43): it bounced, was cleaned or blocklisted, or its owner complained.
 * Marketing messages are then refused with `MessageRefused` (`Suppressed`), and an imported consent does not
 * lift it. Nothing is recorded when a suppression is already in force.
 */
export const Suppress = Schema.TaggedStruct("Suppress", {
  reason: SuppressionReason,
  source: CommandSource,
  ...occurred,
})
/** Turns profiling off for the member (R31): messages for purposes that depend on profiling are refused. */
export const DisableProfiling = Schema.TaggedStruct("DisableProfiling", {})
/** Turns profiling back on for the member (R31). */
export const EnableProfiling = Schema.TaggedStruct("EnableProfiling", {})
/**
 * Records a contract with a club, from `startsAt` to `endsAt` (null: open-ended). An active or future
 * contract blocks anonymization (R25).
 */
export const SignContract = Schema.TaggedStruct("SignContract", {
  contractId: Id,
  clubId: Id,
  startsAt: Moment,
  endsAt: Schema.NullOr(Moment),
  ...occurred,
}).pipe(
  Schema.filter(
    (c) =>
      c.endsAt === null || c.endsAt > c.startsAt || { path: ["endsAt"], message: "must be after startsAt" },
  ),
)
/**
 * Ends a contract before its `endsAt`, or cancels one not yet started. Nothing is recorded when it has
 * already ended.
 */
export const EndContract = Schema.TaggedStruct("EndContract", { contractId: Id, ...occurred })
/**
 * Adds an amount (integer minor units) to the member's wallet. Funds in the wallet block anonymization
 * (R25). Refused with `WalletLimitExceeded` when the balance would pass `Number.MAX_SAFE_INTEGER`.
 */
export const CreditWallet = Schema.TaggedStruct("CreditWallet", { amount: Amount, ...occurred })
/**
 * Takes an amount (integer minor units) from the member's wallet; refused with `InsufficientFunds` beyond
 * the balance.
 */
export const DebitWallet = Schema.TaggedStruct("DebitWallet", { amount: Amount, ...occurred })
/** Opens a debt-collection case in a club. An open case blocks anonymization (R25). */
export const OpenDebtCase = Schema.TaggedStruct("OpenDebtCase", { caseId: Id, clubId: Id, ...occurred })
/** Closes a debt-collection case. Nothing is recorded when it is already closed. */
export const CloseDebtCase = Schema.TaggedStruct("CloseDebtCase", { caseId: Id, ...occurred })
/**
 * Records a purchase, paid or not. Unpaid purchases come back as warnings of an anonymization, not blockers
 * (R27).
 */
export const RecordPurchase = Schema.TaggedStruct("RecordPurchase", {
  purchaseId: Id,
  amount: Amount,
  paid: Schema.Boolean,
  ...occurred,
})
/** Marks a recorded purchase paid. Nothing is recorded when it already is. */
export const MarkPurchasePaid = Schema.TaggedStruct("MarkPurchasePaid", { purchaseId: Id, ...occurred })
/**
 * Records an instalment the member missed in a club. Unpaid, in a club that does not use debt collection, it
 * comes back as a warning of an anonymization (R27).
 */
export const RecordMissedInstalment = Schema.TaggedStruct("RecordMissedInstalment", {
  instalmentId: Id,
  clubId: Id,
  amount: Amount,
  ...occurred,
})
/** Marks a missed instalment paid. Nothing is recorded when it already is. */
export const MarkInstalmentPaid = Schema.TaggedStruct("MarkInstalmentPaid", { instalmentId: Id, ...occurred })
/**
 * Records a visit, class, transaction or page view, with its personal details (sealed as category
 * `activity`).
 */
export const RecordActivity = Schema.TaggedStruct("RecordActivity", {
  kind: ActivityKind,
  clubId: Schema.NullOr(Id),
  details: Schema.Record({ key: Schema.String.pipe(Schema.minLength(1)), value: Text }),
  ...occurred,
})
/**
 * Records a message sent for a purpose (R3). Refused with `MessageRefused`, listing every reason, unless a
 * lawful basis is in force, the member has not unsubscribed from the purpose, processing is not restricted,
 * and profiling is on where the purpose depends on it (R4, R16, R23, R31); test messages alike (R2).
 */
export const SendMessage = Schema.TaggedStruct("SendMessage", {
  messageId: Id,
  purpose: Id,
  channel: Id,
  sentBy: Id,
  test: Schema.Boolean,
})
/**
 * Restricts processing of the member's data (art. 18 GDPR): messages and anonymization are refused until it
 * is lifted (R23).
 */
export const RestrictProcessing = Schema.TaggedStruct("RestrictProcessing", { reason: Text })
/** Lifts a restriction of processing. Nothing is recorded when none is in force. */
export const LiftRestriction = Schema.TaggedStruct("LiftRestriction", {})
/**
 * The other systems a request must be confirmed in (R14), fixed on the request: the application layer gives
 * `config.otherSystems`. Repeats count once; none (or absent) leaves Lethe's own part as the whole request.
 */
const requestSystems = { systems: Schema.optional(Schema.Array(Id)) }
/**
 * Records an erasure request (art. 17 GDPR) received at `receivedAt`; it is due `erasureDeadlineDays` later
 * (R11), and fulfilled once forgotten or anonymized and confirmed by each of its `systems` (R14). Refused with
 * `DuplicateReference` for a request id already used.
 */
export const RequestErasure = Schema.TaggedStruct("RequestErasure", {
  requestId: Id,
  receivedAt: Moment,
  via: Channel,
  ...requestSystems,
})
/**
 * Records an access request (art. 15 GDPR) received at `receivedAt`; it is due `accessDeadlineDays` later
 * (R11), and fulfilled once exported and confirmed by each of its `systems` (R14). Refused with
 * `DuplicateReference` for a request id already used.
 */
export const RequestAccess = Schema.TaggedStruct("RequestAccess", {
  requestId: Id,
  receivedAt: Moment,
  via: Channel,
  ...requestSystems,
})
/**
 * Records that `system`, one of the other systems of request `requestId`, has done its part (R14): the
 * person's data erased there, or given out. Needs the permission that fulfils the request (`member:forget`
 * for an erasure request, `member:export` for an access request); allowed after the member was forgotten,
 * purged or anonymized. Refused with `UnknownReference` for a request the member does not have or a system
 * the request does not list; a system already confirmed records nothing. A `note` (staff's words, e.g.
 * where the confirmation came from) is sealed like any free text, so it cannot be given once the member's
 * keys are destroyed (purged or anonymized).
 */
export const ConfirmSystem = Schema.TaggedStruct("ConfirmSystem", {
  requestId: Id,
  system: Id,
  note: Schema.optional(Text),
})
/**
 * Records an export of the member's data in `format` (permission `member:export`), fulfilling the access
 * request `requestId` if one is given (R11, R13).
 */
export const RecordExport = Schema.TaggedStruct("RecordExport", { format: Id, requestId: Schema.NullOr(Id) })
/**
 * Forgets an active member (permission `member:forget`): no longer findable, nothing more recorded or sent,
 * restorable within the restore window (R1, R2, R5). A `requestId` names the erasure request it fulfils.
 * Forgetting a forgotten member records nothing.
 */
export const Forget = Schema.TaggedStruct("Forget", { requestId: Schema.NullOr(Id), ...leaving })
/**
 * Restores a forgotten member within the restore window (R5): by staff (permission `member:restore`), or by
 * the subject subscribing again.
 */
export const Restore = Schema.TaggedStruct("Restore", { by: Schema.Literal("staff", "subject") })
/**
 * Purges a forgotten member once the restore window has ended (permission `member:forget`); the member's
 * data keys are then destroyed. Purging a purged member records nothing.
 */
export const Purge = Schema.TaggedStruct("Purge", {})
/**
 * Anonymizes a member (permission `member:anonymize`): erases every category of personal data but those kept
 * by law (R24), keeping the member for statistics (R19). Refused with `AnonymizationBlocked`, listing every
 * blocker at once (R25).
 */
export const Anonymize = Schema.TaggedStruct("Anonymize", {
  /** Staff must confirm the subject's e-mail (R9); policy runs give `policyId` instead. */
  confirmEmail: Schema.NullOr(Schema.String),
  policyId: Schema.NullOr(Id),
  requestId: Schema.NullOr(Id),
})

/** Every command on a member. */
export const MemberCommand = Schema.Union(
  Register,
  RecordPersonalData,
  ErasePersonalData,
  GiveConsent,
  WithdrawConsent,
  Unsubscribe,
  Suppress,
  DisableProfiling,
  EnableProfiling,
  SignContract,
  EndContract,
  CreditWallet,
  DebitWallet,
  OpenDebtCase,
  CloseDebtCase,
  RecordPurchase,
  MarkPurchasePaid,
  RecordMissedInstalment,
  MarkInstalmentPaid,
  RecordActivity,
  SendMessage,
  RestrictProcessing,
  LiftRestriction,
  RequestErasure,
  RequestAccess,
  RecordExport,
  ConfirmSystem,
  Forget,
  Restore,
  Purge,
  Anonymize,
)
export type MemberCommand = typeof MemberCommand.Type

/** One command type by its tag, e.g. `CommandOf<"Anonymize">`. */
export type CommandOf<T extends MemberCommand["_tag"]> = Extract<MemberCommand, { readonly _tag: T }>
