/**
 * What the auditor reports (R35): one finding per rule broken, naming the
 * stream, the version and the global position of the event, the requirements
 * it breaks, and the evidence, which never holds a personal value.
 *
 * @module
 */

/** A requirement id of docs/requirements.md, e.g. "R25". */
export type RequirementId = `R${number}`

/**
 * The rules the auditor checks. Each is documented in `docs/audit.md`;
 * `auditRules` gives each its requirements and a one-line description.
 */
export type AuditRule =
  | "hash-chain"
  | "checkpoint"
  | "erasure-receipt"
  | "unreadable-row"
  | "event-schema"
  | "sealing"
  | "lifecycle"
  | "erased-member"
  | "anonymization-guard"
  | "erasure-guard"
  | "message-guard"
  | "message-proof"
  | "restore-guard"
  | "purge-guard"
  | "special-category"
  | "fact-date"
  | "restore-window"
  | "erasure-deadline"
  | "access-deadline"
  | "purge-deadline"
  | "legal-hold"
  | "keys-destroyed"
  | "log-behind-key-store"

/** What a rule checks and which requirements it proves. */
export interface AuditRuleInfo {
  readonly requirements: ReadonlyArray<RequirementId>
  readonly description: string
}

/** Every rule, in report order, with its requirements and what it checks. */
export const auditRules: Readonly<Record<AuditRule, AuditRuleInfo>> = {
  "hash-chain": {
    requirements: ["R35"],
    description:
      "each stream's events are contiguous from version 1, each chained to the previous one's hash, each hash recomputed from the event, each ciphertext matching its committed digest, and no stream shorter than the directory says",
  },
  checkpoint: {
    requirements: ["R41", "R35"],
    description:
      "every signed checkpoint verifies under the controller's public key, and the log digest recomputed over every event up to its position is the one it signed: nothing before it was rewritten (even with the chain recomputed), deleted, inserted, renumbered or truncated",
  },
  "erasure-receipt": {
    requirements: ["R10"],
    description:
      "every erasure receipt recorded in the log (scheduled or final) verifies under the controller's public key, and says what the log says: its member and tenant, its status, its dates (forgotten, restore window, destruction date within the purge grace; purged or anonymized) and the stream head it attests",
  },
  "unreadable-row": {
    requirements: ["R35"],
    description:
      "every stored row reads back: one whose stored JSON does not parse (a changed byte) is named by stream, version and position",
  },
  "event-schema": {
    requirements: ["R35"],
    description: "every stored event decodes as a member event of its type",
  },
  sealing: {
    requirements: ["R29"],
    description:
      "every personal value and every free text (a reason) is stored sealed (or erased), never in clear; a source tag, an actor id and a correlation id are short tokens, never free text",
  },
  lifecycle: {
    requirements: ["R35"],
    description:
      "a stream starts with MemberRegistered for its own member id and is registered once; events no decision could produce are reported",
  },
  "erased-member": {
    requirements: ["R2"],
    description:
      "after Forgotten, Purged or Anonymized nothing is recorded about the member (data, activity, consents, contracts, requests...)",
  },
  "anonymization-guard": {
    requirements: ["R25", "R23", "R22"],
    description:
      "no Anonymized while a contract was active or in the future, a debt case open, the wallet not empty, processing restricted, or the member already anonymized",
  },
  "erasure-guard": {
    requirements: ["R23"],
    description:
      "no Forgotten, PersonalDataErased or Purged while processing was restricted: restricted data is neither deleted nor anonymized until the restriction is lifted",
  },
  "message-guard": {
    requirements: ["R2", "R4", "R16", "R23", "R31"],
    description:
      "no MessageSent without a lawful basis for its purpose, after an unsubscribe from it, while processing was restricted, while profiling was off for a profiling purpose, or after erasure",
  },
  "message-proof": {
    requirements: ["R3"],
    description: "the lawful basis a MessageSent records is the one in force when it was sent",
  },
  "restore-guard": {
    requirements: ["R5", "R22"],
    description: "Restored only while forgotten and within the restore window, never after anonymization",
  },
  "purge-guard": {
    requirements: ["R5"],
    description: "Purged only for a forgotten member whose restore window has ended",
  },
  "special-category": {
    requirements: ["R17"],
    description:
      "special-category data (health, ethnic origin, political opinions, religious beliefs) recorded only under an explicit consent in force",
  },
  "fact-date": {
    requirements: ["R38"],
    description:
      "a business fact's own date (occurredAt) lies neither after it was recorded, nor before the member's registration, nor before the member's data was last erased or the member restored",
  },
  "restore-window": {
    requirements: ["R5", "R29"],
    description: "Forgotten keeps the member restorable for exactly the configured window",
  },
  "erasure-deadline": {
    requirements: ["R11"],
    description:
      "every erasure request is due within the configured deadline and fulfilled by its due date, its other systems' confirmations included (R14)",
  },
  "access-deadline": {
    requirements: ["R13"],
    description: "every access request is due within the configured deadline and fulfilled by its due date",
  },
  "purge-deadline": {
    requirements: ["R29"],
    description: "every forgotten member is purged by the end of the restore window plus the grace period",
  },
  "legal-hold": {
    requirements: ["R37", "R24"],
    description:
      "what a purge or an anonymization kept by law (invoice data) is erased once its retention (invoiceRetentionYears) and the grace period have passed",
  },
  "keys-destroyed": {
    requirements: ["R29", "R24"],
    description:
      "a purged member has no live data key; an anonymized member keeps live keys only for categories kept by law (invoice); no member keeps a live key of a category erased by PersonalDataErased",
  },
  "log-behind-key-store": {
    requirements: ["R42"],
    description:
      "the key store destroyed no key of a member whose log shows no erasure of its category: otherwise the log was restored from a backup older than the key store, lost the erasure, and it must be done again",
  },
}

/** JSON values, for evidence. */
export type Evidence = Readonly<Record<string, unknown>>

/**
 * One rule broken at one place of the log.
 *
 * @example
 * ```ts
 * const finding: Finding = {
 *   rule: "anonymization-guard",
 *   requirements: ["R25"],
 *   streamId: "member-0190...",
 *   version: 7,
 *   position: 1234,
 *   at: new Date("2026-03-01T09:00:00Z"),
 *   message: "Anonymized while blocked: WalletNotEmpty",
 *   evidence: { blockers: ["WalletNotEmpty"], walletBalance: 5000 },
 * }
 * ```
 */
export interface Finding {
  readonly rule: AuditRule
  /** The requirements this finding breaks (a subset of, or equal to, the rule's). */
  readonly requirements: ReadonlyArray<RequirementId>
  readonly streamId: string
  /** The version of the event at fault (for a missing event, the version that is missing). */
  readonly version: number
  /** The global position of the event at fault, or where the fault was seen. */
  readonly position: number
  /** When it happened: the event's time, or the deadline that passed. Null if unknown. */
  readonly at: Date | null
  readonly message: string
  /** What the auditor saw: ids, times, counts, hashes. Never a personal value. */
  readonly evidence: Evidence
}

/** A finding before the auditor adds where it sits in the log. */
export type FindingDraft = Omit<Finding, "streamId" | "version" | "position" | "at"> & {
  readonly version?: number
  readonly at?: Date | null
}

/** ISO 8601 for evidence; null stays null. */
export const isoOrNull = (ms: number | null): string | null =>
  ms === null ? null : new Date(ms).toISOString()
