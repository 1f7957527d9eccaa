/**
 * Ratios of Lethe to the raw driver and to Emmett, within one case and
 * variant: Lethe's median divided by the other's, in the figure's unit. For
 * a rate (appends/s, events/s) above 1 means Lethe is faster; for a time or
 * a memory figure below 1 means Lethe is cheaper. Where the raw driver also
 * wrote Lethe's own rows of a registration (`isRegistrationRows`), Lethe over
 * that figure is a ratio of its own.
 *
 * @module
 */
import type { Contender, Figure } from "./results.js"
import { isRegistrationRows } from "./results.js"

/** The median of a measured figure, or undefined. */
export const medianOf = (figure: Figure | undefined): number | undefined =>
  figure?.outcome.status === "measured" ? figure.outcome.summary.median : undefined

/** The first figure in the same case and variant as `figure` that `is`. */
const peer = (
  figures: ReadonlyArray<Figure>,
  figure: Figure,
  is: (other: Figure) => boolean,
): Figure | undefined => figures.find((f) => f.case === figure.case && f.variant === figure.variant && is(f))

const isRaw = (figure: Figure): boolean => figure.contender === "raw" && !isRegistrationRows(figure)
const isEmmett = (figure: Figure): boolean => figure.contender === "emmett"

/** Lethe's figure over the raw driver's, Emmett's and Lethe's rows written raw (undefined where not measured). */
export interface Ratios {
  readonly toRaw?: number
  readonly toEmmett?: number
  /** Over the raw driver writing Lethe's own rows of a registration (the append case). */
  readonly toRows?: number
}

const ratio = (lethe: number | undefined, other: number | undefined): number | undefined =>
  lethe === undefined || other === undefined || other === 0 ? undefined : lethe / other

/** The ratios of a Lethe figure; none for the other contenders. */
export const ratiosOf = (figures: ReadonlyArray<Figure>, figure: Figure): Ratios => {
  if (figure.contender !== "lethe") return {}
  const lethe = medianOf(figure)
  const toRaw = ratio(lethe, medianOf(peer(figures, figure, isRaw)))
  const toEmmett = ratio(lethe, medianOf(peer(figures, figure, isEmmett)))
  const toRows = ratio(lethe, medianOf(peer(figures, figure, isRegistrationRows)))
  return {
    ...(toRaw === undefined ? {} : { toRaw }),
    ...(toEmmett === undefined ? {} : { toEmmett }),
    ...(toRows === undefined ? {} : { toRows }),
  }
}

/**
 * The median of the first figure of `case` and `variant` with the `label`
 * and of the `contender` given (either or both), if measured.
 */
export const find = (
  figures: ReadonlyArray<Figure>,
  where: {
    readonly case: string
    readonly variant: string
    readonly label?: string
    readonly contender?: Contender
  },
): number | undefined =>
  medianOf(
    figures.find(
      (f) =>
        f.case === where.case &&
        f.variant === where.variant &&
        (where.label === undefined || f.label === where.label) &&
        (where.contender === undefined || f.contender === where.contender),
    ),
  )
