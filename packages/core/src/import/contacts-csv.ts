/**
 * Reading a contact import (R6, R32, R43): a CSV file with a header row naming its
 * columns, in Lethe's own layout or another tool's export (a preset or a column
 * map), parsed with csv-parse (UTF-8 byte-order mark, quoted separators and
 * quotes, line breaks inside quoted fields, `,` `;` or tab), each row checked on
 * its own. What passes becomes a `ContactRow`; what does not is reported with
 * its row number and the reason. Applying the rows is the service's job
 * (`importCsv`).
 *
 * @module
 */
import type { Info } from "csv-parse/sync"
import { parse } from "csv-parse/sync"
import { Either, ParseResult, Schema } from "effect"
import type { LetheError } from "../errors.js"
import { InvalidCommand } from "../errors.js"
import { Email, Text } from "../member/commands.js"
import type { ConsentCatalogue } from "../member/config.js"
import { purposeDefinition } from "../member/config.js"
import type { LawfulBasis } from "../member/events.js"
import type { MemberState } from "../member/state.js"
import type { DateReading } from "./dates.js"
import { isDatePattern, isTimeZone, patternHasTime, readDate } from "./dates.js"
import type { ContactField, MappingPreset, OptOutStatus } from "./mapping.js"
import { basisWord, ColumnMapping, columnsOf, isYes, nativeMapping, presets, statusWord } from "./mapping.js"
import { decodeContacts, detectSeparator, separatorOf } from "./text.js"

export { parseIsoDate } from "./dates.js"

/** The columns of Lethe's own layout; `email`, `purpose` and `given_at` are required. */
export const contactColumns = [
  "email",
  "name",
  "phone",
  "purpose",
  "given_at",
  "source_tag",
  "wording_version",
  "basis",
  "status",
  "status_at",
] as const
export type ContactColumn = (typeof contactColumns)[number]

/**
 * Why a row of the file was not applied.
 *
 * @inline
 */
export type ImportRowProblem =
  | "TooManyColumns"
  | "TooFewColumns"
  | "MissingEmail"
  | "InvalidEmail"
  | "InvalidName"
  | "InvalidPhone"
  | "MissingPurpose"
  | "UnknownPurpose"
  | "MissingDate"
  | "InvalidDate"
  | "FutureDate"
  | "UnknownStatus"
  | "UnknownBasis"
  | "BasisNotAllowed"

/**
 * Where a row sits in the file. `row` counts records as a spreadsheet shows
 * them (the header is row 1, so the first contact is row 2; a field with a
 * line break stays one row); `line` is the line of the text file it starts on.
 */
export interface RowPosition {
  readonly row: number
  readonly line: number
}

/**
 * What a row says of the person: `subscribed` (a consent), or an opt-out: `unsubscribed` from the purpose,
 * or an address `bounced`, `cleaned`, `blocklisted` or `complained` about (a suppression). An opt-out is
 * never a consent (R43).
 *
 * @inline
 */
export type ContactStatus = "subscribed" | OptOutStatus

/** A valid row, normalized: trimmed, empty optional fields as null. */
export interface ContactRow extends RowPosition {
  readonly email: string
  readonly name: string | null
  readonly phone: string | null
  readonly purpose: string
  /** When the person gave the consent, epoch milliseconds; null only in an opt-out row without one. */
  readonly givenAt: number | null
  readonly sourceTag: string | null
  readonly wordingVersion: string | null
  /** The lawful basis the row names; null: the purpose's default. */
  readonly basis: LawfulBasis | null
  readonly status: ContactStatus
  /** When the opt-out happened, if the file says; null: unknown (recorded as the time of the import). */
  readonly statusAt: number | null
}

/**
 * Why a valid row is not applied to the member it matches: the member was
 * forgotten within the window and the import may not restore it (R6); the
 * person unsubscribed from or withdrew the purpose after the row's consent
 * was given, so the old consent does not speak for them any more (R4); the
 * address is suppressed (bounced, cleaned, blocklisted, complained: R43); or
 * the person gave a consent after the row's opt-out, which the old opt-out
 * does not undo (R43).
 *
 * @inline
 */
export type ImportRefusal = "ForgottenMember" | "ConsentObjected" | "ContactSuppressed" | "ConsentNewer"

/**
 * A row that was not applied: a problem of the row itself, a refusal, or the
 * tag of the error that refused it (e.g. `ExplicitFlagRequired`, `NotPermitted`).
 *
 * @inline
 */
export interface RejectedRow extends RowPosition {
  readonly reason: ImportRowProblem | ImportRefusal | LetheError["_tag"]
  /** The explanation for a person fixing the file. */
  readonly detail: string
}

/** The rows of a file: the valid ones to apply, the others with their reasons, and what was left aside. */
export interface ParsedContacts {
  readonly rows: ReadonlyArray<ContactRow>
  readonly rejected: ReadonlyArray<RejectedRow>
  /** Header columns no field maps, as the file names them: ignored (R43). */
  readonly ignoredColumns: ReadonlyArray<string>
  /** Rows with a date or time without a zone, read as UTC for want of the `timeZone` option. */
  readonly utcAssumed: number
}

/**
 * How a contact file is read, besides its text (R43). Every option is optional: without them the file is
 * in Lethe's own layout, UTF-8, its separator detected, its dates ISO 8601.
 */
export interface ContactFileOptions {
  /** A preset (`mailchimp`, `hubspot`, `brevo`) or a column map; default: Lethe's own layout. */
  readonly mapping?: MappingPreset | ColumnMapping
  /** The purpose of rows without one, e.g. for a tool's export, which names none. */
  readonly purpose?: string
  /** date-fns patterns of the file's dates (`dd.MM.yyyy`, `M/d/yyyy h:mm a`), replacing the mapping's. */
  readonly dateFormat?: string | ReadonlyArray<string>
  /** The IANA zone of dates and times written without one (`Europe/Warsaw`). */
  readonly timeZone?: string
  /** `,` `;` or a tab (`\t` or `tab`); default: detected from the header row. */
  readonly separator?: string
  /** The encoding of a file given as bytes (`windows-1250`); default UTF-8, refused when not valid. */
  readonly encoding?: string
}

const isEmail = Schema.is(Email)
const isText = Schema.is(Text)

/** The file as a whole refused: `path` names the option at fault, "header" the header row, "" the file. */
const invalid = (path: string, message: string) =>
  new InvalidCommand({ command: "importCsv", issues: [{ path, message }] })

/** How each field is read from the header's columns: their indexes, in the mapping's order. */
interface Plan {
  readonly fields: ReadonlyMap<ContactField, ReadonlyArray<number>>
  readonly statuses: ReadonlyArray<{
    readonly indexes: ReadonlyArray<number>
    readonly status: OptOutStatus
    readonly holds: "date" | "flag" | "any"
    readonly marksFile: boolean
  }>
  readonly header: ReadonlyArray<string>
  readonly ignored: ReadonlyArray<string>
}

const readHeader = (
  fields: ReadonlyArray<string>,
  mapping: ColumnMapping,
  purposeGiven: boolean,
): Either.Either<Plan, InvalidCommand> => {
  const header = fields.map((f) => f.trim())
  const names = header.map((n) => n.toLowerCase())
  const indexesOf = (columns: ReadonlyArray<string>) =>
    columns.flatMap((c) => {
      const i = names.indexOf(c.trim().toLowerCase())
      return i < 0 ? [] : [i]
    })
  const plan = new Map<ContactField, ReadonlyArray<number>>()
  for (const [field, columns] of Object.entries(mapping.columns))
    plan.set(field as ContactField, indexesOf(columnsOf(columns)))
  const statuses = (mapping.statusColumns ?? []).map((s) => ({
    indexes: indexesOf(columnsOf(s.column)),
    status: s.status,
    holds: s.holds,
    marksFile: s.marksFile === true,
  }))
  const mapped = new Set([...plan.values(), ...statuses.map((s) => s.indexes)].flat())
  const repeated = [...mapped].filter(
    (i) => names.indexOf(names[i] ?? "") !== names.lastIndexOf(names[i] ?? ""),
  )
  if (repeated.length > 0)
    return Either.left(
      invalid("header", `names column(s) twice: ${[...new Set(repeated.map((i) => names[i]))].join(", ")}`),
    )
  const required: ReadonlyArray<ContactField> = [
    "email",
    ...(purposeGiven ? [] : ["purpose" as const]),
    "givenAt",
  ]
  const missing = required.filter((f) => (plan.get(f) ?? []).length === 0)
  if (missing.length > 0)
    return Either.left(
      invalid(
        "header",
        `lacks column(s): ${missing.map((f) => columnsOf(mapping.columns[f]).join(" or ") || f).join(", ")}${
          missing.includes("purpose") && mapping !== nativeMapping ? " (or give the purpose option)" : ""
        }`,
      ),
    )
  const ignored = header.filter((name, i) => !mapped.has(i) && name !== "")
  return Either.right({ fields: plan, statuses, header, ignored })
}

interface RowContext {
  readonly now: number
  readonly catalogue: ConsentCatalogue
  readonly purpose: string | undefined
  readonly dates: DateReading
  readonly plan: Plan
}

type Checked = Either.Either<{ readonly row: ContactRow; readonly utcAssumed: boolean }, RejectedRow>

/** The date formats a message about a bad date names. */
const formatsText = (dates: DateReading): string =>
  dates.formats.length === 0
    ? "ISO 8601, e.g. 2024-05-25 or 2024-05-25T10:00:00Z"
    : `${dates.formats.join(" or ")}, or ISO 8601 with an offset`

const checkRow = (fields: ReadonlyArray<string>, at: RowPosition, ctx: RowContext): Checked => {
  const { plan } = ctx
  const reject = (reason: ImportRowProblem, detail: string): Checked => Either.left({ ...at, reason, detail })
  const width = plan.header.length
  if (fields.length > width)
    return reject("TooManyColumns", `${fields.length} fields, the header names ${width}`)
  if (fields.length < width)
    return reject("TooFewColumns", `${fields.length} fields, the header names ${width}`)
  /** The first of a field's columns that holds a value, with its header name. */
  const cell = (
    indexes: ReadonlyArray<number>,
  ): { readonly value: string; readonly column: string } | null => {
    for (const i of indexes) {
      const value = (fields[i] ?? "").trim()
      if (value !== "") return { value, column: plan.header[i] ?? "" }
    }
    return null
  }
  const field = (f: ContactField) => cell(plan.fields.get(f) ?? [])
  const optional = (f: ContactField): string | null => field(f)?.value ?? null
  let utcAssumed = false
  const date = (found: { readonly value: string; readonly column: string }): number | RejectedRow => {
    const read = readDate(found.value, ctx.dates)
    if (read === undefined)
      return {
        ...at,
        reason: "InvalidDate",
        detail: `${found.column} "${found.value}" is not a date (${formatsText(ctx.dates)})`,
      }
    if (read.at > ctx.now)
      return {
        ...at,
        reason: "FutureDate",
        detail: `${found.column} ${new Date(read.at).toISOString()} is in the future`,
      }
    utcAssumed ||= read.utcAssumed
    return read.at
  }

  const email = optional("email") ?? ""
  if (email === "") return reject("MissingEmail", "email is empty")
  if (!isEmail(email)) return reject("InvalidEmail", `"${email}" is not an e-mail address`)
  const name =
    optional("name") ??
    ([optional("firstName"), optional("lastName")].filter((n) => n !== null).join(" ") || null)
  if (name !== null && !isText(name)) return reject("InvalidName", "name is longer than 10,000 characters")
  const phone = optional("phone")
  if (phone !== null && !isText(phone))
    return reject("InvalidPhone", "phone is longer than 10,000 characters")
  const purpose = optional("purpose") ?? ctx.purpose ?? ""
  if (purpose === "") return reject("MissingPurpose", "purpose is empty")
  const definition = purposeDefinition(ctx.catalogue, purpose)
  if (definition === undefined)
    return reject(
      "UnknownPurpose",
      `purpose "${purpose}" is not in the consent catalogue (${Object.keys(ctx.catalogue).join(", ")})`,
    )

  // What the row says: a status word, else the first status column that holds a value.
  let status: ContactStatus = "subscribed"
  let statusAt: number | null = null
  const word = field("status")
  if (word !== null) {
    const read = statusWord(word.value)
    if (read === undefined)
      return reject(
        "UnknownStatus",
        `${word.column} "${word.value}" is not a status (subscribed, unsubscribed, cleaned, bounced, blocklisted, complained)`,
      )
    status = read
  } else
    for (const s of plan.statuses) {
      const found = cell(s.indexes)
      if (found === null && s.marksFile && s.indexes.length > 0) {
        status = s.status
        break
      }
      if (found === null) continue
      if (s.holds === "flag" && !isYes(found.value)) continue
      if (s.holds === "date") {
        const when = date(found)
        if (typeof when !== "number") return Either.left(when)
        statusAt = when
      }
      status = s.status
      break
    }
  const statusDate = field("statusAt")
  if (statusDate !== null && status !== "subscribed") {
    const when = date(statusDate)
    if (typeof when !== "number") return Either.left(when)
    statusAt = when
  }

  const given = field("givenAt")
  let givenAt: number | null = null
  if (given !== null) {
    const when = date(given)
    if (typeof when !== "number") return Either.left(when)
    givenAt = when
  } else if (status === "subscribed") {
    const columns = (plan.fields.get("givenAt") ?? []).map((i) => plan.header[i] ?? "")
    return reject("MissingDate", `${columns.join(" or ")} is empty: the proof of consent needs its time`)
  }

  let basis: LawfulBasis | null = null
  const basisCell = field("basis")
  if (basisCell !== null && status === "subscribed") {
    const read = basisWord(basisCell.value)
    if (read === undefined)
      return reject(
        "UnknownBasis",
        `${basisCell.column} "${basisCell.value}" is not a lawful basis (consent, legitimate interest, contract)`,
      )
    if (read !== null && !definition.bases.includes(read))
      return reject(
        "BasisNotAllowed",
        `the catalogue does not allow basis ${read} for "${purpose}" (allowed: ${definition.bases.join(", ")})`,
      )
    basis = read
  }
  return Either.right({
    row: {
      ...at,
      email,
      name,
      phone,
      purpose,
      givenAt,
      sourceTag: optional("sourceTag"),
      wordingVersion: optional("wordingVersion"),
      basis,
      status,
      statusAt,
    },
    utcAssumed,
  })
}

/** The mapping an import reads the file with, or why it is none. */
const mappingOf = (mapping: ContactFileOptions["mapping"]): Either.Either<ColumnMapping, InvalidCommand> => {
  if (mapping === undefined) return Either.right(nativeMapping)
  if (typeof mapping === "string")
    return Object.hasOwn(presets, mapping)
      ? Either.right(presets[mapping as MappingPreset])
      : Either.left(
          invalid(
            "mapping",
            `"${mapping}" is no preset (${Object.keys(presets).join(", ")}) nor a column map`,
          ),
        )
  const decoded = Schema.decodeUnknownEither(ColumnMapping)(mapping)
  return Either.mapLeft(decoded, (error) =>
    invalid(
      "mapping",
      `is not a column map: ${ParseResult.TreeFormatter.formatErrorSync(error).replace(/\s+/g, " ")}`,
    ),
  )
}

/** How the file's dates are read, or why the options cannot read them. */
const datesOf = (
  mapping: ColumnMapping,
  options: ContactFileOptions,
  preset: string | undefined,
): Either.Either<DateReading, InvalidCommand> => {
  const declared = options.dateFormat === undefined ? undefined : columnsOf(options.dateFormat)
  const bad = declared?.find((f) => !isDatePattern(f))
  if (bad !== undefined)
    return Either.left(
      invalid("dateFormat", `"${bad}" is not a date-fns pattern (e.g. dd.MM.yyyy, M/d/yyyy HH:mm)`),
    )
  if (options.timeZone !== undefined && !isTimeZone(options.timeZone))
    return Either.left(
      invalid("timeZone", `"${options.timeZone}" is not an IANA time zone (e.g. Europe/Warsaw, UTC)`),
    )
  const formats = declared ?? mapping.dateFormats ?? []
  const timeZone = options.timeZone ?? mapping.timeZone
  if (timeZone !== undefined && !isTimeZone(timeZone))
    return Either.left(invalid("mapping", `timeZone "${timeZone}" is not an IANA time zone`))
  if (timeZone === undefined && formats.some(patternHasTime))
    return Either.left(
      invalid(
        "timeZone",
        `is needed: the ${declared === undefined && preset !== undefined ? `${preset} export's` : "file's"} times carry no zone; give the zone they were written in (e.g. Europe/Warsaw)`,
      ),
    )
  return Either.right({ formats, timeZone })
}

/**
 * Parses and checks a contact import. Fails with `InvalidCommand` when the
 * file as a whole cannot be read (not valid UTF-8, broken quoting, no header,
 * a required column missing, an option that is not understood): then no row is
 * applied. Columns no field maps are ignored and listed; blank rows are skipped.
 *
 * @example
 * ```ts
 * const parsed = parseContactsCsv("email,purpose,given_at\nanna@example.org,newsletter,2024-05-25\n", { now, catalogue })
 * // Either.right({ rows: [{ row: 2, line: 2, email: "anna@example.org", ... }], rejected: [], ignoredColumns: [], utcAssumed: 1 })
 * ```
 */
export const parseContactsCsv = (
  content: string | Uint8Array,
  options: { readonly now: number; readonly catalogue: ConsentCatalogue } & ContactFileOptions,
): Either.Either<ParsedContacts, InvalidCommand> => {
  const mapping = mappingOf(options.mapping)
  if (Either.isLeft(mapping)) return Either.left(mapping.left)
  const preset = typeof options.mapping === "string" ? options.mapping : undefined
  const dates = datesOf(mapping.right, options, preset)
  if (Either.isLeft(dates)) return Either.left(dates.left)
  const decoded = decodeContacts(content, options.encoding)
  if ("path" in decoded) return Either.left(invalid(decoded.path, decoded.message))
  const { text } = decoded
  const separator = options.separator === undefined ? detectSeparator(text) : separatorOf(options.separator)
  if (separator === undefined)
    return Either.left(invalid("separator", `"${options.separator}" is not a separator (",", ";" or "\\t")`))
  let records: ReadonlyArray<{ readonly record: ReadonlyArray<string>; readonly info: Info }>
  try {
    // With `info: true` each record comes as { record, info }; csv-parse's typings do not model the option.
    records = parse(text, {
      bom: true,
      info: true,
      relax_column_count: true,
      delimiter: separator,
    }) as unknown as typeof records
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    return Either.left(
      invalid(
        "",
        `cannot be read as CSV with "${separator === "\t" ? "\\t" : separator}" between fields: ${reason}`,
      ),
    )
  }
  const [first, ...rest] = records
  if (first === undefined) return Either.left(invalid("", "the file is empty: expected a header row"))
  return Either.map(readHeader(first.record, mapping.right, options.purpose !== undefined), (plan) => {
    const ctx: RowContext = {
      now: options.now,
      catalogue: options.catalogue,
      purpose: options.purpose,
      dates: dates.right,
      plan,
    }
    const rows: Array<ContactRow> = []
    const rejected: Array<RejectedRow> = []
    let utcAssumed = 0
    let line = first.info.lines + 1
    for (const [i, { record, info }] of rest.entries()) {
      const at = { row: i + 2, line }
      line = info.lines + 1
      if (record.every((field) => field.trim() === "")) continue
      const checked = checkRow(record, at, ctx)
      if (Either.isRight(checked)) {
        rows.push(checked.right.row)
        if (checked.right.utcAssumed) utcAssumed++
      } else rejected.push(checked.left)
    }
    return { rows, rejected, ignoredColumns: plan.ignored, utcAssumed }
  })
}

/**
 * What an imported consent, given at `givenAt`, means for a member who may
 * already have a say on the purpose: `record` it; it is already `held` (the
 * same or a later consent is in force, e.g. the file imported again); the
 * person `objected` since (unsubscribed or withdrew at or after `givenAt`),
 * and an old list must not sign them up again (R4); or the address is
 * `suppressed` (bounced, cleaned, blocklisted, complained), which no imported
 * consent lifts (R43).
 */
export const importedConsent = (
  state: MemberState,
  purpose: string,
  givenAt: number,
): "record" | "held" | "objected" | "suppressed" => {
  if (state.suppression !== null) return "suppressed"
  const held = state.consents[purpose]
  const unsubscribed = state.unsubscribed[purpose]
  if (unsubscribed !== undefined && unsubscribed.at >= givenAt) return "objected"
  if (held?.withdrawnAt != null && held.withdrawnAt >= givenAt) return "objected"
  if (
    held !== undefined &&
    held.withdrawnAt === null &&
    unsubscribed === undefined &&
    held.givenAt >= givenAt
  )
    return "held"
  return "record"
}

/**
 * What an imported opt-out, dated `at`, means for a member (R43): `record` it; it is already `held` (the
 * member is unsubscribed from the purpose, or the address suppressed); or the person gave a consent for the
 * purpose after it, which an old opt-out does not undo (`superseded`).
 */
export const importedOptOut = (
  state: MemberState,
  purpose: string,
  status: OptOutStatus,
  at: number,
): "record" | "held" | "superseded" => {
  if (status === "unsubscribed" ? state.unsubscribed[purpose] !== undefined : state.suppression !== null)
    return "held"
  const consent = state.consents[purpose]
  if (consent !== undefined && consent.withdrawnAt === null && consent.givenAt > at) return "superseded"
  return "record"
}
