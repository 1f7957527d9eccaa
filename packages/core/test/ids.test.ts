/**
 * The ids Lethe mints: UUIDv7 with the time of minting and fresh random bits
 * from the pooled CSPRNG (no id twice, none shares its random bits).
 */
import { validate, version } from "uuid"
import { describe, expect, it } from "vitest"
import { newUuid } from "../src/service/ids.js"

const millisecondsOf = (id: string): number => Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16)
const randomBitsOf = (id: string): string => id.replaceAll("-", "").slice(13)

describe("minted ids", () => {
  it("are UUIDv7 stamped with the minting time, and never repeat", () => {
    const before = Date.now()
    const ids = Array.from({ length: 20_000 }, newUuid)
    const after = Date.now()
    for (const id of ids.slice(0, 200)) {
      expect(validate(id)).toBe(true)
      expect(version(id)).toBe(7)
      expect(millisecondsOf(id)).toBeGreaterThanOrEqual(before)
      expect(millisecondsOf(id)).toBeLessThanOrEqual(after)
    }
    expect(new Set(ids).size).toBe(ids.length)
    // More ids than the pool holds (4 KiB): each refill is new bytes, not the same pool again.
    expect(new Set(ids.map(randomBitsOf)).size).toBe(ids.length)
  })
})
