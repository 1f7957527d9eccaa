/**
 * `@lethe/core/audit`, for auditors' programs: replay a whole log and check
 * every rule held (`auditLog`), check one stream's hash chain
 * (`verifyStream`), compute an event's chained hash (`hashEvent`), the
 * rules and their findings, the verification of erasure receipts and of
 * the log's signed checkpoints (R41).
 *
 * @module
 */

export {
  type AuditOptions,
  type AuditProgress,
  type AuditReport,
  type AuditSources,
  type AuditSummary,
  auditLog,
  auditSourcesOf,
  type CheckpointReport,
  type CheckStatus,
  emptyTimelineCounts,
  type RequestCounts,
  type TimelineDay,
  type TimelineKind,
} from "./audit/audit.js"
export {
  type Checkpoint,
  checkpointDomain,
  checkpointEventType,
  checkpointFormat,
  checkpointPayload,
  emptyLogDigest,
  keyFingerprint,
  logDigestStep,
  parseCheckpoint,
  verifyCheckpoint,
} from "./audit/checkpoint.js"
export type { MessageBlocker } from "./audit/checks.js"
export type { AuditedEvent } from "./audit/decode.js"
export {
  type AuditRule,
  type AuditRuleInfo,
  auditRules,
  type Evidence,
  type Finding,
  type RequirementId,
} from "./audit/findings.js"
export {
  type ChainCheck,
  type ChainedFields,
  type ChainProblem,
  hashEvent,
  verifyStream,
} from "./audit/hash-chain.js"
export {
  type ErasedKey,
  type ErasureReceipt,
  type ErasureReceiptFields,
  type ErasureReceiptV1,
  type FinalErasureReceipt,
  parseReceipt,
  receiptDomains,
  receiptEventType,
  receiptFormat,
  receiptPayload,
  receiptStream,
  receiptStreamPrefix,
  type ScheduledErasureReceipt,
  verifyReceipt,
} from "./audit/receipt.js"
// The one HTML escaper of Lethe: the member export's, also used by the CLI's audit report.
export { escapeHtml } from "./export/html.js"
export { type RenderReceiptOptions, renderReceipt } from "./service/receipt-message.js"
export { checkpointStream, type StoredEvent } from "./spi/event-store.js"
