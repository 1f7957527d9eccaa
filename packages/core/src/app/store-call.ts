/**
 * Calling an adapter from the service: its failures become Lethe's errors,
 * and a driver's own error never leaks. Errors from another copy of
 * `@lethe/core` (an adapter built against it) are recognised by `_tag`.
 *
 * @module
 */
import { Effect } from "effect"
import type { LetheError } from "../errors.js"
import { ConcurrencyConflict, KeyDestroyed, KeyExists, StoreError } from "../errors.js"

const hasTag = (error: unknown, tag: string): error is Record<string, unknown> =>
  typeof error === "object" && error !== null && "_tag" in error && error._tag === tag

/** Adapter failures become Lethe's errors; a driver's own error never leaks. */
export const storeFailure = (operation: string, error: unknown): LetheError => {
  if (error instanceof ConcurrencyConflict || error instanceof KeyExists || error instanceof KeyDestroyed)
    return error
  if (error instanceof StoreError) return error
  if (hasTag(error, "ConcurrencyConflict"))
    return new ConcurrencyConflict({
      streamId: String(error.streamId),
      expected: typeof error.expected === "number" ? error.expected : String(error.expected),
      actual: Number(error.actual),
    })
  if (hasTag(error, "KeyExists")) return new KeyExists({ keyId: String(error.keyId) })
  if (hasTag(error, "KeyDestroyed")) return new KeyDestroyed({ keyId: String(error.keyId) })
  return new StoreError({ operation, detail: error instanceof Error ? error.message : String(error) })
}

/** Runs one adapter call as an Effect, failing with a Lethe error. */
export const fromStore = <A>(operation: string, run: () => Promise<A>): Effect.Effect<A, LetheError> =>
  Effect.tryPromise({ try: run, catch: (error) => storeFailure(operation, error) })
