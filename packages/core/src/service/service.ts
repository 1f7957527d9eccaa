/**
 * The contract of the application service: Lethe's operations as Effects,
 * one method per operation. `lethe.ts` composes it from the capabilities;
 * the Promise facade (`createLethe`) offers the same methods.
 *
 * @module
 */
import type { Effect } from "effect"
import type { LetheError } from "../errors.js"
import type { ExportResult } from "../export/render.js"
import type { MemberView } from "../member/view.js"
import type { RetentionPolicy } from "../retention/policies.js"
import type { RetentionOptions, RetentionReport } from "../retention/run.js"
import type { DataMap } from "./data-map.js"
import type {
  Acting,
  ActivityInput,
  AmountInput,
  AnonymizeInput,
  AnonymizeResult,
  BulkOutcome,
  CloseDebtCaseInput,
  CommandResult,
  ContractInput,
  DebtCaseInput,
  DueRequest,
  ErasePersonalDataInput,
  ErasureReport,
  ExportInput,
  ExportLink,
  ExportLinkInput,
  ForgetInput,
  ForgetManyInput,
  GiveConsentInput,
  ImportCsvInput,
  ImportReport,
  InstalmentInput,
  InstalmentRefInput,
  LetheConfig,
  MemberSummary,
  MessageProof,
  MessageResult,
  Privileged,
  PurchaseInput,
  PurchaseRefInput,
  RecordPersonalDataInput,
  RegisterInput,
  RequestInput,
  RequestResult,
  RestrictInput,
  SendMessageInput,
  SignContractInput,
  SubscribeInput,
  SubscribeResult,
  UnsubscribeInput,
  WithdrawConsentInput,
} from "./inputs.js"
import type { ErasureReceipt } from "./receipt.js"

/** Lethe's operations as Effects. The Promise facade (`createLethe`) offers the same. */
export interface LetheService {
  readonly config: LetheConfig
  register(input: RegisterInput): Effect.Effect<CommandResult, LetheError>
  recordPersonalData(
    memberId: string,
    input: RecordPersonalDataInput,
  ): Effect.Effect<CommandResult, LetheError>
  erasePersonalData(memberId: string, input: ErasePersonalDataInput): Effect.Effect<CommandResult, LetheError>
  giveConsent(memberId: string, input: GiveConsentInput): Effect.Effect<CommandResult, LetheError>
  withdrawConsent(memberId: string, input: WithdrawConsentInput): Effect.Effect<CommandResult, LetheError>
  unsubscribe(memberId: string, input: UnsubscribeInput): Effect.Effect<CommandResult, LetheError>
  /** New member, consent on an existing one, or restore of a member forgotten within the window (R4, R5). */
  subscribe(input: SubscribeInput): Effect.Effect<SubscribeResult, LetheError>
  disableProfiling(memberId: string, input?: Acting): Effect.Effect<CommandResult, LetheError>
  enableProfiling(memberId: string, input?: Acting): Effect.Effect<CommandResult, LetheError>
  signContract(memberId: string, input: SignContractInput): Effect.Effect<CommandResult, LetheError>
  endContract(memberId: string, input: ContractInput): Effect.Effect<CommandResult, LetheError>
  creditWallet(memberId: string, input: AmountInput): Effect.Effect<CommandResult, LetheError>
  debitWallet(memberId: string, input: AmountInput): Effect.Effect<CommandResult, LetheError>
  openDebtCase(memberId: string, input: DebtCaseInput): Effect.Effect<CommandResult, LetheError>
  closeDebtCase(memberId: string, input: CloseDebtCaseInput): Effect.Effect<CommandResult, LetheError>
  recordPurchase(memberId: string, input: PurchaseInput): Effect.Effect<CommandResult, LetheError>
  markPurchasePaid(memberId: string, input: PurchaseRefInput): Effect.Effect<CommandResult, LetheError>
  recordMissedInstalment(memberId: string, input: InstalmentInput): Effect.Effect<CommandResult, LetheError>
  markInstalmentPaid(memberId: string, input: InstalmentRefInput): Effect.Effect<CommandResult, LetheError>
  recordActivity(memberId: string, input: ActivityInput): Effect.Effect<CommandResult, LetheError>
  sendMessage(memberId: string, input: SendMessageInput): Effect.Effect<MessageResult, LetheError>
  restrictProcessing(memberId: string, input: RestrictInput): Effect.Effect<CommandResult, LetheError>
  liftRestriction(memberId: string, input?: Acting): Effect.Effect<CommandResult, LetheError>
  requestErasure(memberId: string, input: RequestInput): Effect.Effect<RequestResult, LetheError>
  requestAccess(memberId: string, input: RequestInput): Effect.Effect<RequestResult, LetheError>
  forget(memberId: string, input: ForgetInput): Effect.Effect<CommandResult, LetheError>
  /** Forgets each member; one refusal does not stop the others (R7). Never fails as a whole. */
  forgetMany(
    memberIds: ReadonlyArray<string>,
    input: ForgetManyInput,
  ): Effect.Effect<ReadonlyArray<BulkOutcome<CommandResult>>>
  restore(memberId: string, input: Privileged): Effect.Effect<CommandResult, LetheError>
  anonymize(memberId: string, input: AnonymizeInput): Effect.Effect<AnonymizeResult, LetheError>
  /** The member as staff see it; personal data only while active (R1, R19, R24). */
  get(memberId: string): Effect.Effect<MemberView, LetheError>
  /** The active member with this e-mail in the tenant, if any (R1: never a forgotten one). */
  findByEmail(tenantId: string, email: string): Effect.Effect<MemberSummary | null, LetheError>
  /** Active members whose name or e-mail contains `text`, case-insensitively (R1). */
  search(
    tenantId: string,
    text: string,
    options?: { readonly limit?: number; readonly after?: string },
  ): Effect.Effect<ReadonlyArray<MemberSummary>, LetheError>
  /** Purges a forgotten member after the window: keys destroyed, sealed values redacted, checked. */
  purge(
    memberId: string,
    input: Privileged,
  ): Effect.Effect<CommandResult & { readonly erasure: ErasureReport | null }, LetheError>
  /** Who sent a message, when, for which purpose, under which basis; also after erasure (R3). */
  proveMessage(messageId: string): Effect.Effect<MessageProof, LetheError>
  /** A signed receipt of a purged or anonymized member's erasure (R10); check it with `verifyReceipt`. */
  erasureReceipt(memberId: string): Effect.Effect<ErasureReceipt, LetheError>
  /**
   * Runs the built-in retention rules (purge forgotten members whose window
   * ended, erase invoice data whose retention ended: R24, R29), then the
   * given policies (R12, R15, R20), planned from directory queries and
   * executed in batches through the domain's guards (R23, R25). Members a
   * guard refuses are reported with their reasons and left untouched.
   */
  runRetention(options?: RetentionOptions): Effect.Effect<RetentionReport, LetheError>
  /**
   * Everything held about a member, as a document in `format` (R13, R21, R30),
   * including the systems staff must handle by hand (R14). Records
   * `DataExported` (permission `member:export`); a `requestId` fulfils that
   * access request (R11).
   */
  exportMember(memberId: string, input: ExportInput): Effect.Effect<ExportResult, LetheError>
  /**
   * A signed download link for a member's export, valid 24 hours by default
   * (R13). Checks now what the export will check (permission, member, request);
   * records nothing until the link is redeemed.
   */
  createExportLink(memberId: string, input: ExportLinkInput): Effect.Effect<ExportLink, LetheError>
  /**
   * The export a link grants, recorded as `DataExported` on the authority of
   * whoever created the link. Refused with `ExportLinkInvalid` once expired,
   * or if the token was changed.
   */
  redeemExportLink(token: string): Effect.Effect<ExportResult, LetheError>
  /**
   * Imports contacts from CSV (R6, R32): new members with their consent,
   * consents on existing members, and (with `restoreForgotten`) forgotten
   * members restored within the window. Each row is applied whole or not at
   * all; bad rows are reported with their row number and reason. Fails with
   * `InvalidCommand`, applying nothing, when the file cannot be read or its
   * header names unknown columns.
   */
  importCsv(csvText: string, input: ImportCsvInput): Effect.Effect<ImportReport, LetheError>
  /** Open erasure requests past their due date (R11). */
  overdueErasureRequests(): Effect.Effect<ReadonlyArray<DueRequest>, LetheError>
  /** Every open request with its due date (R11). */
  openRequests(): Effect.Effect<ReadonlyArray<DueRequest>, LetheError>
  /**
   * The data map for the controller's records of processing (R18, R34, art.
   * 30): every category of personal data Lethe holds (what it contains,
   * whether it is a special category, where it is stored), the purposes of
   * the consent catalogue with their lawful bases, the retention rules and
   * deadlines with the given `policies`, the storage, and the other systems
   * handled by hand (R14). Computed from the configuration alone: it reads
   * nothing from the store and records nothing. Plain, JSON-serializable data.
   * Fails with `InvalidCommand` when a policy is malformed, exactly as
   * `runRetention` would.
   *
   * @example
   * ```ts
   * const map = await lethe.dataMap({ policies: [anonymizeAfterContractEnd({ months: 24 })] })
   * await writeFile("data-map.json", JSON.stringify(map, null, 2))
   * ```
   */
  dataMap(options?: {
    readonly policies?: ReadonlyArray<RetentionPolicy>
  }): Effect.Effect<DataMap, LetheError>
}

/** The service's result type of an operation, e.g. `ResultOf<"anonymize">`. */
export type ResultOf<K extends keyof LetheService> = LetheService[K] extends (
  ...args: ReadonlyArray<never>
) => Effect.Effect<infer A, infer _E>
  ? A
  : never
