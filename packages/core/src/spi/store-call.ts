/**
 * Calling an adapter from the service: its failures become Lethe's errors,
 * and a driver's own error never leaks. Errors from another copy of
 * `@lethe/core` (an adapter built against it) are recognised by `_tag`.
 *
 * @module
 */
import { Effect } from "effect"
import type { LetheError } from "../errors.js"
import {
  ConcurrencyConflict,
  EmailTaken,
  KeyDestroyed,
  KeyExists,
  StoreError,
  StoreUnavailable,
} from "../errors.js"

const hasTag = (error: unknown, tag: string): error is Record<string, unknown> =>
  typeof error === "object" && error !== null && "_tag" in error && error._tag === tag

/** The errors an adapter may reject with, by tag. */
const adapterErrorTags: ReadonlySet<string> = new Set([
  "ConcurrencyConflict",
  "EmailTaken",
  "KeyExists",
  "KeyDestroyed",
  "StoreError",
  "StoreUnavailable",
])

/** Whether `error` is one of this copy of `@lethe/core`'s own adapter errors. */
const isOwnStoreError = (
  error: unknown,
): error is ConcurrencyConflict | EmailTaken | KeyExists | KeyDestroyed | StoreError | StoreUnavailable =>
  error instanceof ConcurrencyConflict ||
  error instanceof EmailTaken ||
  error instanceof KeyExists ||
  error instanceof KeyDestroyed ||
  error instanceof StoreError ||
  error instanceof StoreUnavailable

/**
 * Whether `error` is one of the errors an adapter may reject with:
 * `ConcurrencyConflict`, `EmailTaken`, `KeyExists`, `KeyDestroyed`,
 * `StoreError` or `StoreUnavailable`, recognised by `_tag` so an error built
 * by another copy of `@lethe/core` (another CommonJS entry, another
 * version) counts too. Adapters pass these through unchanged.
 *
 * @example
 * ```ts
 * if (isLetheStoreError(error)) throw error // else translate the driver's error
 * ```
 */
export const isLetheStoreError = (
  error: unknown,
): error is ConcurrencyConflict | EmailTaken | KeyExists | KeyDestroyed | StoreError | StoreUnavailable =>
  isOwnStoreError(error) ||
  (error instanceof Error && "_tag" in error && adapterErrorTags.has(String(error._tag)))

/**
 * Adapter failures become Lethe's errors; a driver's own error never leaks.
 * The errors an adapter may reject with (`ConcurrencyConflict`, `EmailTaken`,
 * `KeyExists`, `KeyDestroyed`, `StoreError`, `StoreUnavailable`) pass through
 * unchanged; anything else becomes a `StoreError` naming `operation`.
 */
export const storeFailure = (operation: string, error: unknown): LetheError => {
  if (isOwnStoreError(error)) return error
  if (hasTag(error, "ConcurrencyConflict"))
    return new ConcurrencyConflict({
      streamId: String(error.streamId),
      expected: typeof error.expected === "number" ? error.expected : String(error.expected),
      actual: Number(error.actual),
    })
  if (hasTag(error, "EmailTaken"))
    return new EmailTaken({ tenantId: String(error.tenantId), memberId: String(error.memberId) })
  if (hasTag(error, "KeyExists")) return new KeyExists({ keyId: String(error.keyId) })
  if (hasTag(error, "KeyDestroyed")) return new KeyDestroyed({ keyId: String(error.keyId) })
  if (hasTag(error, "StoreUnavailable"))
    return new StoreUnavailable({
      store: String(error.store),
      operation: String(error.operation),
      detail: String(error.detail),
    })
  if (hasTag(error, "StoreError"))
    return new StoreError({ operation: String(error.operation), detail: String(error.detail) })
  return new StoreError({ operation, detail: error instanceof Error ? error.message : String(error) })
}

/** Runs one adapter call as an Effect, failing with a Lethe error. */
export const fromStore = <A>(operation: string, run: () => Promise<A>): Effect.Effect<A, LetheError> =>
  Effect.tryPromise({ try: run, catch: (error) => storeFailure(operation, error) })
