/**
 * Reading without recording: a member's view, look-ups by e-mail, search,
 * and the data map for the records of processing (R1, R18, R19, R24, R34).
 *
 * @module
 */
import { Effect } from "effect"
import { memberView } from "../member/view.js"
import { fromStore } from "../spi/store-call.js"
import { summary } from "./context.js"
import { dataMap } from "./data-map.js"
import type { Pipeline } from "./pipeline.js"
import { validatePolicies } from "./retention.js"
import type { LetheImplementation } from "./service.js"

/** The read operations. */
export type Queries = Pick<LetheImplementation, "get" | "findByEmail" | "search" | "dataMap">

/** The read operations of one instance. */
export const queries = ({ ctx, loader, lookups }: Pipeline): Queries => {
  const { store, config, now } = ctx
  return {
    get: (memberId) =>
      Effect.all([loader.loadExisting(memberId), now]).pipe(
        Effect.map(([loaded, at]) =>
          memberView(loaded.state, at, { invoiceRetentionYears: config.invoiceRetentionYears }),
        ),
      ),
    findByEmail: (tenantId, email) =>
      lookups.lookupKey(tenantId, email).pipe(
        Effect.flatMap((key) => fromStore("findByEmail", () => store.directory.findByEmail(tenantId, key))),
        Effect.map((rows) => {
          const row = rows[0]
          return row === undefined ? null : summary(row)
        }),
      ),
    search: (tenantId, text, options = {}) => {
      const needle = text.trim().toLowerCase()
      if (needle.length === 0) return Effect.succeed([])
      return fromStore("search", () =>
        store.directory.search(tenantId, needle, {
          limit: options.limit ?? 50,
          ...(options.after === undefined ? {} : { after: options.after }),
        }),
      ).pipe(Effect.map((rows) => rows.map(summary)))
    },
    dataMap: (options = {}) =>
      validatePolicies(options.policies ?? [], "dataMap").pipe(
        Effect.map((policies) => dataMap({ config, storeName: store.name, policies })),
      ),
  }
}
