/**
 * Erasure at the byte level (R29): what `redact`, `keys.destroy` and a purge
 * erase is in neither the SQLite database file nor its WAL afterwards.
 */
import fs from "node:fs"
import { erased, memberRow, newEvent, sealed, storedKey } from "@lethe/testkit/fixtures"
import { describe, expect, it } from "vitest"
import { contains, freshFile, open, rawBytes } from "./fixtures.js"

// Markers long and odd enough that they cannot appear in the files by chance.
const annaCipher = "CIPHERTEXT-OF-ANNA-q7Zr2"
const bigCipher = `BIG-CIPHERTEXT-${"x9Lw".repeat(5_000)}-END`
const bobCipher = "CIPHERTEXT-OF-BOB-p3Kd8"
// Longer than the tombstone row, so the tombstone cannot happen to cover the old bytes; the
// checks look for its start, which only secure_delete overwrites.
const annaKeyStart = "WRAPPED-KEY-OF-ANNA-v5Tn1"
const annaKey = `${annaKeyStart}${"A".repeat(300)}`
const bobKey = "WRAPPED-KEY-OF-BOB-c8Hs4"

/** A sealed value of `keyId` holding `ciphertext`, a marker the checks look for in the files. */
const sealedAs = (keyId: string, ciphertext: string, category = "contact") => ({
  ...sealed(keyId, category),
  ciphertext,
})

const walSize = (filename: string) =>
  fs.existsSync(`${filename}-wal`) ? fs.statSync(`${filename}-wal`).size : 0

describe("sqlite store: erased values leave the files (R29)", () => {
  it("R29: after redact, a sealed value's ciphertext (small, or spread over overflow pages) is in neither the database file nor its WAL", async () => {
    const filename = freshFile()
    const writer = open(filename)
    await writer.events.append({
      streamId: "member-anna",
      expectedVersion: "no_stream",
      events: [
        newEvent({ email: sealedAs("k-anna", annaCipher), note: "kept" }),
        newEvent({ photo: sealedAs("k-anna", bigCipher, "photo") }),
      ],
    })
    await writer.events.append({
      streamId: "member-bob",
      expectedVersion: "no_stream",
      events: [newEvent({ email: sealedAs("k-bob", bobCipher) })],
    })
    // Closing checkpoints: the values now sit in the database file itself, as old data does.
    await writer.close()
    const before = fs.readFileSync(filename)
    expect(contains(before, annaCipher)).toBe(true)
    expect(contains(before, bigCipher.slice(0, 200))).toBe(true)
    const store = open(filename)

    expect(await store.events.redact("member-anna", ["k-anna"])).toBe(2)

    for (const when of ["while open", "after close"]) {
      const bytes = rawBytes(filename)
      expect(contains(bytes, annaCipher), when).toBe(false)
      expect(contains(bytes, "BIG-CIPHERTEXT-"), when).toBe(false)
      expect(contains(bytes, "x9Lwx9Lwx9Lw"), when).toBe(false)
      expect(contains(bytes, bobCipher), `${when}: other members' values stay`).toBe(true)
      expect(walSize(filename), `${when}: the WAL is emptied`).toBe(0)
      await store.close()
    }
    const reopened = open(filename)
    expect((await reopened.events.readStream("member-anna")).map((e) => e.data)).toEqual([
      { email: erased("contact", "k-anna"), note: "kept" },
      { photo: erased("photo", "k-anna") },
    ])
    expect((await reopened.events.readStream("member-bob"))[0]?.data).toEqual({
      email: sealedAs("k-bob", bobCipher),
    })
  })

  it("R29: after keys.destroy, the wrapped key is in neither the database file nor its WAL; the tombstone stays", async () => {
    const filename = freshFile()
    const writer = open(filename)
    await writer.keys.put(storedKey("k-anna", { wrappedKey: annaKey }))
    await writer.keys.put(storedKey("k-bob", { memberId: "m2", wrappedKey: bobKey }))
    await writer.close()
    expect(contains(fs.readFileSync(filename), annaKeyStart)).toBe(true)
    const store = open(filename)

    await store.keys.destroy("k-anna", 42)

    const bytes = rawBytes(filename)
    expect(contains(bytes, annaKeyStart)).toBe(false)
    expect(contains(bytes, bobKey)).toBe(true)
    expect(walSize(filename)).toBe(0)
    await store.close()
    expect(contains(rawBytes(filename), annaKeyStart)).toBe(false)
    expect(await open(filename).keys.get("k-anna")).toMatchObject({
      _tag: "Destroyed",
      tombstone: { keyId: "k-anna", destroyedAt: 42 },
    })
  })

  it("R29: a directory row scrubbed by forget leaves no trace once the purge that follows has checkpointed", async () => {
    const filename = freshFile()
    const store = open(filename)
    const name = "Zofia Ąłęk-Marker"
    const email = "zofia.marker.r29@example.org"
    await store.keys.put(storedKey("k-zofia", { memberId: "zofia" }))
    await store.events.append({
      streamId: "member-zofia",
      expectedVersion: "any",
      events: [],
      directory: {
        member: memberRow("zofia", { name, email, searchText: `${name} ${email}`.toLowerCase() }),
      },
    })
    await store.events.append({
      streamId: "member-other",
      expectedVersion: "any",
      events: [],
      directory: { member: memberRow("other", { name: "Other Person-r29" }) },
    })
    expect(contains(rawBytes(filename), email)).toBe(true)
    expect(contains(rawBytes(filename), name)).toBe(true)

    await store.events.append({
      streamId: "member-zofia",
      expectedVersion: "any",
      events: [],
      directory: {
        member: memberRow("zofia", {
          status: "forgotten",
          name: null,
          email: null,
          emailKey: null,
          searchText: null,
          restoreKey: "rk",
        }),
      },
    })
    await store.keys.destroy("k-zofia", 1)
    await store.close()

    const bytes = rawBytes(filename)
    for (const text of [name, email, name.toLowerCase()]) expect(contains(bytes, text), text).toBe(false)
    expect(contains(bytes, "Other Person-r29")).toBe(true)
  })
})
