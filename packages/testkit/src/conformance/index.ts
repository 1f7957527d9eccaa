/**
 * The adapter conformance suite (docs/design.md §11, C4): one function registers, with
 * vitest, every case a Lethe storage adapter must pass, so a team writing an
 * adapter runs the same suite as the memory, SQLite and PostgreSQL adapters
 * (like Effect SQL's `suite(name, layer)` or Kysely's per-dialect loop).
 *
 * @module
 */
import type { LetheStore } from "@lethe/core"
import { describe, it } from "vitest"
import { appendBatchCases } from "./append-batch.js"
import { appendRuleCases } from "./append-rules.js"
import type { CaseGroup, ConformanceCase, PropertySettings } from "./case.js"
import { makeCaseContext } from "./case.js"
import { concurrencyCases } from "./concurrency.js"
import { directoryCases } from "./directory.js"
import { directoryIdsCases } from "./directory-ids.js"
import { directoryManyCases } from "./directory-many.js"
import { durabilityCases } from "./durability.js"
import { erasureCases } from "./erasure.js"
import { eventStoreCases } from "./event-store.js"
import { keyStoreCases } from "./key-store.js"
import { lifecycleCases } from "./lifecycle.js"
import { modelCases } from "./model.js"
import type { ProjectionTable } from "./projections.js"
import { projectionCases } from "./projections.js"
import { requestCases } from "./requests.js"
import { snapshotCases } from "./snapshots.js"

export { noAppendBatchReason } from "./append-batch.js"
export { noRetentionIdsReason } from "./directory-ids.js"
export { noManyLookupsReason } from "./directory-many.js"
export { defaultProjectionTable, noProjectionsReason, type ProjectionTable } from "./projections.js"
export { noSnapshotsReason } from "./snapshots.js"

/** The cases by concern, in the order they are registered. */
const groups = {
  "event store": eventStoreCases,
  "append rules": appendRuleCases,
  "append batches (optional)": appendBatchCases,
  "optimistic concurrency": concurrencyCases,
  "key store": keyStoreCases,
  directory: directoryCases,
  "look-ups of many keys (optional)": directoryManyCases,
  "retention member ids (optional)": directoryIdsCases,
  "store lifecycle": lifecycleCases,
  durability: durabilityCases,
  "model-based, through the facade": modelCases,
  erasure: erasureCases,
  "erasure requests and other systems": requestCases,
  "snapshots (optional)": snapshotCases,
  "projections (optional)": projectionCases,
} as const

/**
 * The stable name of a conformance case, e.g. `"concurrency/twenty-no-stream"`.
 * {@link conformanceCaseNames} lists them all at run time.
 */
export type ConformanceCaseName =
  | keyof typeof eventStoreCases
  | keyof typeof appendRuleCases
  | keyof typeof appendBatchCases
  | keyof typeof concurrencyCases
  | keyof typeof keyStoreCases
  | keyof typeof directoryCases
  | keyof typeof directoryManyCases
  | keyof typeof directoryIdsCases
  | keyof typeof lifecycleCases
  | keyof typeof durabilityCases
  | keyof typeof modelCases
  | keyof typeof erasureCases
  | keyof typeof requestCases
  | keyof typeof snapshotCases
  | keyof typeof projectionCases

const allCases: Readonly<Record<ConformanceCaseName, ConformanceCase>> = Object.assign(
  {},
  ...Object.values(groups),
) as Record<ConformanceCaseName, ConformanceCase>

/**
 * Every conformance case name, in registration order. Names are stable: a
 * skip list keyed by them keeps working as cases are added.
 */
export const conformanceCaseNames: ReadonlyArray<ConformanceCaseName> = Object.freeze(
  Object.values(groups).flatMap((group: CaseGroup) => Object.keys(group)) as Array<ConformanceCaseName>,
)

/** The reason given for the cases that need `reopen` when the adapter gives none. */
export const noReopenReason = "no reopen given"

/** What `runAdapterConformance` needs to know about an adapter. */
export interface AdapterConformanceOptions {
  /** The adapter's name in the suite's title, e.g. "sqlite". */
  readonly name: string
  /**
   * A fresh, empty store for each case (and for each run of a property case).
   * The suite closes every store it opened after the case.
   */
  readonly makeStore: () => LetheStore | Promise<LetheStore>
  /**
   * Closes `store` and opens the same underlying database again (a file, a
   * schema). Without it, the durability cases are skipped with the reason
   * "no reopen given". It may be handed a store that is already closed.
   */
  readonly reopen?: (store: LetheStore) => LetheStore | Promise<LetheStore>
  /**
   * Cases this adapter does not pass, each with its reason: they are
   * registered with `it.skip` and the reason in their title, so differences
   * from the reference are explicit, never silent.
   */
  readonly skip?: Partial<Record<ConformanceCaseName, string>>
  /** fast-check settings for the property cases, e.g. `{ seed, path }` to replay a failure. */
  readonly properties?: PropertySettings
  /**
   * How the `projections/*` cases write through this store's transaction
   * handle. Default: `defaultProjectionTable`, which knows the memory,
   * SQLite and PostgreSQL stores' handles.
   */
  readonly projectionTable?: ProjectionTable
  /** Timeout of each case in milliseconds. Default 60,000. */
  readonly timeout?: number
}

/** Why a case is skipped for these options, if it is. */
const skipReason = (name: ConformanceCaseName, options: AdapterConformanceOptions): string | undefined => {
  const declared = options.skip?.[name]
  if (declared !== undefined) return declared
  return allCases[name].needsReopen === true && options.reopen === undefined ? noReopenReason : undefined
}

const checkSkipList = (skip: Readonly<Record<string, string | undefined>>): void => {
  const known = new Set<string>(conformanceCaseNames)
  for (const [name, reason] of Object.entries(skip)) {
    if (!known.has(name)) throw new Error(`runAdapterConformance: skip names an unknown case "${name}"`)
    if (reason === undefined || reason.trim().length === 0)
      throw new Error(`runAdapterConformance: skipping "${name}" needs a reason`)
  }
}

/**
 * Registers the conformance suite for an adapter with vitest: one `describe`
 * per concern, one `it` per case, titled `"<case name>: <what it proves>"`.
 * Call it at the top level of a test file. Each case gets fresh stores from
 * `makeStore` and closes them when it ends. Property cases print their
 * fast-check seed and path on failure; pass them back in `properties` to
 * replay it.
 *
 * Cases cover optimistic concurrency (racing writers, twenty `no_stream`
 * appends, no gaps after a rejection), per-stream order, `readAll` order and
 * paging, copies, `redact`, keys (tombstones, no resurrection), every
 * Directory query with its exact comparisons and keyset paging, `close`,
 * durability across `reopen`, model-based runs of random command sequences
 * through the facade compared with the memory reference, erasure (no
 * personal string left after forget and purge), batches of appends (the
 * `append-batch/*` cases, each skipped with `noAppendBatchReason` when the
 * event store has no `appendBatch`), look-ups of many keys (the
 * `directory-many/*` cases, each skipped with `noManyLookupsReason` when the
 * directory has neither `findManyByEmail` nor `findManyRestorable`), retention member ids (the
 * `directory-ids/*` cases, each skipped with `noRetentionIdsReason` when the
 * directory has no `retentionMemberIds`), and member snapshots (the
 * `snapshots/*` cases, each skipped with `noSnapshotsReason` when the store
 * has no `snapshots`).
 *
 * @example
 * ```ts
 * // packages/store-sqlite/test/conformance.test.ts
 * import { sqliteStore } from "@lethe/store-sqlite"
 * import { runAdapterConformance } from "@lethe/testkit"
 *
 * runAdapterConformance({
 *   name: "sqlite",
 *   makeStore: () => sqliteStore({ filename: ":memory:" }),
 *   skip: { "store/close-twice": "the driver throws on a second close (issue 12)" },
 * })
 * ```
 */
export const runAdapterConformance = (options: AdapterConformanceOptions): void => {
  checkSkipList(options.skip ?? {})
  const timeout = options.timeout ?? 60_000
  describe(`Lethe adapter conformance: ${options.name}`, () => {
    for (const [concern, group] of Object.entries(groups)) {
      describe(concern, () => {
        for (const [name, conformanceCase] of Object.entries(group as CaseGroup)) {
          const title = `${name}: ${conformanceCase.title}`
          const reason = skipReason(name as ConformanceCaseName, options)
          if (reason !== undefined) {
            it.skip(`${title} [skipped: ${reason}]`, () => {})
            continue
          }
          it(
            title,
            async ({ skip }) => {
              const { context, closeAll } = makeCaseContext(options, (why) => skip(why))
              try {
                await conformanceCase.run(context)
              } finally {
                await closeAll()
              }
            },
            timeout,
          )
        }
      })
    }
  })
}
