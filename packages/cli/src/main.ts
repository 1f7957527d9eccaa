/**
 * The `lethe` command line, built with `@effect/cli`: parsing, `--help` on
 * every command (with examples and the exit codes), and exit codes: 0 clean,
 * 1 findings, 2 usage or I/O error with a one-line reason on stderr, 3 done
 * in part (`ExitCode`).
 *
 * @module
 */
import { Args, CliConfig, Command, Options, ValidationError } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Console, Effect, Option } from "effect"
import type { ReportFormat } from "./commands/audit.js"
import { auditCommand, reportFormats } from "./commands/audit.js"
import { demoCommand } from "./commands/demo.js"
import { exportLogCommand } from "./commands/export-log.js"
import { importCommand } from "./commands/import.js"
import { secretVariable } from "./commands/keyring.js"
import { retentionCommand } from "./commands/retention.js"
import { CliError, ExitCode, reasonOf } from "./errors.js"
import { commandNames, helpFooter, tidyHelp } from "./help.js"
import type { Io } from "./io.js"
import { processIo } from "./io.js"

import { version } from "./version.js"

export { version }

const source = Args.text({ name: "source" }).pipe(
  Args.withDescription("a SQLite file, a postgres:// URL, or a .jsonl log written by lethe export-log"),
)
const optionalText = (name: string, description: string, pseudoName: string) =>
  Options.text(name).pipe(
    Options.withPseudoName(pseudoName),
    Options.withDescription(description),
    Options.optional,
  )
const value = <A>(option: Option.Option<A>): A | undefined => Option.getOrUndefined(option)
const schema = optionalText(
  "schema",
  "the PostgreSQL schema holding the Lethe tables, for a postgres:// source (default: lethe)",
  "name",
)

const keys = optionalText(
  "keys",
  "where the keys live when they are apart from the log: the key store file of a SQLite source, or the key store schema (in the same database) of a postgres:// source",
  "file|schema",
)

/** `--format` of the commands that print a result: text or JSON. */
const outputFormat = (description: string) =>
  Options.choice("format", ["text", "json"] as const).pipe(
    Options.withDefault<"text" | "json">("text"),
    Options.withDescription(`${description} (default: text)`),
  )

/** Runs a command's work and records its exit code. */
type Run = (work: (io: Io) => Promise<number>) => Effect.Effect<void, CliError>

const commands = (run: Run) => {
  const audit = Command.make(
    "audit",
    {
      source,
      schema,
      keys,
      format: Options.choice("format", reportFormats).pipe(
        Options.withDefault<ReportFormat>("text"),
        Options.withDescription(
          "text for a terminal, json for tools, html for one self-contained page (default: text)",
        ),
      ),
      out: optionalText("out", "write the report to this file instead of stdout (- for stdout)", "file"),
      graceDays: Options.integer("grace-days").pipe(
        Options.withDefault(1),
        Options.withPseudoName("days"),
        Options.withDescription(
          "days a forgotten member may stay unpurged after the restore window (R29; default: 1)",
        ),
      ),
      asOf: optionalText(
        "as-of",
        "judge open deadlines at this ISO 8601 date or time, e.g. 2026-03-31 (default: now)",
        "date",
      ),
      config: optionalText(
        "config",
        "JSON file with the tenant's configuration: consentCatalogue, restoreWindowDays, erasureDeadlineDays, accessDeadlineDays, invoiceRetentionYears, clubs",
        "file",
      ),
      publicKey: Options.text("public-key").pipe(
        Options.withPseudoName("file"),
        Options.repeated,
        Options.withDescription(
          "PEM file of the controller's public key (keyring.receiptPublicKey()), obtained from the controller, not the log: every signed checkpoint must verify under it (R41); without it, checkpoints are checked against the key the log records, which proves consistency, not who signed",
        ),
      ),
      anchors: optionalText(
        "anchors",
        "JSON Lines file of checkpoints kept outside the log (LetheOptions.onCheckpoint): each must match the log, which must reach it (R41)",
        "file",
      ),
    },
    (a) =>
      run((io) =>
        auditCommand(
          {
            source: a.source,
            schema: value(a.schema),
            keys: value(a.keys),
            format: a.format,
            out: value(a.out),
            graceDays: a.graceDays,
            asOf: value(a.asOf),
            config: value(a.config),
            publicKeys: a.publicKey,
            anchors: value(a.anchors),
          },
          io,
        ),
      ),
  ).pipe(
    Command.withDescription(
      "Replay the log and check every rule: hash chains, signed checkpoints (R41), the guards of every event, request deadlines, purges and destroyed keys (R35). Exit code 0 clean, 1 findings, 2 usage or I/O error.",
    ),
  )

  const exportLog = Command.make(
    "export-log",
    {
      source,
      schema,
      keys,
      out: Options.text("out").pipe(
        Options.withPseudoName("file"),
        Options.withDescription("the log file to write (its name ends in .jsonl), or - for stdout"),
      ),
    },
    (a) =>
      run((io) =>
        exportLogCommand({ source: a.source, schema: value(a.schema), keys: value(a.keys), out: a.out }, io),
      ),
  ).pipe(
    Command.withDescription(
      "Write the log, in global order, to a JSON Lines file that lethe audit reads without the database or any key. Sealed values stay sealed.",
    ),
  )

  const retention = Command.make(
    "retention",
    {
      source,
      schema,
      keys,
      policies: optionalText(
        "policies",
        "JSON file with retention policies (an array, or { policies: [...] })",
        "file",
      ),
      dryRun: Options.boolean("dry-run").pipe(
        Options.withDescription("plan only: list who would be affected"),
      ),
      format: outputFormat("the report: text for a terminal, json for tools"),
    },
    (a) =>
      run((io) =>
        retentionCommand(
          {
            source: a.source,
            schema: value(a.schema),
            keys: value(a.keys),
            policies: value(a.policies),
            dryRun: a.dryRun,
            format: a.format,
          },
          io,
        ),
      ),
  ).pipe(
    Command.withDescription(
      `Run the built-in retention rules (purge forgotten members after the window, end invoice retention) and the policies of a file. A run that changes data needs ${secretVariable}. Exit code 3 when some member failed.`,
    ),
  )

  const importCsv = Command.make(
    "import",
    {
      csv: Args.file({ name: "csv", exists: "yes" }).pipe(Args.withDescription("the CSV file of contacts")),
      db: Options.text("db").pipe(
        Options.withPseudoName("file|url"),
        Options.withDescription(
          "the SQLite file (created if absent) or the postgres:// database (its schema created if absent) to import into",
        ),
      ),
      schema,
      keys,
      tenant: Options.text("tenant").pipe(
        Options.withPseudoName("id"),
        Options.withDescription("the tenant the contacts belong to"),
      ),
      restoreForgotten: Options.boolean("restore-forgotten").pipe(
        Options.withDescription("rows matching a member forgotten within the window restore it (R6)"),
      ),
      map: optionalText(
        "map",
        "the file's layout: mailchimp, hubspot or brevo (their exports as they come), or a JSON file mapping columns to fields (R43; default: Lethe's own columns)",
        "preset|file.json",
      ),
      purpose: optionalText(
        "purpose",
        "the purpose of rows without one: a tool's export names none (e.g. newsletter)",
        "purpose",
      ),
      dateFormat: optionalText(
        "date-format",
        "the dates' format as a date-fns pattern (dd.MM.yyyy, M/d/yyyy HH:mm), replacing the layout's (default: ISO 8601, or the preset's)",
        "pattern",
      ),
      timeZone: optionalText(
        "time-zone",
        "the IANA zone of dates and times written without one (Europe/Warsaw); needed for HubSpot's and Brevo's exports",
        "zone",
      ),
      separator: optionalText(
        "separator",
        'the field separator: "," ";" or tab (default: detected from the header row)',
        "char",
      ),
      encoding: optionalText(
        "encoding",
        "the file's encoding, e.g. windows-1250 (default: UTF-8; a file that is not valid UTF-8 is refused)",
        "name",
      ),
      actor: Options.text("actor").pipe(
        Options.withDefault("lethe-cli"),
        Options.withPseudoName("id"),
        Options.withDescription("who imports, recorded on every event (R8; default: lethe-cli)"),
      ),
      format: outputFormat(
        "the result: text for a terminal, json for tools with every applied and rejected row",
      ),
    },
    (a) =>
      run((io) =>
        importCommand(
          {
            csv: a.csv,
            db: a.db,
            schema: value(a.schema),
            keys: value(a.keys),
            tenant: a.tenant,
            restoreForgotten: a.restoreForgotten,
            map: value(a.map),
            purpose: value(a.purpose),
            dateFormat: value(a.dateFormat),
            timeZone: value(a.timeZone),
            separator: value(a.separator),
            encoding: value(a.encoding),
            actor: a.actor,
            format: a.format,
          },
          io,
        ),
      ),
  ).pipe(
    Command.withDescription(
      `Import contacts from a CSV file: Lethe's columns (email, purpose, given_at; name, phone, source_tag, wording_version, basis, status, status_at) or another tool's export (--map). Opt-outs (unsubscribed, cleaned, bounced, blocklisted) become unsubscribes and suppressions, never consents (R43). Needs ${secretVariable}. Exit code 3 when some rows were rejected; an import that fails as a whole (exit code 2) leaves no new database behind.`,
    ),
  )

  const demo = Command.make(
    "demo",
    {
      db: Options.text("db").pipe(
        Options.withDefault("lethe-demo.db"),
        Options.withPseudoName("file"),
        Options.withDescription("the new SQLite file to write (default: lethe-demo.db)"),
      ),
    },
    (a) => run((io) => demoCommand({ db: a.db }, io)),
  ).pipe(
    Command.withDescription(
      "Run the demo scenario (a gym member's guarded anonymization, a subscriber forgotten, restored and purged) into a new SQLite file, ready for lethe audit.",
    ),
  )

  return Command.make("lethe", {}, () =>
    Effect.fail(CliError.usage("a command is required: audit, export-log, retention, import or demo")),
  ).pipe(
    Command.withDescription(
      "Lethe: audit a member event log by replay, export it, run retention, import contacts. Run lethe <command> --help for a command's options and examples.",
    ),
    Command.withSubcommands([audit, exportLog, retention, importCsv, demo]),
  )
}

/** Text without ANSI colour codes. */
const stripColours = (text: string): string =>
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes start with ESC
  text.replace(/\u001b\[[0-9;]*m/g, "")

const oneLine = (text: string): string =>
  stripColours(text)
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .join(" ")

/**
 * Runs `lethe` with `argv` (as `process.argv`: node, script, then the
 * arguments) and resolves to the exit code. Never rejects.
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(process.argv)
 * ```
 */
export const runCli = async (argv: ReadonlyArray<string>, io: Io = processIo): Promise<number> => {
  let code: number = ExitCode.clean
  const run: Run = (work) =>
    Effect.tryPromise({
      try: () => work(io),
      catch: (error) =>
        error instanceof CliError ? error : CliError.io(`unexpected failure: ${reasonOf(error)}`),
    }).pipe(
      Effect.tap((result) =>
        Effect.sync(() => {
          code = result
        }),
      ),
      Effect.asVoid,
    )
  const named = commandNames.find((name) => name === argv[2])
  const cli = Command.run(commands(run), { name: "lethe", version, footer: helpFooter(named) })
  // @effect/cli prints its own parse errors; they are kept and said again as one line with the command's name.
  const parseErrors: Array<string> = []
  const fail = (reason: string) =>
    Effect.sync(() => {
      io.stderr.write(`lethe: ${reason}\n`)
      code = ExitCode.error
    })
  const program = Console.consoleWith((console) =>
    cli(argv).pipe(
      Console.withConsole({
        ...console,
        // Help and version: to the command's stdout, without colours unless it is a terminal and
        // NO_COLOR (https://no-color.org) is unset or empty.
        log: (...args: ReadonlyArray<unknown>) =>
          Effect.sync(() => {
            const text = tidyHelp(args.map(String).join(" "))
            const tty = "isTTY" in io.stdout && io.stdout.isTTY === true
            const colours = tty && (process.env.NO_COLOR ?? "") === ""
            io.stdout.write(`${colours ? text : stripColours(text)}\n`)
          }),
        error: (...args: ReadonlyArray<unknown>) =>
          Effect.sync(() => {
            parseErrors.push(args.map(String).join(" "))
          }),
      }),
    ),
  ).pipe(
    Effect.catchIf(ValidationError.isValidationError, () => {
      const command = named === undefined ? "" : ` ${named}`
      return fail(`${oneLine(parseErrors.join("\n")) || "invalid arguments"} (see lethe${command} --help)`)
    }),
    Effect.catchTag("CliError", (error) => fail(oneLine(error.reason))),
    Effect.catchAllDefect((defect) => fail(`unexpected failure: ${reasonOf(defect)}`)),
    // The built-in options (--completions, --log-level, --wizard) still parse but are not listed:
    // @effect/cli cannot drop them. --help and --version are named in the root's help instead.
    Effect.provide(CliConfig.layer({ showBuiltIns: false })),
    Effect.provide(NodeContext.layer),
  )
  await Effect.runPromise(program)
  return code
}
