/**
 * What each operation of `LetheService` can fail with, by `_tag`: the
 * run-time copy of `LetheService.Errors`, checked equal to it by
 * `lethe-errors.test.ts`, for tests that look at a refusal's tag.
 */
import type { LetheError, LetheService } from "@lethe/core"

type Tag = LetheError["_tag"]

const argument = ["InvalidCommand"] as const satisfies ReadonlyArray<Tag>
const store = ["StoreError", "StoreUnavailable"] as const satisfies ReadonlyArray<Tag>
/** A read of the directory or the log, values opened. */
const read = [...argument, ...store, "IntegrityError"] as const
/** One member loaded. */
const load = [...read, "MemberNotFound"] as const
/** One member loaded, a command decided and its events appended. */
const write = [...load, "ConcurrencyConflict", "KeyExists", "KeyDestroyed"] as const
/** A command `decide` refuses once the member is erased (R2). */
const live = [...write, "MemberErased"] as const
/** `decide`'s refusals of a consent (`GiveConsent`). */
const consent = [
  "UnknownPurpose",
  "UnknownWordingVersion",
  "BasisNotAllowed",
  "ExplicitFlagRequired",
] as const
const exporting = [...write, "NotPermitted", "MemberErased", "UnknownReference"] as const

/** Each operation's failures by `_tag`: `LetheService.Errors` at run time. */
export const operationErrors = {
  register: [...write, "DuplicateReference", "EmailTaken", "ExplicitConsentRequired", ...consent],
  recordPersonalData: [...live, "ExplicitConsentRequired", "EmailTaken"],
  erasePersonalData: [...write, "NotPermitted", "ErasureBlocked", "ErasureIncomplete"],
  giveConsent: [...live, ...consent],
  withdrawConsent: [...live, "UnknownPurpose"],
  unsubscribe: [...live, "UnknownPurpose"],
  subscribe: [
    ...live,
    ...consent,
    "EmailTaken",
    "DuplicateReference",
    "NothingToRestore",
    "RestoreWindowExpired",
  ],
  disableProfiling: live,
  enableProfiling: live,
  signContract: [...live, "DuplicateReference"],
  endContract: [...live, "UnknownReference"],
  creditWallet: [...live, "WalletLimitExceeded"],
  debitWallet: [...live, "InsufficientFunds"],
  openDebtCase: [...live, "DuplicateReference"],
  closeDebtCase: [...live, "UnknownReference"],
  recordPurchase: [...live, "DuplicateReference"],
  markPurchasePaid: [...live, "UnknownReference"],
  recordMissedInstalment: [...live, "DuplicateReference"],
  markInstalmentPaid: [...live, "UnknownReference"],
  recordActivity: live,
  sendMessage: [...live, "MessageRefused", "UnknownPurpose", "DuplicateReference"],
  restrictProcessing: live,
  liftRestriction: live,
  requestErasure: [...live, "DuplicateReference"],
  requestAccess: [...live, "DuplicateReference"],
  confirmSystem: [...write, "NotPermitted", "UnknownReference"],
  forget: [...live, "NotPermitted", "UnknownReference", "ErasureBlocked"],
  forgetMany: argument,
  restore: [...write, "NotPermitted", "NothingToRestore", "RestoreWindowExpired", "EmailTaken"],
  anonymize: [...live, "NotPermitted", "AnonymizationBlocked", "UnknownReference", "ErasureIncomplete"],
  get: load,
  findByEmail: read,
  search: read,
  purge: [...write, "NotPermitted", "ErasureBlocked", "NotPurgeable", "ErasureIncomplete"],
  proveMessage: [...read, "MessageNotFound"],
  erasureReceipt: [...load, "NotErased"],
  runRetention: [
    ...write,
    "RetentionBlocked",
    "ErasureBlocked",
    "ErasureIncomplete",
    "NotPermitted",
    "MemberErased",
  ],
  checkpoint: [...read, "ConcurrencyConflict"],
  exportMember: exporting,
  createExportLink: exporting,
  redeemExportLink: [...exporting, "ExportLinkInvalid"],
  importCsv: [...write, ...consent, "EmailTaken", "DuplicateReference", "NotPermitted", "MemberErased"],
  overdueErasureRequests: read,
  openRequests: read,
  dataMap: argument,
  catchUpProjection: read,
  followProjection: read,
  rebuildProjection: read,
  projectionStatus: read,
  readProjection: read,
} as const satisfies {
  readonly [K in keyof LetheService.Errors]: ReadonlyArray<LetheService.Errors[K]["_tag"]>
}
