/**
 * `lethe retention <source> [--policies file] [--dry-run]`: the built-in
 * retention rules (purge forgotten members after the window, end invoice
 * retention) and the policies of a file (R12, R15, R20), run or planned.
 *
 * @module
 */
import { readFile } from "node:fs/promises"
import type { RetentionPolicy, RetentionReport } from "@lethe/core"
import { createLethe, RetentionPolicy as RetentionPolicySchema } from "@lethe/core"
import { Either, ParseResult, Schema } from "effect"
import { CliError, ExitCode, reasonOf } from "../errors.js"
import type { Io } from "../io.js"
import { progressLine } from "../progress.js"
import { openStore, printable } from "../source.js"
import { keyringFromEnvironment, secretVariable, unusedKeyring, wrongSecret } from "./keyring.js"

export interface RetentionCommand {
  readonly source: string
  /** The PostgreSQL schema of a `postgres://` source (default `lethe`). */
  readonly schema?: string | undefined
  /** Where the keys live when apart from the log: a SQLite key store file, or a PostgreSQL key store schema. */
  readonly keys?: string | undefined
  readonly policies: string | undefined
  readonly dryRun: boolean
  readonly format: "text" | "json"
}

const decodePolicies = Schema.decodeUnknownEither(
  Schema.Union(
    Schema.Array(RetentionPolicySchema),
    Schema.Struct({ policies: Schema.Array(RetentionPolicySchema) }),
  ),
)

/** Reads a policies file: a JSON array of policies, or `{ "policies": [...] }`. */
export const readPolicies = async (file: string | undefined): Promise<ReadonlyArray<RetentionPolicy>> => {
  if (file === undefined) return []
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(file, "utf8"))
  } catch (error) {
    throw CliError.io(`cannot read --policies ${file}: ${reasonOf(error)}`)
  }
  const decoded = decodePolicies(parsed)
  if (Either.isLeft(decoded))
    throw CliError.usage(
      `--policies ${file}: ${ParseResult.TreeFormatter.formatErrorSync(decoded.left).replace(/\s*\n\s*/g, "; ")}`,
    )
  return Array.isArray(decoded.right)
    ? decoded.right
    : (decoded.right as { policies: ReadonlyArray<RetentionPolicy> }).policies
}

const countBy = (entries: ReadonlyArray<{ readonly rule: string }>): string => {
  const counts = new Map<string, number>()
  for (const e of entries) counts.set(e.rule, (counts.get(e.rule) ?? 0) + 1)
  return [...counts].map(([rule, n]) => `${rule}: ${n}`).join(", ") || "none"
}

const renderText = (report: RetentionReport): string => {
  const lines = [
    `Retention ${report.dryRun ? "plan (dry run: nothing changed)" : "run"} ${report.correlationId}`,
    `planned:  ${report.planned.length} (${countBy(report.planned)})`,
  ]
  if (!report.dryRun) {
    lines.push(`executed: ${report.executed.length} (${countBy(report.executed)})`)
    lines.push(`blocked:  ${report.blocked.length}`)
    for (const b of report.blocked) lines.push(`  ${b.memberId} [${b.rule}] ${b.reasons.join(", ")}`)
    lines.push(`failed:   ${report.failed.length}`)
    for (const f of report.failed)
      lines.push(`  ${f.memberId} [${f.rule}] ${f.error._tag}: ${f.error.message}`)
  } else for (const p of report.planned) lines.push(`  ${p.memberId} [${p.rule}] ${p.action}`)
  return `${lines.join("\n")}\n`
}

/** Runs (or plans) retention; exit code 0, or 3 (done in part) when some member failed. */
export const retentionCommand = async (command: RetentionCommand, io: Io): Promise<number> => {
  const policies = await readPolicies(command.policies)
  const keyring =
    command.dryRun && (process.env[secretVariable] ?? "") === ""
      ? unusedKeyring
      : keyringFromEnvironment("a retention run (not --dry-run)")
  // A dry run only reads: the source is opened read-only.
  const opened = await openStore(command.source, {
    readonly: command.dryRun,
    schema: command.schema,
    keys: command.keys,
  })
  const keyCheck = keyring === unusedKeyring ? "skip" : command.dryRun ? "verify" : "record"
  const lethe = await createLethe({ store: opened.store, keyring, keyCheck }).catch(
    async (error: unknown) => {
      await opened.close()
      throw wrongSecret(error)
    },
  )
  const progress = progressLine(io.stderr, command.dryRun ? "planning" : "retention", "members")
  try {
    const report = await lethe.runRetention({
      policies,
      dryRun: command.dryRun,
      onProgress: (p) => progress.update(p.done),
    })
    progress.finish()
    io.stdout.write(command.format === "json" ? `${JSON.stringify(report, null, 2)}\n` : renderText(report))
    return report.failed.length === 0 ? ExitCode.clean : ExitCode.partial
  } catch (error) {
    progress.finish()
    throw CliError.io(`retention on ${printable(command.source)} failed: ${reasonOf(error)}`)
  } finally {
    await lethe.close()
    await opened.close()
  }
}
