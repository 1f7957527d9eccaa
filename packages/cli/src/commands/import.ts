/**
 * `lethe import <csv> --db file --tenant t`: contacts from a CSV file, each
 * row applied through the domain's rules, optionally restoring members
 * forgotten within the window (R6, R32); another tool's export read through
 * `--map` (a preset or a JSON column map), its dates, zone, separator and
 * encoding as declared, its opt-outs never consents (R43).
 *
 * @module
 */
import { existsSync, rmSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { basename } from "node:path"
import type { ImportCsvInput } from "@lethe/core"
import { createLethe } from "@lethe/core"
import { CliError, ExitCode, reasonOf } from "../errors.js"
import type { Io } from "../io.js"
import { openSqlite, openStore, printable, sourceKind } from "../source.js"
import { keyringFromEnvironment, wrongSecret } from "./keyring.js"

export interface ImportCommand {
  readonly csv: string
  readonly db: string
  /** The PostgreSQL schema of a `postgres://` database (default `lethe`), created if absent. */
  readonly schema?: string | undefined
  /** Where the keys live when apart from the log: a SQLite key store file, or a PostgreSQL key store schema. */
  readonly keys?: string | undefined
  readonly tenant: string
  readonly restoreForgotten: boolean
  /** `mailchimp`, `hubspot`, `brevo`, or a JSON file holding a column map (R43). */
  readonly map?: string | undefined
  /** The purpose of rows without one (a tool's export names none). */
  readonly purpose?: string | undefined
  /** A date-fns pattern of the file's dates. */
  readonly dateFormat?: string | undefined
  /** The IANA zone of dates and times written without one. */
  readonly timeZone?: string | undefined
  /** `,` `;` or `tab`; default detected. */
  readonly separator?: string | undefined
  /** The file's encoding; default UTF-8, refused when not valid. */
  readonly encoding?: string | undefined
  readonly actor: string
  /** How the result is printed on stdout: a summary line and the rejected rows, or JSON. */
  readonly format?: "text" | "json" | undefined
}

/**
 * The files a SQLite import may create (the database, its key store, and
 * their journals), those not there yet, so a failed import can remove them.
 */
const newFiles = (command: ImportCommand): ReadonlyArray<string> =>
  sourceKind(command.db) !== "sqlite"
    ? []
    : [command.db, ...(command.keys === undefined ? [] : [command.keys])]
        .flatMap((file) => [file, `${file}-wal`, `${file}-shm`, `${file}-journal`])
        .filter((file) => !existsSync(file))

/**
 * Imports the file; exit code 0 when every row was applied, 3 (done in part)
 * when some were rejected. An import that fails as a whole rejects with
 * `CliError` (exit code 2) and removes the SQLite files it created.
 */
export const importCommand = async (command: ImportCommand, io: Io): Promise<number> => {
  const created = newFiles(command)
  try {
    return await importInto(command, io)
  } catch (error) {
    for (const file of created) rmSync(file, { force: true })
    throw error
  }
}

const importInto = async (command: ImportCommand, io: Io): Promise<number> => {
  const keyring = keyringFromEnvironment("an import")
  let bytes: Uint8Array
  try {
    // Bytes, not text: the import decodes them, and refuses a file that is not valid UTF-8 (R43).
    bytes = new Uint8Array(await readFile(command.csv))
  } catch (error) {
    throw CliError.io(`cannot read ${command.csv}: ${reasonOf(error)}`)
  }
  const mapping = await mappingOf(command.map)
  // An import may start a new database (a SQLite file, a PostgreSQL schema); a log file is refused.
  const opened =
    sourceKind(command.db) === "sqlite" && command.schema === undefined
      ? await openSqlite(command.db, { mustExist: false, keys: command.keys })
      : await openStore(command.db, { schema: command.schema, keys: command.keys })
  const lethe = await createLethe({ store: opened.store, keyring }).catch(async (error: unknown) => {
    await opened.close()
    throw wrongSecret(error)
  })
  try {
    const report = await lethe.importCsv(bytes, {
      tenantId: command.tenant,
      restoreForgotten: command.restoreForgotten,
      actor: { id: command.actor, roles: ["admin"] },
      source: sourceTagOf(command.csv),
      ...(mapping === undefined ? {} : { mapping }),
      ...(command.purpose === undefined ? {} : { purpose: command.purpose }),
      ...(command.dateFormat === undefined ? {} : { dateFormat: command.dateFormat }),
      ...(command.timeZone === undefined ? {} : { timeZone: command.timeZone }),
      ...(command.separator === undefined ? {} : { separator: command.separator }),
      ...(command.encoding === undefined ? {} : { encoding: command.encoding }),
    })
    if (command.format === "json") {
      io.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
      return report.rejected.length === 0 ? ExitCode.clean : ExitCode.partial
    }
    const outcomes = Object.entries(report.counts).filter(([o, n]) => o !== "rejected" && n > 0)
    io.stdout.write(
      `applied ${report.applied.length} rows (${outcomes.map(([o, n]) => `${o}: ${n}`).join(", ") || "none"}); rejected ${report.rejected.length}\n`,
    )
    if (report.ignoredColumns.length > 0)
      io.stdout.write(`ignored columns: ${report.ignoredColumns.join(", ")}\n`)
    for (const warning of report.warnings) io.stdout.write(`note: ${warning}\n`)
    for (const r of report.rejected)
      io.stdout.write(`  row ${r.row} (line ${r.line}): ${r.reason}: ${r.detail}\n`)
    return report.rejected.length === 0 ? ExitCode.clean : ExitCode.partial
  } catch (error) {
    if (error instanceof CliError) throw error
    throw CliError.io(`import into ${printable(command.db)} failed: ${reasonOf(error)}`)
  } finally {
    await lethe.close()
    await opened.close()
  }
}

/** The presets `--map` names; anything else is a JSON file holding a column map. */
const presetNames: ReadonlyArray<string> = ["mailchimp", "hubspot", "brevo"]

/**
 * What `--map` names: a preset, or the column map a JSON file holds (checked by the import, which names
 * what is wrong); a file that cannot be read or is not JSON is a `CliError`.
 */
const mappingOf = async (map: string | undefined): Promise<ImportCsvInput["mapping"]> => {
  if (map === undefined) return undefined
  if (presetNames.includes(map)) return map as "mailchimp" | "hubspot" | "brevo"
  let text: string
  try {
    text = await readFile(map, "utf8")
  } catch (error) {
    throw CliError.usage(
      `--map ${map}: neither a preset (${presetNames.join(", ")}) nor a readable file: ${reasonOf(error)}`,
    )
  }
  try {
    return JSON.parse(text) as ImportCsvInput["mapping"]
  } catch (error) {
    throw CliError.usage(`--map ${map}: not JSON: ${reasonOf(error)}`)
  }
}

/**
 * The source tag of rows without one: the CSV file's name as a token (R32; docs/design.md §2.1), its
 * other characters as "-", at most 128 characters. A path is not kept: it may name a person's folder.
 */
export const sourceTagOf = (file: string): string => {
  const tag = basename(file)
    .replace(/[^A-Za-z0-9_.:/-]+/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, 128)
  return tag === "" ? "csv" : tag
}
