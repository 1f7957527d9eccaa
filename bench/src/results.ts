/**
 * What the bench records: one figure per case, variant and contender, each
 * measured (median, min, max), skipped (with the reason) or failed (with the
 * error). Nothing is left out silently.
 *
 * @module
 */
import type { Summary } from "./measure.js"

/** Who is measured: the raw driver (the floor), the peer (Emmett), or Lethe. */
export type Contender = "raw" | "emmett" | "lethe"

/**
 * The label of a second raw figure, in the append case: the raw driver
 * writing Lethe's own rows of a registration (3 events, 2 wrapped keys, the
 * directory row) in one transaction, the floor of Lethe's data model beside
 * the floor of an append (one row). The ratios call Lethe over it `toRows`;
 * `toRaw` stays Lethe over the variant's other raw figure.
 */
export const registrationRows = "raw driver writing a registration's rows"

/** Whether `figure` is the raw driver writing Lethe's own rows of a registration (`registrationRows`). */
export const isRegistrationRows = (figure: Pick<Figure, "contender" | "label">): boolean =>
  figure.contender === "raw" && figure.label === registrationRows

export type Unit = "appends/s" | "events/s" | "ms" | "MiB"

/** Whether a bigger figure is better (rates) or worse (times, memory). */
export const higherIsBetter = (unit: Unit): boolean => unit === "appends/s" || unit === "events/s"

/** A measured figure, with anything a reader must know to read it (e.g. a run stopped at its time cap). */
export interface Measured {
  readonly summary: Summary
  readonly note?: string
}

export type Outcome =
  | ({ readonly status: "measured" } & Measured)
  | { readonly status: "skipped"; readonly reason: string }
  | { readonly status: "failed"; readonly reason: string }

/** One line of the results table. */
export interface Figure {
  /** The case, e.g. "append, 1 writer". */
  readonly case: string
  /** What is compared within the case, e.g. "SQLite WAL FULL"; ratios compare figures of one variant. */
  readonly variant: string
  readonly contender: Contender
  /** Who exactly, e.g. "raw better-sqlite3", "Emmett SQLite 0.42.4", "Lethe (warm)". */
  readonly label: string
  readonly unit: Unit
  readonly outcome: Outcome
}

/** A figure that is not measured, for every contender of a case at once (e.g. no PostgreSQL). */
export const skipped = (reason: string): Outcome => ({ status: "skipped", reason })

/** Runs `measure` and records what it measured, or the error it threw. */
export const attempt = async (measure: () => Promise<Measured>): Promise<Outcome> => {
  try {
    return { status: "measured", ...(await measure()) }
  } catch (error) {
    return { status: "failed", reason: error instanceof Error ? error.message : String(error) }
  }
}

/** A case's figures, as each case module returns them. */
export type CaseResult = ReadonlyArray<Figure>
