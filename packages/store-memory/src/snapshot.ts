/**
 * Copies that cut every link between what a caller holds and what the store
 * holds, so neither side can change the other's data.
 *
 * @module
 */
import { StoreError } from "@lethe/core"

const refuse = (operation: string, error: unknown): StoreError =>
  new StoreError({
    operation,
    detail: `value cannot be stored: ${error instanceof Error ? error.message : String(error)}`,
  })

/**
 * A deep copy of `value` (`structuredClone`). A value that cannot be cloned (a
 * function, a symbol) throws `StoreError` for `operation`, as a driver refusing
 * a value would.
 *
 * @example
 * ```ts
 * const row = copy("directory.get", stored)
 * ```
 */
export const copy = <A>(operation: string, value: A): A => {
  try {
    return structuredClone(value)
  } catch (error) {
    throw refuse(operation, error)
  }
}

const deepFreeze = (value: unknown): void => {
  // Frozen before recursing, so a cycle ends at an object already frozen.
  if (value === null || typeof value !== "object" || Object.isFrozen(value)) return
  Object.freeze(value)
  for (const inner of Object.values(value)) deepFreeze(inner)
}

/**
 * The value of the JSON text `json`, frozen all the way down: a copy that
 * shares nothing with whatever the text was made from, and reads back as a
 * database adapter's JSON column does (an object's undefined properties
 * absent, -0 as 0). Safe to hand out to any number of readers.
 *
 * @example
 * ```ts
 * const state = frozenFromJson(snapshotStateJson("snapshots.write", snapshot))
 * ```
 */
export const frozenFromJson = (json: string): unknown => {
  const owned: unknown = JSON.parse(json)
  deepFreeze(owned)
  return owned
}

/**
 * A deep copy of `value`, frozen all the way down: safe to hand out to any
 * number of readers. Values that cannot be frozen (typed arrays, which are not
 * JSON anyway) throw `StoreError` for `operation`.
 *
 * @example
 * ```ts
 * const data = frozenCopy("events.append", event.data)
 * ```
 */
export const frozenCopy = <A>(operation: string, value: A): A => {
  const owned = copy(operation, value)
  try {
    deepFreeze(owned)
  } catch (error) {
    throw refuse(operation, error)
  }
  return owned
}
