/**
 * Issue 18, item 4: the log file `lethe export-log` writes holds every stored
 * event as it is. Free text a person writes about a member (a restriction's
 * reason, an erasure's reason, a note) is sealed before it is stored, so a
 * distinctive string written in each is in no byte of the exported file,
 * neither before the purge (sealed) nor after it (its key destroyed), and
 * the file audits clean: sealing ok, no text where only a token belongs.
 */
import { readFileSync } from "node:fs"
import { createLethe, keyringFromSecret } from "@lethe/core"
import { sqliteStore } from "@lethe/store-sqlite"
import { afterAll, describe, expect, it } from "vitest"
import { lethe as cli, workdir } from "./run-cli.js"

const work = workdir()
afterAll(() => work.cleanup())

const secret = "export-log free-text test secret, 32+ bytes long"
const keyring = keyringFromSecret(secret)
const admin = { id: "staff:admin", roles: ["admin"] }
const day = 86_400_000

const freeText = {
  restriction: "Wniosek-LOG-RESTRICT-f4Gp: Zażółć disputes the address",
  erasure: "Wniosek-LOG-ERASE-s7Dx: asked by phone +48 600 117 117",
  note: "Notatka-LOG-NOTE-c1Vz: knee injury",
}
const name = "Zażółć-LOG-FREE-TEXT-u6Qa"

const exported = async (db: string, out: string) => {
  const run = await cli(["export-log", db, "--out", out], { cwd: work.dir })
  expect(run.code, run.stderr).toBe(0)
  return readFileSync(out)
}

describe("lethe export-log: free text (R29)", () => {
  it("R29: a distinctive string in every free-text field is in no byte of the exported log, before or after the purge, and the log audits clean (sealing ok)", async () => {
    const db = work.path("free-text.db")
    let now = new Date("2026-03-02T09:00:00Z").getTime()
    const app = await createLethe({
      store: sqliteStore({ filename: db }),
      keyring,
      clock: () => new Date(now),
    })
    const { memberId } = await app.register({
      tenantId: "gym",
      personal: { name, email: "log.free.text.u6qa@example.org" },
      source: { kind: "form", tag: "web:signup-form" },
    })
    await app.recordPersonalData(memberId, {
      category: "notes",
      fields: { note: freeText.note },
      source: { kind: "staff", tag: "front-desk" },
    })
    await app.recordPersonalData(memberId, { category: "address", fields: { city: "Łódź" }, source: "staff" })
    await app.erasePersonalData(memberId, { categories: ["address"], reason: freeText.erasure, actor: admin })
    await app.restrictProcessing(memberId, { reason: freeText.restriction })
    await app.liftRestriction(memberId)
    await app.close()

    const before = await exported(db, work.path("before.jsonl"))
    // The check can fail: the log holds the member's events (their sealed values, their tags).
    expect(before.includes(Buffer.from("web:signup-form"))).toBe(true)
    for (const text of Object.values(freeText))
      expect(before.includes(Buffer.from(text)), `${text} before the purge`).toBe(false)

    const again = await createLethe({
      store: sqliteStore({ filename: db }),
      keyring,
      clock: () => new Date(now),
    })
    await again.forget(memberId, { actor: admin })
    now += (again.config.restoreWindowDays + 1) * day
    expect((await again.runRetention()).failed).toEqual([])
    await again.close()

    const out = work.path("after.jsonl")
    const after = await exported(db, out)
    for (const text of [name, ...Object.values(freeText), "Łódź"])
      expect(after.includes(Buffer.from(text)), `${text} after the purge`).toBe(false)
    const audit = await cli(["audit", out, "--format", "json"], { cwd: work.dir })
    const report = JSON.parse(audit.stdout) as { findings: ReadonlyArray<{ rule: string }> }
    expect(report.findings.filter((f) => f.rule === "sealing")).toEqual([])
  }, 60_000)
})
