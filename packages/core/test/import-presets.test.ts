/**
 * Contacts exported from other marketing tools (R43): Mailchimp's three audience files, HubSpot's and
 * Brevo's contacts exports, a Windows-1250 file, a tab-separated one; statuses, dates, bases, separators and
 * encodings. The fixtures under fixtures/imports/ follow each tool's documented layout.
 */
import { readFileSync } from "node:fs"
import { TZDate } from "@date-fns/tz"
import type { ImportReport, LetheStore } from "@lethe/core"
import { readAllEvents } from "@lethe/core/spi"
import { format } from "date-fns"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { readDate } from "../src/import/dates.js"
import { admin, rejection, setup } from "./rights-setup.js"

const bytes = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`./fixtures/imports/${name}`, import.meta.url)))
const text = (name: string): string => new TextDecoder().decode(bytes(name))

const importing = { tenantId: "shop", restoreForgotten: false, actor: admin }

/** The instant a wall-clock time (`2021-11-25 17:35`, `2021-11-25 17:35:09`) names in `zone`. */
const wallClock = (dateTime: string, zone: string): number => {
  const [y, mo, d, h, mi, sec] = dateTime.split(/[- :]/).map(Number)
  return new TZDate(y ?? 0, (mo ?? 1) - 1, d ?? 1, h ?? 0, mi ?? 0, sec ?? 0, zone).getTime()
}

/** Every event of the log, by type, with its data as stored. */
const eventsOf = async (store: LetheStore, type: string) => {
  const found: Array<{ readonly streamId: string; readonly data: Record<string, unknown> }> = []
  for await (const event of readAllEvents(store.events))
    if (event.type === type)
      found.push({ streamId: event.streamId, data: event.data as Record<string, unknown> })
  return found
}

/** Only the outcomes that happened, for short expectations. */
const nonZero = (counts: ImportReport["counts"]) =>
  Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0))

/** Sends a newsletter to each applied member; the reasons it is refused, by member. */
const refusals = async (
  lethe: Awaited<ReturnType<typeof setup>>["lethe"],
  report: ImportReport,
  purpose = "newsletter",
) =>
  Promise.all(
    report.applied.map(async (a) => {
      const error = await rejection(
        lethe.sendMessage(a.memberId, { purpose, channel: "email", sentBy: "campaign:spring", actor: admin }),
      )
      return error._tag === "MessageRefused" ? (error.reasons as ReadonlyArray<string>) : [error._tag]
    }),
  )

describe("Mailchimp's audience export (R43)", () => {
  const mailchimp = { ...importing, mapping: "mailchimp" as const, purpose: "newsletter" }

  it("R43: Mailchimp's subscribed export imports as consents, names joined, unmapped columns listed", async () => {
    const { lethe } = await setup()
    const report = await lethe.importCsv(bytes("mailchimp-subscribed.csv"), mailchimp)
    expect(nonZero(report.counts)).toEqual({ created: 24 })
    expect(report.ignoredColumns).toEqual(
      expect.arrayContaining(["Address", "MEMBER_RATING", "OPTIN_IP", "LAST_CHANGED", "LEID", "TAGS"]),
    )
    expect(report.ignoredColumns).not.toContain("Email Address")
    const first = await lethe.get(report.applied[0]?.memberId ?? "")
    expect(first.personal.name).toMatch(/^\p{L}+ \p{L}+$/u)
    // OPTIN_TIME / CONFIRM_TIME in UTC, as Mailchimp writes them.
    const line = text("mailchimp-subscribed.csv").split("\r\n")[1]?.split(",") ?? []
    expect(first.consents[0]?.givenAt.getTime()).toBe(new Date(`${line[9] || line[7]}Z`).getTime())
    expect(report.warnings).toEqual([])
  })

  it("R43: Mailchimp's unsubscribed export becomes unsubscribes, never consents", async () => {
    const { lethe, store } = await setup()
    const report = await lethe.importCsv(bytes("mailchimp-unsubscribed.csv"), mailchimp)
    expect(nonZero(report.counts)).toEqual({ unsubscribed: 40 })
    expect(await eventsOf(store, "ConsentGiven")).toEqual([])
    const unsubscribes = await eventsOf(store, "Unsubscribed")
    expect(unsubscribes).toHaveLength(40)
    // Each dated at its UNSUB_TIME, not at the import.
    const rows = text("mailchimp-unsubscribed.csv").trim().split("\r\n").slice(1)
    const unsubTimes = rows.map((r) => new Date(`${r.split(",")[19]}Z`).getTime())
    expect(unsubscribes.map((u) => u.data.occurredAt).sort()).toEqual(unsubTimes.sort())
    for (const reasons of await refusals(lethe, report)) expect(reasons).toContain("Unsubscribed")
  })

  it("R43: a row of Mailchimp's unsubscribed file that lost its UNSUB_TIME is still an unsubscribe, now", async () => {
    const { lethe, store, clock } = await setup()
    const file = text("mailchimp-unsubscribed.csv").split("\r\n")
    const header = file[0] ?? ""
    const unsubTime = (file[1] ?? "").split(",")[19] ?? ""
    const report = await lethe.importCsv(
      `${header}\r\n${(file[1] ?? "").replace(`,${unsubTime},`, ",,")}\r\n`,
      mailchimp,
    )
    expect(nonZero(report.counts)).toEqual({ unsubscribed: 1 })
    expect(await eventsOf(store, "ConsentGiven")).toEqual([])
    const [unsubscribed] = await eventsOf(store, "Unsubscribed")
    expect(unsubscribed?.data.occurredAt).toBeUndefined()
    expect(unsubscribed?.data.at).toBe(clock.millis())
  })

  it("R43: Mailchimp's cleaned export becomes suppressions the messaging guard respects", async () => {
    const { lethe, store } = await setup()
    const report = await lethe.importCsv(bytes("mailchimp-cleaned.csv"), mailchimp)
    expect(nonZero(report.counts)).toEqual({ suppressed: 12 })
    expect(await eventsOf(store, "ConsentGiven")).toEqual([])
    const suppressed = await eventsOf(store, "ContactSuppressed")
    expect(suppressed.map((s) => s.data.reason)).toEqual(Array(12).fill("cleaned"))
    for (const reasons of await refusals(lethe, report)) expect(reasons).toContain("Suppressed")
  })

  it("R43: an old subscribed list imported after the opt-outs signs nobody up again", async () => {
    const { lethe, store } = await setup()
    await lethe.importCsv(bytes("mailchimp-unsubscribed.csv"), mailchimp)
    await lethe.importCsv(bytes("mailchimp-cleaned.csv"), mailchimp)
    const emails = [...text("mailchimp-unsubscribed.csv").matchAll(/^([^,\r\n]+@[^,]+),/gm)]
      .concat([...text("mailchimp-cleaned.csv").matchAll(/^([^,\r\n]+@[^,]+),/gm)])
      .map((m) => m[1])
    // The list as the old tool had it before anyone left: every one of them subscribed in 2019.
    const oldList = `email,purpose,given_at\n${emails.map((e) => `${e},newsletter,2019-01-01`).join("\n")}\n`
    const before = (await eventsOf(store, "ConsentGiven")).length
    const report = await lethe.importCsv(oldList, importing)
    expect(nonZero(report.counts)).toEqual({ rejected: 52 })
    expect(report.rejected.filter((r) => r.reason === "ConsentObjected")).toHaveLength(40)
    expect(report.rejected.filter((r) => r.reason === "ContactSuppressed")).toHaveLength(12)
    expect((await eventsOf(store, "ConsentGiven")).length).toBe(before)
    // Even a consent dated after the bounce does not lift a suppression from an import.
    const fresh = await lethe.importCsv(
      `email,purpose,given_at\n${emails.at(-1)},newsletter,2026-01-01\n`,
      importing,
    )
    expect(fresh.rejected).toMatchObject([{ reason: "ContactSuppressed" }])
  })
})

describe("HubSpot's contacts export (R43)", () => {
  const hubspot = { ...importing, mapping: "hubspot" as const, purpose: "marketing" }

  it("R43: HubSpot's times carry no zone: the import asks for one instead of reading UTC", async () => {
    const { lethe } = await setup()
    const error = await rejection(lethe.importCsv(bytes("hubspot-contacts.csv"), hubspot))
    expect(error).toMatchObject({ _tag: "InvalidCommand", issues: [{ path: "timeZone" }] })
    expect(String(error.message)).toContain("hubspot")
  })

  it("R43: HubSpot's opt-outs become unsubscribes and suppressions; its legal basis column is honoured", async () => {
    const { lethe, store } = await setup()
    const report = await lethe.importCsv(bytes("hubspot-contacts.csv"), {
      ...hubspot,
      timeZone: "Europe/Stockholm",
    })
    expect(nonZero(report.counts)).toEqual({ unsubscribed: 36, suppressed: 8, created: 15, rejected: 1 })
    expect(report.rejected).toMatchObject([{ row: 61, reason: "BasisNotAllowed" }])
    expect(report.ignoredColumns).toEqual(
      expect.arrayContaining(["Record ID", "Marketing contact status", "Contact owner"]),
    )
    const consents = await eventsOf(store, "ConsentGiven")
    expect(consents).toHaveLength(15)
    expect(consents.filter((c) => c.data.basis === "legitimate-interest")).toHaveLength(5)
    // 44 of 44 opt-outs: none in force.
    const optOuts = report.applied.filter((a) => a.outcome !== "created")
    expect(optOuts).toHaveLength(44)
    for (const reasons of await refusals(lethe, { ...report, applied: optOuts }, "marketing"))
      expect(reasons.some((r) => r === "Unsubscribed" || r === "Suppressed")).toBe(true)
    // "Create Date" read in the account's zone: 2022-08-25 06:30 in Stockholm is 04:30 UTC.
    const created = report.applied.find((a) => a.outcome === "created")
    const row = text("hubspot-contacts.csv").split("\r\n")[(created?.row ?? 1) - 1]?.split(",") ?? []
    const view = await lethe.get(created?.memberId ?? "")
    expect(view.consents[0]?.givenAt.getTime()).toBe(wallClock(row[5] ?? "", "Europe/Stockholm"))
  })
})

describe("Brevo's contacts export (R43)", () => {
  const brevo = { ...importing, mapping: "brevo" as const, purpose: "newsletter", timeZone: "Europe/Warsaw" }

  it("R43: Brevo's ';' file and dd-MM-yyyy times are read; blocklisted contacts are suppressed, never consents", async () => {
    const { lethe, store } = await setup()
    const report = await lethe.importCsv(bytes("brevo-contacts.csv"), brevo)
    expect(nonZero(report.counts)).toEqual({ suppressed: 29, created: 11 })
    expect(report.ignoredColumns).toEqual(["CONTACT ID", "MODIFIED_TIME", "SMS_BLACKLISTED", "LIST_IDS"])
    expect((await eventsOf(store, "ContactSuppressed")).map((e) => e.data.reason)).toEqual(
      Array(29).fill("blocklisted"),
    )
    expect(await eventsOf(store, "ConsentGiven")).toHaveLength(11)
    const created = report.applied.find((a) => a.outcome === "created")
    const row = text("brevo-contacts.csv").split("\n")[(created?.row ?? 1) - 1]?.split(";") ?? []
    const [d, m, rest] = (row[5] ?? "").split("-")
    const view = await lethe.get(created?.memberId ?? "")
    expect(view.consents[0]?.givenAt.getTime()).toBe(
      wallClock(`${rest?.slice(0, 4)}-${m}-${d} ${rest?.slice(5)}`, "Europe/Warsaw"),
    )
  })
})

describe("encodings and separators (R43)", () => {
  it("R43: a Windows-1250 file is refused as UTF-8, naming the option, and read right when declared", async () => {
    const { lethe, store } = await setup()
    const file = bytes("native-windows-1250.csv")
    const error = await rejection(lethe.importCsv(file, importing))
    expect(error).toMatchObject({ _tag: "InvalidCommand", issues: [{ path: "encoding" }] })
    expect(String(error.message)).toMatch(/not valid UTF-8.*encoding option.*windows-1250/)
    // Decoded by someone else as UTF-8, the text holds U+FFFD: refused too, not imported garbled.
    const garbled = await rejection(lethe.importCsv(new TextDecoder().decode(file), importing))
    expect(garbled).toMatchObject({ _tag: "InvalidCommand" })
    expect(await eventsOf(store, "MemberRegistered")).toEqual([])
    const report = await lethe.importCsv(file, { ...importing, encoding: "windows-1250" })
    expect(nonZero(report.counts)).toEqual({ created: 3 })
    const names = await Promise.all(
      report.applied.map(async (a) => (await lethe.get(a.memberId)).personal.name),
    )
    expect(names).toEqual(["Zofia Żak", "Łukasz Wróbel", "Małgorzata Sęk"])
  })

  it("R43: an unknown encoding or separator is refused, naming the option", async () => {
    const { lethe } = await setup()
    const file = "email,purpose,given_at\na@example.org,newsletter,2024-01-01\n"
    expect(
      await rejection(lethe.importCsv(new TextEncoder().encode(file), { ...importing, encoding: "klingon" })),
    ).toMatchObject({ issues: [{ path: "encoding" }] })
    expect(await rejection(lethe.importCsv(file, { ...importing, separator: "|" }))).toMatchObject({
      issues: [{ path: "separator" }],
    })
    expect(
      await rejection(lethe.importCsv(file, { ...importing, mapping: "mailchimpp" as "mailchimp" })),
    ).toMatchObject({
      issues: [{ path: "mapping" }],
    })
  })

  it("R43: a tab-separated file is detected; its status column records an unsubscribe and a suppression", async () => {
    const { lethe, store } = await setup()
    const report = await lethe.importCsv(bytes("native-tab.tsv"), {
      ...importing,
      timeZone: "Europe/Stockholm",
    })
    expect(report.applied.map((a) => a.outcome)).toEqual(["created", "unsubscribed", "suppressed"])
    const [unsubscribed] = await eventsOf(store, "Unsubscribed")
    expect(unsubscribed?.data.occurredAt).toBe(Date.parse("2023-02-01T08:30:00Z"))
    const [suppressed] = await eventsOf(store, "ContactSuppressed")
    expect(suppressed?.data).toMatchObject({
      reason: "bounced",
      occurredAt: Date.parse("2023-02-28T23:00:00Z"),
    })
  })

  it("R43: a ';' file in Lethe's layout is detected, and the separator may be declared", async () => {
    const { lethe } = await setup()
    const file = "email;name;purpose;given_at\nanna@example.org;Kowalska, Anna;newsletter;2024-01-01\n"
    expect(nonZero((await lethe.importCsv(file, importing)).counts)).toEqual({ created: 1 })
    const declared = await lethe.importCsv(file.replace("anna", "ola"), { ...importing, separator: ";" })
    expect((await lethe.get(declared.applied[0]?.memberId ?? "")).personal.name).toBe("Kowalska, Anna")
  })
})

describe("dates, bases and statuses of Lethe's own layout (R43)", () => {
  it("R43: dates in a declared format, read in the declared zone; a date-time without a zone is said to be UTC", async () => {
    const { lethe } = await setup()
    const us = await lethe.importCsv("email,purpose,given_at\na@example.org,newsletter,4/5/2023\n", {
      ...importing,
      dateFormat: "M/d/yyyy",
      timeZone: "America/New_York",
    })
    expect((await lethe.get(us.applied[0]?.memberId ?? "")).consents[0]?.givenAt.toISOString()).toBe(
      "2023-04-05T04:00:00.000Z",
    )
    const pl = await lethe.importCsv(
      "email,purpose,given_at\nb@example.org,newsletter,05.04.2023\nc@example.org,newsletter,31.02.2023\n",
      {
        ...importing,
        dateFormat: ["dd.MM.yyyy"],
        timeZone: "Europe/Warsaw",
      },
    )
    expect((await lethe.get(pl.applied[0]?.memberId ?? "")).consents[0]?.givenAt.toISOString()).toBe(
      "2023-04-04T22:00:00.000Z",
    )
    expect(pl.rejected).toMatchObject([{ row: 3, reason: "InvalidDate" }])
    const withTime = await rejection(
      lethe.importCsv("email,purpose,given_at\nd@example.org,newsletter,13-01-2020 15:56:27\n", {
        ...importing,
        dateFormat: "dd-MM-yyyy HH:mm:ss",
      }),
    )
    expect(withTime).toMatchObject({ issues: [{ path: "timeZone" }] })
    const utc = await lethe.importCsv(
      "email,purpose,given_at\ne@example.org,newsletter,2023-04-05 10:11\n",
      importing,
    )
    expect(utc.warnings).toEqual([expect.stringMatching(/1 row\(s\).*read as UTC.*timeZone/)])
    const warsaw = await lethe.importCsv(
      "email,purpose,given_at\nf@example.org,newsletter,2023-04-05 10:11\n",
      {
        ...importing,
        timeZone: "Europe/Warsaw",
      },
    )
    expect(warsaw.warnings).toEqual([])
    expect((await lethe.get(warsaw.applied[0]?.memberId ?? "")).consents[0]?.givenAt.toISOString()).toBe(
      "2023-04-05T08:11:00.000Z",
    )
    // ISO with an offset stays as written, whatever the zone.
    const offset = await lethe.importCsv(
      "email,purpose,given_at\ng@example.org,newsletter,2023-04-05T10:11+02:00\n",
      {
        ...importing,
        timeZone: "America/New_York",
      },
    )
    expect((await lethe.get(offset.applied[0]?.memberId ?? "")).consents[0]?.givenAt.toISOString()).toBe(
      "2023-04-05T08:11:00.000Z",
    )
  })

  it("R16, R43: a basis column, checked against the catalogue", async () => {
    const { lethe } = await setup()
    const report = await lethe.importCsv(
      [
        "email,purpose,given_at,basis",
        "a@example.org,marketing,2024-01-01,legitimate interest",
        "b@example.org,marketing,2024-01-01,consent",
        "c@example.org,newsletter,2024-01-01,legitimate-interest",
        "d@example.org,marketing,2024-01-01,because",
        "e@example.org,marketing,2024-01-01,",
      ].join("\n"),
      importing,
    )
    expect(report.rejected).toMatchObject([
      { row: 4, reason: "BasisNotAllowed" },
      { row: 5, reason: "UnknownBasis" },
    ])
    const bases = await Promise.all(
      report.applied.map(async (a) => (await lethe.get(a.memberId)).consents[0]?.basis),
    )
    expect(bases).toEqual(["legitimate-interest", "consent", "consent"])
  })

  it("R43: an old unsubscribe does not undo a consent the person gave since; a newer one is recorded", async () => {
    const { lethe, clock } = await setup()
    const member = await lethe.register({
      tenantId: "shop",
      personal: { email: "ola@example.org" },
      source: { kind: "form" },
    })
    await lethe.giveConsent(member.memberId, {
      purpose: "newsletter",
      explicit: false,
      method: "checkbox",
      wordingVersion: "v1",
      source: { kind: "form" },
    })
    const old = await lethe.importCsv(
      "email,purpose,given_at,status,status_at\nola@example.org,newsletter,,unsubscribed,2020-01-01\n",
      importing,
    )
    expect(old.rejected).toMatchObject([{ row: 2, reason: "ConsentNewer" }])
    clock.advance(86_400_000)
    const since = await lethe.importCsv(
      `email,purpose,given_at,status,status_at\nola@example.org,newsletter,,unsubscribed,${clock.now().toISOString()}\n`,
      importing,
    )
    expect(nonZero(since.counts)).toEqual({ unsubscribed: 1 })
    const again = await lethe.importCsv(
      `email,purpose,given_at,status,status_at\nola@example.org,newsletter,,unsubscribed,${clock.now().toISOString()}\n`,
      importing,
    )
    expect(nonZero(again.counts)).toEqual({ unchanged: 1 })
  })

  it("R43: property: whatever opt-out rows a file holds, none leaves a consent in force or a message allowed", async () => {
    const statuses = ["unsubscribed", "bounced", "cleaned", "blocklisted", "complained"] as const
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            who: fc.integer({ min: 0, max: 5 }),
            status: fc.constantFrom(...statuses),
            day: fc.integer({ min: 1, max: 28 }),
            known: fc.boolean(),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        async (rows) => {
          const { lethe, store } = await setup()
          // Some of the people already hold a consent, given before any of the file's opt-outs.
          const known = [...new Set(rows.filter((r) => r.known).map((r) => r.who))]
          if (known.length > 0)
            await lethe.importCsv(
              `email,purpose,given_at\n${known.map((w) => `p${w}@example.org,newsletter,2020-01-01`).join("\n")}\n`,
              importing,
            )
          const consents = (await eventsOf(store, "ConsentGiven")).length
          const file = `email,purpose,given_at,status,status_at\n${rows
            .map(
              (r) =>
                `p${r.who}@example.org,newsletter,2019-06-01,${r.status},2023-02-${String(r.day).padStart(2, "0")}`,
            )
            .join("\n")}\n`
          const report = await lethe.importCsv(file, importing)
          expect(report.counts.created + report.counts.subscribed + report.counts.restored).toBe(0)
          expect((await eventsOf(store, "ConsentGiven")).length).toBe(consents)
          for (const reasons of await refusals(lethe, report))
            expect(reasons.some((r) => r === "Unsubscribed" || r === "Suppressed")).toBe(true)
        },
      ),
      { numRuns: 25 },
    )
  })

  it("R43: property: a date-time written in a zone is read back as the same wall-clock time there", () => {
    const zones = ["Europe/Warsaw", "Europe/Stockholm", "America/New_York", "Asia/Kolkata", "UTC"]
    fc.assert(
      fc.property(
        fc.date({ min: new Date("1990-01-01"), max: new Date("2090-12-31"), noInvalidDate: true }),
        fc.constantFrom(...zones),
        fc.constantFrom(
          "dd-MM-yyyy HH:mm:ss",
          "yyyy-MM-dd HH:mm:ss",
          "M/d/yyyy H:mm:ss",
          "dd.MM.yyyy HH:mm:ss",
        ),
        (date, zone, pattern) => {
          const written = format(new TZDate(date.getTime(), zone), pattern)
          const read = readDate(written, { formats: [pattern], timeZone: zone })
          expect(read).toBeDefined()
          expect(format(new TZDate(read?.at ?? 0, zone), pattern)).toBe(written)
          expect(read?.utcAssumed).toBe(false)
        },
      ),
    )
  })
})
