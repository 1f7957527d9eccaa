/**
 * The access export a person can read (issue 19, item 7): purposes, lawful
 * bases, retention and source of every kind of data, recipients, the
 * controller's contact, the person's rights, who handled each request, the
 * whole history; dates in the person's locale and time zone; empty sections
 * collapsed; no word broken between lines; and the PDF, read back with an
 * independent PDF text extractor (unpdf, pdf.js).
 */
import type { LetheClient, MemberExport } from "@lethe/core"
import fontkit from "@pdf-lib/fontkit"
import fc from "fast-check"
import { PDFDocument } from "pdf-lib"
import { extractText, getDocumentProxy } from "unpdf"
import { describe, expect, it } from "vitest"
import { memberExportPdf, wrapText } from "../src/export/pdf.js"
import { readableExport } from "../src/export/tables.js"
import { dataMap } from "../src/service/data-map.js"
import { defaultConfig } from "../src/service/options.js"
import { admin, day, hour, rejection, setup } from "./rights-setup.js"

const controller = {
  name: "Fit Club Sp. z o.o.",
  contact: "privacy@fitclub.example, ul. Długa 1, 80-001 Gdańsk",
  dpo: "dpo@fitclub.example",
  supervisoryAuthority: { name: "Prezes Urzędu Ochrony Danych Osobowych", url: "https://uodo.gov.pl" },
}
const otherSystems = ["Accounting (Fakturownia)", "Newsletter tool"]
const longEmail = "lukasz.zolc.the.longest.address.anyone.at.the.club.ever.had@przykladowa-domena.example.pl"

/** A member with data in most sections, forgotten and restored, with an access request fulfilled by export. */
const member = async (lethe: LetheClient, clock: { advance: (ms: number) => void }) => {
  const { memberId } = await lethe.register({
    tenantId: "gym",
    personal: { name: "Łukasz Żółć", email: longEmail },
    source: { kind: "form", tag: "footer" },
  })
  await lethe.recordPersonalData(memberId, {
    category: "address",
    fields: { street: "Östra Hamngatan 12", city: "Göteborg", contact: "Åsa Öberg" },
    source: "staff",
  })
  await lethe.giveConsent(memberId, { purpose: "newsletter", method: "checkbox", source: "form" })
  await lethe.signContract(memberId, { contractId: "c-1", clubId: "gdansk", startsAt: new Date() })
  await lethe.creditWallet(memberId, { amount: 5000 })
  await lethe.recordPersonalData(memberId, {
    category: "invoice",
    fields: { name: "Łukasz Żółć", address: "ul. Długa 1, Gdańsk" },
    source: "staff",
  })
  await lethe.recordActivity(memberId, { kind: "visit", clubId: "gdansk", details: { door: "main" } })
  clock.advance(hour)
  await lethe.forget(memberId, { actor: { id: "staff:ewa", roles: ["admin"] } })
  clock.advance(hour)
  await lethe.restore(memberId, { actor: { id: "staff:jan", roles: ["admin"] } })
  const access = await lethe.requestAccess(memberId, {
    via: "email",
    actor: { id: "staff:ola", roles: ["admin"] },
  })
  return { memberId, requestId: access.requestId }
}

const pdfText = async (bytes: Uint8Array) => {
  const pdf = await getDocumentProxy(new Uint8Array(bytes))
  const { text } = await extractText(pdf, { mergePages: true })
  const items: Array<string> = []
  for (let n = 1; n <= pdf.numPages; n++) {
    const content = await (await pdf.getPage(n)).getTextContent()
    for (const item of content.items) if ("str" in item) items.push(item.str)
  }
  const { info } = (await pdf.getMetadata()) as unknown as { info: Record<string, unknown> }
  return { text, items, info, pages: pdf.numPages }
}

describe("the readable access export: the document (R13, R14)", () => {
  it("R13: every kind of data has purposes, lawful bases, retention and source; the controller, rights and history are there", async () => {
    // No other systems: the export alone fulfils the access request (R14 waits for their confirmations).
    const { lethe, clock } = await setup({ config: { controller } })
    const { memberId, requestId } = await member(lethe, clock)
    const { document: doc } = await lethe.exportMember(memberId, { format: "json", actor: admin, requestId })
    expect(doc.format).toBe("lethe-member-export/2")

    const map = await lethe.dataMap()
    expect(doc.categories.map((c) => c.category)).toEqual(map.processing.map((p) => p.category))
    for (const c of doc.categories) {
      expect(c.purposes.length).toBeGreaterThan(0)
      expect(c.lawfulBases.length).toBeGreaterThan(0)
      for (const b of c.lawfulBases) expect(b.article).toMatch(/^art\. 6\(1\)\([a-f]\)/)
      expect(c.retention.length).toBeGreaterThan(0)
      expect(c.source.length).toBeGreaterThan(0)
    }
    const held = (category: string) => doc.categories.find((c) => c.category === category)
    for (const category of ["contracts", "wallet", "invoice", "activity", "identity", "address"])
      expect(held(category)?.held).toBe(true)
    expect(held("debt-cases")?.held).toBe(false)
    expect(held("contracts")?.lawfulBases).toEqual([{ basis: "contract", article: "art. 6(1)(b)" }])
    expect(held("invoice")?.lawfulBases).toEqual([{ basis: "legal-obligation", article: "art. 6(1)(c)" }])
    expect(held("invoice")?.retention).toContain("5 years")
    expect(held("identity")?.retention).toContain("7 days")

    expect(doc.controller).toEqual({ ...controller, supervisoryAuthority: controller.supervisoryAuthority })
    expect(doc.rights.map((r) => r.article)).toEqual([
      "art. 15",
      "art. 16",
      "art. 17",
      "art. 18",
      "art. 20",
      "art. 21",
      "art. 7(3)",
      "art. 22",
      "art. 77",
    ])
    expect(doc.rights.at(-1)?.description).toContain("Prezes Urzędu Ochrony Danych Osobowych")

    expect(doc.requests).toEqual([
      expect.objectContaining({ requestId, recordedBy: "staff:ola", fulfilledBy: "staff:admin" }),
    ])
    expect(doc.exports.at(-1)).toMatchObject({ requestId, by: "staff:admin" })
    const history = doc.history.map((h) => [h.event, h.by])
    expect(history).toContainEqual(["Forgotten", "staff:ewa"])
    expect(history).toContainEqual(["Restored", "staff:jan"])
    expect(history.at(-1)).toEqual(["DataExported", "staff:admin"])
    expect(doc.history.find((h) => h.event === "Forgotten")?.description).toContain("restorable for 7 days")
  })

  it("R14: a request lists who recorded it, who did our part, and who confirmed each other system", async () => {
    const { lethe } = await setup({ config: { otherSystems } })
    const { memberId } = await lethe.register({ tenantId: "shop", personal: { name: "Åsa" }, source: "api" })
    const ola = { id: "staff:ola", roles: ["admin"] }
    const { requestId } = await lethe.requestAccess(memberId, { via: "email", actor: ola })
    await lethe.exportMember(memberId, { format: "json", actor: admin, requestId })
    await lethe.confirmSystem(memberId, { actor: ola, requestId, system: "Accounting (Fakturownia)" })
    const pending = await lethe.exportMember(memberId, { format: "json", actor: admin })
    expect(pending.document.requests[0]).toMatchObject({
      recordedBy: "staff:ola",
      handledBy: "staff:admin",
      systems: [
        { system: "Accounting (Fakturownia)", confirmedBy: "staff:ola" },
        { system: "Newsletter tool", confirmedAt: null, confirmedBy: null },
      ],
      fulfilledAt: null,
      fulfilledBy: null,
    })
    await lethe.confirmSystem(memberId, { actor: admin, requestId, system: "Newsletter tool" })
    const done = await lethe.exportMember(memberId, { format: "html", actor: admin })
    expect(done.document.requests[0]?.fulfilledBy).toBe("staff:admin")
    expect(done.content.replace(/<span class="nw">([^<]*)<\/span>/g, "$1")).toContain(
      "Newsletter tool: confirmed 2 March 2026 at 09:00 by staff:admin",
    )
  })

  it("R13: an unconfigured controller names the configuration key to set, never an invented name", async () => {
    const { lethe } = await setup()
    const { memberId } = await lethe.register({ tenantId: "shop", personal: { name: "Ada" }, source: "api" })
    const { document } = await lethe.exportMember(memberId, { format: "json", actor: admin })
    expect(document.controller.name).toContain("config.controller.name")
    expect(document.controller.supervisoryAuthority.url).toMatch(/^https:\/\/www\.edpb\.europa\.eu\//)
  })

  it("R13: any configuration: every kind of data in the data map is in the document with its retention", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 90 }),
        fc.integer({ min: 1, max: 12 }),
        (restoreWindowDays, invoiceRetentionYears) => {
          const config = { ...defaultConfig, restoreWindowDays, invoiceRetentionYears }
          const { processing } = dataMap({ config, storeName: "memory" })
          const invoice = processing.find((p) => p.category === "invoice")
          expect(invoice?.retention).toContain(`${invoiceRetentionYears} years`)
          for (const p of processing.filter((p) => p.category !== "invoice"))
            expect(p.retention).toContain(`${restoreWindowDays} days`)
        },
      ),
      { numRuns: 50 },
    )
  })
})

describe("the readable access export: HTML (R13)", () => {
  it("R13: dates are in the member's locale and time zone, from the configuration or the export", async () => {
    const { lethe } = await setup({ config: { locale: "pl-PL", timeZone: "Europe/Warsaw" } })
    const { memberId } = await lethe.register({ tenantId: "shop", personal: { name: "Ada" }, source: "api" })
    const polish = await lethe.exportMember(memberId, { format: "html", actor: admin })
    // The test clock starts at 2026-03-02T09:00Z: 10:00 in Warsaw.
    expect(polish.content).toContain("2 marca 2026")
    expect(polish.content).toContain("10:00")
    expect(polish.content).toContain('<html lang="pl-PL">')
    expect(polish.document.exportedAt).toBe("2026-03-02T09:00:00.000Z")
    const swedish = await lethe.exportMember(memberId, {
      format: "html",
      actor: admin,
      locale: "sv-SE",
      timeZone: "America/New_York",
    })
    expect(swedish.content).toContain("2 mars 2026")
    expect(swedish.content).toContain("04:00")
    for (const bad of [{ timeZone: "Mars/Olympus" }, { locale: "not a locale!" }])
      expect(
        await rejection(lethe.exportMember(memberId, { format: "html", actor: admin, ...bad })),
      ).toMatchObject({ _tag: "InvalidCommand", issues: [{ path: Object.keys(bad)[0] }] })
  })

  it("R13: an export link carries the person's locale and time zone to the export it grants", async () => {
    const { lethe } = await setup()
    const { memberId } = await lethe.register({ tenantId: "shop", personal: { name: "Åsa" }, source: "api" })
    const link = await lethe.createExportLink(memberId, {
      format: "html",
      actor: admin,
      locale: "sv-SE",
      timeZone: "Europe/Stockholm",
    })
    const result = await lethe.redeemExportLink(link.token)
    expect(result.document).toMatchObject({ locale: "sv-SE", timeZone: "Europe/Stockholm" })
    if (result.format !== "html") throw new Error("expected html")
    expect(result.content).toContain("2 mars 2026")
    expect(
      await rejection(
        lethe.createExportLink(memberId, { format: "pdf", actor: admin, timeZone: "Nowhere/At_All" }),
      ),
    ).toMatchObject({ _tag: "InvalidCommand", issues: [{ path: "timeZone" }] })
  })

  it("R13: empty sections are collapsed into one line; the categories not held are named once", async () => {
    const { lethe } = await setup()
    const { memberId } = await lethe.register({ tenantId: "shop", personal: { name: "Ada" }, source: "api" })
    const { content } = await lethe.exportMember(memberId, { format: "html", actor: admin })
    const text = content.replace(/<span class="nw">([^<]*)<\/span>/g, "$1")
    expect(content).not.toContain('<h2 id="contracts">')
    expect(content).not.toContain('<h2 id="other-systems">')
    expect(text).toMatch(/Nothing recorded about you in: [^<]*Contracts[^<]*\./)
    expect(content).toContain('<h2 id="categories">')
    expect(text).toMatch(/We hold nothing about you in: [^<]*Health data/)
    for (const always of ["member", "controller", "personal-data", "history", "rights"])
      expect(content).toContain(`<h2 id="${always}">`)
  })

  it("R13: words with hyphens, dots, slashes or @ are kept on one line; the style sheet breaks no word", async () => {
    const { lethe } = await setup()
    const { memberId } = await lethe.register({
      tenantId: "shop",
      personal: { name: "Anna Kowalska-Nowak", email: longEmail },
      source: "api",
    })
    const { content } = await lethe.exportMember(memberId, { format: "html", actor: admin })
    expect(content).toContain(`<span class="nw">${longEmail}</span>`)
    expect(content).toContain('<span class="nw">Kowalska-Nowak</span>')
    expect(content).toMatch(/hyphens: none; overflow-wrap: normal; word-break: normal;/)
    expect(content).not.toMatch(/overflow-wrap: anywhere|word-break: break-all|hyphens: auto/)
  })
})

describe("the readable access export: PDF (R13)", () => {
  it("R13: the PDF export holds the person's name and every section", async () => {
    const { lethe, clock } = await setup({ config: { controller, otherSystems } })
    const { memberId, requestId } = await member(lethe, clock)
    const result = await lethe.exportMember(memberId, { format: "pdf", actor: admin, requestId })
    if (result.format !== "pdf") throw new Error("expected pdf")
    expect(result.mediaType).toBe("application/pdf")
    expect(result.fileName).toBe(`member-${memberId}.pdf`)
    expect(Buffer.from(result.content.subarray(0, 5)).toString("latin1")).toBe("%PDF-")

    const { text, info, pages } = await pdfText(result.content)
    for (const expected of [
      "Łukasz Żółć",
      "Åsa Öberg",
      "Östra Hamngatan 12",
      "Göteborg",
      "Gdańsk",
      longEmail,
    ])
      expect(text).toContain(expected)
    const readable = readableExport(result.document)
    for (const section of readable.sections) expect(text).toContain(section.title)
    expect(readable.sections.map((s) => s.name)).toEqual(
      expect.arrayContaining(["controller", "categories", "history", "other-systems", "rights", "requests"]),
    )
    for (const expected of [
      controller.name,
      controller.supervisoryAuthority.name,
      "art. 77",
      "Fakturownia",
      "staff:ola",
      "Nothing recorded about you in:",
    ])
      expect(text).toContain(expected)
    expect(text).toContain(`page ${pages} of ${pages}`)
    expect(info).toMatchObject({ Title: readable.title, Producer: "Lethe", Author: controller.name })
    expect(String(info.CreationDate)).toMatch(/^D:20260302/)
  })

  it("R13: a long e-mail address is never split between lines", async () => {
    const { lethe } = await setup()
    const { memberId } = await lethe.register({
      tenantId: "shop",
      personal: { name: "Łukasz Żółć", email: longEmail },
      source: "api",
    })
    const result = await lethe.exportMember(memberId, { format: "pdf", actor: admin })
    if (result.format !== "pdf") throw new Error("expected pdf")
    const { items } = await pdfText(result.content)
    // Each line is drawn as one text item: the address is whole in one of them.
    expect(items.some((item) => item.includes(longEmail))).toBe(true)
    expect(
      items.filter((item) => item.includes("przykladowa-domena")).every((i) => i.includes(longEmail)),
    ).toBe(true)
  })

  it("R13: the same document gives the same bytes", async () => {
    const { lethe } = await setup()
    const { memberId } = await lethe.register({
      tenantId: "shop",
      personal: { name: "Åsa Öberg" },
      source: "api",
    })
    const { document } = await lethe.exportMember(memberId, { format: "json", actor: admin })
    const [a, b] = await Promise.all([memberExportPdf(document), memberExportPdf(document as MemberExport)])
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true)
  })

  it("R13: any text of Polish and Swedish words wraps at spaces only, within the width", async () => {
    const pdf = await PDFDocument.create()
    pdf.registerFontkit(fontkit)
    const { readFile } = await import("node:fs/promises")
    const { createRequire } = await import("node:module")
    const font = await pdf.embedFont(
      await readFile(createRequire(import.meta.url).resolve("dejavu-fonts-ttf/ttf/DejaVuSans.ttf")),
      { subset: true },
    )
    const measure = (t: string, size: number) => font.widthOfTextAtSize(t, size)
    const word = fc.string({
      unit: fc.constantFrom(..."aąćęłńóśźżåäöéüÅÄÖŁŻŹĆŚ-@./0123456789"),
      minLength: 1,
      maxLength: 30,
    })
    fc.assert(
      fc.property(fc.array(word, { maxLength: 40 }), fc.integer({ min: 80, max: 400 }), (words, width) => {
        const lines = wrapText(words.join(" "), measure, 9, width)
        expect(lines.flatMap((l) => l.text.split(" ").filter((w) => w.length > 0))).toEqual(words)
        for (const line of lines) expect(measure(line.text, line.size)).toBeLessThanOrEqual(width + 1e-6)
      }),
      { numRuns: 200 },
    )
    expect(day).toBeGreaterThan(0)
  })
})
