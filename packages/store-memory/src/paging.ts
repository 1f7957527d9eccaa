/**
 * Keyset positions over sorted arrays.
 *
 * @module
 */

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
