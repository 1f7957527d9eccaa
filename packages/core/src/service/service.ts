/**
 * The contract of the application service: Lethe's operations as Effects,
 * one method per operation. `lethe.ts` composes it from the capabilities;
 * the Promise facade (`createLethe`) offers the same methods.
 *
 * @module
 */
import type { Effect } from "effect"
import type { Checkpoint } from "../audit/checkpoint.js"
import type { InvalidCommand, LetheError } from "../errors.js"
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
import type { Projection } from "./projections.js"
import type { ErasureReceipt } from "./receipt.js"

/** Lethe's operations as Effects. The Promise facade (`createLethe`) offers the same. */
export interface LetheService {
  readonly config: LetheConfig
  /**
   * Registers a new member with a new id, and records the name, e-mail and phone given. Fails with
   * `EmailTaken` when an active member of the tenant holds the e-mail.
   */
  register(input: RegisterInput): Effect.Effect<CommandResult, LetheError>
  /**
   * Records personal values of one category, with their source (R32). A special category needs an explicit
   * consent in force that covers it (R17).
   */
  recordPersonalData(
    memberId: string,
    input: RecordPersonalDataInput,
  ): Effect.Effect<CommandResult, LetheError>
  /**
   * Erases whole categories of the member's personal data (permission `member:forget`): their data keys are
   * destroyed and what they sealed redacted.
   */
  erasePersonalData(memberId: string, input: ErasePersonalDataInput): Effect.Effect<CommandResult, LetheError>
  /**
   * Records a consent for a purpose of the catalogue, under the purpose's latest wording unless one is given
   * (R16, R17, R33). Ends an unsubscribe from that purpose.
   */
  giveConsent(memberId: string, input: GiveConsentInput): Effect.Effect<CommandResult, LetheError>
  /** Withdraws the member's consent for a purpose (R33); records nothing when none is in force. */
  withdrawConsent(memberId: string, input: WithdrawConsentInput): Effect.Effect<CommandResult, LetheError>
  /**
   * Stops messages for one purpose (R4); profile, consents and history stay. Records nothing when already
   * unsubscribed.
   */
  unsubscribe(memberId: string, input: UnsubscribeInput): Effect.Effect<CommandResult, LetheError>
  /** New member, consent on an existing one, or restore of a member forgotten within the window (R4, R5). */
  subscribe(input: SubscribeInput): Effect.Effect<SubscribeResult, LetheError>
  /** Turns profiling off for the member: messages for purposes that depend on it are refused (R31). */
  disableProfiling(memberId: string, input?: Acting): Effect.Effect<CommandResult, LetheError>
  /** Turns profiling back on for the member (R31). */
  enableProfiling(memberId: string, input?: Acting): Effect.Effect<CommandResult, LetheError>
  /** Records a contract with a club. An active or future contract blocks anonymization (R25). */
  signContract(memberId: string, input: SignContractInput): Effect.Effect<CommandResult, LetheError>
  /** Ends a contract early, or cancels one not yet started; records nothing when it has already ended. */
  endContract(memberId: string, input: ContractInput): Effect.Effect<CommandResult, LetheError>
  /**
   * Adds an amount to the member's wallet. Funds in the wallet block anonymization (R25). Fails with
   * `WalletLimitExceeded` when the balance would pass `Number.MAX_SAFE_INTEGER`.
   */
  creditWallet(memberId: string, input: AmountInput): Effect.Effect<CommandResult, LetheError>
  /** Takes an amount from the member's wallet; fails with `InsufficientFunds` beyond the balance. */
  debitWallet(memberId: string, input: AmountInput): Effect.Effect<CommandResult, LetheError>
  /** Opens a debt-collection case in a club. An open case blocks anonymization (R25). */
  openDebtCase(memberId: string, input: DebtCaseInput): Effect.Effect<CommandResult, LetheError>
  /** Closes a debt-collection case; records nothing when it is already closed. */
  closeDebtCase(memberId: string, input: CloseDebtCaseInput): Effect.Effect<CommandResult, LetheError>
  /**
   * Records a purchase, paid or not. Unpaid purchases are warnings of an anonymization, not blockers (R27).
   */
  recordPurchase(memberId: string, input: PurchaseInput): Effect.Effect<CommandResult, LetheError>
  /** Marks a recorded purchase paid. */
  markPurchasePaid(memberId: string, input: PurchaseRefInput): Effect.Effect<CommandResult, LetheError>
  /** Records an instalment the member missed in a club (R27). */
  recordMissedInstalment(memberId: string, input: InstalmentInput): Effect.Effect<CommandResult, LetheError>
  /** Marks a missed instalment paid. */
  markInstalmentPaid(memberId: string, input: InstalmentRefInput): Effect.Effect<CommandResult, LetheError>
  /**
   * Records a visit, class, transaction or page view, with its personal details. Refused once the member is
   * erased (R2).
   */
  recordActivity(memberId: string, input: ActivityInput): Effect.Effect<CommandResult, LetheError>
  /**
   * Records a message for a purpose with the lawful basis in force (R3); Lethe sends nothing, the
   * application delivers the message once this succeeds. Fails with `MessageRefused`, listing every reason,
   * when no basis is in force, the member unsubscribed, processing is restricted or profiling is off where
   * the purpose needs it; test messages alike (R2, R4, R16, R23, R31); with `DuplicateReference` when the
   * message id given is already used.
   */
  sendMessage(memberId: string, input: SendMessageInput): Effect.Effect<MessageResult, LetheError>
  /**
   * Restricts processing of the member's data (art. 18 GDPR): messages and anonymization are refused until
   * it is lifted (R23).
   */
  restrictProcessing(memberId: string, input: RestrictInput): Effect.Effect<CommandResult, LetheError>
  /** Lifts a restriction of processing; records nothing when none is in force. */
  liftRestriction(memberId: string, input?: Acting): Effect.Effect<CommandResult, LetheError>
  /**
   * Records an erasure request and its due date (R11), and returns the other systems staff must handle by
   * hand (R14). `forget` or `anonymize` with its `requestId` fulfils it.
   */
  requestErasure(memberId: string, input: RequestInput): Effect.Effect<RequestResult, LetheError>
  /**
   * Records an access request and its due date (R11), and returns the other systems staff must handle by
   * hand (R14). `exportMember` with its `requestId` fulfils it.
   */
  requestAccess(memberId: string, input: RequestInput): Effect.Effect<RequestResult, LetheError>
  /**
   * Forgets the member (permission `member:forget`, R8): no longer findable, nothing more recorded or sent,
   * restorable within the restore window (R1, R2, R5). Fulfils the member's open requests.
   */
  forget(memberId: string, input: ForgetInput): Effect.Effect<CommandResult, LetheError>
  /**
   * Forgets each member; one refusal does not stop the others (R7). Fails as a whole only with
   * `InvalidCommand`, forgetting no one, when `memberIds` is not a list of ids or the input not an object.
   */
  forgetMany(
    memberIds: ReadonlyArray<string>,
    input: ForgetManyInput,
  ): Effect.Effect<ReadonlyArray<BulkOutcome<CommandResult>>, InvalidCommand>
  /** Restores a forgotten member within the restore window (permission `member:restore`, R5). */
  restore(memberId: string, input: Privileged): Effect.Effect<CommandResult, LetheError>
  /**
   * Anonymizes the member (permission `member:anonymize`, R26): every category of personal data is erased
   * but those kept by law (R24), irreversibly (R22); the member stays for statistics (R19). Staff confirm
   * the subject's e-mail (R9). Fails with `AnonymizationBlocked` listing every blocker (R23, R25); unpaid
   * items come back as warnings (R27).
   */
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
   * Signs the log's head now (R41): the log digest over every event up to
   * the last, signed with the keyring's Ed25519 key and stored in the
   * reserved stream `lethe:checkpoints`, when anything was appended since
   * the last checkpoint; null otherwise. Lethe signs one by itself after
   * every erasure, at the end of every retention run and every
   * `checkpointEvery` events; call this before handing the log to an
   * auditor, or from a scheduled job, so that no event is left uncovered.
   *
   * @example
   * ```ts
   * const checkpoint = await lethe.checkpoint()
   * // verifyCheckpoint(checkpoint, await keyring.receiptPublicKey()) === true
   * ```
   */
  checkpoint(): Effect.Effect<Checkpoint | null, LetheError>
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
  /**
   * Applies to projection `name` (one of `LetheOptions.projections`) every
   * member event appended since its checkpoint, in global order, in batches
   * of `batchSize` (default 500), each batch in one transaction with the new
   * checkpoint (R36); resolves with where it then stands. Events of the
   * reserved streams move the checkpoint and reach no projection. A throw
   * of its `apply` rolls the batch back and fails with `StoreError` naming
   * the event's position; the checkpoint stays before the batch.
   *
   * @example
   * ```ts
   * const { checkpoint, lag } = await lethe.catchUpProjection("monthly-stats")
   * ```
   */
  catchUpProjection(
    name: string,
    options?: Projection.CatchUpOptions,
  ): Effect.Effect<Projection.Status, LetheError>
  /**
   * Catches projection `name` up, then keeps following the log: it looks
   * again every `intervalMs` (default 1,000), at once after an append by
   * this instance, until `signal` aborts (or the Effect is interrupted);
   * resolves then with where the projection stands.
   *
   * @example
   * ```ts
   * const stop = new AbortController()
   * const following = lethe.followProjection("monthly-stats", { signal: stop.signal })
   * // ... at shutdown:
   * stop.abort()
   * await following
   * ```
   */
  followProjection(
    name: string,
    options?: Projection.FollowOptions,
  ): Effect.Effect<Projection.Status, LetheError>
  /**
   * Rebuilds projection `name` from zero: its `reset` (then `setup`) and its
   * checkpoint set to 0 in one transaction, then a catch-up over the whole
   * log. Personal values of members erased since come back as `Erased`
   * markers, so a rebuild holds nothing the log no longer opens.
   */
  rebuildProjection(
    name: string,
    options?: Projection.CatchUpOptions,
  ): Effect.Effect<Projection.Status, LetheError>
  /** Where projection `name` stands: its checkpoint, the log's head, and its lag (`head - checkpoint`). */
  projectionStatus(name: string): Effect.Effect<Projection.Status, LetheError>
  /**
   * Runs `read` in a transaction over projection `name`'s data and resolves
   * with its result: the store's handle (SQLite: the `Database`; PostgreSQL:
   * a client; memory: a copy of the projection's `Map`). What it writes is
   * not kept. On SQLite and memory `read` must be synchronous.
   *
   * @example
   * ```ts
   * const rows = await lethe.readProjection("monthly-stats", (db: Database.Database) =>
   *   db.prepare("SELECT month, active FROM active_members ORDER BY month").all(),
   * )
   * ```
   */
  readProjection<A, Tx = unknown>(
    name: string,
    read: (tx: Tx) => A | Promise<A>,
  ): Effect.Effect<A, LetheError>
}

/** The service's result type of an operation, e.g. `ResultOf<"anonymize">`. */
export type ResultOf<K extends keyof LetheService> = LetheService[K] extends (
  ...args: ReadonlyArray<never>
) => Effect.Effect<infer A, infer _E>
  ? A
  : never
