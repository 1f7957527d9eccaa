/**
 * The targets of issue 21, checked on the figures of the same run: a
 * registration against the raw driver writing Lethe's own rows of it and
 * against Emmett's append, 8 concurrent registrations against the raw
 * one-row insert, one command on an existing member against Emmett's, the
 * first command after open against the next, the bulk import's and the
 * audit's rates, and the retention plan's time. Then the targets of issue 8
 * that passed and must keep passing: purging and deciding that do not grow
 * with history, and the audit's memory flat in the log's size. A target
 * whose figures are missing (a case not run, skipped or failed) is "not
 * measured".
 *
 * @module
 */
import { appendCase, concurrentCase } from "./cases/append.js"
import { auditCase, auditMemoryCase, auditVariant, letheAudit } from "./cases/audit.js"
import { bulkCase } from "./cases/bulk.js"
import type { History } from "./cases/decide.js"
import { decideCase, decideVariant, letheCold, letheWarm } from "./cases/decide.js"
import { lethePurge, purgeCase, purgeVariant } from "./cases/purge.js"
import { retentionCase } from "./cases/retention.js"
import type { BenchContext } from "./context.js"
import { find, medianOf, ratiosOf } from "./ratios.js"
import type { Figure } from "./results.js"
import { registrationRows } from "./results.js"

export type Verdict = "PASS" | "MISS" | "not measured"

/** A target and how this run did. */
export interface TargetResult {
  readonly target: string
  /** The measured value the target is about (a ratio, events/s or ms). */
  readonly value?: number
  readonly comparison: ">=" | "<="
  readonly threshold: number
  readonly verdict: Verdict
}

const check = (
  target: string,
  value: number | undefined,
  comparison: ">=" | "<=",
  threshold: number,
): TargetResult => ({
  target,
  ...(value === undefined ? {} : { value }),
  comparison,
  threshold,
  verdict:
    value === undefined
      ? "not measured"
      : (comparison === ">=" ? value >= threshold : value <= threshold)
        ? "PASS"
        : "MISS",
})

const over = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined || b === 0 ? undefined : a / b

const sqliteFull = "SQLite WAL FULL"
const sqliteNormal = "SQLite WAL NORMAL"
const postgres = "PostgreSQL"

const count = (n: number): string => n.toLocaleString("en-US")

/** Every target, checked against `figures`. */
export const checkTargets = (
  context: BenchContext,
  figures: ReadonlyArray<Figure>,
): ReadonlyArray<TargetResult> => {
  const { decide, purge, audit, retention } = context.settings
  /** Lethe's ratios in `caseName` on `variant`, as the tables show them. */
  const ratios = (caseName: string, variant: string) => {
    const lethe = figures.find((f) => f.case === caseName && f.variant === variant && f.contender === "lethe")
    return lethe === undefined ? {} : ratiosOf(figures, lethe)
  }
  const singleWriter = [sqliteFull, sqliteNormal, postgres]
  const register = [
    ...singleWriter.map((backend) =>
      check(
        `register, ${backend}, 1 writer: Lethe / ${registrationRows}`,
        ratios(appendCase, backend).toRows,
        ">=",
        0.8,
      ),
    ),
    ...singleWriter.map((backend) =>
      check(
        `register, ${backend}, 1 writer: Lethe / Emmett appending one event to a new stream`,
        ratios(appendCase, backend).toEmmett,
        ">=",
        1,
      ),
    ),
    check(
      `register, ${postgres}, 8 writers: Lethe / raw one-row insert`,
      ratios(concurrentCase, postgres).toRaw,
      ">=",
      0.5,
    ),
  ]
  const deciding = (backend: string, history: History, label: string) =>
    find(figures, { case: decideCase, variant: decideVariant(context, backend, history), label })
  const emmettDeciding = (backend: string, history: History) =>
    find(figures, {
      case: decideCase,
      variant: decideVariant(context, backend, history),
      contender: "emmett",
    })
  const decideBackends = [sqliteFull, postgres]
  const histories: ReadonlyArray<readonly [History, number]> = [
    ["small", decide.small],
    ["large", decide.large],
  ]
  const command = [
    ...decideBackends.flatMap((backend) =>
      histories.map(([history, events]) =>
        check(
          `one command on an existing member, ${backend}, ${count(events)} events, warm: Lethe / Emmett (time)`,
          over(deciding(backend, history, letheWarm), emmettDeciding(backend, history)),
          "<=",
          0.8,
        ),
      ),
    ),
    ...decideBackends.map((backend) =>
      check(
        `one command on an existing member, ${backend}, ${count(decide.small)} events: cold (first command after open) / warm`,
        over(deciding(backend, "small", letheCold), deciding(backend, "small", letheWarm)),
        "<=",
        1.5,
      ),
    ),
  ]
  const bulk = [sqliteFull, postgres].map((backend) =>
    check(
      `bulk import of contacts (4 events each), batches of 100, ${backend}: Lethe events/s`,
      find(figures, { case: bulkCase, variant: backend, contender: "lethe" }),
      ">=",
      30_000,
    ),
  )
  const full = auditVariant(audit.events)
  const auditSpeed = find(figures, { case: auditCase, variant: full, label: letheAudit })
  const auditing = [
    check(`audit replay, ${full}: Lethe events/s`, auditSpeed, ">=", 200_000),
    check(
      `audit replay, ${full}: Lethe / the floor (read + JSON.parse each line)`,
      over(auditSpeed, find(figures, { case: auditCase, variant: full, contender: "raw" })),
      ">=",
      0.6,
    ),
    check(
      `audit peak memory flat: peak RSS at ${full} / at ${auditVariant(audit.smallEvents)}`,
      over(
        find(figures, { case: auditMemoryCase, variant: full, label: letheAudit }),
        find(figures, { case: auditMemoryCase, variant: auditVariant(audit.smallEvents), label: letheAudit }),
      ),
      "<=",
      1.2,
    ),
  ]
  const planning = check(
    `retention plan (dry run), ${count(retention.members)} members: Lethe ms`,
    medianOf(figures.find((f) => f.case === retentionCase && f.contender === "lethe")),
    "<=",
    500,
  )
  const purging = decideBackends.map((backend) =>
    check(
      `purge, ${backend}: ${count(purge.large)} events / ${count(purge.small)}`,
      over(
        find(figures, { case: purgeCase, variant: purgeVariant(backend, purge.large), label: lethePurge }),
        find(figures, { case: purgeCase, variant: purgeVariant(backend, purge.small), label: lethePurge }),
      ),
      "<=",
      1.5,
    ),
  )
  const growth = decideBackends.flatMap((backend) =>
    [letheWarm, letheCold].map((label) =>
      check(
        `read and decide, ${backend}, ${label}: ${count(decide.large)} visits / ${count(decide.small)}`,
        over(deciding(backend, "large", label), deciding(backend, "small", label)),
        "<=",
        1.5,
      ),
    ),
  )
  return [...register, ...command, ...bulk, ...auditing, planning, ...purging, ...growth]
}
