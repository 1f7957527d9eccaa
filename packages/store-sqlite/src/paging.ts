/**
 * Page sizes.
 *
 * @module
 */
import { StoreError } from "@lethe/core"

/**
 * Throws `StoreError` for a page size that is not a positive integer, as the
 * memory store does. SQLite would read `LIMIT -1` as "no limit", so the
 * check happens before any statement runs.
 *
 * @example
 * ```ts
 * checkLimit("events.readAll", 0) // throws StoreError
 * ```
 */
export const checkLimit = (operation: string, limit: number): void => {
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new StoreError({ operation, detail: `limit must be a positive integer, got ${limit}` })
}
