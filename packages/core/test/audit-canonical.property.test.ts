/**
 * The hash chain's canonical JSON, which the audit computes for every event
 * of a log: for any JSON value, the same text as the plain definition (so
 * every hash already stored still verifies), whatever the key order.
 */

import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { canonicalJson } from "../src/audit/hash-chain.js"

/** The plain definition (entries sorted by `<`, joined), as the chain was first written. */
const reference = (value: unknown): string => {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null"
  if (Array.isArray(value)) return `[${value.map(reference).join(",")}]`
  const entries = Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(",")}}`
}

/** The same value with every object's keys in reverse order. */
const reversedKeys = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(reversedKeys)
  if (value === null || typeof value !== "object") return value
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([k, v]) => [k, reversedKeys(v)]),
  )
}

describe("canonicalJson", () => {
  it("R35: equals the plain definition for any JSON value, whatever the key order", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value)
        // "__proto__" keys aside, which Object.fromEntries (in reversedKeys) turns into a prototype.
        fc.pre(!text.includes('"__proto__"'))
        expect(text).toBe(reference(value))
        expect(canonicalJson(reversedKeys(value))).toBe(text)
      }),
      { numRuns: 500 },
    )
  })

  it("R35: a sealed or erased value counts by its digest alone", () => {
    const sealed = {
      _tag: "Sealed",
      keyId: "k",
      category: "contact",
      iv: "x",
      ciphertext: "abc",
      digest: "d1",
    }
    const erased = { _tag: "Erased", category: "contact", digest: "d1" }
    expect(canonicalJson({ email: sealed })).toBe(canonicalJson({ email: erased }))
    expect(canonicalJson({ email: sealed })).toBe('{"email":{"$digest":"d1"}}')
  })
})
