/**
 * Why a `lethe` command stops early. Every one exits with code 2 and a
 * one-line reason on stderr; findings are not errors (exit code 1), nor is
 * a partial run (exit code 3).
 *
 * @module
 */
import { Schema } from "effect"

/**
 * A usage error (bad arguments) or an I/O error (a source that cannot be
 * opened or read, an output that cannot be written).
 *
 * @example
 * ```ts
 * throw CliError.io("lethe.db: no such SQLite file")
 * ```
 */
export class CliError extends Schema.TaggedError<CliError>()("CliError", {
  kind: Schema.Literal("usage", "io"),
  reason: Schema.String,
}) {
  override get message() {
    return this.reason
  }

  /** Bad arguments or options. */
  static usage(reason: string): CliError {
    return new CliError({ kind: "usage", reason })
  }

  /** A source or an output that cannot be used. */
  static io(reason: string): CliError {
    return new CliError({ kind: "io", reason })
  }
}

/**
 * Exit codes of every `lethe` command, each meaning one thing: 0 done and
 * clean; 1 the audit found something (findings); 2 the command failed as a
 * whole (bad arguments, or a source or output that cannot be used; a
 * one-line reason on stderr, nothing written); 3 done in part (an import
 * with rejected rows, a retention run where some member failed).
 */
export const ExitCode = { clean: 0, findings: 1, error: 2, partial: 3 } as const

/** The message of anything thrown, for a one-line reason. */
export const reasonOf = (error: unknown): string =>
  typeof error === "object" && error !== null && "message" in error ? String(error.message) : String(error)
