/**
 * Issue 19, item 2 (R37, R24): a purge keeps, as an anonymization does, the
 * invoice data the law requires until its retention ends; the receipt says
 * what was kept and until when; the retention run then destroys it; the
 * audit checks both that nothing else was kept and that nothing is kept
 * past its retention.
 */
import type { PersonalCategory } from "@lethe/core"
import { createLethe } from "@lethe/core"
import type { AuditReport, FinalErasureReceipt } from "@lethe/core/audit"
import { auditLog, auditSourcesOf } from "@lethe/core/audit"
import type { StoredEvent } from "@lethe/core/spi"
import { memberStream, readAllEvents } from "@lethe/core/spi"
import { memoryStore } from "@lethe/store-memory"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { admin, day, keyring, setup, testClock } from "./rights-setup.js"

const year = 365 * day

const logOf = async (events: AsyncIterable<StoredEvent>) => {
  const all: Array<StoredEvent> = []
  for await (const event of events) all.push(event)
  return all
}

/** A customer with invoice data, forgotten and purged once the restore window is over. */
const purgedCustomer = async () => {
  const world = await setup()
  const { lethe, clock } = world
  const { memberId } = await lethe.register({
    tenantId: "shop",
    personal: { name: "Åsa Öberg", email: "asa@example.se" },
    source: "form",
  })
  await lethe.recordPersonalData(memberId, {
    category: "invoice",
    fields: { name: "Åsa Öberg", address: "Storgatan 1, Malmö" },
    source: "staff",
  })
  await lethe.recordPurchase(memberId, { purchaseId: "inv-1", amount: 4_900, paid: true })
  await lethe.forget(memberId, { actor: admin })
  clock.advance(8 * day)
  const purgedAt = clock.millis()
  const purged = await lethe.purge(memberId, { actor: admin })
  return { ...world, memberId, purged, purgedAt }
}

const liveCategories = async (store: ReturnType<typeof memoryStore>, memberId: string) =>
  (await store.keys.listForMember(memberId))
    .flatMap((e) => (e._tag === "Live" ? [e.key.category] : []))
    .sort()

const findings = (report: AuditReport, rule: string) => report.findings.filter((f) => f.rule === rule)

describe("R37: legal holds survive a purge", () => {
  it("R37: a purge keeps the invoice key and destroys every other; the view and the receipt say what is kept and until when", async () => {
    const { lethe, store, memberId, purged, purgedAt } = await purgedCustomer()
    expect(purged.erasure?.categories).toEqual(["contact", "identity"])
    expect(await liveCategories(store, memberId)).toEqual(["invoice"])
    const stream = await store.events.readStream(memberStream(memberId))
    expect(stream.at(-1)).toMatchObject({ type: "Purged", data: { keptCategories: ["invoice"] } })

    const until = new Date(purgedAt)
    until.setUTCFullYear(until.getUTCFullYear() + 5)
    const view = await lethe.get(memberId)
    expect(view.status).toBe("purged")
    expect(view.personal).toEqual({})
    expect(view.kept).toEqual([{ category: "invoice", until }])
    expect(view.data.invoice).toEqual({ name: "Åsa Öberg", address: "Storgatan 1, Malmö" })
    expect(view.data.identity).toBeUndefined()

    const receipt = (await lethe.erasureReceipt(memberId)) as FinalErasureReceipt
    expect(receipt).toMatchObject({
      status: "purged",
      keptCategories: ["invoice"],
      keptUntil: until.toISOString(),
    })
    expect(receipt.keys.map((k) => k.category).sort()).toEqual(["contact", "identity"])

    const report = await auditLog(readAllEvents(store.events), {
      ...auditSourcesOf(store),
      asOf: new Date(purgedAt + day),
    })
    expect(report.findings).toEqual([])
  })

  it("R37: the retention run destroys the kept invoice data once its retention ends, not before; the audit flags it kept past that", async () => {
    const { lethe, store, clock, memberId, purgedAt } = await purgedCustomer()
    clock.advance(4 * year)
    const early = await lethe.runRetention()
    expect(early.planned.filter((r) => r.memberId === memberId)).toEqual([])
    expect(await liveCategories(store, memberId)).toEqual(["invoice"])

    // Five years and two days on, nobody ran retention: the hold has outlived the law that kept it.
    const late = new Date(purgedAt + 5 * year + 3 * day)
    const unrun = await auditLog(readAllEvents(store.events), { ...auditSourcesOf(store), asOf: late })
    expect(findings(unrun, "legal-hold")).toMatchObject([
      {
        streamId: memberStream(memberId),
        requirements: ["R37", "R24"],
        evidence: { categories: ["invoice"], retentionYears: 5, keptSince: new Date(purgedAt).toISOString() },
      },
    ])
    expect(unrun.findings.filter((f) => f.rule !== "legal-hold")).toEqual([])
    // Judged by the retention the log was written under.
    const longer = await auditLog(readAllEvents(store.events), {
      ...auditSourcesOf(store),
      asOf: late,
      invoiceRetentionYears: 10,
    })
    expect(longer.findings).toEqual([])

    clock.advance(year + 2 * day)
    const due = await lethe.runRetention()
    expect(due.executed.filter((r) => r.memberId === memberId)).toMatchObject([
      { rule: "end-invoice-retention", action: "EraseInvoices", erasure: { categories: ["invoice"] } },
    ])
    expect(due.failed).toEqual([])
    expect(await liveCategories(store, memberId)).toEqual([])
    const view = await lethe.get(memberId)
    expect(view.kept).toEqual([])
    expect(view.data).toEqual({})
    const receipt = (await lethe.erasureReceipt(memberId)) as FinalErasureReceipt
    expect(receipt).toMatchObject({ keptCategories: [], keptUntil: null })
    const log = await logOf(readAllEvents(store.events))
    const after = await auditLog(log, { ...auditSourcesOf(store), asOf: new Date(clock.millis() + 30 * day) })
    expect(after.findings).toEqual([])
    // The kept name and address are redacted from the stored log now.
    expect(JSON.stringify(log)).not.toContain("Storgatan")
  })

  it("R37: the audit allows a purged member only the keys its purge kept: a live identity key is keys-destroyed", async () => {
    const { store, memberId, purgedAt } = await purgedCustomer()
    const live = (await store.keys.listForMember(memberId)).find((e) => e._tag === "Live")
    if (live?._tag !== "Live") throw new Error("no kept key")
    // A key store that kept the identity key alive too, as a purge that stopped half-way would leave it.
    const sources = auditSourcesOf(store)
    const report = await auditLog(readAllEvents(store.events), {
      ...sources,
      keys: {
        ...sources.keys,
        listForMember: async (id: string) => [
          ...(await store.keys.listForMember(id)),
          { _tag: "Live", key: { ...live.key, keyId: `${live.key.keyId}-identity`, category: "identity" } },
        ],
      },
      asOf: new Date(purgedAt + day),
    })
    expect(findings(report, "keys-destroyed")).toMatchObject([
      {
        streamId: memberStream(memberId),
        evidence: { status: "purged", liveKeys: [{ category: "identity" }] },
      },
    ])
  })

  it("R37: for any personal data recorded, a purge leaves live exactly the invoice key, when there is one, and the audit is clean", async () => {
    const categories: ReadonlyArray<PersonalCategory> = [
      "contact",
      "address",
      "invoice",
      "notes",
      "documents",
    ]
    await fc.assert(
      fc.asyncProperty(fc.subarray([...categories]), async (recorded) => {
        const clock = testClock()
        const store = memoryStore()
        const lethe = await createLethe({ store, keyring, clock: clock.now })
        const { memberId } = await lethe.register({
          tenantId: "shop",
          personal: { name: "Łukasz Żółć", email: "lukasz@example.pl" },
          source: "form",
        })
        for (const category of recorded)
          await lethe.recordPersonalData(memberId, {
            category,
            fields: { line: `${category} value` },
            source: "staff",
          })
        await lethe.forget(memberId, { actor: admin })
        clock.advance(8 * day)
        await lethe.purge(memberId, { actor: admin })
        expect(await liveCategories(store, memberId)).toEqual(recorded.includes("invoice") ? ["invoice"] : [])
        const report = await auditLog(readAllEvents(store.events), {
          ...auditSourcesOf(store),
          asOf: new Date(clock.millis() + day),
        })
        expect(report.findings).toEqual([])
      }),
      { numRuns: 25 },
    )
  })
})
