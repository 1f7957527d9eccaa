/**
 * Measuring contenders side by side: each is started, then measured once per
 * round, taking turns, so a busy moment of the (shared) machine falls on all
 * of them alike. A contender that fails is recorded as failed with its error,
 * and the others go on.
 *
 * @module
 */
import type { Backend } from "./backends.js"
import { summarize } from "./measure.js"
import type { Contender, Figure, Outcome, Unit } from "./results.js"
import { skipped } from "./results.js"

/** A started contender: one sample per round. */
export interface Sampler {
  sample(round: number): Promise<number>
  /** What a reader must know about the samples taken, if anything. */
  note?(): string | undefined
  close(): Promise<void>
}

export interface Contestant {
  readonly contender: Contender
  readonly label: string
  /** Starts the contender, or says why it has no figure here. */
  readonly start: (() => Promise<Sampler>) | { readonly skip: string }
}

export interface Comparison {
  readonly case: string
  readonly variant: string
  readonly unit: Unit
  readonly runs: number
  /** Why none of the contenders can be measured (no PostgreSQL server), if so. */
  readonly unavailable?: string
  readonly contestants: ReadonlyArray<Contestant>
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error))

interface Entry {
  readonly contestant: Contestant
  sampler?: Sampler
  readonly samples: Array<number>
  outcome?: Outcome
}

const start = async (entry: Entry) => {
  const { start } = entry.contestant
  if ("skip" in start) entry.outcome = skipped(start.skip)
  else
    try {
      entry.sampler = await start()
    } catch (error) {
      entry.outcome = { status: "failed", reason: message(error) }
    }
}

const close = async (entry: Entry) => {
  try {
    await entry.sampler?.close()
  } catch (error) {
    entry.outcome ??= { status: "failed", reason: `close: ${message(error)}` }
  }
}

/** Measures the contestants, `runs` rounds, and returns one figure each, printed as they come. */
export const compare = async (
  comparison: Comparison,
  progress: (line: string) => void,
): Promise<ReadonlyArray<Figure>> => {
  const entries: Array<Entry> = comparison.contestants.map((contestant) => ({ contestant, samples: [] }))
  if (comparison.unavailable !== undefined)
    for (const entry of entries) entry.outcome = skipped(comparison.unavailable)
  else {
    for (const entry of entries) await start(entry)
    for (let round = 0; round < comparison.runs; round++)
      for (const entry of entries) {
        if (entry.sampler === undefined || entry.outcome !== undefined) continue
        try {
          entry.samples.push(await entry.sampler.sample(round))
        } catch (error) {
          entry.outcome = { status: "failed", reason: message(error) }
        }
      }
    for (const entry of entries) await close(entry)
  }
  return entries.map((entry): Figure => {
    const note = entry.sampler?.note?.()
    const outcome: Outcome = entry.outcome ?? {
      status: "measured",
      summary: summarize(entry.samples),
      ...(note === undefined ? {} : { note }),
    }
    const figure: Figure = {
      case: comparison.case,
      variant: comparison.variant,
      contender: entry.contestant.contender,
      label: entry.contestant.label,
      unit: comparison.unit,
      outcome,
    }
    progress(describe(figure))
    return figure
  })
}

/** A figure on one line, as the progress output prints it. */
export const describe = (figure: Figure): string => {
  const where = `${figure.case} · ${figure.variant} · ${figure.label}`
  const { outcome } = figure
  switch (outcome.status) {
    case "measured": {
      const { median, min, max, runs } = outcome.summary
      const note = outcome.note === undefined ? "" : ` [${outcome.note}]`
      return `${where}: ${format(median)} ${figure.unit} (min ${format(min)}, max ${format(max)}, ${runs} run${runs === 1 ? "" : "s"})${note}`
    }
    case "skipped":
      return `${where}: skipped: ${outcome.reason}`
    case "failed":
      return `${where}: FAILED: ${outcome.reason}`
  }
}

/** A figure rounded for reading: 3 significant digits below 100, whole numbers above, with separators. */
export const format = (value: number): string =>
  Number.isNaN(value)
    ? "n/a"
    : Math.abs(value) >= 100
      ? Math.round(value).toLocaleString("en-US")
      : Number(value.toPrecision(3)).toString()

/** The three contenders, in the order the tables show them. */
export const contenders: ReadonlyArray<Contender> = ["raw", "emmett", "lethe"]

/** Compares the raw driver, Emmett and Lethe on `backend`, each started by `start`. */
export const compareOn = (
  backend: Backend,
  spec: Pick<Comparison, "case" | "unit" | "runs">,
  start: (contender: Contender) => Contestant["start"],
  progress: (line: string) => void,
): Promise<ReadonlyArray<Figure>> =>
  compare(
    {
      ...spec,
      variant: backend.variant,
      ...(backend.unavailable === undefined ? {} : { unavailable: backend.unavailable }),
      contestants: contenders.map((contender) => ({
        contender,
        label: backend.labels[contender],
        start: start(contender),
      })),
    },
    progress,
  )
