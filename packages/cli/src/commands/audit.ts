/**
 * `lethe audit <source>`: replays the log and checks every rule (R35).
 *
 * @module
 */
import { readFile } from "node:fs/promises"
import type { AuditReport, Checkpoint } from "@lethe/core/audit"
import { auditLog, keyFingerprint, parseCheckpoint } from "@lethe/core/audit"
import type { DomainConfig } from "@lethe/core/domain"
import { CliError, ExitCode, reasonOf } from "../errors.js"
import type { Io } from "../io.js"
import { emit } from "../io.js"
import { progressLine } from "../progress.js"
import { custodyOf } from "../report/custody.js"
import { renderHtml } from "../report/html.js"
import { renderJson } from "../report/json.js"
import type { ReportContext } from "../report/text.js"
import { renderText } from "../report/text.js"
import { openLogSource, printable, sourceKind } from "../source.js"
import { version } from "../version.js"

/** The report formats of `--format`. */
export const reportFormats = ["text", "json", "html"] as const
export type ReportFormat = (typeof reportFormats)[number]

/** What `lethe audit` is asked. */
export interface AuditCommand {
  readonly source: string
  /** The PostgreSQL schema of a `postgres://` source (default `lethe`). */
  readonly schema?: string | undefined
  /** Where the keys live when apart from the log: a SQLite key store file, or a PostgreSQL key store schema. */
  readonly keys?: string | undefined
  readonly format: ReportFormat
  /** The file to write the report to; stdout when undefined or `-`. */
  readonly out: string | undefined
  readonly graceDays: number
  /** ISO 8601; default now. */
  readonly asOf: string | undefined
  /** A JSON file with the tenant's configuration (catalogue, windows, deadlines). */
  readonly config: string | undefined
  /** PEM files of the controller's public keys (`--public-key`, repeatable), to verify the checkpoints against (R41). */
  readonly publicKeys?: ReadonlyArray<string> | undefined
  /** A JSON Lines file of checkpoints kept outside the log (`--anchors`). */
  readonly anchors?: string | undefined
}

/** Reads `--public-key` files: each a PEM public key. */
export const readPublicKeys = async (files: ReadonlyArray<string>): Promise<ReadonlyArray<string>> =>
  Promise.all(
    files.map(async (file) => {
      let pem: string
      try {
        pem = await readFile(file, "utf8")
      } catch (error) {
        throw CliError.io(`cannot read --public-key ${file}: ${reasonOf(error)}`)
      }
      try {
        keyFingerprint(pem)
      } catch {
        throw CliError.usage(`--public-key ${file}: not a PEM public key`)
      }
      return pem
    }),
  )

/** Reads `--anchors`: one signed checkpoint (JSON) per line. */
export const readAnchors = async (file: string | undefined): Promise<ReadonlyArray<Checkpoint>> => {
  if (file === undefined) return []
  let text: string
  try {
    text = await readFile(file, "utf8")
  } catch (error) {
    throw CliError.io(`cannot read --anchors ${file}: ${reasonOf(error)}`)
  }
  return text
    .split("\n")
    .map((line, i) => ({ line: line.trim(), number: i + 1 }))
    .filter(({ line }) => line !== "")
    .map(({ line, number }) => {
      let parsed: unknown
      try {
        parsed = JSON.parse(line)
      } catch {
        throw CliError.usage(`--anchors ${file}, line ${number}: not JSON`)
      }
      const checkpoint = parseCheckpoint(parsed)
      if (typeof checkpoint === "string")
        throw CliError.usage(`--anchors ${file}, line ${number}: not a checkpoint (${checkpoint})`)
      return checkpoint
    })
}

/** Parses `--as-of`: an ISO 8601 date or date-time. */
export const parseAsOf = (text: string | undefined): Date => {
  if (text === undefined) return new Date()
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN
  if (Number.isNaN(ms))
    throw CliError.usage(`--as-of ${text}: expected an ISO 8601 date, e.g. 2026-03-31T00:00:00Z`)
  return new Date(ms)
}

const configKeys = [
  "restoreWindowDays",
  "erasureDeadlineDays",
  "accessDeadlineDays",
  "consentCatalogue",
  "permissions",
  "clubs",
  "currency",
  "invoiceRetentionYears",
] as const

/** Reads `--config`: the parts of the tenant's configuration the audit uses, as JSON. */
export const readConfig = async (
  file: string | undefined,
): Promise<
  Partial<DomainConfig> & { readonly currency?: string; readonly invoiceRetentionYears?: number }
> => {
  if (file === undefined) return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(file, "utf8"))
  } catch (error) {
    throw CliError.io(`cannot read --config ${file}: ${reasonOf(error)}`)
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw CliError.usage(`--config ${file}: expected a JSON object`)
  const config = parsed as Record<string, unknown>
  const unknown = Object.keys(config).filter((k) => !(configKeys as ReadonlyArray<string>).includes(k))
  if (unknown.length > 0)
    throw CliError.usage(
      `--config ${file}: unknown keys ${unknown.join(", ")} (known: ${configKeys.join(", ")})`,
    )
  for (const key of ["restoreWindowDays", "erasureDeadlineDays", "accessDeadlineDays"] as const) {
    const value = config[key]
    if (value !== undefined && (typeof value !== "number" || !Number.isInteger(value) || value <= 0))
      throw CliError.usage(`--config ${file}: ${key} must be a positive whole number of days`)
  }
  const years = config.invoiceRetentionYears
  if (years !== undefined && (typeof years !== "number" || !Number.isInteger(years) || years <= 0))
    throw CliError.usage(`--config ${file}: invoiceRetentionYears must be a positive whole number of years`)
  if (
    config.currency !== undefined &&
    (typeof config.currency !== "string" || !/^[A-Z]{3}$/.test(config.currency))
  )
    throw CliError.usage(`--config ${file}: currency must be an ISO 4217 code such as PLN or EUR`)
  const catalogue = config.consentCatalogue
  if (catalogue !== undefined) {
    if (typeof catalogue !== "object" || catalogue === null || Array.isArray(catalogue))
      throw CliError.usage(`--config ${file}: consentCatalogue must map purposes to their definitions`)
    for (const [purpose, definition] of Object.entries(catalogue)) {
      const d = definition as Record<string, unknown> | null
      if (typeof d !== "object" || d === null || d.purpose !== purpose || !Array.isArray(d.covers))
        throw CliError.usage(
          `--config ${file}: consentCatalogue.${purpose} must be a purpose definition with "purpose": "${purpose}" and "covers"`,
        )
    }
  }
  return config as Partial<DomainConfig> & {
    readonly currency?: string
    readonly invoiceRetentionYears?: number
  }
}

const render = (format: ReportFormat, report: AuditReport, context: ReportContext): string => {
  switch (format) {
    case "text":
      return renderText(report, context)
    case "json":
      return renderJson(report, context)
    case "html":
      return renderHtml(report, context)
  }
}

/**
 * Runs the audit and writes the report; resolves to the exit code: 0 clean,
 * 1 findings. Usage and I/O errors reject with `CliError` (exit code 2).
 */
export const auditCommand = async (command: AuditCommand, io: Io): Promise<number> => {
  if (!Number.isInteger(command.graceDays) || command.graceDays < 0)
    throw CliError.usage(`--grace-days ${command.graceDays}: expected a whole number of days, 0 or more`)
  const asOf = parseAsOf(command.asOf)
  const { currency, invoiceRetentionYears, ...config } = await readConfig(command.config)
  const auditedAt = new Date()
  const publicKeys = await readPublicKeys(command.publicKeys ?? [])
  const anchors = await readAnchors(command.anchors)
  // Hashed before the source is opened (read-only), so the report names the bytes the audit read.
  const custody = await custodyOf({
    source: command.source,
    kind: sourceKind(command.source),
    name: `${printable(command.source)}${command.schema === undefined ? "" : ` (schema ${command.schema})`}`,
    keys: command.keys,
    version,
    auditedAt,
    currency,
  }).catch((error: unknown) => {
    throw CliError.io(`cannot read ${printable(command.source)}: ${reasonOf(error)}`)
  })
  const source = await openLogSource(command.source, { schema: command.schema, keys: command.keys })
  const progress = progressLine(io.stderr, "auditing", "events", source.progress)
  let report: AuditReport
  try {
    report = await auditLog(source.events, {
      ...source.sources,
      asOf,
      config,
      purgeGraceDays: command.graceDays,
      ...(invoiceRetentionYears === undefined ? {} : { invoiceRetentionYears }),
      publicKeys,
      anchors,
      progressEvery: 5_000,
      onProgress: (p) => progress.update(p.events),
    })
  } catch (error) {
    if (error instanceof CliError) throw error
    throw CliError.io(`cannot read ${printable(command.source)}: ${reasonOf(error)}`)
  } finally {
    progress.finish()
    await source.close()
  }
  const out = command.out === "-" ? undefined : command.out
  await emit(io, render(command.format, report, { source: source.label, custody }), out)
  if (out !== undefined)
    io.stderr.write(
      `${report.clean ? "clean" : `${report.summary.findings} finding(s)`}; ${command.format} report written to ${out}\n`,
    )
  return report.clean ? ExitCode.clean : ExitCode.findings
}
