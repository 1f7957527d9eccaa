/**
 * What a conformance case is and what it gets to run: a way to open fresh
 * stores of the adapter under test (closed after the case), to reopen one, to
 * run fast-check properties with the suite's settings, and to skip itself when
 * the adapter lacks an optional part.
 *
 * @module
 */
import type { LetheStore } from "@lethe/core"
import fc from "fast-check"
import type { ProjectionTable } from "./projections.js"

/** fast-check settings a conformance run may override, e.g. to replay a failure. */
export interface PropertySettings {
  /** Runs of every property case (each case has its own modest default). */
  readonly numRuns?: number
  /** The seed fast-check printed with a failure. */
  readonly seed?: number
  /** The path fast-check printed with a failure (replays the shrunk counterexample). */
  readonly path?: string
  /**
   * The `replayPath` a model-based counterexample prints in a comment after its
   * commands: with `seed` and `path`, it replays that command sequence exactly.
   */
  readonly replayPath?: string
  /** Print every run (fast-check `verbose`). */
  readonly verbose?: boolean
}

/** What a case runs with. */
export interface CaseContext {
  /** A fresh, empty store of the adapter under test. It is closed after the case. */
  readonly open: () => Promise<LetheStore>
  /**
   * Closes `store` and opens the same underlying database again (the adapter's
   * `reopen`). Only cases marked `needsReopen` call it.
   */
  readonly reopen: (store: LetheStore) => Promise<LetheStore>
  /** Opens a fresh store, runs `use` with it, and closes it whatever happens. */
  readonly withStore: <A>(use: (store: LetheStore) => Promise<A>) => Promise<A>
  /** The suite's fast-check settings (model-based cases read `replayPath`). */
  readonly properties: PropertySettings
  /** Asserts a fast-check property with `defaultRuns` runs, unless the suite's settings say otherwise. */
  readonly check: <Ts>(property: fc.IAsyncProperty<Ts>, defaultRuns: number) => Promise<void>
  /**
   * Ends the case as skipped, with `reason` shown by the test runner: for a
   * case that finds, once it holds a store, that the adapter lacks an optional
   * part (`LetheStore.snapshots`). Throws; call it before anything that could
   * catch what it throws (a property).
   */
  readonly skip: (reason: string) => never
  /** How projection cases write through the store's transaction handle, when the adapter gives it. */
  readonly projectionTable?: ProjectionTable
}

/** One conformance case. */
export interface ConformanceCase {
  /** What the case proves, in one sentence; the test's title after its name. */
  readonly title: string
  /** The case closes and reopens the store: skipped when the adapter gives no `reopen`. */
  readonly needsReopen?: boolean
  /** Runs the case: resolves when the adapter conforms, rejects (a failed assertion) when not. */
  readonly run: (context: CaseContext) => Promise<void>
}

/** Cases by their stable name. */
export type CaseGroup = Readonly<Record<string, ConformanceCase>>

/** What `makeCaseContext` needs from the suite's options. */
export interface CaseContextOptions {
  readonly makeStore: () => LetheStore | Promise<LetheStore>
  readonly reopen?: ((store: LetheStore) => LetheStore | Promise<LetheStore>) | undefined
  readonly properties?: PropertySettings | undefined
  readonly projectionTable?: ProjectionTable | undefined
}

/**
 * A case's context, skipping through `skip` (the test runner's), and the
 * function that closes every store it opened.
 */
export const makeCaseContext = (
  options: CaseContextOptions,
  skip: (reason: string) => never,
): { readonly context: CaseContext; readonly closeAll: () => Promise<void> } => {
  const opened = new Set<LetheStore>()

  const close = async (store: LetheStore): Promise<void> => {
    opened.delete(store)
    await store.close()
  }

  const open = async (): Promise<LetheStore> => {
    const store = await options.makeStore()
    opened.add(store)
    return store
  }

  const reopen = async (store: LetheStore): Promise<LetheStore> => {
    if (options.reopen === undefined) throw new Error("this case needs the adapter's reopen option")
    opened.delete(store)
    const again = await options.reopen(store)
    opened.add(again)
    return again
  }

  const withStore = async <A>(use: (store: LetheStore) => Promise<A>): Promise<A> => {
    const store = await open()
    try {
      return await use(store)
    } finally {
      await close(store)
    }
  }

  const check = async <Ts>(property: fc.IAsyncProperty<Ts>, defaultRuns: number): Promise<void> => {
    const settings = options.properties ?? {}
    await fc.assert(property, {
      numRuns: settings.numRuns ?? defaultRuns,
      ...(settings.seed === undefined ? {} : { seed: settings.seed }),
      ...(settings.path === undefined ? {} : { path: settings.path }),
      ...(settings.verbose === true ? { verbose: true } : {}),
    })
  }

  // A close that fails (a store closed by the case itself, a broken driver) must
  // not hide the case's own outcome; the close cases check closing on their own.
  const closeAll = async (): Promise<void> => {
    const stores = [...opened]
    opened.clear()
    await Promise.allSettled(stores.map((store) => store.close()))
  }

  return {
    context: {
      open,
      reopen,
      withStore,
      properties: options.properties ?? {},
      check,
      skip,
      ...(options.projectionTable === undefined ? {} : { projectionTable: options.projectionTable }),
    },
    closeAll,
  }
}
