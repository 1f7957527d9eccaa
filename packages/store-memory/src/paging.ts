/**
 * Page sizes and keyset positions over sorted arrays.
 *
 * @module
 */
import { StoreError } from "@lethe/core"

/**
 * Throws `StoreError` for a page size that is not a positive integer. SQL
 * engines disagree on `LIMIT 0` and `LIMIT -1` (SQLite reads the latter as
 * "no limit"), so the reference adapter refuses them rather than pick a meaning.
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

/**
 * The index of the first element of `sorted` (ascending, by `<`) that is
 * greater than `after`, or `sorted.length`. O(log n).
 *
 * @example
 * ```ts
 * firstAfter(["a", "b", "c"], "a") // 1
 * ```
 */
export const firstAfter = (sorted: ReadonlyArray<string>, after: string): number => {
  let low = 0
  let high = sorted.length
  while (low < high) {
    const mid = (low + high) >>> 1
    if ((sorted[mid] as string) > after) high = mid
    else low = mid + 1
  }
  return low
}

/**
 * The index of the first element of `sorted` that is not less than `value`:
 * where `value` is, or where it would be inserted. O(log n).
 *
 * @example
 * ```ts
 * firstAtLeast(["a", "c"], "b") // 1
 * ```
 */
export const firstAtLeast = (sorted: ReadonlyArray<string>, value: string): number => {
  let low = 0
  let high = sorted.length
  while (low < high) {
    const mid = (low + high) >>> 1
    if ((sorted[mid] as string) < value) low = mid + 1
    else high = mid
  }
  return low
}
