/**
 * Reading a contact import (R6, R32): a CSV file with a header row naming its
 * columns, parsed with csv-parse (UTF-8 byte-order mark, quoted commas and
 * quotes, line breaks inside quoted fields), each row checked on its own. What
 * passes becomes a `ContactRow`; what does not is reported with its row number
 * and the reason. Applying the rows is the service's job (`importCsv`).
 *
 * @module
 */
import type { Info } from "csv-parse/sync"
import { parse } from "csv-parse/sync"
import { DateTime, Either, Option, Schema } from "effect"
import type { LetheError } from "../errors.js"
import { InvalidCommand } from "../errors.js"
import { Email, Text } from "../member/commands.js"
import type { ConsentCatalogue } from "../member/config.js"
import { purposeDefinition } from "../member/config.js"
import type { MemberState } from "../member/state.js"

/** The columns an import understands; `email`, `purpose` and `given_at` are required. */
export const contactColumns = [
  "email",
  "name",
  "phone",
  "purpose",
  "given_at",
  "source_tag",
  "wording_version",
] as const
export type ContactColumn = (typeof contactColumns)[number]

const requiredColumns: ReadonlyArray<ContactColumn> = ["email", "purpose", "given_at"]

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

/**
 * Where a row sits in the file. `row` counts records as a spreadsheet shows
 * them (the header is row 1, so the first contact is row 2; a field with a
 * line break stays one row); `line` is the line of the text file it starts on.
 */
export interface RowPosition {
  readonly row: number
  readonly line: number
}

/** A valid row, normalized: trimmed, empty optional fields as null. */
export interface ContactRow extends RowPosition {
  readonly email: string
  readonly name: string | null
  readonly phone: string | null
  readonly purpose: string
  /** When the person gave the consent, epoch milliseconds. */
  readonly givenAt: number
  readonly sourceTag: string | null
  readonly wordingVersion: string | null
}

/**
 * Why a valid row is not applied to the member it matches: the member was
 * forgotten within the window and the import may not restore it (R6), or the
 * person unsubscribed from or withdrew the purpose after the row's consent
 * was given, so the old consent does not speak for them any more (R4).
 *
 * @inline
 */
export type ImportRefusal = "ForgottenMember" | "ConsentObjected"

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

/** The rows of a file: the valid ones to apply, the others with their reasons. */
export interface ParsedContacts {
  readonly rows: ReadonlyArray<ContactRow>
  readonly rejected: ReadonlyArray<RejectedRow>
}

const isEmail = Schema.is(Email)
const isText = Schema.is(Text)

/**
 * The forms a date may take: a date, or a date and a time to the minute, the
 * second or a fraction of it, with an offset (`Z`, `+02:00`, `+0200`) or none.
 * The shape only: `DateTime` reads the value.
 */
const isoShape = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/

/**
 * An ISO 8601 date (`2024-05-25`, midnight UTC) or date and time
 * (`2024-05-25T10:00:00Z`, `2024-05-25 12:00+02:00`; no offset means UTC), as
 * epoch milliseconds; undefined for anything else, including dates that do
 * not exist such as 2024-02-30. Read by Effect's `DateTime`.
 */
export const parseIsoDate = (text: string): number | undefined => {
  const trimmed = text.trim()
  const shape = isoShape.exec(trimmed)
  if (shape === null) return undefined
  const zone = shape[1]
  const local = (zone === undefined ? trimmed : trimmed.slice(0, -zone.length)).replace(" ", "T")
  const offset =
    zone === undefined || zone === "Z"
      ? "+00:00"
      : zone.length === 5
        ? `${zone.slice(0, 3)}:${zone.slice(3)}`
        : zone
  if (Number(offset.slice(1, 3)) > 14) return undefined
  const parsed = DateTime.makeZonedFromString(`${local.length === 10 ? `${local}T00:00` : local}${offset}`)
  if (Option.isNone(parsed)) return undefined
  // A date or a time that does not exist (2024-02-30, 24:00) rolls over to another: read back in
  // the same offset, it no longer starts as it was written.
  if (!DateTime.formatIsoOffset(parsed.value).startsWith(local.slice(0, 19))) return undefined
  return DateTime.toEpochMillis(parsed.value)
}

type Checked = Either.Either<ContactRow, RejectedRow>

const checkRow = (
  fields: ReadonlyArray<string>,
  at: RowPosition,
  header: ReadonlyArray<ContactColumn>,
  options: { readonly now: number; readonly catalogue: ConsentCatalogue },
): Checked => {
  const reject = (reason: ImportRowProblem, detail: string): Checked => Either.left({ ...at, reason, detail })
  if (fields.length > header.length)
    return reject("TooManyColumns", `${fields.length} fields, the header names ${header.length}`)
  if (fields.length < header.length)
    return reject("TooFewColumns", `${fields.length} fields, the header names ${header.length}`)
  const value = (column: ContactColumn): string => {
    const i = header.indexOf(column)
    return i < 0 ? "" : (fields[i] ?? "").trim()
  }
  const optional = (column: ContactColumn): string | null => {
    const v = value(column)
    return v === "" ? null : v
  }
  const email = value("email")
  if (email === "") return reject("MissingEmail", "email is empty")
  if (!isEmail(email)) return reject("InvalidEmail", `"${email}" is not an e-mail address`)
  const name = optional("name")
  if (name !== null && !isText(name)) return reject("InvalidName", "name is longer than 10,000 characters")
  const phone = optional("phone")
  if (phone !== null && !isText(phone))
    return reject("InvalidPhone", "phone is longer than 10,000 characters")
  const purpose = value("purpose")
  if (purpose === "") return reject("MissingPurpose", "purpose is empty")
  if (purposeDefinition(options.catalogue, purpose) === undefined)
    return reject(
      "UnknownPurpose",
      `purpose "${purpose}" is not in the consent catalogue (${Object.keys(options.catalogue).join(", ")})`,
    )
  const date = value("given_at")
  if (date === "") return reject("MissingDate", "given_at is empty: the proof of consent needs its time")
  const givenAt = parseIsoDate(date)
  if (givenAt === undefined)
    return reject(
      "InvalidDate",
      `given_at "${date}" is not a date (ISO 8601, e.g. 2024-05-25 or 2024-05-25T10:00:00Z)`,
    )
  if (givenAt > options.now)
    return reject("FutureDate", `given_at ${new Date(givenAt).toISOString()} is in the future`)
  return Either.right({
    ...at,
    email,
    name,
    phone,
    purpose,
    givenAt,
    sourceTag: optional("source_tag"),
    wordingVersion: optional("wording_version"),
  })
}

/** The file as a whole refused: `path` is "header" for a problem of the header row, "" for the file. */
const invalid = (path: "" | "header", message: string) =>
  new InvalidCommand({ command: "importCsv", issues: [{ path, message }] })

const readHeader = (
  fields: ReadonlyArray<string>,
): Either.Either<ReadonlyArray<ContactColumn>, InvalidCommand> => {
  const names = fields.map((f) => f.trim().toLowerCase())
  const known = new Set<string>(contactColumns)
  const unknown = names.filter((n) => !known.has(n))
  if (unknown.length > 0)
    return Either.left(
      invalid(
        "header",
        `has unknown column(s) ${unknown.map((n) => `"${n}"`).join(", ")}; known: ${contactColumns.join(", ")}`,
      ),
    )
  const repeated = names.filter((n, i) => names.indexOf(n) !== i)
  if (repeated.length > 0)
    return Either.left(invalid("header", `names column(s) twice: ${repeated.join(", ")}`))
  const missing = requiredColumns.filter((c) => !names.includes(c))
  if (missing.length > 0) return Either.left(invalid("header", `lacks column(s): ${missing.join(", ")}`))
  return Either.right(names as ReadonlyArray<ContactColumn>)
}

/**
 * Parses and checks a contact import. Fails with `InvalidCommand` when the
 * file as a whole cannot be read (broken quoting, no header, unknown or
 * missing columns): then no row is applied. Blank rows are skipped.
 *
 * @example
 * ```ts
 * const parsed = parseContactsCsv("email,purpose,given_at\nanna@example.org,newsletter,2024-05-25\n", { now, catalogue })
 * // Either.right({ rows: [{ row: 2, line: 2, email: "anna@example.org", ... }], rejected: [] })
 * ```
 */
export const parseContactsCsv = (
  text: string,
  options: { readonly now: number; readonly catalogue: ConsentCatalogue },
): Either.Either<ParsedContacts, InvalidCommand> => {
  let records: ReadonlyArray<{ readonly record: ReadonlyArray<string>; readonly info: Info }>
  try {
    // With `info: true` each record comes as { record, info }; csv-parse's typings do not model the option.
    records = parse(text, { bom: true, info: true, relax_column_count: true }) as unknown as typeof records
  } catch (error) {
    return Either.left(invalid("", error instanceof Error ? error.message : String(error)))
  }
  const [first, ...rest] = records
  if (first === undefined) return Either.left(invalid("", "the file is empty: expected a header row"))
  return Either.map(readHeader(first.record), (header) => {
    const rows: Array<ContactRow> = []
    const rejected: Array<RejectedRow> = []
    let line = first.info.lines + 1
    for (const [i, { record, info }] of rest.entries()) {
      const at = { row: i + 2, line }
      line = info.lines + 1
      if (record.every((field) => field.trim() === "")) continue
      const checked = checkRow(record, at, header, options)
      if (Either.isRight(checked)) rows.push(checked.right)
      else rejected.push(checked.left)
    }
    return { rows, rejected }
  })
}

/**
 * What an imported consent, given at `givenAt`, means for a member who may
 * already have a say on the purpose: `record` it; it is already `held` (the
 * same or a later consent is in force, e.g. the file imported again); or the
 * person `objected` since (unsubscribed or withdrew at or after `givenAt`),
 * and an old list must not sign them up again (R4).
 */
export const importedConsent = (
  state: MemberState,
  purpose: string,
  givenAt: number,
): "record" | "held" | "objected" => {
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
