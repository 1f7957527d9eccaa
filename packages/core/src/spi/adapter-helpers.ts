/**
 * Helpers every SQL adapter needs to honour the SPI the same way: event data
 * as JSON text that reads back equal, and page sizes checked before any
 * statement runs (engines disagree on `LIMIT 0` and `LIMIT -1`).
 *
 * @module
 */
import { StoreError } from "../errors.js"

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
 * toStoredJson("events.append", { n: 1 }, "data") // '{"n":1}'
 * toStoredJson("events.append", { f: () => 1 }, "data") // throws StoreError: data["f"] is a function
 * ```
 */
export const toStoredJson = (operation: string, value: unknown, name: string): string => {
  const problem = notJson(value, name, new Set())
  if (problem !== undefined)
    throw new StoreError({ operation, detail: `value cannot be stored as JSON: ${problem}` })
  return JSON.stringify(value)
}

/**
 * Throws `StoreError` for a page size that is not a positive integer, as the
 * memory store does; call it before any statement runs.
 *
 * @example
 * ```ts
 * checkPageLimit("events.readAll", 0) // throws StoreError
 * ```
 */
export const checkPageLimit = (operation: string, limit: number): void => {
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new StoreError({ operation, detail: `limit must be a positive integer, got ${limit}` })
}

/** The most keys one `findManyByEmail` or `findManyRestorable` call takes. */
export const maxLookupKeys = 1_000

/**
 * Checks the keys of a `findManyByEmail` or `findManyRestorable` call before
 * any statement runs, as every adapter must: an array of at most
 * `maxLookupKeys` strings. Throws `StoreError` for `operation` otherwise.
 *
 * @example
 * ```ts
 * checkLookupKeys("directory.findManyByEmail", ["k1", "k2"]) // passes
 * checkLookupKeys("directory.findManyByEmail", [42]) // throws StoreError
 * ```
 */
export const checkLookupKeys = (operation: string, keys: ReadonlyArray<unknown>): void => {
  if (!Array.isArray(keys))
    throw new StoreError({ operation, detail: "the keys must be an array of strings" })
  if (keys.length > maxLookupKeys)
    throw new StoreError({
      operation,
      detail: `at most ${maxLookupKeys} keys per call, got ${keys.length}`,
    })
  const bad = keys.findIndex((key) => typeof key !== "string")
  if (bad >= 0)
    throw new StoreError({ operation, detail: `key ${bad} is not a string: ${String(keys[bad])}` })
}

/**
 * Checks a snapshot before any statement runs, as every adapter must (see
 * `SnapshotStore`), and returns its state as JSON text; throws `StoreError`
 * for a version that is not a positive integer, a non-string id or head, a
 * time that is not a safe integer, or a state that is not plain JSON.
 *
 * @example
 * ```ts
 * snapshotStateJson("snapshots.write", snapshot) // '{"exists":true,...}'
 * ```
 */
export const snapshotStateJson = (
  operation: string,
  snapshot: {
    readonly memberId: unknown
    readonly tenantId: unknown
    readonly version: unknown
    readonly head: unknown
    readonly state: unknown
    readonly takenAt: unknown
  },
): string => {
  const refuse = (detail: string) => new StoreError({ operation, detail })
  if (typeof snapshot.version !== "number" || !Number.isSafeInteger(snapshot.version) || snapshot.version < 1)
    throw refuse(`version must be a positive integer, got ${String(snapshot.version)}`)
  for (const name of ["memberId", "tenantId", "head"] as const)
    if (typeof snapshot[name] !== "string") throw refuse(`${name} must be a string`)
  if (typeof snapshot.takenAt !== "number" || !Number.isSafeInteger(snapshot.takenAt))
    throw refuse(`takenAt must be a safe integer (epoch ms), got ${String(snapshot.takenAt)}`)
  if (snapshot.state === undefined) throw refuse("state is missing")
  return toStoredJson(operation, snapshot.state, "state")
}

/**
 * Checks `remove`'s version floor before any statement runs; throws
 * `StoreError` unless it is a non-negative safe integer.
 */
export const checkSnapshotFloor = (operation: string, upTo: unknown): number => {
  if (typeof upTo !== "number" || !Number.isSafeInteger(upTo) || upTo < 0)
    throw new StoreError({ operation, detail: `upTo must be a non-negative integer, got ${String(upTo)}` })
  return upTo
}
