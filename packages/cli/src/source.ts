/**
 * `<source>` of the commands: a SQLite file, a `postgres://` URL, or a log
 * file written by `lethe export-log` (`.jsonl`).
 *
 * @module
 */
import { existsSync, statSync } from "node:fs"
import type { AuditSources, LetheStore, StoredEvent } from "@lethe/core"
import { auditSourcesOf, readAllEvents } from "@lethe/core"
import { sqliteStore } from "@lethe/store-sqlite"
import { CliError, reasonOf } from "./errors.js"
import { openLogFile } from "./log-file.js"

/** What `<source>` names. */
export type SourceKind = "sqlite" | "postgres" | "log"

/** The kind of source a `<source>` argument names, from its form alone. */
export const sourceKind = (source: string): SourceKind =>
  /^postgres(ql)?:\/\//i.test(source) ? "postgres" : /\.jsonl$/i.test(source) ? "log" : "sqlite"

/** A source opened for reading its log. */
export interface LogSource {
  readonly kind: SourceKind
  /** For reports, e.g. "sqlite:lethe.db". */
  readonly label: string
  readonly events: AsyncIterable<StoredEvent>
  readonly sources: AuditSources
  /** Work done and to do, in any unit, when known (bytes of a log file); null otherwise. */
  progress(): { readonly done: number; readonly total: number } | null
  close(): Promise<void>
}

const requireFile = (path: string, what: string): void => {
  if (!existsSync(path)) throw CliError.io(`${path}: no such ${what}`)
  if (!statSync(path).isFile()) throw CliError.io(`${path}: not a file`)
}

const postgresNotSupported = (source: string) =>
  CliError.io(
    `${source.replace(/\/\/[^@/]*@/, "//***@")}: PostgreSQL sources are not supported yet (no @lethe/store-postgres adapter); export the log with a build that has it, or audit a SQLite file or a .jsonl log`,
  )

/**
 * Opens a SQLite file (never creating one) as a store, for the commands that
 * write (`demo`, `retention`, `import`) or, read-only, read through the SPI (`export-log`, `audit`).
 */
export const openStore = (
  source: string,
  options: { readonly readonly?: boolean } = {},
): { readonly store: LetheStore; readonly label: string } => {
  const kind = sourceKind(source)
  if (kind === "postgres") throw postgresNotSupported(source)
  if (kind === "log") throw CliError.usage(`${source}: a log file can be audited, not opened as a store`)
  requireFile(source, "SQLite file")
  try {
    return {
      store: sqliteStore({ filename: source, ...(options.readonly === true ? { readonly: true } : {}) }),
      label: `sqlite:${source}`,
    }
  } catch (error) {
    throw CliError.io(`cannot open ${source}: ${reasonOf(error)}`)
  }
}

/** Opens `<source>` to read its log in global order, with the cross-checks it offers. */
export const openLogSource = async (source: string): Promise<LogSource> => {
  const kind = sourceKind(source)
  if (kind === "log") {
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
  // An audit only reads: the file is opened read-only, never migrated or switched to WAL.
  const { store, label } = openStore(source, { readonly: true })
  return {
    kind,
    label,
    events: readAllEvents(store.events),
    sources: auditSourcesOf(store),
    progress: () => null,
    close: () => store.close(),
  }
}
