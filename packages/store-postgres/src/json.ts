/**
 * Event data and metadata as JSON text. Only values that come back equal
 * from `JSON.parse` are accepted, so what a reader gets is what the writer
 * passed; anything else (a function, a `Date`, `NaN`, a cycle...) is refused
 * with `StoreError` before anything is written, as the memory store refuses
 * what it cannot copy.
 *
 * @module
 */
import { StoreError } from "@lethe/core"

const isPlainObject = (value: object): boolean => {
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}

/** Why `value` does not survive a JSON round trip, or undefined if it does. */
const notJson = (value: unknown, path: string, seen: Set<object>): string | undefined => {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined
    case "number":
      return Number.isFinite(value) ? undefined : `${path} is ${value}`
    case "object": {
      if (value === null) return undefined
      if (seen.has(value)) return `${path} is a cycle`
      if (!Array.isArray(value) && !isPlainObject(value))
        return `${path} is a ${value.constructor?.name ?? "non-plain object"}`
      seen.add(value)
      // An array's holes and undefined slots would read back as null; an object's undefined
      // properties read back absent, which is the same to every reader.
      const entries: ReadonlyArray<readonly [string, unknown]> = Array.isArray(value)
        ? Array.from(value, (inner: unknown, i) => [String(i), inner] as const)
        : Object.entries(value).filter(([, inner]) => inner !== undefined)
      for (const [key, inner] of entries) {
        const problem = notJson(inner, `${path}[${JSON.stringify(key)}]`, seen)
        if (problem !== undefined) return problem
      }
      seen.delete(value)
      return undefined
    }
    default:
      return `${path} is ${typeof value === "function" ? "a function" : typeof value}`
  }
}

/**
 * `value` as JSON text; throws `StoreError` for `operation` if it is not plain
 * JSON (see the module comment).
 *
 * @example
 * ```ts
 * toJson("events.append", { n: 1 }, "data") // '{"n":1}'
 * toJson("events.append", { f: () => 1 }, "data") // throws StoreError: data["f"] is a function
 * ```
 */
export const toJson = (operation: string, value: unknown, name: string): string => {
  const problem = notJson(value, name, new Set())
  if (problem !== undefined)
    throw new StoreError({ operation, detail: `value cannot be stored as JSON: ${problem}` })
  return JSON.stringify(value)
}
