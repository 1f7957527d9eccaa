/**
 * The results of one run, as a JSON document and as Markdown: a table per
 * case (median, min, max, and the ratios Lethe/raw and Lethe/Emmett, and
 * Lethe/rows where the raw driver also wrote Lethe's own rows), the targets
 * with PASS or MISS, and every skipped or failed figure with why.
 *
 * @module
 */
import { format } from "./compare.js"
import type { Machine } from "./machine.js"
import type { ratiosOf } from "./ratios.js"
import type { Figure } from "./results.js"
import { higherIsBetter, isRegistrationRows } from "./results.js"
import type { Settings } from "./settings.js"
import type { TargetResult } from "./targets.js"

/** One run of the suite, as written to `bench/results/<date>.json`. */
export interface Run {
  readonly benchmark: "lethe-side-by-side"
  readonly date: string
  readonly quick: boolean
  /** The cases run when `LETHE_BENCH_CASES` chose some; absent when all ran. */
  readonly cases?: ReadonlyArray<string>
  /** `LETHE_BENCH_NOTE`: what else the machine was doing, for instance. */
  readonly note?: string
  /** The commit measured, and whether the work tree had changes. */
  readonly commit: string
  readonly machine: Machine
  readonly emmett: Readonly<Record<string, string>>
  /** Where the PostgreSQL cases ran, or why they were skipped. */
  readonly postgres: string
  readonly loadAverage: { readonly start: ReadonlyArray<number>; readonly end: ReadonlyArray<number> }
  readonly seconds: number
  readonly settings: Settings
  readonly figures: ReadonlyArray<Figure & { readonly ratios: ReturnType<typeof ratiosOf> }>
  readonly targets: ReadonlyArray<TargetResult>
  /** Cases that broke off as a whole, with the error. */
  readonly failures: ReadonlyArray<string>
}

const ratioCell = (value: number | undefined): string => (value === undefined ? "" : `${format(value)}×`)

type Align = "left" | "right"

/** A Markdown table with its columns padded to one width, as Biome formats it. */
const table = (
  header: ReadonlyArray<string>,
  align: ReadonlyArray<Align>,
  rows: ReadonlyArray<ReadonlyArray<string>>,
): ReadonlyArray<string> => {
  const widths = header.map((cell, i) => Math.max(3, cell.length, ...rows.map((r) => (r[i] ?? "").length)))
  const pad = (cell: string, i: number) =>
    align[i] === "right" ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)
  const line = (cells: ReadonlyArray<string>) => `| ${cells.map(pad).join(" | ")} |`
  const rule = widths.map((width, i) =>
    align[i] === "right" ? `${"-".repeat(width - 1)}:` : "-".repeat(width),
  )
  return [line(header), `| ${rule.join(" | ")} |`, ...rows.map(line)]
}

const caseTable = (figures: Run["figures"]): ReadonlyArray<string> => {
  const first = figures[0]
  if (first === undefined) return []
  const direction = higherIsBetter(first.unit) ? "higher is better" : "lower is better"
  // The column of Lethe over its own rows written raw, in the cases that measure them only.
  const withRows = figures.some(isRegistrationRows)
  const rows: Array<ReadonlyArray<string>> = []
  const notes: Array<string> = []
  const skips = new Map<string, Array<string>>()
  for (const figure of figures) {
    const { outcome } = figure
    const head = [figure.variant, figure.label]
    if (outcome.status === "measured") {
      const { median, min, max, runs } = outcome.summary
      rows.push([
        ...head,
        format(median),
        format(min),
        format(max),
        String(runs),
        ratioCell(figure.ratios.toRaw),
        ratioCell(figure.ratios.toEmmett),
        ...(withRows ? [ratioCell(figure.ratios.toRows)] : []),
      ])
      if (outcome.note !== undefined) notes.push(`${figure.variant}, ${figure.label}: ${outcome.note}.`)
    } else {
      rows.push([...head, outcome.status, "", "", "", "", "", ...(withRows ? [""] : [])])
      if (outcome.status === "failed")
        notes.push(`${figure.variant}, ${figure.label}: FAILED: ${outcome.reason}.`)
      else skips.set(outcome.reason, [...new Set([...(skips.get(outcome.reason) ?? []), figure.label])])
    }
  }
  for (const [reason, labels] of skips) notes.push(`${labels.join(", ")}: skipped: ${reason}.`)
  const lines = [
    `### ${first.case} (${first.unit}, ${direction})`,
    "",
    ...table(
      [
        "Variant",
        "Contender",
        "Median",
        "Min",
        "Max",
        "Runs",
        "Lethe/raw",
        "Lethe/Emmett",
        ...(withRows ? ["Lethe/rows"] : []),
      ],
      ["left", "left", ...Array.from({ length: withRows ? 7 : 6 }, (): Align => "right")],
      rows,
    ),
  ]
  return [...lines, ...(notes.length === 0 ? [] : ["", ...notes.map((n) => `- ${n}`)]), ""]
}

/** A target's measured value, with more digits where rounding would make it read as its threshold. */
const measuredCell = ({ value, threshold }: TargetResult): string => {
  if (value === undefined) return ""
  const text = format(value)
  return text === format(threshold) && value !== threshold ? String(Number(value.toPrecision(6))) : text
}

const targetTable = (targets: ReadonlyArray<TargetResult>): ReadonlyArray<string> => [
  "### Targets",
  "",
  ...table(
    ["Target", "Measured", "Wanted", "Result"],
    ["left", "right", "right", "left"],
    targets.map((t) => [
      t.target,
      measuredCell(t),
      `${t.comparison === ">=" ? "≥" : "≤"} ${format(t.threshold)}`,
      t.verdict === "MISS" ? "**MISS**" : t.verdict,
    ]),
  ),
  "",
]

const machineLine = (run: Run): string => {
  const m = run.machine
  const emmett = Object.entries(run.emmett)
    .map(([name, version]) => `${name.replace("@event-driven-io/", "")} ${version}`)
    .join(", ")
  return [
    `${m.cpus} cores (${m.cpuModel}), ${m.memoryGiB} GiB of memory, Node ${m.node}, ${m.platform};`,
    `PostgreSQL ${m.postgres ?? "not measured"}; SQLite ${m.sqlite} (better-sqlite3: the raw driver and Lethe)`,
    `and ${m.sqliteOfEmmett ?? "unknown"} (node-sqlite3: Emmett); Emmett packages ${emmett}.`,
  ].join(" ")
}

/** The run in Markdown: what, where, the tables, the targets. */
export const renderMarkdown = (run: Run): string => {
  const cases = [...new Set(run.figures.map((f) => f.case))]
  const header = [
    `Measured ${run.date.slice(0, 16).replace("T", " ")} UTC, ${run.quick ? "**QUICK smoke run (smaller sizes, fewer runs: not the issue's figures)**" : "full run"}, in ${Math.round(run.seconds)} s, at ${run.commit}.`,
    "",
    `Machine: ${machineLine(run)}`,
    "",
    `Load average (1, 5, 15 min) at the start ${run.loadAverage.start.join(", ")} and at the end ${run.loadAverage.end.join(", ")}: the machine has ${run.machine.cpus} cores, so a load above that means other work competed with the bench.${run.note === undefined ? "" : ` Note: ${run.note.replace(/\.?$/, ".")}`}`,
    "",
    `PostgreSQL: ${run.postgres}.`,
    "",
  ]
  const failures = run.failures.map((f) => `- FAILED: ${f.split("\n")[0]}`)
  return [
    ...header,
    ...cases.flatMap((c) => caseTable(run.figures.filter((f) => f.case === c))),
    ...targetTable(run.targets),
    ...(failures.length === 0 ? [] : ["### Cases that failed", "", ...failures, ""]),
  ].join("\n")
}
