/**
 * Page sizes.
 *
 * @module
 */

const int8Min = -(2n ** 63n)
const int8Max = 2n ** 63n - 1n

/**
 * A number bound as a PostgreSQL `bigint` literal, for comparing an integer
 * column with it through its index: `column > x` is `column > floor(x)`,
 * `column < x` is `column < ceil(x)`; infinities become the ends of `bigint`.
 * The caller handles NaN (no row compares true with it).
 *
 * @example
 * ```ts
 * integerBound(2.5, "floor") // "2"
 * integerBound(Number.POSITIVE_INFINITY, "ceil") // "9223372036854775807"
 * ```
 */
export const integerBound = (value: number, round: "floor" | "ceil"): string => {
  if (value === Number.POSITIVE_INFINITY) return String(int8Max)
  if (value === Number.NEGATIVE_INFINITY) return String(int8Min)
  const n = BigInt(round === "floor" ? Math.floor(value) : Math.ceil(value))
  return String(n < int8Min ? int8Min : n > int8Max ? int8Max : n)
}
