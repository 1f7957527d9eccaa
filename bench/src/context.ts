/**
 * What every case gets: the settings, a scratch folder for SQLite files, the
 * PostgreSQL server (or why there is none), and a progress line printer.
 *
 * @module
 */
import type { PostgresAvailability } from "./postgres.js"
import type { Settings } from "./settings.js"

export interface BenchContext {
  readonly settings: Settings
  /** A scratch folder for the SQLite files, removed at the end. */
  readonly dir: string
  readonly postgres: PostgresAvailability
  /** Prints a progress line. */
  readonly progress: (line: string) => void
}
