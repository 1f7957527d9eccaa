import fs from "node:fs"
import type { Actor } from "@lethe/core"
import { createLethe, keyringFromSecret } from "@lethe/core"
import { sqliteStore } from "@lethe/store-sqlite"
import { describe, expect, it } from "vitest"
import { contains, freshFile } from "./fixtures.js"

const keyring = keyringFromSecret("store-sqlite byte-level erasure test secret, 32+ bytes")
const admin: Actor = { id: "staff:admin", roles: ["admin"] }
const day = 86_400_000
const tenantId = "gym"
const members = 200
const forgottenIndex = 117

/** Distinctive, partly non-ASCII, so that no other byte sequence in the file can match by chance. */
const nameOf = (i: number) => `Zażółć Gęślą Jaźń-${i}-Ωμέγα Kq${i * 7919}`
const emailOf = (i: number) => `zazolc.gesla.${i}.kq${i * 7919}@przykład.example.org`

/** The database file, its WAL and its shared-memory file, each as raw bytes (absent: none). */
const files = (filename: string) =>
  [filename, `${filename}-wal`, `${filename}-shm`].flatMap((file) =>
    fs.existsSync(file) ? [{ file, bytes: fs.readFileSync(file) }] : [],
  )

describe("sqlite store through the facade: erased personal data leaves the file (R29)", () => {
  it("R29: after forget and the purge past the window, the forgotten member's name and e-mail are in no byte of the .db, -wal or -shm file (UTF-8, UTF-16LE/BE); others stay findable after reopening", async () => {
    const filename = freshFile()
    let now = new Date("2026-03-02T09:00:00Z").getTime()
    const clock = () => new Date(now)
    const lethe = await createLethe({ store: sqliteStore({ filename }), keyring, clock })
    const ids: Array<string> = []
    for (let i = 0; i < members; i++) {
      const { memberId } = await lethe.register({
        tenantId,
        personal: { name: nameOf(i), email: emailOf(i), phone: `+48 600 ${String(i).padStart(3, "0")} 117` },
        source: { kind: "form", tag: "footer" },
      })
      ids.push(memberId)
      if (i % 10 === 0 || i === forgottenIndex)
        await lethe.recordPersonalData(memberId, {
          category: "address",
          fields: { street: `ulica Źdźbła ${i}`, city: "Łódź" },
          source: { kind: "form" },
        })
      now += 60_000
    }
    const forgottenId = ids[forgottenIndex] as string
    const name = nameOf(forgottenIndex)
    const email = emailOf(forgottenIndex)
    const needles = [name, email, name.toLowerCase(), email.toLowerCase(), `ulica Źdźbła ${forgottenIndex}`]
    await lethe.giveConsent(forgottenId, {
      purpose: "newsletter",
      method: "checkbox",
      source: { kind: "form" },
    })
    await lethe.close() // checkpoints: everything is now in the .db file itself

    // The check can fail: while the member is active, the directory holds the name and e-mail
    // in clear, so they are in the file's bytes.
    const before = Buffer.concat(files(filename).map((f) => f.bytes))
    expect(contains(before, name), "name before the purge").toBe(true)
    expect(contains(before, email), "e-mail before the purge").toBe(true)

    const reopened = await createLethe({ store: sqliteStore({ filename }), keyring, clock })
    await reopened.forget(forgottenId, { actor: admin })
    now += (reopened.config.restoreWindowDays + 1) * day
    const report = await reopened.runRetention()
    expect(report.failed).toEqual([])
    expect(report.executed.filter((e) => e.rule === "purge-forgotten").map((e) => e.memberId)).toEqual([
      forgottenId,
    ])
    expect((await reopened.get(forgottenId)).status).toBe("purged")
    await reopened.close()

    const after = files(filename)
    expect(after.map((f) => f.file)).toContain(filename)
    for (const { file, bytes } of after)
      for (const needle of needles) expect(contains(bytes, needle), `${needle} in ${file}`).toBe(false)
    // The neighbours' data, and the same kind of text, are still there in clear.
    const all = Buffer.concat(after.map((f) => f.bytes))
    for (const i of [forgottenIndex - 1, forgottenIndex + 1])
      expect(contains(all, nameOf(i)), `neighbour ${i}`).toBe(true)

    const last = await createLethe({ store: sqliteStore({ filename }), keyring, clock })
    try {
      expect(await last.findByEmail(tenantId, email)).toBeNull()
      expect(await last.search(tenantId, `jaźń-${forgottenIndex}-`)).toEqual([])
      for (let i = 0; i < members; i++) {
        if (i === forgottenIndex) continue
        expect(await last.findByEmail(tenantId, emailOf(i)), `findByEmail ${i}`).toMatchObject({
          memberId: ids[i],
          name: nameOf(i),
          email: emailOf(i),
          status: "active",
        })
      }
      const found = await last.search(tenantId, `GĘŚLĄ JAŹŃ-${forgottenIndex + 1}-`)
      expect(found.map((m) => m.memberId)).toEqual([ids[forgottenIndex + 1]])
      const many = await last.search(tenantId, "zażółć", { limit: 1_000 })
      expect(many).toHaveLength(members - 1)
      expect(many.map((m) => m.memberId)).not.toContain(forgottenId)
    } finally {
      await last.close()
    }
  }, 30_000)
})

/** A snapshot of `memberId` whose state holds `marker` (a stand-in for its sealed values). */
const snapshotHolding = (memberId: string, version: number, marker: string) => ({
  memberId,
  tenantId,
  version,
  head: `head-${memberId}-${version}`,
  state: { exists: true, personal: { name: { _tag: "Sealed", keyId: `k-${memberId}`, ciphertext: marker } } },
  takenAt: 1_000,
})

describe("sqlite store: a removed snapshot leaves the file and the WAL (R29)", () => {
  // Markers long and odd enough that they cannot appear in the files by chance; the big one
  // spreads over overflow pages, which secure_delete must zero as well.
  const annaMarker = "SNAPSHOT-OF-ANNA-Żółw-r8Qm3"
  const bigMarker = `SNAPSHOT-BIG-${"t4Vz".repeat(5_000)}-END`
  const bobMarker = "SNAPSHOT-OF-BOB-Łoś-h2Xc9"

  /** Whether `needle` is in each of the database file and its WAL (an absent file holds nothing). */
  const where = (filename: string, needle: string) =>
    Object.fromEntries(
      [filename, `${filename}-wal`].map((file) => [
        file === filename ? "db" : "wal",
        fs.existsSync(file) && contains(fs.readFileSync(file), needle),
      ]),
    )

  for (const from of ["the database file (after a checkpoint)", "the WAL only (not yet checkpointed)"])
    it(`R29: after snapshots.remove, a snapshot's state that was in ${from} is in neither the .db nor the -wal file; another member's stays`, async () => {
      const filename = freshFile()
      let store = sqliteStore({ filename })
      const snapshots = () => store.snapshots ?? expect.fail("the sqlite store has snapshots")
      try {
        // Version 1 replaced by version 2: the remove must also leave no trace of the first.
        await snapshots().write(snapshotHolding("anna", 1, `${annaMarker}-v1`))
        await snapshots().write(snapshotHolding("anna", 2, annaMarker))
        await snapshots().write(snapshotHolding("big", 1, bigMarker))
        await snapshots().write(snapshotHolding("bob", 1, bobMarker))
        if (from.startsWith("the database file")) {
          await store.close() // checkpoints: the snapshots now sit in the database file itself
          store = sqliteStore({ filename })
        }
        // The check can fail: before the remove, the markers are in the files' bytes.
        const before = Buffer.concat(files(filename).map((f) => f.bytes))
        for (const needle of [annaMarker, bigMarker.slice(0, 200), bobMarker])
          expect(contains(before, needle), `${needle.slice(0, 30)} before the remove`).toBe(true)

        expect(await snapshots().remove("anna", 2)).toBe(true)
        expect(await snapshots().remove("big", 1)).toBe(true)

        for (const when of ["while open", "after close"]) {
          for (const needle of [annaMarker, `${annaMarker}-v1`, "SNAPSHOT-BIG-", "t4Vzt4Vzt4Vz"])
            expect(where(filename, needle), `${needle} ${when}`).toEqual({ db: false, wal: false })
          expect(contains(fs.readFileSync(filename), bobMarker), `${when}: bob's snapshot stays`).toBe(true)
          await store.close()
        }
        store = sqliteStore({ filename })
        expect(await snapshots().read("anna")).toBeUndefined()
        expect(await snapshots().read("big")).toBeUndefined()
        expect(await snapshots().read("bob")).toEqual(snapshotHolding("bob", 1, bobMarker))
      } finally {
        await store.close()
      }
    })
})

describe("sqlite store through the facade: free text leaves no clear byte (R29, issue 18)", () => {
  /** Distinctive text written in every free-text field a person can fill in. */
  const freeText = {
    restriction: "Wniosek-RESTRICT-q7Zx: Zażółć Gęślą disputes the address, letter of 3 March",
    erasure: "Wniosek-ERASE-k3Vb: asked by phone +48 600 117 117",
    note: "Notatka-NOTE-p9Lm: knee injury, trainer Łukasz",
    secondRestriction: "Wniosek-AGAIN-w2Qs: objection filed by e-mail",
  }

  it("R29: a distinctive string in every free-text field (restriction and erasure reasons, notes) is sealed from the start, and after the purge is in no byte of the .db, -wal or -shm file; tokens stay bounded", async () => {
    const filename = freshFile()
    let now = new Date("2026-03-02T09:00:00Z").getTime()
    const clock = () => new Date(now)
    const lethe = await createLethe({ store: sqliteStore({ filename }), keyring, clock, snapshotEvery: 3 })
    const name = "Zażółć-FREE-TEXT-Gęślą-Jaźń-m5Rt"
    const { memberId } = await lethe.register({
      tenantId,
      personal: { name, email: "free.text.m5rt@example.org" },
      source: { kind: "form", tag: "web:signup-form" },
      correlationId: "0190f3a2-7c1e-7d3b-9a55-2f4f3c1e8d21",
    })
    const other = await lethe.register({
      tenantId,
      personal: { name: "Other-FREE-TEXT-n8Yu" },
      source: "form",
    })
    await lethe.recordPersonalData(memberId, {
      category: "notes",
      fields: { note: freeText.note },
      source: { kind: "staff", tag: "front-desk" },
    })
    await lethe.recordPersonalData(memberId, {
      category: "address",
      fields: { city: "Łódź" },
      source: "staff",
    })
    await lethe.erasePersonalData(memberId, {
      categories: ["address"],
      reason: freeText.erasure,
      actor: admin,
    })
    await lethe.restrictProcessing(memberId, { reason: freeText.restriction, actor: admin })
    await lethe.liftRestriction(memberId)
    await lethe.restrictProcessing(memberId, { reason: freeText.secondRestriction })
    await lethe.liftRestriction(memberId)
    await lethe.requestErasure(memberId, { via: "email" })
    // The same kind of text for another member, whose data stays.
    await lethe.restrictProcessing(other.memberId, { reason: "Other-RESTRICT-j4Hd: still restricted" })
    // Tokens are bounded: a 1 MB correlation id and a free-text tag are refused, nothing written.
    const huge = `HUGE-CORRELATION-${"c".repeat(1 << 20)}`
    await expect(lethe.creditWallet(memberId, { amount: 100, correlationId: huge })).rejects.toMatchObject({
      _tag: "InvalidCommand",
      issues: [{ path: "correlationId" }],
    })
    await expect(
      lethe.recordPersonalData(memberId, {
        category: "notes",
        fields: { n: "x" },
        source: { kind: "staff", tag: "Notatka-TAG-free text" },
      }),
    ).rejects.toMatchObject({ _tag: "InvalidCommand", issues: [{ path: "source.tag" }] })
    await lethe.close()

    const before = Buffer.concat(files(filename).map((f) => f.bytes))
    // The check can fail: the directory holds the name in clear while the member is active.
    expect(contains(before, name), "name before the purge").toBe(true)
    // Free text is sealed from the start: in clear in no byte even before the erasure.
    for (const text of [...Object.values(freeText), "Other-RESTRICT-j4Hd", "HUGE-CORRELATION", "Notatka-TAG"])
      expect(contains(before, text), `${text} before the purge`).toBe(false)

    const reopened = await createLethe({ store: sqliteStore({ filename }), keyring, clock })
    await reopened.forget(memberId, { actor: admin })
    now += (reopened.config.restoreWindowDays + 1) * day
    const report = await reopened.runRetention()
    expect(report.failed).toEqual([])
    expect((await reopened.get(memberId)).status).toBe("purged")
    await reopened.close()

    const after = files(filename)
    for (const { file, bytes } of after)
      for (const needle of [name, ...Object.values(freeText), "Łódź"])
        expect(contains(bytes, needle), `${needle} in ${file}`).toBe(false)
    expect(
      contains(Buffer.concat(after.map((f) => f.bytes)), "Other-FREE-TEXT-n8Yu"),
      "the other member",
    ).toBe(true)
  }, 30_000)
})
