/**
 * The ids Lethe mints (members, correlations, requests, messages): UUIDv7,
 * time-ordered to the millisecond.
 *
 * @module
 */
import { v7 } from "uuid"
import { randomBytesPooled } from "../sealing/random.js"

/**
 * A new UUIDv7 whose random bits come from the pooled CSPRNG. Left to
 * itself, `uuid` asks WebCrypto for 16 bytes per id, which costs Node 20
 * about 25 µs a call: two ids per registration were a tenth of its CPU.
 * Ids minted within one millisecond are not ordered among themselves
 * (`uuid` keeps its counter only when it draws the bytes); nothing in Lethe
 * orders by id within a millisecond.
 */
export const newUuid = (): string => v7({ random: randomBytesPooled(16) })
