/**
 * The targets of issue 8, checked on the figures of the same run: Lethe's
 * append rate against the raw driver's, deciding and purging that do not
 * grow with history, and the audit's speed and flat memory.
 *
 * @module
 */
import { appendCase, concurrentCase } from "./cases/append.js"
import { auditCase, auditMemoryCase, auditVariant, letheAudit } from "./cases/audit.js"
import { decideCase, decideVariant, letheCold, letheWarm } from "./cases/decide.js"
import { lethePurge, purgeCase, purgeVariant } from "./cases/purge.js"
import type { BenchContext } from "./context.js"
import { find, ratiosOf } from "./ratios.js"
import type { Figure } from "./results.js"

export type Verdict = "PASS" | "MISS" | "not measured"

/** A target and how this run did. */
export interface TargetResult {
  readonly target: string
  /** The measured value the target is about (a ratio, or events/s). */
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

/** Every target, checked against `figures`. */
export const checkTargets = (
  context: BenchContext,
  figures: ReadonlyArray<Figure>,
): ReadonlyArray<TargetResult> => {
  const { decide, purge, audit } = context.settings
  const appendRatio = (caseName: string, variant: string) => {
    const lethe = figures.find((f) => f.case === caseName && f.variant === variant && f.contender === "lethe")
    return lethe === undefined ? undefined : ratiosOf(figures, lethe).toRaw
  }
  const appends = [
    { caseName: appendCase, variant: "PostgreSQL", at: "PostgreSQL, 1 writer", threshold: 0.75 },
    { caseName: concurrentCase, variant: "PostgreSQL", at: "PostgreSQL, 8 writers", threshold: 0.75 },
    { caseName: appendCase, variant: "SQLite WAL FULL", at: "SQLite, synchronous FULL", threshold: 0.75 },
    { caseName: appendCase, variant: "SQLite WAL NORMAL", at: "SQLite, synchronous NORMAL", threshold: 0.5 },
  ].map(({ caseName, variant, at, threshold }) =>
    check(`append rate, ${at}: Lethe / raw`, appendRatio(caseName, variant), ">=", threshold),
  )
  const large = decide.large.toLocaleString("en-US")
  const small = decide.small.toLocaleString("en-US")
  const deciding = ["SQLite WAL FULL", "PostgreSQL"].flatMap((backend) =>
    [letheWarm, letheCold].map((label) =>
      check(
        `read and decide, ${backend}, ${label}: ${large} visits / ${small}`,
        over(
          find(figures, { case: decideCase, variant: decideVariant(context, backend, "large"), label }),
          find(figures, { case: decideCase, variant: decideVariant(context, backend, "small"), label }),
        ),
        "<=",
        1.5,
      ),
    ),
  )
  const purging = ["SQLite WAL FULL", "PostgreSQL"].map((backend) =>
    check(
      `purge, ${backend}: ${purge.large.toLocaleString("en-US")} events / ${purge.small.toLocaleString("en-US")}`,
      over(
        find(figures, { case: purgeCase, variant: purgeVariant(backend, purge.large), label: lethePurge }),
        find(figures, { case: purgeCase, variant: purgeVariant(backend, purge.small), label: lethePurge }),
      ),
      "<=",
      1.5,
    ),
  )
  const full = auditVariant(audit.events)
  const auditing = [
    check(
      `audit speed, ${full}: events/s`,
      find(figures, { case: auditCase, variant: full, label: letheAudit }),
      ">=",
      100_000,
    ),
    check(
      `audit memory independent of log size: peak RSS at ${full} / at ${auditVariant(audit.smallEvents)}`,
      over(
        find(figures, { case: auditMemoryCase, variant: full, label: letheAudit }),
        find(figures, { case: auditMemoryCase, variant: auditVariant(audit.smallEvents), label: letheAudit }),
      ),
      "<=",
      1.2,
    ),
  ]
  return [...appends, ...deciding, ...purging, ...auditing]
}
