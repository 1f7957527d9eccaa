/**
 * Sizes and run counts of every case: the full suite (the sizes,
 * about 20 minutes on 2 cores) or a quick smoke run (`LETHE_BENCH_QUICK=1`,
 * smaller sizes, a few minutes), whose figures are marked as quick.
 *
 * @module
 */

export interface Settings {
  readonly quick: boolean
  /** Appends of 1 event per command, each to a new member; untimed warm-up appends before each run. */
  readonly append: {
    readonly runs: number
    readonly sqlite: number
    readonly postgres: number
    readonly warmup: number
  }
  /** The same with concurrent writers sharing one pool of as many connections. */
  readonly concurrent: { readonly runs: number; readonly writers: number; readonly appends: number }
  /**
   * An import: `events` in batches of `batch`. A run stops early after `capSeconds`, so a slow contender
   * cannot hold the suite up; its rate is then measured over the events it imported (and marked).
   */
  readonly bulk: {
    readonly runs: number
    readonly events: number
    readonly batch: number
    readonly capSeconds: number
  }
  /**
   * Read and decide: a member with `mixEvents` events (the first `variedEvents` from a cycle of real
   * commands, then visits), and members with `small` and `large` activity events; each run is the
   * mean of `perRun` commands (one command takes a few milliseconds: alone, a sample is mostly noise).
   */
  readonly decide: {
    readonly runs: number
    readonly perRun: number
    readonly mixEvents: number
    readonly variedEvents: number
    readonly small: number
    readonly large: number
  }
  /** Forget, then purge after the restore window, of members with `small` and `large` events. */
  readonly purge: { readonly runs: number; readonly small: number; readonly large: number }
  /** Audit of generated logs of `events` and of `smallEvents` events. */
  readonly audit: { readonly runs: number; readonly events: number; readonly smallEvents: number }
  /** A retention dry run over `members` members. */
  readonly retention: { readonly runs: number; readonly members: number }
  /** A projection caught up from the start over a SQLite log of `events` events of `members` members. */
  readonly projection: { readonly runs: number; readonly events: number; readonly members: number }
}

const full: Settings = {
  quick: false,
  append: { runs: 5, sqlite: 400, postgres: 200, warmup: 20 },
  concurrent: { runs: 5, writers: 8, appends: 400 },
  bulk: { runs: 3, events: 100_000, batch: 100, capSeconds: 20 },
  decide: { runs: 5, perRun: 10, mixEvents: 2_000, variedEvents: 500, small: 10, large: 10_000 },
  purge: { runs: 5, small: 10, large: 10_000 },
  audit: { runs: 3, events: 1_000_000, smallEvents: 250_000 },
  retention: { runs: 5, members: 100_000 },
  projection: { runs: 3, events: 1_000_000, members: 2_000 },
}

const quick: Settings = {
  quick: true,
  append: { runs: 3, sqlite: 60, postgres: 40, warmup: 5 },
  concurrent: { runs: 3, writers: 8, appends: 80 },
  bulk: { runs: 2, events: 5_000, batch: 100, capSeconds: 6 },
  decide: { runs: 3, perRun: 3, mixEvents: 400, variedEvents: 100, small: 10, large: 1_000 },
  purge: { runs: 3, small: 10, large: 1_000 },
  audit: { runs: 1, events: 100_000, smallEvents: 25_000 },
  retention: { runs: 3, members: 5_000 },
  projection: { runs: 1, events: 50_000, members: 200 },
}

/** The settings `LETHE_BENCH_QUICK` selects (any value but "" and "0" means quick). */
export const settingsFromEnv = (env: NodeJS.ProcessEnv = process.env): Settings => {
  const flag = env.LETHE_BENCH_QUICK
  return flag !== undefined && flag !== "" && flag !== "0" ? quick : full
}
