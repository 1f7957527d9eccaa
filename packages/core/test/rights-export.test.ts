import type { ExportResult, LetheClient, MemberExport } from "@lethe/core"
import { createLethe, keyringFromSecret, Lethe } from "@lethe/core"
import { memberStream } from "@lethe/core/spi"
import { memoryStore } from "@lethe/store-memory"
import { parse } from "csv-parse/sync"
import { Duration, Effect, TestClock } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { csvRecords, spreadsheetSafe, utf8Bom } from "../src/export/csv.js"
import { escapeHtml } from "../src/export/html.js"
import { memberExportFormat } from "../src/export/member-export.js"
import { itEffect } from "./effect-test"
import { admin, clerk, countEvents, day, hour, keyring, rejection, setup } from "./rights-setup.js"

const otherSystems = ["Accounting (invoices)", "Newsletter tool"]

/** A gym member with something in every section of the export. */
const richMember = async (
  lethe: LetheClient,
  clock: { advance: (ms: number) => void; millis: () => number },
) => {
  const { memberId } = await lethe.register({
    tenantId: "gym",
    personal: { name: "Łukasz Żółć", email: "lukasz@example.pl", phone: "+48 501 222 333" },
    source: { kind: "form", tag: "footer" },
  })
  clock.advance(hour)
  await lethe.recordPersonalData(memberId, {
    category: "contact",
    fields: { phone: "+48 600 000 111" },
    source: "staff",
  })
  await lethe.recordPersonalData(memberId, {
    category: "address",
    fields: { street: "ul. Długa 1", city: "Gdańsk" },
    source: { kind: "staff", tag: "front-desk" },
  })
  await lethe.giveConsent(memberId, {
    purpose: "newsletter",
    method: "double-opt-in",
    source: { kind: "form", tag: "footer" },
    givenAt: new Date(clock.millis() - day),
  })
  await lethe.giveConsent(memberId, {
    purpose: "health-data",
    explicit: true,
    method: "paper",
    source: "staff",
  })
  await lethe.recordPersonalData(memberId, {
    category: "health",
    fields: { injury: "knee" },
    source: "staff",
  })
  await lethe.recordPersonalData(memberId, {
    category: "invoice",
    fields: { name: "Łukasz Żółć", address: "ul. Długa 1, Gdańsk" },
    source: "staff",
  })
  await lethe.signContract(memberId, {
    contractId: "c-1",
    clubId: "gdansk",
    startsAt: new Date(clock.millis()),
    endsAt: new Date(clock.millis() + 365 * day),
  })
  await lethe.creditWallet(memberId, { amount: 5000 })
  await lethe.debitWallet(memberId, { amount: 1200 })
  await lethe.recordPurchase(memberId, { purchaseId: "p-1", amount: 1200, paid: false })
  clock.advance(hour)
  await lethe.markPurchasePaid(memberId, { purchaseId: "p-1" })
  await lethe.recordMissedInstalment(memberId, { instalmentId: "i-1", clubId: "gdansk", amount: 9900 })
  await lethe.openDebtCase(memberId, { caseId: "d-1", clubId: "sopot" })
  await lethe.closeDebtCase(memberId, { caseId: "d-1" })
  await lethe.recordActivity(memberId, { kind: "visit", clubId: "gdansk", details: { door: "main" } })
  await lethe.recordActivity(memberId, {
    kind: "class",
    clubId: "sopot",
    details: { class: "Pilates z Ewą" },
  })
  const { messageId } = await lethe.sendMessage(memberId, {
    purpose: "newsletter",
    channel: "email",
    sentBy: "campaign:spring",
  })
  await lethe.unsubscribe(memberId, { purpose: "newsletter", via: "link" })
  return { memberId, messageId }
}

const json = (result: ExportResult): MemberExport => {
  if (result.format !== "json") throw new Error(`expected json, got ${result.format}`)
  expect(JSON.parse(result.content)).toEqual(result.document)
  return result.document
}

describe("exportMember: the JSON document", () => {
  it("R13, R21: every section is there, each value with its source and time, sealed details opened", async () => {
    const { lethe, store, clock } = await setup({ config: { otherSystems } })
    const { memberId, messageId } = await richMember(lethe, clock)
    const access = await lethe.requestAccess(memberId, { via: "email" })
    const doc = json(
      await lethe.exportMember(memberId, { format: "json", actor: admin, requestId: access.requestId }),
    )

    expect(doc.format).toBe(memberExportFormat)
    expect(doc.member).toMatchObject({
      memberId,
      tenantId: "gym",
      status: "active",
      source: { kind: "form", tag: "footer" },
    })
    const value = (category: string, field: string) =>
      doc.personalData.filter((v) => v.category === category && v.field === field)
    expect(value("identity", "name")).toEqual([
      expect.objectContaining({
        value: "Łukasz Żółć",
        source: { kind: "form", tag: "footer" },
        current: true,
      }),
    ])
    // The old phone is still in the log, so it is exported, marked as no longer current.
    expect(value("contact", "phone").map((v) => [v.value, v.current, v.source.kind])).toEqual([
      ["+48 501 222 333", false, "form"],
      ["+48 600 000 111", true, "staff"],
    ])
    expect(value("address", "city")[0]).toMatchObject({ value: "Gdańsk", source: { tag: "front-desk" } })
    expect(value("health", "injury")[0]?.value).toBe("knee")
    for (const v of doc.personalData) expect(Date.parse(v.recordedAt)).not.toBeNaN()
    expect(doc.invoices.map((v) => [v.field, v.value])).toEqual([
      ["name", "Łukasz Żółć"],
      ["address", "ul. Długa 1, Gdańsk"],
    ])

    const newsletter = doc.consents.find((c) => c.purpose === "newsletter")
    expect(newsletter).toMatchObject({
      description: "E-mail newsletter",
      basis: "consent",
      method: "double-opt-in",
      wordingVersion: "v1",
      source: { kind: "form", tag: "footer" },
      inForce: false,
      withdrawnAt: null,
    })
    expect(Date.parse(newsletter?.recordedAt ?? "") - Date.parse(newsletter?.givenAt ?? "")).toBe(day)
    expect(newsletter?.unsubscribedAt).not.toBeNull()
    expect(doc.consents.find((c) => c.purpose === "health-data")).toMatchObject({
      explicit: true,
      inForce: true,
    })
    expect(doc.consentHistory.map((c) => [c.purpose, c.action])).toEqual([
      ["newsletter", "given"],
      ["health-data", "given"],
      ["newsletter", "unsubscribed"],
    ])

    expect(doc.contracts).toEqual([
      expect.objectContaining({ contractId: "c-1", clubId: "gdansk", endedAt: null }),
    ])
    expect(doc.wallet.balance).toBe(3800)
    expect(doc.wallet.movements.map((m) => [m.kind, m.amount])).toEqual([
      ["credit", 5000],
      ["debit", 1200],
    ])
    expect(doc.purchases).toEqual([
      expect.objectContaining({ purchaseId: "p-1", amount: 1200, paid: true, paidAt: expect.any(String) }),
    ])
    expect(doc.instalments).toEqual([expect.objectContaining({ instalmentId: "i-1", paidAt: null })])
    expect(doc.debtCases).toEqual([expect.objectContaining({ caseId: "d-1", closedAt: expect.any(String) })])
    expect(doc.activity.map((a) => [a.kind, a.clubId, a.details])).toEqual([
      ["visit", "gdansk", { door: "main" }],
      ["class", "sopot", { class: "Pilates z Ewą" }],
    ])
    expect(doc.messages).toEqual([
      expect.objectContaining({
        messageId,
        purpose: "newsletter",
        channel: "email",
        sentBy: "campaign:spring",
        basis: "consent",
        method: "double-opt-in",
        wordingVersion: "v1",
      }),
    ])
    expect(doc.otherSystems).toEqual(otherSystems)

    // The export is recorded, and the document says where in the log it stands.
    const events = await store.events.readStream(memberStream(memberId))
    const last = events.at(-1)
    expect(last).toMatchObject({
      type: "DataExported",
      data: { format: "json", requestId: access.requestId },
    })
    expect(last?.metadata.actor).toBe("staff:admin")
    expect(doc.log).toEqual({ streamId: memberStream(memberId), version: last?.version, head: last?.hash })
    expect(doc.exports).toEqual([
      { at: doc.exportedAt, format: "json", requestId: access.requestId, by: "staff:admin" },
    ])
    expect(doc.requests).toEqual([
      expect.objectContaining({
        requestId: access.requestId,
        kind: "access",
        via: "email",
        // The export does Lethe's part; the request is fulfilled once the other systems confirm theirs (R14).
        handledAt: doc.exportedAt,
        handledBy: "staff:admin",
      }),
    ])
  })

  it("R13: export needs member:export; a refused export writes nothing", async () => {
    const { lethe, store } = await setup()
    const { memberId } = await lethe.register({ tenantId: "shop", personal: { name: "Ada" }, source: "api" })
    const before = await countEvents(store)
    expect(await rejection(lethe.exportMember(memberId, { format: "json", actor: clerk }))).toMatchObject({
      _tag: "NotPermitted",
      permission: "member:export",
    })
    expect(
      (await rejection(lethe.exportMember(memberId, { format: "xml" as "json", actor: admin })))._tag,
    ).toBe("InvalidCommand")
    expect(await countEvents(store)).toBe(before)
  })

  it("R2: a forgotten member is not exported", async () => {
    const { lethe } = await setup()
    const { memberId } = await lethe.register({ tenantId: "shop", personal: { name: "Ada" }, source: "api" })
    await lethe.forget(memberId, { actor: admin })
    expect((await rejection(lethe.exportMember(memberId, { format: "html", actor: admin })))._tag).toBe(
      "MemberErased",
    )
  })

  it("R21: export first, then anonymize: the file keeps what anonymization then erases", async () => {
    const { lethe } = await setup()
    const { memberId } = await lethe.register({
      tenantId: "gym",
      personal: { name: "Marta Wiśniewska", email: "marta@example.pl" },
      source: "staff",
    })
    await lethe.recordActivity(memberId, { kind: "class", clubId: "krk", details: { class: "Yoga" } })
    const exported = await lethe.exportMember(memberId, { format: "json", actor: admin })
    await lethe.anonymize(memberId, { actor: admin, confirmEmail: "marta@example.pl" })
    expect(exported.document.activity[0]?.details).toEqual({ class: "Yoga" })
    expect(exported.document.personalData.map((v) => v.value)).toContain("Marta Wiśniewska")
    expect((await lethe.get(memberId)).personal).toEqual({})
  })
})

describe("exportMember: requests and deadlines", () => {
  it("R11: an export given the access request's id fulfils it; openRequests no longer lists it", async () => {
    const { lethe, clock } = await setup()
    const { memberId } = await lethe.register({ tenantId: "shop", personal: { name: "Ada" }, source: "api" })
    const access = await lethe.requestAccess(memberId, { via: "form" })
    const erasure = await lethe.requestErasure(memberId, { via: "email" })
    expect(access.dueBy.getTime() - clock.millis()).toBe(30 * day)
    expect((await lethe.openRequests()).map((r) => [r.requestId, r.kind, r.memberId])).toEqual(
      expect.arrayContaining([
        [access.requestId, "access", memberId],
        [erasure.requestId, "erasure", memberId],
      ]),
    )
    await lethe.exportMember(memberId, { format: "csv", actor: admin, requestId: access.requestId })
    expect((await lethe.openRequests()).map((r) => r.requestId)).toEqual([erasure.requestId])
    clock.advance(31 * day)
    expect((await lethe.overdueErasureRequests()).map((r) => r.requestId)).toEqual([erasure.requestId])
  })

  it("R11: an export cannot fulfil a request the member does not have, nor an erasure request", async () => {
    const { lethe, store } = await setup()
    const { memberId } = await lethe.register({ tenantId: "shop", personal: { name: "Ada" }, source: "api" })
    const erasure = await lethe.requestErasure(memberId, { via: "email" })
    const before = await countEvents(store)
    for (const requestId of ["no-such-request", erasure.requestId])
      expect(
        await rejection(lethe.exportMember(memberId, { format: "json", actor: admin, requestId })),
      ).toMatchObject({ _tag: "UnknownReference", kind: "access request" })
    expect(await countEvents(store)).toBe(before)
  })

  it("R14: requests and exports list the other systems staff must handle by hand", async () => {
    const { lethe } = await setup({ config: { otherSystems } })
    const { memberId } = await lethe.register({ tenantId: "shop", personal: { name: "Ada" }, source: "api" })
    expect((await lethe.requestErasure(memberId, { via: "email" })).otherSystems).toEqual(otherSystems)
    expect((await lethe.requestAccess(memberId, { via: "email" })).otherSystems).toEqual(otherSystems)
    const csv = await lethe.exportMember(memberId, { format: "csv", actor: admin })
    if (csv.format !== "csv") throw new Error("expected csv")
    expect(parse(csv.files["other-systems.csv"] ?? "", { bom: true })).toEqual([
      ["system"],
      ...otherSystems.map((s) => [s]),
    ])
    const html = await lethe.exportMember(memberId, { format: "html", actor: admin })
    if (html.format !== "html") throw new Error("expected html")
    for (const system of otherSystems) expect(html.content).toContain(escapeHtml(system))
  })
})

describe("exportMember: CSV (R30)", () => {
  it("R30: one UTF-8 file per section, with a BOM and CRLF, that an RFC 4180 parser reads back exactly", async () => {
    const { lethe, clock } = await setup()
    const { memberId } = await richMember(lethe, clock)
    await lethe.recordPersonalData(memberId, {
      category: "notes",
      fields: { note: 'Said "hi, there"\non two lines' },
      source: "staff",
    })
    const result = await lethe.exportMember(memberId, { format: "csv", actor: admin })
    if (result.format !== "csv") throw new Error("expected csv")
    expect(result.mediaType).toBe("text/csv; charset=utf-8")
    expect(Object.keys(result.files).sort()).toEqual(
      [
        "activity.csv",
        "categories.csv",
        "consent-history.csv",
        "consents.csv",
        "contracts.csv",
        "controller.csv",
        "debt-cases.csv",
        "exports.csv",
        "history.csv",
        "instalments.csv",
        "invoices.csv",
        "member.csv",
        "messages.csv",
        "other-systems.csv",
        "personal-data.csv",
        "purchases.csv",
        "requests.csv",
        "rights.csv",
        "wallet.csv",
      ].sort(),
    )
    for (const text of Object.values(result.files)) {
      expect(text.startsWith(utf8Bom)).toBe(true)
      expect(text.endsWith("\r\n")).toBe(true)
    }
    const rows = parse(result.files["personal-data.csv"] ?? "", { bom: true, columns: true }) as Array<
      Record<string, string>
    >
    expect(rows.find((r) => r.field === "name")).toMatchObject({
      category: "identity",
      value: "Łukasz Żółć",
      source: "form",
      source_tag: "footer",
      current: "true",
    })
    expect(rows.find((r) => r.field === "note")?.value).toBe('Said "hi, there"\non two lines')
    expect(rows.find((r) => r.field === "phone" && r.current === "true")?.value).toBe("+48 600 000 111")
    const activity = parse(result.files["activity.csv"] ?? "", { bom: true, columns: true }) as Array<
      Record<string, string>
    >
    expect(JSON.parse(activity[1]?.details ?? "")).toEqual({ class: "Pilates z Ewą" })
    const [member] = parse(result.files["member.csv"] ?? "", { bom: true, columns: true }) as Array<
      Record<string, string>
    >
    expect(member).toMatchObject({ member_id: memberId, wallet_balance: "3800", status: "active" })
  })

  it("R30: a value a spreadsheet would run as a formula is neutralized in CSV and kept exact in JSON", async () => {
    const { lethe } = await setup()
    const formula = '=HYPERLINK("http://evil.example","click")'
    const { memberId } = await lethe.register({
      tenantId: "shop",
      personal: { name: formula, phone: "+48 600 100 200" },
      source: "form",
    })
    const csv = await lethe.exportMember(memberId, { format: "csv", actor: admin })
    if (csv.format !== "csv") throw new Error("expected csv")
    const rows = parse(csv.files["personal-data.csv"] ?? "", { bom: true, columns: true }) as Array<
      Record<string, string>
    >
    expect(rows.find((r) => r.field === "name")?.value).toBe(`'${formula}`)
    expect(rows.find((r) => r.field === "phone")?.value).toBe("+48 600 100 200")
    expect(csv.document.personalData.find((v) => v.field === "name")?.value).toBe(formula)
  })

  it("R30: any records round-trip through RFC 4180 quoting and an independent parser", () => {
    const text = fc.string({
      unit: fc.constantFrom("a", "ł", "Ö", " ", ",", '"', "\n", "\r", "🚲", "'", "="),
    })
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 5 })
          .chain((width) =>
            fc.array(fc.array(text, { minLength: width, maxLength: width }), { minLength: 1, maxLength: 6 }),
          ),
        (records) => {
          expect(parse(csvRecords(records), { relax_column_count: false })).toEqual(records)
        },
      ),
      { numRuns: 300 },
    )
  })

  it("R30: spreadsheetSafe changes only what a spreadsheet would take for a formula", () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        const safe = spreadsheetSafe(value)
        if (/^[=+\-@\t\r]/.test(value) && !/^[+-]?\d[\d ().\-/]*$/.test(value)) expect(safe).toBe(`'${value}`)
        else expect(safe).toBe(value)
      }),
    )
    expect(spreadsheetSafe("-12.50")).toBe("-12.50")
    expect(spreadsheetSafe("@SUM(A1)")).toBe("'@SUM(A1)")
  })
})

describe("exportMember: HTML (R13)", () => {
  it("R13: a self-contained printable page, every value escaped", async () => {
    const { lethe } = await setup()
    const { memberId } = await lethe.register({
      tenantId: "shop",
      personal: { name: '<script>alert("x")</script> Åsa', email: "asa@example.se" },
      source: "form",
    })
    await lethe.recordActivity(memberId, {
      kind: "page-view",
      details: { url: "/a?b=<img src=x onerror=1>" },
    })
    const result = await lethe.exportMember(memberId, { format: "html", actor: admin })
    if (result.format !== "html") throw new Error("expected html")
    const html = result.content
    expect(html.startsWith("<!doctype html>")).toBe(true)
    expect(html).toContain('<meta charset="utf-8">')
    // Only the page's own markup: no script, image, link or frame, whatever the values held.
    const tags = new Set([...html.matchAll(/<\/?([a-z0-9!]+)/gi)].map((m) => m[1]?.toLowerCase()))
    const own = ["!doctype", "html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "code"]
    const tables = ["table", "thead", "tbody", "tr", "th", "td", "span", "br"]
    expect([...tags].filter((t) => t === undefined || ![...own, ...tables].includes(t))).toEqual([])
    // Words a browser could break inside (at a hyphen, a slash...) are wrapped in a no-wrap span, escaped alike.
    const text = html.replace(/<span class="nw">([^<]*)<\/span>/g, "$1")
    expect(text).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Åsa")
    expect(text).toContain("url: /a?b=&lt;img src=x onerror=1&gt;")
    for (const heading of ["Personal data", "Activity", "History", "Your rights"])
      expect(html).toContain(`>${heading}</h2>`)
    // Sections with nothing in them are collapsed into one line (issue 19).
    for (const collapsed of ["Consents", "Messages", "Requests"]) {
      expect(html).not.toContain(`>${collapsed}</h2>`)
      expect(text).toMatch(new RegExp(`Nothing recorded about you in: [^<]*${collapsed}`))
    }
    expect(result.fileName).toBe(`member-${memberId}.html`)
  })

  it("R30: csv-stringify writes byte for byte what the hand-written RFC 4180 writer it replaced wrote", () => {
    // The writer before issue 20, kept here as the reference: quoted, quotes doubled, when a field holds a
    // comma, a quote, a line break, or spaces at either end; CRLF after every record.
    const field = (value: string): string =>
      /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replaceAll('"', '""')}"` : value
    const byHand = (records: ReadonlyArray<ReadonlyArray<string>>): string =>
      records.map((record) => `${record.map(field).join(",")}\r\n`).join("")
    const text = fc.string({
      unit: fc.constantFrom("a", "ł", " ", "\t", ",", '"', "\n", "\r", "🚲", "'", "=", "-", ""),
    })
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 5 })
          .chain((width) =>
            fc.array(fc.array(text, { minLength: width, maxLength: width }), { minLength: 1, maxLength: 6 }),
          ),
        (records) => {
          expect(csvRecords(records)).toBe(byHand(records))
        },
      ),
      { numRuns: 1000 },
    )
  })

  it("R13: escapeHtml leaves no markup, and unescaping gives the text back", () => {
    const unescapeHtml = (s: string) =>
      s
        .replaceAll("&lt;", "<")
        .replaceAll("&gt;", ">")
        .replaceAll("&quot;", '"')
        .replaceAll("&#39;", "'")
        .replaceAll("&amp;", "&")
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom("<", ">", "&", '"', "'", "a", "&amp;", "ł") }),
        (text) => {
          const escaped = escapeHtml(text)
          expect(escaped).not.toMatch(/[<>"']/)
          expect(unescapeHtml(escaped)).toBe(text)
        },
      ),
    )
  })
})

describe("export links (R13)", () => {
  it("R13: a link is redeemed for the export within 24 hours, recorded on its creator's authority", async () => {
    const { lethe, store, clock } = await setup()
    const { memberId } = await lethe.register({ tenantId: "shop", personal: { name: "Åsa" }, source: "form" })
    const access = await lethe.requestAccess(memberId, { via: "email" })
    const before = await countEvents(store)
    const link = await lethe.createExportLink(memberId, {
      format: "html",
      actor: admin,
      requestId: access.requestId,
    })
    expect(link.expiresAt.getTime() - clock.millis()).toBe(24 * hour)
    expect(await countEvents(store)).toBe(before)
    clock.advance(23 * hour)
    const result = await lethe.redeemExportLink(link.token)
    expect(result.format).toBe("html")
    expect(result.document.requestId).toBe(access.requestId)
    const exported = (await store.events.readStream(memberStream(memberId))).at(-1)
    expect(exported).toMatchObject({ type: "DataExported", metadata: { actor: "staff:admin" } })
    expect(await lethe.openRequests()).toEqual([])
    clock.advance(hour)
    expect(await rejection(lethe.redeemExportLink(link.token))).toMatchObject({
      _tag: "ExportLinkInvalid",
      reason: "expired",
    })
  })

  it("R13: validFor sets the lifetime; a link that could not work is not handed out", async () => {
    const { lethe, clock } = await setup()
    const { memberId } = await lethe.register({ tenantId: "shop", personal: { name: "Ada" }, source: "form" })
    const short = await lethe.createExportLink(memberId, {
      format: "json",
      actor: admin,
      validFor: "2 hours",
    })
    expect(short.expiresAt.getTime() - clock.millis()).toBe(2 * hour)
    expect((await rejection(lethe.createExportLink(memberId, { format: "json", actor: clerk })))._tag).toBe(
      "NotPermitted",
    )
    expect((await rejection(lethe.createExportLink("nobody", { format: "json", actor: admin })))._tag).toBe(
      "MemberNotFound",
    )
    for (const validFor of [0, -5, "forever" as never, Number.POSITIVE_INFINITY])
      expect(
        (await rejection(lethe.createExportLink(memberId, { format: "json", actor: admin, validFor })))._tag,
      ).toBe("InvalidCommand")
  })

  it("R13: a changed token is refused as tampered, one signed under another keyring too, garbage as malformed", async () => {
    const { lethe, store } = await setup()
    const { memberId } = await lethe.register({ tenantId: "shop", personal: { name: "Ada" }, source: "form" })
    const { token } = await lethe.createExportLink(memberId, { format: "json", actor: admin })
    const [payload = "", signature = ""] = token.split(".")
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"))
    const longer = Buffer.from(
      JSON.stringify({ ...claims, expiresAt: claims.expiresAt + 365 * day }),
    ).toString("base64url")
    expect(await rejection(lethe.redeemExportLink(`${longer}.${signature}`))).toMatchObject({
      reason: "tampered",
    })
    // The store's keyring with another link-signing key (as after replacing it): its links, not this one.
    const otherLinks = keyringFromSecret("another secret that is long enough!!")
    const other = await createLethe({
      store,
      keyring: { ...keyring, linkSigningKey: () => otherLinks.linkSigningKey() },
    })
    try {
      expect(await rejection(other.redeemExportLink(token))).toMatchObject({ reason: "tampered" })
    } finally {
      await other.close()
    }
    for (const garbage of ["", "abc", "a.b.c", "not base64!.x", `${payload}.`])
      expect(await rejection(lethe.redeemExportLink(garbage))).toMatchObject({
        _tag: "ExportLinkInvalid",
        reason: "malformed",
      })
  })

  it("R13: no single-character change to a token is ever accepted", async () => {
    const { lethe, store } = await setup()
    const { memberId } = await lethe.register({ tenantId: "shop", personal: { name: "Ada" }, source: "form" })
    const { token } = await lethe.createExportLink(memberId, { format: "json", actor: admin })
    const before = await countEvents(store)
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: token.length - 1 }),
        fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.="),
        async (at, replacement) => {
          fc.pre(token[at] !== replacement)
          const changed = token.slice(0, at) + replacement + token.slice(at + 1)
          const error = await rejection(lethe.redeemExportLink(changed))
          expect(error._tag).toBe("ExportLinkInvalid")
          expect(["tampered", "malformed"]).toContain(error.reason)
        },
      ),
      { numRuns: 150 },
    )
    expect(await countEvents(store)).toBe(before)
  })
})

describe("export links through the Effect API", () => {
  itEffect("R13: an expired link fails with ExportLinkInvalid, caught by tag; Effect's Clock decides", () =>
    Effect.gen(function* () {
      const lethe = yield* Lethe
      const { memberId } = yield* lethe.register({ tenantId: "t", personal: { name: "Kim" }, source: "api" })
      const link = yield* lethe.createExportLink(memberId, {
        format: "json",
        actor: admin,
        validFor: "1 hour",
      })
      yield* TestClock.adjust(Duration.minutes(59))
      expect((yield* lethe.redeemExportLink(link.token)).document.member.memberId).toBe(memberId)
      yield* TestClock.adjust(Duration.minutes(1))
      const reason = yield* lethe.redeemExportLink(link.token).pipe(
        Effect.map(() => "redeemed"),
        Effect.catchTag("ExportLinkInvalid", (e) => Effect.succeed(e.reason)),
      )
      expect(reason).toBe("expired")
    }).pipe(Effect.provide(Lethe.layer({ store: memoryStore(), keyring }))),
  )
})
