/**
 * Other tools' exports imported into a SQLite file (R43): the same outcomes as on the memory store (core's
 * import-presets tests), through the batched append path, and the opt-outs still refused a consent after
 * the file is closed and opened again. The fixtures are core's (packages/core/test/fixtures/imports/).
 */
import { readFileSync } from "node:fs"
import type { LetheStore } from "@lethe/core"
import { createLethe, keyringFromSecret } from "@lethe/core"
import { describe, expect, it, onTestFinished } from "vitest"
import { freshFile, open } from "./fixtures.js"

const keyring = keyringFromSecret("sqlite import presets test secret, 32+ bytes")
const admin = { id: "staff:admin", roles: ["admin"] }
const importing = { tenantId: "shop", restoreForgotten: false, actor: admin }
const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`../../core/test/fixtures/imports/${name}`, import.meta.url)))

const lethe = async (store: LetheStore) => {
  const client = await createLethe({ store, keyring, clock: () => new Date("2026-03-02T09:00:00Z") })
  onTestFinished(() => client.close())
  return client
}

const nonZero = (counts: Readonly<Record<string, number>>) =>
  Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0))

describe("importCsv on SQLite (R43)", () => {
  it("R43: each preset's fixture imports with the same counts as on the memory store", async () => {
    const client = await lethe(open(freshFile()))
    const newsletter = { ...importing, purpose: "newsletter" }
    const runs = [
      [fixture("mailchimp-subscribed.csv"), { ...newsletter, mapping: "mailchimp" as const }],
      [fixture("mailchimp-unsubscribed.csv"), { ...newsletter, mapping: "mailchimp" as const }],
      [fixture("mailchimp-cleaned.csv"), { ...newsletter, mapping: "mailchimp" as const }],
      [
        fixture("hubspot-contacts.csv"),
        { ...importing, purpose: "marketing", mapping: "hubspot" as const, timeZone: "Europe/Stockholm" },
      ],
      [
        fixture("brevo-contacts.csv"),
        { ...newsletter, mapping: "brevo" as const, timeZone: "Europe/Warsaw" },
      ],
      [fixture("native-windows-1250.csv"), { ...importing, encoding: "windows-1250" }],
      [fixture("native-tab.tsv"), { ...importing, timeZone: "Europe/Stockholm" }],
    ] as const
    const counts = []
    for (const [file, input] of runs) counts.push(nonZero((await client.importCsv(file, input)).counts))
    expect(counts).toEqual([
      { created: 24 },
      { unsubscribed: 40 },
      { suppressed: 12 },
      { created: 15, unsubscribed: 36, suppressed: 8, rejected: 1 },
      { created: 11, suppressed: 29 },
      { created: 3 },
      { created: 1, unsubscribed: 1, suppressed: 1 },
    ])
  })

  it("R43: after the file is opened again, an old subscribed list signs none of the opt-outs up", async () => {
    const filename = freshFile()
    const first = await lethe(open(filename))
    const input = { ...importing, purpose: "newsletter", mapping: "mailchimp" as const }
    await first.importCsv(fixture("mailchimp-unsubscribed.csv"), input)
    await first.importCsv(fixture("mailchimp-cleaned.csv"), input)
    await first.close()
    const again = await lethe(open(filename))
    const emails = ["mailchimp-unsubscribed.csv", "mailchimp-cleaned.csv"].flatMap((name) =>
      [...new TextDecoder().decode(fixture(name)).matchAll(/^([^,\r\n]+@[^,]+),/gm)].map((m) => m[1]),
    )
    const oldList = `email,purpose,given_at\n${emails.map((e) => `${e},newsletter,2019-01-01`).join("\n")}\n`
    const report = await again.importCsv(oldList, importing)
    expect(nonZero(report.counts)).toEqual({ rejected: 52 })
    const reasons = new Set(report.rejected.map((r) => r.reason))
    expect([...reasons].sort()).toEqual(["ConsentObjected", "ContactSuppressed"])
  })
})
