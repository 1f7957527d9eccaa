/**
 * The export document as flat tables, one per section: the CSV export writes
 * each as a file and the HTML export prints each as a table, so both show the
 * same columns in the same order.
 *
 * @module
 */
import type { ExportedSource, ExportedValue, MemberExport } from "./member-export.js"

/** A cell before rendering: CSV and HTML write booleans, empties and details their own way. */
export type ExportCell = string | number | boolean | null | Readonly<Record<string, string>>

/** One section of the export as a table. */
export interface ExportTable {
  /** The CSV file's name without `.csv`, and the HTML section's anchor. */
  readonly name: string
  /** The heading a person reads. */
  readonly title: string
  /** Column keys (CSV header, snake_case) with their labels (HTML header). */
  readonly columns: ReadonlyArray<{ readonly key: string; readonly label: string }>
  readonly rows: ReadonlyArray<ReadonlyArray<ExportCell>>
  /** A table of exactly one row, better shown as label/value pairs. */
  readonly single: boolean
}

type Column<T> = readonly [key: string, label: string, cell: (row: T) => ExportCell]

const table = <T>(
  name: string,
  title: string,
  columns: ReadonlyArray<Column<T>>,
  rows: ReadonlyArray<T>,
  single = false,
): ExportTable => ({
  name,
  title,
  columns: columns.map(([key, label]) => ({ key, label })),
  rows: rows.map((row) => columns.map(([, , cell]) => cell(row))),
  single,
})

const sourceColumns = <T>(source: (row: T) => ExportedSource | null): ReadonlyArray<Column<T>> => [
  ["source", "Source", (row) => source(row)?.kind ?? null],
  ["source_tag", "Source tag", (row) => source(row)?.tag ?? null],
]

const valueColumns: ReadonlyArray<Column<ExportedValue>> = [
  ["field", "Field", (v) => v.field],
  ["value", "Value", (v) => v.value],
  ...sourceColumns((v: ExportedValue) => v.source),
  ["recorded_at", "Recorded at", (v) => v.recordedAt],
  ["current", "Current", (v) => v.current],
]

/**
 * The document's sections as tables, in the document's order.
 *
 * @example
 * ```ts
 * for (const t of exportTables(document)) console.log(t.name, t.rows.length) // "member" 1, "personal-data" 5, ...
 * ```
 */
export const exportTables = (document: MemberExport): ReadonlyArray<ExportTable> => [
  table(
    "member",
    "Member",
    [
      ["member_id", "Member id", (d) => d.member.memberId],
      ["tenant_id", "Tenant", (d) => d.member.tenantId],
      ["status", "Status", (d) => d.member.status],
      ["registered_at", "Registered at", (d) => d.member.registeredAt],
      ...sourceColumns((d: MemberExport) => d.member.source),
      ["profiling", "Profiling allowed", (d) => d.member.profiling],
      ["restricted_since", "Processing restricted since", (d) => d.member.restriction?.since ?? null],
      ["restriction_reason", "Reason for the restriction", (d) => d.member.restriction?.reason ?? null],
      ["wallet_balance", "Wallet balance (minor units)", (d) => d.wallet.balance],
      ["exported_at", "Exported at", (d) => d.exportedAt],
      ["request_id", "Access request", (d) => d.requestId],
      ["format", "Document format", (d) => d.format],
    ],
    [document],
    true,
  ),
  table(
    "personal-data",
    "Personal data",
    [["category", "Category", (v) => v.category], ...valueColumns],
    document.personalData,
  ),
  table(
    "consents",
    "Consents",
    [
      ["purpose", "Purpose", (c) => c.purpose],
      ["description", "Description", (c) => c.description],
      ["basis", "Lawful basis", (c) => c.basis],
      ["explicit", "Explicit", (c) => c.explicit],
      ["method", "Method", (c) => c.method],
      ["wording_version", "Wording version", (c) => c.wordingVersion],
      ...sourceColumns((c: MemberExport["consents"][number]) => c.source),
      ["given_at", "Given at", (c) => c.givenAt],
      ["recorded_at", "Recorded at", (c) => c.recordedAt],
      ["withdrawn_at", "Withdrawn at", (c) => c.withdrawnAt],
      ["unsubscribed_at", "Unsubscribed at", (c) => c.unsubscribedAt],
      ["in_force", "In force", (c) => c.inForce],
    ],
    document.consents,
  ),
  table(
    "consent-history",
    "Consent history",
    [
      ["purpose", "Purpose", (c) => c.purpose],
      ["action", "Action", (c) => c.action],
      ["at", "At", (c) => c.at],
      ["given_at", "Given at", (c) => c.givenAt],
      ["basis", "Lawful basis", (c) => c.basis],
      ["explicit", "Explicit", (c) => c.explicit],
      ["method", "Method", (c) => c.method],
      ["wording_version", "Wording version", (c) => c.wordingVersion],
      ...sourceColumns((c: MemberExport["consentHistory"][number]) => c.source),
      ["via", "Via", (c) => c.via],
      ["why", "Why they left", (c) => c.why],
      ["note", "In their words", (c) => c.note],
    ],
    document.consentHistory,
  ),
  table(
    "contracts",
    "Contracts",
    [
      ["contract_id", "Contract", (c) => c.contractId],
      ["club_id", "Club", (c) => c.clubId],
      ["signed_at", "Signed at", (c) => c.signedAt],
      ["recorded_at", "Recorded at", (c) => c.recordedAt],
      ["starts_at", "Starts at", (c) => c.startsAt],
      ["ends_at", "Ends at", (c) => c.endsAt],
      ["ended_at", "Ended early at", (c) => c.endedAt],
    ],
    document.contracts,
  ),
  table(
    "wallet",
    "Wallet movements",
    [
      ["at", "At", (m) => m.at],
      ["recorded_at", "Recorded at", (m) => m.recordedAt],
      ["kind", "Kind", (m) => m.kind],
      ["amount", "Amount (minor units)", (m) => m.amount],
    ],
    document.wallet.movements,
  ),
  table(
    "purchases",
    "Purchases",
    [
      ["purchase_id", "Purchase", (p) => p.purchaseId],
      ["amount", "Amount (minor units)", (p) => p.amount],
      ["at", "At", (p) => p.at],
      ["recorded_at", "Recorded at", (p) => p.recordedAt],
      ["paid", "Paid", (p) => p.paid],
      ["paid_at", "Paid at", (p) => p.paidAt],
    ],
    document.purchases,
  ),
  table(
    "instalments",
    "Missed instalments",
    [
      ["instalment_id", "Instalment", (i) => i.instalmentId],
      ["club_id", "Club", (i) => i.clubId],
      ["amount", "Amount (minor units)", (i) => i.amount],
      ["missed_at", "Missed at", (i) => i.missedAt],
      ["paid_at", "Paid at", (i) => i.paidAt],
    ],
    document.instalments,
  ),
  table(
    "debt-cases",
    "Debt-collection cases",
    [
      ["case_id", "Case", (c) => c.caseId],
      ["club_id", "Club", (c) => c.clubId],
      ["opened_at", "Opened at", (c) => c.openedAt],
      ["closed_at", "Closed at", (c) => c.closedAt],
    ],
    document.debtCases,
  ),
  table("invoices", "Invoice details", valueColumns, document.invoices),
  table(
    "activity",
    "Activity",
    [
      ["at", "At", (a) => a.at],
      ["recorded_at", "Recorded at", (a) => a.recordedAt],
      ["kind", "Kind", (a) => a.kind],
      ["club_id", "Club", (a) => a.clubId],
      ["details", "Details", (a) => a.details],
    ],
    document.activity,
  ),
  table(
    "messages",
    "Messages",
    [
      ["message_id", "Message", (m) => m.messageId],
      ["sent_at", "Sent at", (m) => m.sentAt],
      ["purpose", "Purpose", (m) => m.purpose],
      ["channel", "Channel", (m) => m.channel],
      ["sent_by", "Sent by", (m) => m.sentBy],
      ["test", "Test message", (m) => m.test],
      ["basis", "Lawful basis", (m) => m.basis],
      ["consent_given_at", "Consent given at", (m) => m.consentGivenAt],
      ["method", "Consent method", (m) => m.method],
      ["wording_version", "Wording version", (m) => m.wordingVersion],
    ],
    document.messages,
  ),
  table(
    "requests",
    "Requests",
    [
      ["request_id", "Request", (r) => r.requestId],
      ["kind", "Kind", (r) => r.kind],
      ["via", "Received via", (r) => r.via],
      ["received_at", "Received at", (r) => r.receivedAt],
      ["due_by", "Due by", (r) => r.dueBy],
      ["fulfilled_at", "Fulfilled at", (r) => r.fulfilledAt],
    ],
    document.requests,
  ),
  table(
    "exports",
    "Exports",
    [
      ["at", "At", (e) => e.at],
      ["format", "Format", (e) => e.format],
      ["request_id", "Access request", (e) => e.requestId],
    ],
    document.exports,
  ),
  table(
    "other-systems",
    "Other systems that may hold your data",
    [["system", "System", (s) => s]],
    document.otherSystems,
  ),
]
