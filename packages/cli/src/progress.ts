/**
 * A progress line on stderr for long runs, drawn only when stderr is a
 * terminal: piped or redirected output gets none, so logs and reports stay clean.
 *
 * @module
 */

/** What a progress line shows as work goes on. */
export interface Progress {
  /** `count` items handled so far (events, members). */
  update(count: number): void
  /** Clears the line. */
  finish(): void
}

const silent: Progress = { update: () => undefined, finish: () => undefined }

const number = new Intl.NumberFormat("en-US")

/**
 * A progress line for `what` (e.g. "events"). `measure` gives work done and
 * total when they are known (bytes of a file), for a bar and a percentage;
 * without it the line shows the count and the rate.
 *
 * @example
 * ```ts
 * const progress = progressLine(process.stderr, "auditing", "events")
 * progress.update(10_000)
 * progress.finish()
 * ```
 */
export const progressLine = (
  stream: NodeJS.WriteStream,
  label: string,
  what: string,
  measure: () => { readonly done: number; readonly total: number } | null = () => null,
): Progress => {
  if (stream.isTTY !== true) return silent
  const started = Date.now()
  let drawn = 0
  const draw = (count: number) => {
    const seconds = Math.max((Date.now() - started) / 1000, 0.001)
    const rate = `${number.format(Math.round(count / seconds))} ${what}/s`
    const measured = measure()
    let bar = ""
    if (measured !== null && measured.total > 0) {
      const ratio = Math.min(1, measured.done / measured.total)
      const width = 24
      const full = Math.round(ratio * width)
      bar = ` [${"#".repeat(full)}${"-".repeat(width - full)}] ${(ratio * 100).toFixed(0).padStart(3)}%`
    }
    const line = `${label}${bar} ${number.format(count)} ${what}, ${rate}`
    const columns = stream.columns !== undefined && stream.columns > 0 ? stream.columns : 80
    stream.write(`\r\x1b[2K${line.slice(0, Math.max(20, columns - 1))}`)
  }
  return {
    update: (count) => {
      const now = Date.now()
      if (now - drawn < 100) return
      drawn = now
      draw(count)
    },
    finish: () => {
      stream.write("\r\x1b[2K")
    },
  }
}
