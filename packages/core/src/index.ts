/**
 * `@lethe/core`, for applications that embed Lethe: the Promise facade
 * (`createLethe`), the Effect service (`Lethe`, `Lethe.layer`), the inputs
 * and results of every operation, the errors, the retention policies, the
 * views, the keyring and the erasure receipts.
 *
 * The other users have their own entries: `@lethe/core/spi` for storage
 * adapter authors, `@lethe/core/audit` for auditors' programs,
 * `@lethe/core/domain` for the pure member domain (decide, evolve, guards).
 * What no entry exports is internal and may change.
 *
 * @module
 */

export type { Checkpoint } from "./audit/checkpoint.js"
export { type ErasedKey, type ErasureReceipt, verifyReceipt } from "./audit/receipt.js"
export {
  AnonymizationBlocked,
  AnonymizationBlocker,
  AnonymizationWarning,
  BasisNotAllowed,
  type CommandIssue,
  ConcurrencyConflict,
  type DomainError,
  DuplicateReference,
  EmailTaken,
  ErasureBlocked,
  ErasureIncomplete,
  ExplicitConsentRequired,
  ExplicitFlagRequired,
  ExportLinkInvalid,
  ExportLinkProblem,
  InsufficientFunds,
  IntegrityError,
  InvalidCommand,
  KeyDestroyed,
  KeyExists,
  KeyringMismatch,
  type LetheError,
  MemberErased,
  MemberNotFound,
  MemberStatus,
  MessageNotFound,
  MessageRefused,
  MessagingBlocker,
  NotErased,
  NothingToRestore,
  NotPermitted,
  NotPurgeable,
  RestoreWindowExpired,
  RetentionBlocked,
  RetentionBlocker,
  StoreError,
  StoreUnavailable,
  UnknownPurpose,
  UnknownReference,
  UnknownWordingVersion,
  WalletLimitExceeded,
} from "./errors.js"
export type { ExportFormat, MemberExport } from "./export/member-export.js"
export type { ExportResult } from "./export/render.js"
export type { Actor, Permission } from "./member/config.js"
export type { PersonalCategory } from "./member/events.js"
export type { ConsentView, ContractView, MemberView } from "./member/view.js"
export {
  anonymizeAfterContractEnd,
  anonymizeInactive,
  forgetColdLeads,
  RetentionPolicy,
} from "./retention/policies.js"
export type {
  RetentionEntry,
  RetentionOptions,
  RetentionProgress,
  RetentionReport,
} from "./retention/run.js"
export { type Keyring, keyringFromSecret, minimumSecretBytes, type WrappedKey } from "./sealing/keyring.js"
export type { DataMap } from "./service/data-map.js"
export { createLethe, type LetheClient } from "./service/facade.js"
export type {
  Acting,
  ActivityInput,
  AmountInput,
  AnonymizeInput,
  AnonymizeResult,
  BulkOutcome,
  BulkProgress,
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
  ImportOutcome,
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
  SourceInput,
  SubscribeInput,
  SubscribeResult,
  UnsubscribeInput,
  WithdrawConsentInput,
} from "./service/inputs.js"
export { Lethe } from "./service/lethe.js"
export { defaultConfig, type LetheOptions } from "./service/options.js"
export type { Projection } from "./service/projections.js"
export type { LetheService, ResultOf } from "./service/service.js"
export type { LetheStore } from "./spi/store.js"
