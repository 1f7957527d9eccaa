/**
 * The export document as flat tables, one per section: the CSV export writes
 * each as a file, and the HTML and PDF exports show each as a section
 * (`readableExport`), so all show the same columns in the same order. The
 * readable view writes dates in the person's locale and time zone and
 * collapses the sections that hold nothing.
 *
 * @module
 */
import type { ExportedLawfulBasis, ExportedSource, ExportedValue, MemberExport } from "./member-export.js"

/** A cell before rendering: CSV and HTML write booleans, empties and details their own way. */
export type ExportCell = string | number | boolean | null | Readonly<Record<string, string>>

/** One section of the export as a table. */
export interface ExportTable {
  /** The CSV file's name without `.csv`, and the HTML section's anchor. */
  readonly name: string
  /** The heading a person reads. */
  readonly title: string
  /** Column keys (CSV header, snake_case) with their labels (HTML header); `date` for an ISO 8601 time. */
  readonly columns: ReadonlyArray<{ readonly key: string; readonly label: string; readonly date: boolean }>
  readonly rows: ReadonlyArray<ReadonlyArray<ExportCell>>
  /** A table of exactly one row, better shown as label/value pairs. */
  readonly single: boolean
}

type Column<T> = readonly [key: string, label: string, cell: (row: T) => ExportCell]

// Columns whose cells are ISO 8601 times: written as they are in CSV, readable in HTML and PDF.
const dateKey = /(_at|^at|^due_by|^starts_at|^ends_at|^restricted_since)$/

const table = <T>(
  name: string,
  title: string,
  columns: ReadonlyArray<Column<T>>,
  rows: ReadonlyArray<T>,
  single = false,
): ExportTable => ({
  name,
  title,
  columns: columns.map(([key, label]) => ({ key, label, date: dateKey.test(key) })),
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
  memberTable(document),
  table(
    "controller",
    "Who is responsible for your data",
    [
      ["name", "Controller", (c) => c.name],
      ["contact", "Contact", (c) => c.contact],
      ["dpo", "Data protection officer", (c) => c.dpo],
      ["supervisory_authority", "Supervisory authority", (c) => c.supervisoryAuthority.name],
      ["supervisory_authority_url", "Supervisory authority's website", (c) => c.supervisoryAuthority.url],
    ],
    [document.controller],
    true,
  ),
  table(
    "categories",
    "What we hold, why, on which basis and for how long",
    [
      ["category", "Category", (c) => c.title],
      ["held", "Held about you", (c) => c.held],
      ["contains", "Contains", (c) => c.contains],
      ["purposes", "Purposes", (c) => c.purposes.join("; ")],
      ["lawful_bases", "Lawful bases", (c) => c.lawfulBases.map(basisText).join("; ")],
      ["retention", "How long it is kept", (c) => c.retention],
      ["source", "Where it comes from", (c) => c.source],
    ],
    document.categories,
  ),
  ...dataTables(document),
  table(
    "history",
    "History",
    [
      ["at", "At", (h) => h.at],
      ["event", "Event", (h) => h.event],
      ["description", "What happened", (h) => h.description],
      ["by", "By", (h) => h.by],
    ],
    document.history,
  ),
  table(
    "other-systems",
    "Recipients and other systems that may hold your data",
    [["system", "System", (s) => s]],
    document.otherSystems,
  ),
  table(
    "rights",
    "Your rights",
    [
      ["right", "Right", (r) => r.right],
      ["article", "GDPR", (r) => r.article],
      ["how", "How to use it", (r) => r.description],
    ],
    document.rights,
  ),
]

const basisText = (b: ExportedLawfulBasis): string => `${b.basis} (${b.article})`

const memberTable = (document: MemberExport): ExportTable =>
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
  )

const dataTables = (document: MemberExport): ReadonlyArray<ExportTable> => [
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
      ["recorded_by", "Recorded by", (r) => r.recordedBy],
      ["handled_at", "Our part done at", (r) => r.handledAt],
      ["handled_by", "Our part done by", (r) => r.handledBy],
      [
        "systems",
        "Other systems",
        (r) =>
          r.systems.length === 0
            ? null
            : Object.fromEntries(
                r.systems.map((s) => [
                  s.system,
                  s.confirmedAt === null
                    ? "not confirmed yet"
                    : `confirmed ${s.confirmedAt} by ${s.confirmedBy ?? "?"}`,
                ]),
              ),
      ],
      ["fulfilled_at", "Fulfilled at", (r) => r.fulfilledAt],
      ["fulfilled_by", "Fulfilled by", (r) => r.fulfilledBy],
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
      ["by", "By", (e) => e.by],
    ],
    document.exports,
  ),
]

/**
 * A section as a person reads it: every cell a text (dates in the person's
 * locale and time zone, `yes`/`no`, details one per line, `—` for none).
 */
export interface ReadableSection {
  readonly name: string
  readonly title: string
  readonly labels: ReadonlyArray<string>
  readonly rows: ReadonlyArray<ReadonlyArray<string>>
  /** Shown as label/value pairs (one row); pairs with no value are left out. */
  readonly single: boolean
  /** A sentence after the section, e.g. the categories not held about the person. */
  readonly note: string | null
}

/** The export as a person reads it: the sections that hold something, and the titles of those that do not. */
export interface ReadableExport {
  readonly title: string
  /** Paragraphs before the sections. */
  readonly intro: ReadonlyArray<string>
  readonly sections: ReadonlyArray<ReadableSection>
  /** Titles of the sections with nothing in them, collapsed into one line. */
  readonly empty: ReadonlyArray<string>
}

/**
 * Writes an ISO 8601 time as a person reads it, e.g. `2 March 2026 at 10:00` in `en-GB`, `Europe/Warsaw`.
 * Throws a `RangeError` for an unknown locale or time zone.
 *
 * @example
 * ```ts
 * readableDate("pl-PL", "Europe/Warsaw")("2026-03-02T09:00:00.000Z") // "2 marca 2026 10:00"
 * ```
 */
export const readableDate = (locale: string, timeZone: string): ((iso: string) => string) => {
  const format = new Intl.DateTimeFormat(locale, { dateStyle: "long", timeStyle: "short", timeZone })
  return (iso) => format.format(new Date(iso))
}

const isoTime = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/g

/** The readable text of a cell; null for none. Times inside details (a confirmation's) are made readable too. */
const readableCell = (cell: ExportCell, date: boolean, when: (iso: string) => string): string | null => {
  if (cell === null) return null
  if (typeof cell === "boolean") return cell ? "yes" : "no"
  if (typeof cell === "object")
    return Object.entries(cell)
      .map(([k, v]) => `${k}: ${v.replace(isoTime, when)}`)
      .join("\n")
  if (date && typeof cell === "string") return when(cell)
  return String(cell)
}

const none = "—"

/**
 * The export as the HTML and PDF show it: the sections that hold something,
 * in the document's order, with readable cells; the categories the person
 * has no data in, and the sections that are empty, each collapsed into one
 * line.
 */
export const readableExport = (document: MemberExport): ReadableExport => {
  const when = readableDate(document.locale, document.timeZone)
  const sections: Array<ReadableSection> = []
  const empty: Array<string> = []
  for (const t of exportTables(document)) {
    const held = t.name === "categories" ? t.columns.findIndex((c) => c.key === "held") : -1
    const rows = held < 0 ? t.rows : t.rows.filter((row) => row[held] !== false)
    if (rows.length === 0) {
      empty.push(t.title)
      continue
    }
    const keep = t.columns.map((_, i) => i !== held)
    const text = rows.map((row) =>
      row.flatMap((cell, i) =>
        keep[i] ? [readableCell(cell, t.columns[i]?.date ?? false, when) ?? none] : [],
      ),
    )
    const labels = t.columns.filter((_, i) => keep[i]).map((c) => c.label)
    const notHeld = held < 0 ? [] : t.rows.filter((row) => row[held] === false).map((row) => String(row[0]))
    if (t.single) {
      const [only = []] = text
      const pairs = labels.flatMap((label, i) =>
        only[i] === none ? [] : [[label, only[i] ?? none] as const],
      )
      sections.push({
        name: t.name,
        title: t.title,
        labels: pairs.map(([label]) => label),
        rows: [pairs.map(([, value]) => value)],
        single: true,
        note: null,
      })
    } else
      sections.push({
        name: t.name,
        title: t.title,
        labels,
        rows: text,
        single: false,
        note: notHeld.length === 0 ? null : `We hold nothing about you in: ${notHeld.join(", ")}.`,
      })
  }
  return {
    title: `Your data held by ${document.member.tenantId}`,
    intro: [
      `Everything recorded about member ${document.member.memberId}, exported on ${when(document.exportedAt)} (document format ${document.format}).`,
      `Times are in the time zone ${document.timeZone}; amounts are in minor units (cents, grosze, öre).`,
    ],
    sections,
    empty,
  }
}
