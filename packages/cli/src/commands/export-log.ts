/**
 * `lethe export-log <source> --out log.jsonl`: the log as a file an auditor
 * can take away and audit without the database or any key.
 *
 * @module
 */
import { CliError, ExitCode, reasonOf } from "../errors.js"
import type { Io } from "../io.js"
import { exportLog } from "../log-file.js"
import { progressLine } from "../progress.js"
import { openStore, printable } from "../source.js"

export interface ExportLogCommand {
  readonly source: string
  /** The PostgreSQL schema of a `postgres://` source (default `lethe`). */
  readonly schema?: string | undefined
  /** Where the keys live when apart from the log: a SQLite key store file, or a PostgreSQL key store schema. */
  readonly keys?: string | undefined
  /** The log file to write (`.jsonl`), or `-` for stdout. */
  readonly out: string
}

/** Exports the log; resolves to exit code 0, rejects with `CliError` otherwise. */
export const exportLogCommand = async (command: ExportLogCommand, io: Io): Promise<number> => {
  const toStdout = command.out === "-"
  if (!toStdout && !/\.jsonl$/i.test(command.out))
    throw CliError.usage(
      `--out ${command.out}: a log file's name ends in .jsonl, so lethe audit can tell it from a database`,
    )
  const { store, label, close } = await openStore(command.source, {
    readonly: true,
    schema: command.schema,
    keys: command.keys,
  })
  const progress = progressLine(io.stderr, "exporting", "events")
  try {
    const summary = await exportLog(store, toStdout ? io.stdout : command.out, {
      source: label,
      onEvent: (n) => progress.update(n),
    })
    progress.finish()
    io.stderr.write(
      `exported ${summary.events} events of ${summary.members} members to ${toStdout ? "stdout" : command.out}\n`,
    )
    return ExitCode.clean
  } catch (error) {
    progress.finish()
    if (error instanceof CliError) throw error
    throw CliError.io(
      `cannot export ${printable(command.source)} to ${toStdout ? "stdout" : command.out}: ${reasonOf(error)}`,
    )
  } finally {
    await close()
  }
}
