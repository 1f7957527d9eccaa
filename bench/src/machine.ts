/**
 * The machine a benchmark ran on, written next to every result.
 *
 * @module
 */
import os from "node:os"
import Database from "better-sqlite3"

/** What a result says about where it was measured. */
export interface Machine {
  readonly cpus: number
  readonly cpuModel: string
  readonly memoryGiB: number
  readonly node: string
  readonly platform: string
  /** The SQLite library better-sqlite3 bundles (the raw driver and Lethe). */
  readonly sqlite: string
  /** The SQLite library node-sqlite3 bundles (Emmett), when it loaded. */
  readonly sqliteOfEmmett?: string
  /** `SHOW server_version` of the PostgreSQL server, when one was reachable. */
  readonly postgres?: string
}

/** The SQLite version better-sqlite3 runs. */
export const sqliteVersion = (): string => {
  const db = new Database(":memory:")
  try {
    return String((db.prepare("SELECT sqlite_version() AS v").get() as { v: string }).v)
  } finally {
    db.close()
  }
}

/** This machine, with the database versions found. */
export const machine = (
  versions: { readonly postgres?: string; readonly sqliteOfEmmett?: string } = {},
): Machine => ({
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model ?? "unknown",
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
  platform: `${os.platform()} ${os.release()}`,
  sqlite: sqliteVersion(),
  ...versions,
})

/** The 1, 5 and 15 minute load averages, rounded: how busy the machine was. */
export const loadAverage = (): ReadonlyArray<number> => os.loadavg().map((l) => Math.round(l * 100) / 100)
