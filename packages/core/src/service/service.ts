/**
 * The contract of the application service: Lethe's operations as Effects,
 * one method per operation. `lethe.ts` composes it from the capabilities;
 * the Promise facade (`createLethe`) offers the same methods.
 *
 * @module
 */
import type { Effect } from "effect"
import type { Checkpoint } from "../audit/checkpoint.js"
import type { ErasureReceipt, ScheduledErasureReceipt } from "../audit/receipt.js"
import type {
  AnonymizationBlocked,
  BasisNotAllowed,
  ConcurrencyConflict,
  DuplicateReference,
  EmailTaken,
  ErasureBlocked,
  ErasureIncomplete,
  ExplicitConsentRequired,
  ExplicitFlagRequired,
  ExportLinkInvalid,
  InsufficientFunds,
  IntegrityError,
  InvalidCommand,
  KeyDestroyed,
  KeyExists,
  LetheError,
  MemberErased,
  MemberNotFound,
  MessageNotFound,
  MessageRefused,
  NotErased,
  NothingToRestore,
  NotPermitted,
  NotPurgeable,
  RestoreWindowExpired,
  RetentionBlocked,
  StoreError,
  StoreUnavailable,
  UnknownPurpose,
  UnknownReference,
  UnknownWordingVersion,
  WalletLimitExceeded,
} from "../errors.js"
import type { ExportFormat } from "../export/member-export.js"
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
  ConfirmSystemInput,
  ConfirmSystemResult,
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

/** Lethe's operations as Effects. The Promise facade (`createLethe`) offers the same. */
export interface LetheService {
  readonly config: LetheConfig
  /**
   * Registers a new member with a new id, and records the name, e-mail and phone given. Fails with
   * `EmailTaken` when an active member of the tenant holds the e-mail.
   */
  register(input: RegisterInput): Effect.Effect<CommandResult, LetheService.Errors["register"]>
  /**
   * Records personal values of one category, with their source (R32). A special category needs an explicit
   * consent in force that covers it (R17).
   */
  recordPersonalData(
    memberId: string,
    input: RecordPersonalDataInput,
  ): Effect.Effect<CommandResult, LetheService.Errors["recordPersonalData"]>
  /**
   * Erases whole categories of the member's personal data (permission `member:forget`): their data keys are
   * destroyed and what they sealed redacted.
   */
  erasePersonalData(
    memberId: string,
    input: ErasePersonalDataInput,
  ): Effect.Effect<CommandResult, LetheService.Errors["erasePersonalData"]>
  /**
   * Records a consent for a purpose of the catalogue, under the purpose's latest wording unless one is given
   * (R16, R17, R33). Ends an unsubscribe from that purpose.
   */
  giveConsent(
    memberId: string,
    input: GiveConsentInput,
  ): Effect.Effect<CommandResult, LetheService.Errors["giveConsent"]>
  /** Withdraws the member's consent for a purpose (R33); records nothing when none is in force. */
  withdrawConsent(
    memberId: string,
    input: WithdrawConsentInput,
  ): Effect.Effect<CommandResult, LetheService.Errors["withdrawConsent"]>
  /**
   * Stops messages for one purpose (R4); profile, consents and history stay. Records nothing when already
   * unsubscribed.
   */
  unsubscribe(
    memberId: string,
    input: UnsubscribeInput,
  ): Effect.Effect<CommandResult, LetheService.Errors["unsubscribe"]>
  /** New member, consent on an existing one, or restore of a member forgotten within the window (R4, R5). */
  subscribe(input: SubscribeInput): Effect.Effect<SubscribeResult, LetheService.Errors["subscribe"]>
  /** Turns profiling off for the member: messages for purposes that depend on it are refused (R31). */
  disableProfiling(
    memberId: string,
    input?: Acting,
  ): Effect.Effect<CommandResult, LetheService.Errors["disableProfiling"]>
  /** Turns profiling back on for the member (R31). */
  enableProfiling(
    memberId: string,
    input?: Acting,
  ): Effect.Effect<CommandResult, LetheService.Errors["enableProfiling"]>
  /** Records a contract with a club. An active or future contract blocks anonymization (R25). */
  signContract(
    memberId: string,
    input: SignContractInput,
  ): Effect.Effect<CommandResult, LetheService.Errors["signContract"]>
  /** Ends a contract early, or cancels one not yet started; records nothing when it has already ended. */
  endContract(
    memberId: string,
    input: ContractInput,
  ): Effect.Effect<CommandResult, LetheService.Errors["endContract"]>
  /**
   * Adds an amount to the member's wallet. Funds in the wallet block anonymization (R25). Fails with
   * `WalletLimitExceeded` when the balance would pass `Number.MAX_SAFE_INTEGER`.
   */
  creditWallet(
    memberId: string,
    input: AmountInput,
  ): Effect.Effect<CommandResult, LetheService.Errors["creditWallet"]>
  /** Takes an amount from the member's wallet; fails with `InsufficientFunds` beyond the balance. */
  debitWallet(
    memberId: string,
    input: AmountInput,
  ): Effect.Effect<CommandResult, LetheService.Errors["debitWallet"]>
  /** Opens a debt-collection case in a club. An open case blocks anonymization (R25). */
  openDebtCase(
    memberId: string,
    input: DebtCaseInput,
  ): Effect.Effect<CommandResult, LetheService.Errors["openDebtCase"]>
  /** Closes a debt-collection case; records nothing when it is already closed. */
  closeDebtCase(
    memberId: string,
    input: CloseDebtCaseInput,
  ): Effect.Effect<CommandResult, LetheService.Errors["closeDebtCase"]>
  /**
   * Records a purchase, paid or not. Unpaid purchases are warnings of an anonymization, not blockers (R27).
   */
  recordPurchase(
    memberId: string,
    input: PurchaseInput,
  ): Effect.Effect<CommandResult, LetheService.Errors["recordPurchase"]>
  /** Marks a recorded purchase paid. */
  markPurchasePaid(
    memberId: string,
    input: PurchaseRefInput,
  ): Effect.Effect<CommandResult, LetheService.Errors["markPurchasePaid"]>
  /** Records an instalment the member missed in a club (R27). */
  recordMissedInstalment(
    memberId: string,
    input: InstalmentInput,
  ): Effect.Effect<CommandResult, LetheService.Errors["recordMissedInstalment"]>
  /** Marks a missed instalment paid. */
  markInstalmentPaid(
    memberId: string,
    input: InstalmentRefInput,
  ): Effect.Effect<CommandResult, LetheService.Errors["markInstalmentPaid"]>
  /**
   * Records a visit, class, transaction or page view, with its personal details. Refused once the member is
   * erased (R2).
   */
  recordActivity(
    memberId: string,
    input: ActivityInput,
  ): Effect.Effect<CommandResult, LetheService.Errors["recordActivity"]>
  /**
   * Records a message for a purpose with the lawful basis in force (R3); Lethe sends nothing, the
   * application delivers the message once this succeeds. Fails with `MessageRefused`, listing every reason,
   * when no basis is in force, the member unsubscribed, processing is restricted or profiling is off where
   * the purpose needs it; test messages alike (R2, R4, R16, R23, R31); with `DuplicateReference` when the
   * message id given is already used.
   */
  sendMessage(
    memberId: string,
    input: SendMessageInput,
  ): Effect.Effect<MessageResult, LetheService.Errors["sendMessage"]>
  /**
   * Restricts processing of the member's data (art. 18 GDPR): messages and anonymization are refused until
   * it is lifted (R23).
   */
  restrictProcessing(
    memberId: string,
    input: RestrictInput,
  ): Effect.Effect<CommandResult, LetheService.Errors["restrictProcessing"]>
  /** Lifts a restriction of processing; records nothing when none is in force. */
  liftRestriction(
    memberId: string,
    input?: Acting,
  ): Effect.Effect<CommandResult, LetheService.Errors["liftRestriction"]>
  /**
   * Records an erasure request and its due date (R11), with the other systems staff must handle by hand
   * (R14, `config.otherSystems` as it is now, fixed on the request), and returns them. It is fulfilled once
   * `forget` or `anonymize` with its `requestId` did Lethe's part and `confirmSystem` recorded each system's
   * confirmation.
   */
  requestErasure(
    memberId: string,
    input: RequestInput,
  ): Effect.Effect<RequestResult, LetheService.Errors["requestErasure"]>
  /**
   * Records an access request and its due date (R11), with the other systems staff must handle by hand
   * (R14, fixed on the request), and returns them. It is fulfilled once `exportMember` with its `requestId`
   * did Lethe's part and `confirmSystem` recorded each system's confirmation.
   */
  requestAccess(
    memberId: string,
    input: RequestInput,
  ): Effect.Effect<RequestResult, LetheService.Errors["requestAccess"]>
  /**
   * Records that one of the other systems of a request has done its part (R14): the person's data erased
   * there, or given out. Needs the permission that fulfils the request (`member:forget` for an erasure
   * request, `member:export` for an access request), and works whatever the member's status, after a
   * purge too. The request is fulfilled when Lethe's part is done and the last system confirms. Fails with
   * `UnknownReference` for a request the member does not have or a system the request does not list; a
   * system already confirmed records nothing (`recorded` is empty). A `note` is sealed like any free text,
   * and refused (`InvalidCommand`) once the member is purged or anonymized.
   *
   * @example
   * ```ts
   * const { pendingSystems, fulfilledAt } = await lethe.confirmSystem(memberId, {
   *   actor: admin,
   *   requestId,
   *   system: "Accounting",
   * })
   * ```
   */
  confirmSystem(
    memberId: string,
    input: ConfirmSystemInput,
  ): Effect.Effect<ConfirmSystemResult, LetheService.Errors["confirmSystem"]>
  /**
   * Forgets the member (permission `member:forget`, R8): no longer findable, nothing more recorded or sent,
   * restorable within the restore window (R1, R2, R5). Fulfils the member's open requests.
   */
  forget(
    memberId: string,
    input: ForgetInput,
  ): Effect.Effect<
    CommandResult & { readonly receipt: ScheduledErasureReceipt },
    LetheService.Errors["forget"]
  >
  /**
   * Forgets each member; one refusal does not stop the others (R7). Fails as a whole only with
   * `InvalidCommand`, forgetting no one, when `memberIds` is not a list of ids or the input not an object.
   */
  forgetMany(
    memberIds: ReadonlyArray<string>,
    input: ForgetManyInput,
  ): Effect.Effect<ReadonlyArray<BulkOutcome<CommandResult>>, LetheService.Errors["forgetMany"]>
  /** Restores a forgotten member within the restore window (permission `member:restore`, R5). */
  restore(memberId: string, input: Privileged): Effect.Effect<CommandResult, LetheService.Errors["restore"]>
  /**
   * Anonymizes the member (permission `member:anonymize`, R26): every category of personal data is erased
   * but those kept by law (R24), irreversibly (R22); the member stays for statistics (R19). Staff confirm
   * the subject's e-mail (R9). Fails with `AnonymizationBlocked` listing every blocker (R23, R25); unpaid
   * items come back as warnings (R27).
   */
  anonymize(
    memberId: string,
    input: AnonymizeInput,
  ): Effect.Effect<AnonymizeResult, LetheService.Errors["anonymize"]>
  /** The member as staff see it; personal data only while active (R1, R19, R24). */
  get(memberId: string): Effect.Effect<MemberView, LetheService.Errors["get"]>
  /** The active member with this e-mail in the tenant, if any (R1: never a forgotten one). */
  findByEmail(
    tenantId: string,
    email: string,
  ): Effect.Effect<MemberSummary | null, LetheService.Errors["findByEmail"]>
  /** Active members whose name or e-mail contains `text`, case-insensitively (R1). */
  search(
    tenantId: string,
    text: string,
    options?: { readonly limit?: number; readonly after?: string },
  ): Effect.Effect<ReadonlyArray<MemberSummary>, LetheService.Errors["search"]>
  /** Purges a forgotten member after the window: keys destroyed, sealed values redacted, checked. */
  purge(
    memberId: string,
    input: Privileged,
  ): Effect.Effect<CommandResult & { readonly erasure: ErasureReport | null }, LetheService.Errors["purge"]>
  /** Who sent a message, when, for which purpose, under which basis; also after erasure (R3). */
  proveMessage(messageId: string): Effect.Effect<MessageProof, LetheService.Errors["proveMessage"]>
  /**
   * The signed receipt of the member's erasure (R10), recorded in the log: "erasure scheduled" (with the
   * date the data is destroyed by) while forgotten, the final one once purged or anonymized; `NotErased`
   * for an active member. Check it with `verifyReceipt`; `renderReceipt` makes the message for the person.
   */
  erasureReceipt(memberId: string): Effect.Effect<ErasureReceipt, LetheService.Errors["erasureReceipt"]>
  /**
   * Runs the built-in retention rules (purge forgotten members whose window
   * ended, erase invoice data whose retention ended: R24, R29), then the
   * given policies (R12, R15, R20), planned from directory queries and
   * executed in batches through the domain's guards (R23, R25). Members a
   * guard refuses are reported with their reasons and left untouched.
   */
  runRetention(
    options?: RetentionOptions,
  ): Effect.Effect<RetentionReport, LetheService.Errors["runRetention"]>
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
  checkpoint(): Effect.Effect<Checkpoint | null, LetheService.Errors["checkpoint"]>
  /**
   * Everything held about a member, as a document in `format` (R13, R21, R30),
   * including the systems staff must handle by hand (R14). Records
   * `DataExported` (permission `member:export`); a `requestId` fulfils that
   * access request (R11). The result is narrowed by `format`: `"json"` and
   * `"html"` give `fileName` and `content` (text), `"pdf"` gives `fileName`
   * and `content` (a `Uint8Array`), `"csv"` gives `files`. HTML and PDF write
   * dates in `locale` and `timeZone` (default `config.locale`, `config.timeZone`).
   *
   * @example
   * ```ts
   * const csv = yield* lethe.exportMember(memberId, { actor, format: "csv" })
   * for (const [name, text] of Object.entries(csv.files)) yield* writeFile(name, text)
   * ```
   */
  exportMember<F extends ExportFormat>(
    memberId: string,
    input: ExportInput & { readonly format: F },
  ): Effect.Effect<LetheService.ExportOf<F>, LetheService.Errors["exportMember"]>
  /** `exportMember` for a format known only at run time: any `ExportResult`. */
  exportMember(
    memberId: string,
    input: ExportInput,
  ): Effect.Effect<ExportResult, LetheService.Errors["exportMember"]>
  /**
   * A signed download link for a member's export, valid 24 hours by default
   * (R13). Checks now what the export will check (permission, member, request);
   * records nothing until the link is redeemed.
   */
  createExportLink(
    memberId: string,
    input: ExportLinkInput,
  ): Effect.Effect<ExportLink, LetheService.Errors["createExportLink"]>
  /**
   * The export a link grants, recorded as `DataExported` on the authority of
   * whoever created the link. Refused with `ExportLinkInvalid` once expired,
   * or if the token was changed.
   */
  redeemExportLink(token: string): Effect.Effect<ExportResult, LetheService.Errors["redeemExportLink"]>
  /**
   * Imports contacts from CSV (R6, R32, R43): new members with their consent,
   * consents on existing members, and (with `restoreForgotten`) forgotten
   * members restored within the window; opt-out rows (unsubscribed, bounced,
   * cleaned, blocklisted, complained) as unsubscribes or suppressions, never
   * consents. The file is text, or bytes decoded as UTF-8 or `input.encoding`;
   * its layout Lethe's own or another tool's (`input.mapping`: `"mailchimp"`,
   * `"hubspot"`, `"brevo"` or a column map). Each row is applied whole or not
   * at all; bad rows are reported with their row number and reason, unmapped
   * columns listed. Fails with `InvalidCommand`, applying nothing, when the
   * file cannot be read, lacks a required column, or an option is not
   * understood.
   */
  importCsv(
    csvText: string | Uint8Array,
    input: ImportCsvInput,
  ): Effect.Effect<ImportReport, LetheService.Errors["importCsv"]>
  /**
   * Open erasure requests past their due date (R11), each with the other systems that have yet to confirm
   * it (`pendingSystems`, R14) and whether Lethe's own part is done (`handledAt`).
   */
  overdueErasureRequests(): Effect.Effect<
    ReadonlyArray<DueRequest>,
    LetheService.Errors["overdueErasureRequests"]
  >
  /** Every open request with its due date (R11) and the other systems that have yet to confirm it (R14). */
  openRequests(): Effect.Effect<ReadonlyArray<DueRequest>, LetheService.Errors["openRequests"]>
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
  }): Effect.Effect<DataMap, LetheService.Errors["dataMap"]>
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
  ): Effect.Effect<Projection.Status, LetheService.Errors["catchUpProjection"]>
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
  ): Effect.Effect<Projection.Status, LetheService.Errors["followProjection"]>
  /**
   * Rebuilds projection `name` from zero: its `reset` (then `setup`) and its
   * checkpoint set to 0 in one transaction, then a catch-up over the whole
   * log. Personal values of members erased since come back as `Erased`
   * markers, so a rebuild holds nothing the log no longer opens.
   */
  rebuildProjection(
    name: string,
    options?: Projection.CatchUpOptions,
  ): Effect.Effect<Projection.Status, LetheService.Errors["rebuildProjection"]>
  /** Where projection `name` stands: its checkpoint, the log's head, and its lag (`head - checkpoint`). */
  projectionStatus(name: string): Effect.Effect<Projection.Status, LetheService.Errors["projectionStatus"]>
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
  ): Effect.Effect<A, LetheService.Errors["readProjection"]>
}

/** The service's result type of an operation, e.g. `ResultOf<"anonymize">`. */
export type ResultOf<K extends keyof LetheService> = LetheService[K] extends (
  ...args: ReadonlyArray<never>
) => Effect.Effect<infer A, infer _E>
  ? A
  : never

/**
 * The types that go with {@link LetheService}: what each operation can fail
 * with, and what an export gives in each format.
 *
 * @example
 * ```ts
 * // A step that credits a wallet and handles the limit; the rest stays typed.
 * const credit = (memberId: string): Effect.Effect<
 *   CommandResult | "limit",
 *   Exclude<LetheService.Errors["creditWallet"], WalletLimitExceeded>,
 *   Lethe
 * > =>
 *   Effect.flatMap(Lethe, (lethe) => lethe.creditWallet(memberId, { amount: 500 })).pipe(
 *     Effect.catchTag("WalletLimitExceeded", () => Effect.succeed("limit" as const)),
 *   )
 * ```
 */
export declare namespace LetheService {
  /** A store call failed: the database cannot be reached now, or failed otherwise (§4.5). */
  type StoreFailure = StoreError | StoreUnavailable
  /** What a read can fail with: its arguments, the store, a stored event that does not decode. */
  type ReadError = InvalidCommand | StoreFailure | IntegrityError
  /** What loading one member can fail with: a read's failures, or no such member. */
  type LoadError = ReadError | MemberNotFound
  /** What a command on one member can fail with before `decide`'s own refusals: loading, then the append. */
  type WriteError = LoadError | ConcurrencyConflict | KeyExists | KeyDestroyed
  /** A write refused once the member is forgotten, purged or anonymized (R2). */
  type LiveError = WriteError | MemberErased
  /** `decide`'s refusals of a consent. */
  type ConsentRefusal = UnknownPurpose | UnknownWordingVersion | BasisNotAllowed | ExplicitFlagRequired
  /** What an export, or a link to one, can fail with. */
  type ExportError = WriteError | NotPermitted | MemberErased | UnknownReference

  /**
   * Each operation's error channel, e.g. `LetheService.Errors["creditWallet"]`:
   * the tagged errors that operation can fail with, derived from its path
   * (arguments, store, load, `decide`'s refusals for its command, append).
   */
  interface Errors {
    readonly register: WriteError | DuplicateReference | EmailTaken | ExplicitConsentRequired | ConsentRefusal
    readonly recordPersonalData: LiveError | ExplicitConsentRequired | EmailTaken
    readonly erasePersonalData: WriteError | NotPermitted | ErasureBlocked | ErasureIncomplete
    readonly giveConsent: LiveError | ConsentRefusal
    readonly withdrawConsent: LiveError | UnknownPurpose
    readonly unsubscribe: LiveError | UnknownPurpose
    readonly subscribe:
      | LiveError
      | ConsentRefusal
      | EmailTaken
      | DuplicateReference
      | NothingToRestore
      | RestoreWindowExpired
    readonly disableProfiling: LiveError
    readonly enableProfiling: LiveError
    readonly signContract: LiveError | DuplicateReference
    readonly endContract: LiveError | UnknownReference
    readonly creditWallet: LiveError | WalletLimitExceeded
    readonly debitWallet: LiveError | InsufficientFunds
    readonly openDebtCase: LiveError | DuplicateReference
    readonly closeDebtCase: LiveError | UnknownReference
    readonly recordPurchase: LiveError | DuplicateReference
    readonly markPurchasePaid: LiveError | UnknownReference
    readonly recordMissedInstalment: LiveError | DuplicateReference
    readonly markInstalmentPaid: LiveError | UnknownReference
    readonly recordActivity: LiveError
    readonly sendMessage: LiveError | MessageRefused | UnknownPurpose | DuplicateReference
    readonly restrictProcessing: LiveError
    readonly liftRestriction: LiveError
    readonly requestErasure: LiveError | DuplicateReference
    readonly requestAccess: LiveError | DuplicateReference
    /** Allowed after erasure: no `MemberErased`. */
    readonly confirmSystem: WriteError | NotPermitted | UnknownReference
    readonly forget: LiveError | NotPermitted | UnknownReference | ErasureBlocked
    /** Fails as a whole only for its arguments; each member's refusal is in its outcome. */
    readonly forgetMany: InvalidCommand
    readonly restore: WriteError | NotPermitted | NothingToRestore | RestoreWindowExpired | EmailTaken
    readonly anonymize: LiveError | NotPermitted | AnonymizationBlocked | UnknownReference | ErasureIncomplete
    readonly get: LoadError
    readonly findByEmail: ReadError
    readonly search: ReadError
    readonly purge: WriteError | NotPermitted | ErasureBlocked | NotPurgeable | ErasureIncomplete
    readonly proveMessage: ReadError | MessageNotFound
    readonly erasureReceipt: LoadError | NotErased
    readonly runRetention:
      | WriteError
      | RetentionBlocked
      | ErasureBlocked
      | ErasureIncomplete
      | NotPermitted
      | MemberErased
    readonly checkpoint: ReadError | ConcurrencyConflict
    readonly exportMember: ExportError
    readonly createExportLink: ExportError
    readonly redeemExportLink: ExportError | ExportLinkInvalid
    readonly importCsv:
      | WriteError
      | ConsentRefusal
      | EmailTaken
      | DuplicateReference
      | NotPermitted
      | MemberErased
    readonly overdueErasureRequests: ReadError
    readonly openRequests: ReadError
    /** Computed from the configuration alone: only a malformed policy. */
    readonly dataMap: InvalidCommand
    readonly catchUpProjection: ReadError
    readonly followProjection: ReadError
    readonly rebuildProjection: ReadError
    readonly projectionStatus: ReadError
    readonly readProjection: ReadError
  }

  /**
   * What `exportMember` gives for `format`: `"json"` and `"html"` one file of text, `"pdf"` one file of bytes,
   * `"csv"` one file per section.
   */
  type ExportOf<F extends ExportFormat> = Extract<ExportResult, { readonly format: F }>
}

/**
 * The service as its parts implement it, each operation failing with any
 * `LetheError`; `guarded` gives it the narrowed `LetheService` type, whose
 * unions `operation-errors.ts` lists and the tests check. Internal.
 */
export type LetheImplementation = { readonly config: LetheConfig } & {
  readonly [K in Exclude<keyof LetheService, "config">]: LetheService[K] extends (
    ...args: infer A
  ) => Effect.Effect<infer R, infer _E>
    ? // A method's parameters, checked as a method's are (bivariantly), as the interface's were.
      { method(...args: A): Effect.Effect<R, LetheError> }["method"]
    : never
}
