/**
 * Timing and summaries: every figure of the bench is the median of several
 * runs, reported with its min and max.
 *
 * @module
 */

/** Median, min and max of a figure's runs. */
export interface Summary {
  readonly median: number
  readonly min: number
  readonly max: number
  readonly runs: number
}

/** Median (the upper one for an even count), min and max of a list of samples. */
export const summarize = (samples: ReadonlyArray<number>): Summary => {
  const sorted = [...samples].sort((a, b) => a - b)
  return {
    median: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN,
    min: sorted[0] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
    runs: sorted.length,
  }
}

/** Milliseconds `work` took. */
export const timeMs = async (work: () => Promise<unknown>): Promise<number> => {
  const start = process.hrtime.bigint()
  await work()
  return Number(process.hrtime.bigint() - start) / 1e6
}

/** Runs `run` `runs` times, one after the other, and summarizes what each returned. */
export const repeat = async (runs: number, run: (index: number) => Promise<number>): Promise<Summary> => {
  const samples: Array<number> = []
  for (let index = 0; index < runs; index++) samples.push(await run(index))
  return summarize(samples)
}

/** Operations per second for `count` operations done in `ms` milliseconds. */
export const perSecond = (count: number, ms: number): number => (count * 1000) / ms

/**
 * Runs `loops` asynchronous loops at once over the indexes `0 .. count - 1`
 * (loop `w` takes `w`, `w + loops`, ...), as concurrent writers would.
 */
export const inLoops = async (
  count: number,
  loops: number,
  step: (index: number) => Promise<unknown>,
): Promise<void> => {
  await Promise.all(
    Array.from({ length: loops }, async (_, loop) => {
      for (let index = loop; index < count; index += loops) await step(index)
    }),
  )
}
