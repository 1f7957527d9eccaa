/**
 * Where a command writes: the report or the narration to `stdout`, progress
 * and one-line reasons to `stderr`. Tests pass their own.
 *
 * @module
 */
import { once } from "node:events"
import { writeFile } from "node:fs/promises"
import { CliError, reasonOf } from "./errors.js"

/** The streams a command writes to. */
export interface Io {
  /** The report, or the demo's narration. */
  readonly stdout: NodeJS.WritableStream
  /** Progress and the one-line reason of a failure. */
  readonly stderr: NodeJS.WriteStream
}

/** The process's own streams. */
export const processIo: Io = { stdout: process.stdout, stderr: process.stderr }

/** Writes `text` to `out` (a file) or to stdout; a file that cannot be written is an I/O error. */
export const emit = async (io: Io, text: string, out: string | undefined): Promise<void> => {
  if (out === undefined) {
    if (!io.stdout.write(text)) await once(io.stdout, "drain")
    return
  }
  try {
    await writeFile(out, text, "utf8")
  } catch (error) {
    throw CliError.io(`cannot write ${out}: ${reasonOf(error)}`)
  }
}
