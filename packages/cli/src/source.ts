/**
 * `<source>` of the commands: a SQLite file, a `postgres://` URL, or a log
 * file written by `lethe export-log` (`.jsonl`).
 *
 * @module
 */
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs"
import type { AuditSources } from "@lethe/core/audit"
import { auditSourcesOf } from "@lethe/core/audit"
import type { StoredEvent } from "@lethe/core/spi"
import { readAllEvents } from "@lethe/core/spi"
import { CliError, reasonOf } from "./errors.js"
import { openLogFile } from "./log-file.js"
import type { OpenedStore } from "./postgres.js"
import { isPostgresUrl, openPostgres } from "./postgres.js"
import { loadSqliteStore } from "./sqlite.js"

export type { OpenedStore } from "./postgres.js"
export { printable } from "./postgres.js"

/** What `<source>` names. */
export type SourceKind = "sqlite" | "postgres" | "log"

/** The kind of source a `<source>` argument names, from its form alone. */
export const sourceKind = (source: string): SourceKind =>
  isPostgresUrl(source) ? "postgres" : /\.jsonl$/i.test(source) ? "log" : "sqlite"

/**
 * How to open a source: read-only (a command that only reads), the
 * PostgreSQL schema (`--schema`), and where the keys live when they are apart
 * from the log (`--keys`: a SQLite key store file, or a PostgreSQL key store
 * schema in the source's database).
 */
export interface OpenOptions {
  readonly readonly?: boolean
  readonly schema?: string | undefined
  readonly keys?: string | undefined
}

/** A source opened for reading its log. */
export interface LogSource {
  readonly kind: SourceKind
  /** For reports, e.g. "sqlite:lethe.db". */
  readonly label: string
  readonly events: AsyncIterable<StoredEvent>
  readonly sources: AuditSources
  /** Work done and to do, in any unit, when known (bytes of a log file); null otherwise. */
  progress(): { readonly done: number; readonly total: number } | null
  /** Releases what the source opened (a store's connections); a no-op for a log file. */
  close(): Promise<void>
}

const requireFile = (path: string, what: string): void => {
  if (!existsSync(path)) throw CliError.io(`${path}: no such ${what}`)
  if (!statSync(path).isFile()) throw CliError.io(`${path}: not a file`)
}

/**
 * A file that is plainly not a SQLite database, said in one line of what it
 * is: an empty file, or JSON (a report, a configuration) given where a
 * database or a log was expected. Anything else is left for SQLite to refuse.
 */
const refuseNonDatabase = (path: string): void => {
  const head = Buffer.alloc(64)
  const fd = openSync(path, "r")
  let read: number
  try {
    read = readSync(fd, head, 0, head.length, 0)
  } finally {
    closeSync(fd)
  }
  if (read === 0) throw CliError.io(`${path}: an empty file, not a SQLite database nor a Lethe log (.jsonl)`)
  const start = head
    .toString("utf8", 0, read)
    .replace(/^\uFEFF/, "")
    .trimStart()
    .charAt(0)
  if (start === "{" || start === "[")
    throw CliError.io(
      `${path}: a JSON file, not a SQLite database nor a Lethe log (a log is written by lethe export-log, its name ends in .jsonl)`,
    )
}

/** `--schema` names a PostgreSQL schema: for any other source it is a mistake, said so. */
const refuseSchema = (source: string, options: OpenOptions): void => {
  if (options.schema !== undefined)
    throw CliError.usage(`--schema ${options.schema}: only a postgres:// source has schemas, not ${source}`)
}

/**
 * Opens the SQLite file `filename` as a store; `mustExist` unless the command may create it.
 * Loads `@lethe/store-sqlite`, an optional peer: without it, a `CliError` says to install it.
 */
export const openSqlite = async (
  filename: string,
  options: {
    readonly readonly?: boolean
    readonly mustExist?: boolean
    readonly keys?: string | undefined
  } = {},
): Promise<OpenedStore> => {
  if (options.mustExist !== false) {
    requireFile(filename, "SQLite file")
    refuseNonDatabase(filename)
  }
  if (options.mustExist !== false && options.keys !== undefined)
    requireFile(options.keys, "SQLite key store file")
  const { sqliteStore } = await loadSqliteStore(filename)
  try {
    const store = sqliteStore({
      filename,
      ...(options.readonly === true ? { readonly: true } : {}),
      ...(options.keys === undefined ? {} : { keys: { filename: options.keys } }),
    })
    return { store, label: `sqlite:${filename}`, close: () => store.close() }
  } catch (error) {
    throw CliError.io(`cannot open ${filename}: ${reasonOf(error)}`)
  }
}

/**
 * Opens a SQLite file (never creating one) or a PostgreSQL schema as a
 * store: read-write for the commands that write (`retention`, `import`),
 * read-only for those that only read (`export-log`, `audit`, a dry run).
 * The caller calls `close()` when done (it also ends a PostgreSQL pool).
 */
export const openStore = async (source: string, options: OpenOptions = {}): Promise<OpenedStore> => {
  const kind = sourceKind(source)
  if (kind === "postgres")
    return openPostgres(source, {
      readonly: options.readonly === true,
      schema: options.schema,
      keys: options.keys,
    })
  if (kind === "log") throw CliError.usage(`${source}: a log file can be audited, not opened as a store`)
  refuseSchema(source, options)
  return openSqlite(source, { readonly: options.readonly === true, keys: options.keys })
}

/** Opens `<source>` to read its log in global order, with the cross-checks it offers. */
export const openLogSource = async (source: string, options: OpenOptions = {}): Promise<LogSource> => {
  const kind = sourceKind(source)
  if (kind === "log") {
    refuseSchema(source, options)
    if (options.keys !== undefined)
      throw CliError.usage(`--keys ${options.keys}: a log file holds its keys' status already, not ${source}`)
    requireFile(source, "log file")
    try {
      const log = await openLogFile(source)
      return {
        kind,
        label: `log:${source}`,
        events: log.events,
        sources: log.sources,
        progress: log.progress,
        close: async () => undefined,
      }
    } catch (error) {
      throw CliError.io(reasonOf(error))
    }
  }
  // An audit only reads: the source is opened read-only (a SQLite file is never migrated or switched to WAL).
  const { store, label, close } = await openStore(source, { ...options, readonly: true })
  return {
    kind,
    label,
    events: readAllEvents(store.events),
    sources: auditSourcesOf(store),
    progress: () => null,
    close,
  }
}
