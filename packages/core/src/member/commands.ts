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
  Id,
  LawfulBasis,
  Millis,
  PersonalCategory,
  Source,
} from "./events.js"

/** A plausible e-mail address: one @, no spaces, a dot in the domain, at most 254 characters. */
export const Email = Schema.String.pipe(
  Schema.maxLength(254),
  Schema.pattern(/^[^\s@"]+@[^\s@]+\.[^\s@.]+$/, { message: () => "expected an e-mail address" }),
)

/** A personal text value: not blank, at most 10,000 characters. */
export const Text = Schema.String.pipe(
  Schema.maxLength(10_000),
  Schema.pattern(/\S/, { message: () => "expected a non-blank text" }),
)

/** Personal values given in a command: at least one field. */
export const InputFields = Schema.Record({ key: Schema.String.pipe(Schema.minLength(1)), value: Text }).pipe(
  Schema.filter((fields) => Object.keys(fields).length > 0 || "expected at least one field"),
)

export const Register = Schema.TaggedStruct("Register", {
  memberId: Id,
  tenantId: Id,
  personal: Schema.Struct({
    name: Schema.optional(Text),
    email: Schema.optional(Email),
    phone: Schema.optional(Text),
  }),
  source: Source,
})
export const RecordPersonalData = Schema.TaggedStruct("RecordPersonalData", {
  category: PersonalCategory,
  fields: InputFields,
  source: Source,
})
export const ErasePersonalData = Schema.TaggedStruct("ErasePersonalData", {
  categories: Schema.NonEmptyArray(PersonalCategory),
  reason: Text,
})
export const GiveConsent = Schema.TaggedStruct("GiveConsent", {
  purpose: Id,
  /** Defaults to the first basis the catalogue allows for the purpose. */
  basis: Schema.optional(LawfulBasis),
  explicit: Schema.Boolean,
  method: ConsentMethod,
  wordingVersion: Id,
  source: Source,
  /** When the person gave it, if earlier than now (imports). */
  givenAt: Schema.optional(Millis),
})
export const WithdrawConsent = Schema.TaggedStruct("WithdrawConsent", { purpose: Id, source: Source })
export const Unsubscribe = Schema.TaggedStruct("Unsubscribe", {
  purpose: Id,
  via: Schema.Literal("link", "staff"),
})
export const DisableProfiling = Schema.TaggedStruct("DisableProfiling", {})
export const EnableProfiling = Schema.TaggedStruct("EnableProfiling", {})
export const SignContract = Schema.TaggedStruct("SignContract", {
  contractId: Id,
  clubId: Id,
  startsAt: Millis,
  endsAt: Schema.NullOr(Millis),
}).pipe(Schema.filter((c) => c.endsAt === null || c.endsAt > c.startsAt || "endsAt must be after startsAt"))
export const EndContract = Schema.TaggedStruct("EndContract", { contractId: Id })
export const CreditWallet = Schema.TaggedStruct("CreditWallet", { amount: Amount })
export const DebitWallet = Schema.TaggedStruct("DebitWallet", { amount: Amount })
export const OpenDebtCase = Schema.TaggedStruct("OpenDebtCase", { caseId: Id, clubId: Id })
export const CloseDebtCase = Schema.TaggedStruct("CloseDebtCase", { caseId: Id })
export const RecordPurchase = Schema.TaggedStruct("RecordPurchase", {
  purchaseId: Id,
  amount: Amount,
  paid: Schema.Boolean,
})
export const MarkPurchasePaid = Schema.TaggedStruct("MarkPurchasePaid", { purchaseId: Id })
export const RecordMissedInstalment = Schema.TaggedStruct("RecordMissedInstalment", {
  instalmentId: Id,
  clubId: Id,
  amount: Amount,
})
export const MarkInstalmentPaid = Schema.TaggedStruct("MarkInstalmentPaid", { instalmentId: Id })
export const RecordActivity = Schema.TaggedStruct("RecordActivity", {
  kind: ActivityKind,
  clubId: Schema.NullOr(Id),
  details: Schema.Record({ key: Schema.String.pipe(Schema.minLength(1)), value: Text }),
})
export const SendMessage = Schema.TaggedStruct("SendMessage", {
  messageId: Id,
  purpose: Id,
  channel: Id,
  sentBy: Id,
  test: Schema.Boolean,
})
export const RestrictProcessing = Schema.TaggedStruct("RestrictProcessing", { reason: Text })
export const LiftRestriction = Schema.TaggedStruct("LiftRestriction", {})
export const RequestErasure = Schema.TaggedStruct("RequestErasure", {
  requestId: Id,
  receivedAt: Millis,
  via: Channel,
})
export const RequestAccess = Schema.TaggedStruct("RequestAccess", {
  requestId: Id,
  receivedAt: Millis,
  via: Channel,
})
export const RecordExport = Schema.TaggedStruct("RecordExport", { format: Id, requestId: Schema.NullOr(Id) })
export const Forget = Schema.TaggedStruct("Forget", { requestId: Schema.NullOr(Id) })
export const Restore = Schema.TaggedStruct("Restore", { by: Schema.Literal("staff", "subject") })
export const Purge = Schema.TaggedStruct("Purge", {})
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
  Forget,
  Restore,
  Purge,
  Anonymize,
)
export type MemberCommand = typeof MemberCommand.Type

/** One command type by its tag, e.g. `CommandOf<"Anonymize">`. */
export type CommandOf<T extends MemberCommand["_tag"]> = Extract<MemberCommand, { readonly _tag: T }>
