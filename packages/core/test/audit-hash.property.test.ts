/**
 * The hash chain's hashes, which the writer stores and the audit recomputes
 * for every event: the optimized `hashEvent` and `sealedDigestsMatch` give
 * exactly what their first definitions gave (`audit-reference-hash.ts`), on
 * any event, so every hash already stored still verifies.
 */
import { createHash } from "node:crypto"
import { hashEvent } from "@lethe/core/audit"
import type { EventMetadata, StoredEvent } from "@lethe/core/spi"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { canonicalJson, checkLink, sealedDigestsMatch } from "../src/audit/hash-chain.js"
import { referenceCheckLink, referenceDigests, referenceHash, referenceJson } from "./audit-reference-hash.js"

/** Strings with lone surrogates, escapes and non-ASCII text as well as plain ids. */
const arbText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 12 }),
  // Any UTF-16 code units: lone surrogates and control characters among them.
  fc
    .array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 8 })
    .map((units) => String.fromCharCode(...units)),
  fc.string({ maxLength: 12 }),
  fc.constantFrom("at", "category", "fields", "_tag", "digest", "Ä", "a\u2028b", '"', "\\", "__proto__x"),
)
const arbNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(
    0,
    -0,
    1e21,
    -1e21,
    1.5e-7,
    2 ** 30,
    -(2 ** 30),
    2 ** 64,
    Number.MAX_SAFE_INTEGER,
    1_735_718_400_000,
  ),
  fc.integer({ min: 2 ** 30, max: Number.MAX_SAFE_INTEGER }),
  fc.constantFrom(
    999_999_999_999_999,
    1_000_000_000_000_000,
    9_007_199_254_740_991,
    1_000_000_000,
    1_000_001_000,
  ),
)
const arbCiphertext = fc.uint8Array({ maxLength: 24 }).map((bytes) => Buffer.from(bytes).toString("base64"))
/** A sealed value whose digest matches, or not, and its erased form. */
const arbSealed = fc
  .tuple(arbCiphertext, fc.boolean(), fc.constantFrom("contact", "activity", "health"), fc.boolean())
  .map(([ciphertext, matches, category, erased]) => {
    const digest = matches
      ? createHash("sha256").update(Buffer.from(ciphertext, "base64")).digest("hex")
      : createHash("sha256").update(ciphertext).digest("hex")
    return erased
      ? { _tag: "Erased", category, digest }
      : { _tag: "Sealed", keyId: `k-${category}`, category, iv: "AAAA", ciphertext, digest }
  })
const { value: arbValue } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    arbText,
    arbNumber,
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    arbSealed,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(arbText, tie("value"), { maxKeys: 6 }),
  ),
}))
const arbMetadata: fc.Arbitrary<EventMetadata> = fc.record({
  actor: arbText,
  source: arbText,
  tenantId: arbText,
  correlationId: arbText,
})
const arbEvent: fc.Arbitrary<StoredEvent> = fc.record({
  position: fc.nat(),
  streamId: arbText,
  version: arbNumber,
  type: arbText,
  data: arbValue,
  metadata: arbMetadata,
  recordedAt: arbNumber,
  prevHash: arbText,
  hash: fc.constant(""),
})

describe("hash chain: the optimized hashing", () => {
  it("R35: hashEvent gives the hash the plain definition gives, on any event", () => {
    fc.assert(
      fc.property(arbText, arbEvent, (prevHash, event) => {
        expect(hashEvent(prevHash, event)).toBe(referenceHash(prevHash, event))
      }),
      { numRuns: 2_000 },
    )
  })

  it("R35: canonicalJson equals the plain definition on any value, sealed values and undefined included", () => {
    fc.assert(
      fc.property(arbValue, (value) => {
        expect(canonicalJson(value)).toBe(referenceJson(value))
      }),
      { numRuns: 2_000 },
    )
  })

  it("R35: sealedDigestsMatch answers as the plain definition on any data", () => {
    fc.assert(
      fc.property(arbValue, (data) => {
        expect(sealedDigestsMatch(data)).toBe(referenceDigests(data))
      }),
      { numRuns: 2_000 },
    )
  })

  it("R35: checkLink finds the problem the plain definition finds, hashes and digests checked in one walk", () => {
    fc.assert(
      fc.property(arbEvent, arbText, fc.boolean(), (unhashed, streamId, chained) => {
        // Chained or not, hash kept or not: every problem a link may have.
        const hash = referenceHash(unhashed.prevHash, unhashed)
        const event = { ...unhashed, hash: chained ? hash : `${hash.slice(1)}0` }
        const head = { version: event.version - 1, hash: event.prevHash }
        for (const [id, h] of [
          [event.streamId, head],
          [streamId, head],
          [event.streamId, { ...head, hash: "other" }],
        ] as const)
          expect(checkLink(id, h, event)).toBe(referenceCheckLink(id, h, event))
      }),
      { numRuns: 2_000 },
    )
  })

  it("R35: a stored hash written before the optimization still verifies", () => {
    const event: StoredEvent = {
      position: 1,
      streamId: "member-019000000000-bench-member",
      version: 1,
      type: "MemberRegistered",
      data: {
        at: 1735718400000,
        memberId: "019000000000-bench-member",
        tenantId: "shop",
        source: { kind: "form" },
      },
      metadata: {
        actor: "staff:bench",
        source: "form",
        tenantId: "shop",
        correlationId: "019000000000-bench-member-0",
      },
      recordedAt: 1735718400000,
      prevHash: "",
      hash: "52a1eb9151c1ff1066a765329008082c616ad2229a82c5275f7cac415b47103e",
    }
    expect(hashEvent("", event)).toBe(event.hash)
  })
})
