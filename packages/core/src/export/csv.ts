/**
 * The CSV export (R30): one RFC 4180 file per section of the export document,
 * UTF-8 with a byte-order mark so spreadsheets read Polish and Swedish names
 * right, CRLF line ends, fields quoted where they must be.
 *
 * @module
 */
import { stringify } from "csv-stringify/sync"
import type { MemberExport } from "./member-export.js"
import type { ExportCell } from "./tables.js"
import { exportTables } from "./tables.js"

/** The byte-order mark that tells spreadsheets the file is UTF-8. */
export const utf8Bom = "\uFEFF"

// csv-stringify quotes a field holding a comma, a quote or the record delimiter ("\r\n") by itself; also
// quoted: any line break, which a reader splits records on, and spaces at either end, which spreadsheets trim.
const csvOptions = { record_delimiter: "\r\n", quoted_match: /[\r\n]|^\s|\s$/ }

/**
 * Records as RFC 4180 text (by `csv-stringify`): fields joined by commas,
 * each record ended by CRLF, a field quoted, with quotes doubled, when it
 * holds a comma, a quote, a line break, or spaces at either end.
 *
 * @example
 * ```ts
 * csvRecords([["name"], ['Jan "Johnny" Nowak']]) // 'name\r\n"Jan ""Johnny"" Nowak"\r\n'
 * ```
 */
export const csvRecords = (records: ReadonlyArray<ReadonlyArray<string>>): string =>
  stringify(records as Array<Array<string>>, csvOptions)

/**
 * A text a spreadsheet shows as text. A value starting with `=`, `+`, `-` or
 * `@` is a formula to a spreadsheet (CSV injection), so it gets a leading
 * apostrophe, unless it is a plain number or a phone number such as
 * `+48 600 100 200`. The JSON export keeps every value exactly.
 */
export const spreadsheetSafe = (value: string): string =>
  /^[=+\-@\t\r]/.test(value) && !/^[+-]?\d[\d ().\-/]*$/.test(value) ? `'${value}` : value

const csvCell = (cell: ExportCell): string => {
  if (cell === null) return ""
  if (typeof cell === "object") return spreadsheetSafe(JSON.stringify(cell))
  return spreadsheetSafe(String(cell))
}

/**
 * The CSV export: one file per section (`member.csv`, `personal-data.csv`,
 * `consents.csv`, ...), each with a header row, even when it has no rows.
 *
 * @example
 * ```ts
 * const files = memberExportCsv(document)
 * for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text)
 * ```
 */
export const memberExportCsv = (document: MemberExport): Readonly<Record<string, string>> =>
  Object.fromEntries(
    exportTables(document).map((table) => [
      `${table.name}.csv`,
      utf8Bom + csvRecords([table.columns.map((c) => c.key), ...table.rows.map((row) => row.map(csvCell))]),
    ]),
  )
