/**
 * Ratios of Lethe to the raw driver and to Emmett, within one case and
 * variant: Lethe's median divided by the other's, in the figure's unit. For
 * a rate (appends/s, events/s) above 1 means Lethe is faster; for a time or
 * a memory figure below 1 means Lethe is cheaper.
 *
 * @module
 */
import type { Contender, Figure } from "./results.js"

/** The median of a measured figure, or undefined. */
export const medianOf = (figure: Figure | undefined): number | undefined =>
  figure?.outcome.status === "measured" ? figure.outcome.summary.median : undefined

/** The first figure of `contender` in the same case and variant as `figure`. */
const peer = (figures: ReadonlyArray<Figure>, figure: Figure, contender: Contender): Figure | undefined =>
  figures.find((f) => f.case === figure.case && f.variant === figure.variant && f.contender === contender)

/** Lethe's figure over the raw driver's and Emmett's (undefined where either is not measured). */
export interface Ratios {
  readonly toRaw?: number
  readonly toEmmett?: number
}

const ratio = (lethe: number | undefined, other: number | undefined): number | undefined =>
  lethe === undefined || other === undefined || other === 0 ? undefined : lethe / other

/** The ratios of a Lethe figure; none for the other contenders. */
export const ratiosOf = (figures: ReadonlyArray<Figure>, figure: Figure): Ratios => {
  if (figure.contender !== "lethe") return {}
  const lethe = medianOf(figure)
  const toRaw = ratio(lethe, medianOf(peer(figures, figure, "raw")))
  const toEmmett = ratio(lethe, medianOf(peer(figures, figure, "emmett")))
  return {
    ...(toRaw === undefined ? {} : { toRaw }),
    ...(toEmmett === undefined ? {} : { toEmmett }),
  }
}

/** The median of the figure of `case`, `variant` and `label`, if measured. */
export const find = (
  figures: ReadonlyArray<Figure>,
  where: { readonly case: string; readonly variant: string; readonly label: string },
): number | undefined =>
  medianOf(
    figures.find((f) => f.case === where.case && f.variant === where.variant && f.label === where.label),
  )
