/**
 * Why a `lethe` command stops early. Every one exits with code 2 and a
 * one-line reason on stderr; findings are not errors (exit code 1).
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

/** Exit codes of every `lethe` command. */
export const ExitCode = { clean: 0, findings: 1, error: 2 } as const

/** The message of anything thrown, for a one-line reason. */
export const reasonOf = (error: unknown): string =>
  typeof error === "object" && error !== null && "message" in error ? String(error.message) : String(error)
