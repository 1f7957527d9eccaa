/**
 * `lethe demo [--db file]`: runs the demo scenario on a new SQLite file,
 * ready to be audited.
 *
 * @module
 */
import { existsSync } from "node:fs"
import { describeDemoError, runDemo } from "../demo.js"
import { CliError, ExitCode } from "../errors.js"
import type { Io } from "../io.js"
import { loadSqliteStore } from "../sqlite.js"

export interface DemoCommand {
  readonly db: string
}

/** Runs the demo into `db`, which must not exist yet; resolves to exit code 0. */
export const demoCommand = async (command: DemoCommand, io: Io): Promise<number> => {
  if (existsSync(command.db))
    throw CliError.usage(
      `${command.db} exists: the demo writes a new database; remove it or pass --db another.db`,
    )
  const { sqliteStore } = await loadSqliteStore(command.db)
  let store: ReturnType<typeof sqliteStore>
  try {
    store = sqliteStore({ filename: command.db })
  } catch (error) {
    throw CliError.io(`cannot create ${command.db}: ${describeDemoError(error)}`)
  }
  io.stdout.write(`Lethe demo (SQLite file ${command.db})\n`)
  const result = await runDemo({ store, say: (line) => io.stdout.write(`${line}\n`) }).catch(
    (error: unknown) => {
      throw CliError.io(`demo failed: ${describeDemoError(error)}`)
    },
  )
  if (!result.ok)
    throw CliError.io(`demo failed: accepted although forbidden: ${result.unexpected.join(", ")}`)
  io.stdout.write(`\nWritten to ${command.db}. Audit it with: npx lethe audit ${command.db}\n`)
  return ExitCode.clean
}
