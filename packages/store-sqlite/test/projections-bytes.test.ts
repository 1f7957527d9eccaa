import fs from "node:fs"
import type { Actor, Projection } from "@lethe/core"
import { createLethe, keyringFromSecret } from "@lethe/core"
import { sqliteStore } from "@lethe/store-sqlite"
import type Database from "better-sqlite3"
import { describe, expect, it } from "vitest"
import { contains, freshFile } from "./fixtures.js"

const keyring = keyringFromSecret("store-sqlite projection byte-level erasure test secret")
const admin: Actor = { id: "staff:admin", roles: ["admin"] }
const day = 86_400_000

/** Distinctive, partly non-ASCII, so that no other byte sequence in the file can match by chance. */
const nameOf = (i: number) => `Wisława Ćmielówna-${i}-Ψ Kq${i * 7919}`
const emailOf = (i: number) => `wislawa.cmielowna.${i}.kq${i * 7919}@example.org`

/** The database file and its WAL, as raw bytes. */
const bytesOf = (filename: string) =>
  Buffer.concat(
    [filename, `${filename}-wal`].flatMap((file) => (fs.existsSync(file) ? [fs.readFileSync(file)] : [])),
  )

/** Keeps each member's name and e-mail while active; drops them when the member is forgotten, purged or anonymized. */
const people = (inline: boolean): Projection<Database.Database> => {
  const table = inline ? "people_inline" : "people_later"
  return {
    name: table,
    ...(inline ? { inline: true } : {}),
    setup: (db) =>
      db.exec(`CREATE TABLE IF NOT EXISTS ${table} (member_id TEXT PRIMARY KEY, name TEXT, email TEXT)`),
    apply: ({ memberId, event }, db) => {
      if (event._tag === "PersonalDataRecorded") {
        const name = typeof event.fields.name === "string" ? event.fields.name : null
        const email = typeof event.fields.email === "string" ? event.fields.email : null
        db.prepare(
          `INSERT INTO ${table} (member_id, name, email) VALUES (?, ?, ?) ON CONFLICT (member_id)
           DO UPDATE SET name = coalesce(excluded.name, name), email = coalesce(excluded.email, email)`,
        ).run(memberId, name, email)
      }
      if (event._tag === "Forgotten" || event._tag === "Purged" || event._tag === "Anonymized")
        db.prepare(`DELETE FROM ${table} WHERE member_id = ?`).run(memberId)
    },
    reset: (db) => db.exec(`DELETE FROM ${table}`),
  }
}

describe("sqlite store: a projection's tables after a purge (R36, R29)", () => {
  it("R36: after forget and the purge past the window, the purged member's name and e-mail are in no byte of the .db or -wal file, through an inline and a caught-up projection", async () => {
    const filename = freshFile()
    let now = Date.UTC(2026, 2, 2, 9)
    const lethe = await createLethe({
      store: sqliteStore({ filename }),
      keyring,
      clock: () => new Date(now),
      projections: [people(true), people(false)],
    })
    const ids: Array<string> = []
    for (let i = 0; i < 30; i++) {
      const { memberId } = await lethe.register({
        tenantId: "gym",
        personal: { name: nameOf(i), email: emailOf(i) },
        source: "form",
      })
      ids.push(memberId)
    }
    await lethe.catchUpProjection("people_later")
    const gone = 17
    const needles = [nameOf(gone), emailOf(gone)]
    const count = (table: string) =>
      lethe.readProjection(
        table,
        (db: Database.Database) =>
          db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${table}`).get()?.n,
      )
    expect(await count("people_inline")).toBe(30)
    expect(await count("people_later")).toBe(30)
    expect(contains(bytesOf(filename), nameOf(gone)), "the check can fail: the name is in the file").toBe(
      true,
    )

    await lethe.forget(ids[gone] as string, { actor: admin })
    now += (lethe.config.restoreWindowDays + 1) * day
    const report = await lethe.runRetention()
    expect(report.executed.map((e) => e.memberId)).toContain(ids[gone])
    await lethe.catchUpProjection("people_later")
    expect(await count("people_inline")).toBe(29)
    expect(await count("people_later")).toBe(29)
    await lethe.close()

    const bytes = bytesOf(filename)
    for (const needle of needles) expect(contains(bytes, needle), needle).toBe(false)
    expect(contains(bytes, nameOf(gone + 1)), "the others stay").toBe(true)
  })
})
