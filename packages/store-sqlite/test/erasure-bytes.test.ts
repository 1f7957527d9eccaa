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
