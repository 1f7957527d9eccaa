/**
 * Random bytes for nonces and keys, drawn from a pool the CSPRNG refills
 * 4 KiB at a time: one system call per few hundred values instead of one per
 * value (as `uuid` does for its ids). Every byte is handed out once.
 *
 * @module
 */
import { randomFillSync } from "node:crypto"

const poolSize = 4096
const pool = Buffer.allocUnsafe(poolSize)
let offset = poolSize

/** `size` fresh random bytes (at most 4096), in a buffer of their own. */
export const randomBytesPooled = (size: number): Buffer => {
  if (size > poolSize) throw new RangeError(`at most ${poolSize} bytes at a time, asked for ${size}`)
  if (offset + size > poolSize) {
    randomFillSync(pool)
    offset = 0
  }
  const bytes = Buffer.from(pool.subarray(offset, offset + size))
  // Spent bytes are overwritten so no copy of a key stays behind in the pool.
  pool.fill(0, offset, offset + size)
  offset += size
  return bytes
}
