/**
 * What `lethe --help` adds to the help @effect/cli draws: examples for each
 * command and the exit codes (a footer), and the help tidied of the
 * framework's boilerplate (a type line such as "A user-defined piece of
 * text." on every option, a usage line without the program's name).
 *
 * @module
 */
import { HelpDoc, Span } from "@effect/cli"
import { ExitCode } from "./errors.js"

/** The commands of `lethe`. */
export const commandNames = ["audit", "export-log", "retention", "import", "demo"] as const

/** A command of `lethe`. */
export type CommandName = (typeof commandNames)[number]

/** Two to five examples per command: what to type, and what it does. */
export const examples: Readonly<Record<CommandName, ReadonlyArray<readonly [string, string]>>> = {
  audit: [
    ["lethe audit lethe.db", "audit a SQLite database; the report on stdout"],
    [
      "lethe audit log.jsonl --format html --out report.html",
      "audit a log written by export-log, as one HTML page",
    ],
    [
      "lethe audit postgres://auditor@db/app --schema lethe --public-key controller.pem --format json --out -",
      "audit a PostgreSQL schema, checkpoints verified under the controller's key, JSON on stdout",
    ],
  ],
  "export-log": [
    ["lethe export-log lethe.db --out log.jsonl", "write the log of a SQLite database to a file"],
    [
      "lethe export-log postgres://app@db/app --schema lethe --out - | gzip > log.jsonl.gz",
      "write the log to stdout",
    ],
  ],
  retention: [
    ["lethe retention lethe.db --dry-run", "list who the retention rules would affect; needs no secret"],
    [
      "LETHE_SECRET=... lethe retention lethe.db --policies policies.json",
      "run the built-in rules and a file's policies",
    ],
    ["LETHE_SECRET=... lethe retention lethe.db --format json", "run them, the report as JSON"],
  ],
  import: [
    ["LETHE_SECRET=... lethe import contacts.csv --db lethe.db --tenant shop", "import into a SQLite file"],
    [
      "LETHE_SECRET=... lethe import contacts.csv --db postgres://app@db/app --tenant shop --restore-forgotten",
      "import into PostgreSQL, restoring members forgotten within the window (R6)",
    ],
    [
      "LETHE_SECRET=... lethe import contacts.csv --db lethe.db --tenant shop --format json",
      "the applied and rejected rows as JSON",
    ],
    [
      "LETHE_SECRET=... lethe import unsubscribed_members_export.csv --db lethe.db --tenant shop --map mailchimp --purpose newsletter",
      "import Mailchimp's unsubscribed export: unsubscribes dated as Mailchimp dates them (R43)",
    ],
    [
      "LETHE_SECRET=... lethe import kontakty.csv --db lethe.db --tenant shop --map brevo --purpose newsletter --time-zone Europe/Warsaw --encoding windows-1250",
      "import a Brevo export saved by Excel in Polish, its times in Warsaw time",
    ],
  ],
  demo: [
    ["lethe demo", "write the demo scenario to lethe-demo.db"],
    ["lethe demo --db /tmp/demo.db && lethe audit /tmp/demo.db", "write it elsewhere, then audit it"],
  ],
}

/** The exit codes, as `lethe --help` and docs/audit.md list them. */
export const exitCodes: ReadonlyArray<readonly [number, string]> = [
  [ExitCode.clean, "done; the audit found nothing"],
  [ExitCode.findings, "the audit found something (findings)"],
  [
    ExitCode.error,
    "the command failed as a whole: bad arguments, or a source or output that cannot be used (one line on stderr; a failed import leaves no new database behind)",
  ],
  [ExitCode.partial, "done in part: an import rejected rows, or a retention run failed for some member"],
]

const exitCodesDoc: HelpDoc.HelpDoc = HelpDoc.sequence(
  HelpDoc.h1("EXIT CODES"),
  HelpDoc.descriptionList(
    exitCodes.map(([code, meaning]) => [Span.text(String(code)), HelpDoc.p(meaning)]) as [
      [Span.Span, HelpDoc.HelpDoc],
      ...Array<[Span.Span, HelpDoc.HelpDoc]>,
    ],
  ),
)

const examplesDoc = (command: CommandName): HelpDoc.HelpDoc =>
  HelpDoc.sequence(
    HelpDoc.h1("EXAMPLES"),
    HelpDoc.descriptionList(
      examples[command].map(([line, what]) => [Span.code(`$ ${line}`), HelpDoc.p(what)]) as [
        [Span.Span, HelpDoc.HelpDoc],
        ...Array<[Span.Span, HelpDoc.HelpDoc]>,
      ],
    ),
  )

const everyCommandDoc: HelpDoc.HelpDoc = HelpDoc.sequence(
  HelpDoc.h1("EXAMPLES"),
  HelpDoc.descriptionList(
    commandNames.map((command) => [
      Span.code(`$ ${examples[command][0]?.[0] ?? `lethe ${command}`}`),
      HelpDoc.p(`${examples[command][0]?.[1] ?? ""} (more: lethe ${command} --help)`),
    ]) as [[Span.Span, HelpDoc.HelpDoc], ...Array<[Span.Span, HelpDoc.HelpDoc]>],
  ),
)

const conventionsDoc: HelpDoc.HelpDoc = HelpDoc.sequence(
  HelpDoc.h1("CONVENTIONS"),
  HelpDoc.blocks([
    HelpDoc.p(
      "--help on any command shows its options and examples; --version prints the version. Reports and results go to stdout, status and one-line errors to stderr; --out - means stdout. NO_COLOR turns the help's colours off.",
    ),
  ]),
)

/** The footer of the help of `command` (the root's when undefined): its examples, then the exit codes. */
export const helpFooter = (command: CommandName | undefined): HelpDoc.HelpDoc =>
  command === undefined
    ? HelpDoc.blocks([everyCommandDoc, conventionsDoc, exitCodesDoc])
    : HelpDoc.blocks([examplesDoc(command), exitCodesDoc])

/**
 * The type lines @effect/cli writes above each option's own description,
 * saying nothing the usage line does not ("--format text | json").
 */
const boilerplate: ReadonlySet<string> = new Set([
  "A user-defined piece of text.",
  "A true or false value.",
  "An integer.",
  "An existing file.",
])

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes start with ESC
const ansi = /\u001b\[[0-9;]*m/g

/** A usage line of a command, which @effect/cli writes without the program's name. */
const usageLine = new RegExp(`^((?:\\s|\u001b\\[[0-9;]*m)*)\\$ (${commandNames.join("|")})\\b`)

/**
 * The help as @effect/cli renders it, tidied: without the type line of each
 * option (its usage shows the type), and with the usage line naming the
 * program (`$ lethe audit ...`, not `$ audit ...`). Colour codes are kept.
 */
export const tidyHelp = (text: string): string => {
  const out: Array<string> = []
  let skipBlank = false
  for (const line of text.split("\n")) {
    const plain = line.replace(ansi, "").trim()
    if (boilerplate.has(plain) || plain.startsWith("One of the following: ")) {
      skipBlank = true
      continue
    }
    if (skipBlank && plain === "") {
      skipBlank = false
      continue
    }
    skipBlank = false
    out.push(line.replace(usageLine, "$1$ lethe $2"))
  }
  return out.join("\n")
}
