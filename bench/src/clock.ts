/**
 * A clock the bench moves forward, given to `createLethe` so that a restore
 * window can end, or a history can lie years back, within one run.
 *
 * @module
 */

export interface MovableClock {
  /** The current time, for `createLethe({ clock })`. */
  readonly now: () => Date
  /** Moves the time `ms` milliseconds forward. */
  advance(ms: number): void
  /** Sets the time. */
  set(at: number): void
}

/** A clock reading `start` (default: the real time) until moved. */
export const movableClock = (start: number = Date.now()): MovableClock => {
  let at = start
  return {
    now: () => new Date(at),
    advance: (ms) => {
      at += ms
    },
    set: (to) => {
      at = to
    },
  }
}
