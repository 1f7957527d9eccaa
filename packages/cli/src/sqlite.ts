/**
 * `@lethe/store-sqlite`, an optional peer dependency of the CLI, loaded only
 * when a command opens a SQLite file: an auditor who audits a log file or a
 * PostgreSQL database installs the CLI without it, and never builds
 * better-sqlite3's native addon.
 *
 * @module
 */
import type * as StoreSqlite from "@lethe/store-sqlite"
import { CliError, reasonOf } from "./errors.js"

/** The one line a command stops with when it opens a SQLite file and `@lethe/store-sqlite` is not installed. */
export const sqliteMissing = (filename: string): string =>
  `${filename}: SQLite files need @lethe/store-sqlite, an optional peer dependency of @lethe/cli that is not installed: install it beside @lethe/cli (it builds better-sqlite3)`

/** Whether `error` says that `@lethe/store-sqlite`, or the better-sqlite3 it imports, cannot be found. */
export const isSqliteMissing = (error: unknown): boolean =>
  typeof error === "object" &&
  error !== null &&
  "code" in error &&
  (error.code === "ERR_MODULE_NOT_FOUND" || error.code === "MODULE_NOT_FOUND") &&
  /@lethe\/store-sqlite|better-sqlite3/.test(reasonOf(error))

/**
 * Loads `@lethe/store-sqlite` to open `filename`; when it is not installed,
 * fails with a `CliError` whose reason is {@link sqliteMissing}.
 */
export const loadSqliteStore = async (filename: string): Promise<typeof StoreSqlite> => {
  try {
    return await import("@lethe/store-sqlite")
  } catch (error) {
    throw CliError.io(
      isSqliteMissing(error) ? sqliteMissing(filename) : `cannot open ${filename}: ${reasonOf(error)}`,
    )
  }
}
