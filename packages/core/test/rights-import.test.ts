import { readFileSync } from "node:fs"
import type { LetheStore } from "@lethe/core"
import { defaultConsentCatalogue } from "@lethe/core/domain"
import { memberStream, readAllEvents } from "@lethe/core/spi"
import { memoryStore } from "@lethe/store-memory"
import { Either } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { parseContactsCsv, parseIsoDate } from "../src/import/contacts-csv.js"
import { admin, clerk, countEvents, day, rejection, setup } from "./rights-setup.js"

const wholeLog = async (store: LetheStore) => {
  const events = []
  for await (const event of readAllEvents(store.events)) events.push(event)
  return events
}

/** A contact import as shops really send it (see fixtures/README in the shared folder). */
const fixture = readFileSync(new URL("./fixtures/contacts-import.csv", import.meta.url), "utf8")

const importing = { tenantId: "shop", restoreForgotten: false, actor: admin }

/**
 * A store that counts append requests (one per row written), the
 * transactions they came in (a batch of new contacts is one) and the
 * directory look-ups by e-mail key (one per key, however many a call takes).
 * `batches: false` takes `appendBatch` away, so every row is appended alone;
 * `manyLookups: false` takes `findManyByEmail` and `findManyRestorable` away,
 * so each key is looked up alone.
 */
const countingAppends = (options: { readonly batches?: boolean; readonly manyLookups?: boolean } = {}) => {
  const inner = memoryStore()
  const counter = { appends: 0, transactions: 0, lookupCalls: 0 }
  const { appendBatch: innerBatch, ...events } = inner.events
  const appendBatch = innerBatch?.bind(inner.events)
  const { findManyByEmail, findManyRestorable, ...directory } = inner.directory
  const store: LetheStore = {
    ...inner,
    events: {
      ...events,
      append: (request) => {
        counter.appends++
        counter.transactions++
        return inner.events.append(request)
      },
      ...(options.batches === false || appendBatch === undefined
        ? {}
        : {
            appendBatch: (requests: Parameters<typeof appendBatch>[0]) => {
              counter.appends += requests.length
              counter.transactions++
              return appendBatch(requests)
            },
          }),
    },
    directory: {
      ...directory,
      findByEmail: (tenantId, key) => {
        counter.lookupCalls++
        return inner.directory.findByEmail(tenantId, key)
      },
      findRestorable: (tenantId, key) => {
        counter.lookupCalls++
        return inner.directory.findRestorable(tenantId, key)
      },
      ...(options.manyLookups === false || findManyByEmail === undefined || findManyRestorable === undefined
        ? {}
        : {
            findManyByEmail: (tenantId: string, keys: ReadonlyArray<string>) => {
              counter.lookupCalls++
              return findManyByEmail.call(inner.directory, tenantId, keys)
            },
            findManyRestorable: (tenantId: string, keys: ReadonlyArray<string>) => {
              counter.lookupCalls++
              return findManyRestorable.call(inner.directory, tenantId, keys)
            },
          }),
    },
  }
  return { store, counter }
}

/** Ids in minting order, the same in every run. */
const counterIds = () => {
  let n = 0
  return () => `id-${++n}`
}

/**
 * Runs `before`, then imports `csv` on a counting store, and returns what a
 * reader sees: the report, the applied members' views and every stream, with
 * ids named by the first row that reports them (ids are minted in another
 * order when rows are batched), and the counts.
 */
const importRun = async (
  options: Parameters<typeof countingAppends>[0],
  csv: string,
  input: typeof importing,
  before: (context: Awaited<ReturnType<typeof setup>>) => Promise<void> = async () => {},
) => {
  const { store, counter } = countingAppends(options)
  const context = await setup({ store, newId: counterIds() })
  await before(context)
  const counted = { ...counter }
  const { lethe } = context
  const report = await lethe.importCsv(csv, input)
  const views = await Promise.all(report.applied.map((a) => lethe.get(a.memberId)))
  const log = (await wholeLog(store)).map(({ type, streamId, version, metadata }) => ({
    type,
    streamId,
    version,
    source: metadata.source,
  }))
  const names = new Map<string, string>()
  for (const a of report.applied) if (!names.has(a.memberId)) names.set(a.memberId, `member of row ${a.row}`)
  const named = (value: unknown) =>
    JSON.parse(JSON.stringify(value).replace(/id-\d+/g, (id) => names.get(id) ?? "another id")) as unknown
  // Each stream the same; the global order differs (the batch lands before the rows after it).
  const streams = (named(log) as Array<{ streamId: string; version: number }>).sort(
    (a, b) => a.streamId.localeCompare(b.streamId) || a.version - b.version,
  )
  return {
    seen: { ...(named({ report, views }) as object), streams },
    transactions: counter.transactions - counted.transactions,
    lookupCalls: counter.lookupCalls - counted.lookupCalls,
  }
}

describe("importCsv with the real-world fixture", () => {
  it("R6: the good rows are applied and the bad ones rejected, each with its row number and reason", async () => {
    const { lethe } = await setup()
    const report = await lethe.importCsv(fixture, importing)
    expect(report.applied.map((a) => [a.row, a.outcome])).toEqual([
      [2, "created"],
      [3, "created"],
      [4, "created"],
      [5, "created"],
      [6, "created"],
      [7, "created"],
      [8, "created"],
      [9, "created"],
      [15, "subscribed"],
      [16, "created"],
      [17, "created"],
      [18, "created"],
      [19, "created"],
      [21, "created"],
    ])
    expect(report.rejected.map((r) => [r.row, r.line, r.reason])).toEqual([
      [10, 10, "InvalidEmail"],
      [11, 11, "MissingPurpose"],
      [12, 12, "UnknownPurpose"],
      [13, 13, "InvalidDate"],
      [14, 14, "FutureDate"],
      // The multi-line name of row 17 spans lines 17-18: rows after it start one line lower.
      [20, 21, "TooManyColumns"],
    ])
    for (const r of report.rejected) expect(r.detail.length).toBeGreaterThan(0)
    expect(report.rejected.find((r) => r.row === 13)?.detail).toContain("31/02/2024")
    expect(report.applied.find((a) => a.row === 21)?.line).toBe(22)
    // Nothing of a rejected row was written.
    for (const email of ["not-an-email", "missing.purpose@example.org", "future.date@example.org"])
      expect(await lethe.findByEmail("shop", email)).toBeNull()
  })

  it("R32: members keep their names exactly as written, with the import as source and tag, e-mails trimmed", async () => {
    const { lethe } = await setup()
    const report = await lethe.importCsv(fixture, importing)
    const memberOf = (row: number) => report.applied.find((a) => a.row === row)?.memberId ?? ""
    const names = await Promise.all(
      [3, 4, 5, 6, 7, 9, 16, 17, 18, 19].map(async (row) => (await lethe.get(memberOf(row))).personal.name),
    )
    expect(names).toEqual([
      "Łukasz Żółć",
      "Åsa Öberg",
      "Seán O'Brien",
      "Nowak, Jan",
      'Jan "Johnny" Nowak',
      "Spaced Out",
      "Zoë 🚲 Rider",
      "Line One\nLine Two",
      "Robert'); DROP TABLE members;--",
      "100% Discount Hunter",
    ])
    expect((await lethe.get(memberOf(21))).personal.name).toHaveLength(251)
    expect((await lethe.get(memberOf(9))).personal.email).toBe("spaced@example.org")
    expect((await lethe.findByEmail("shop", "upper.case@example.org"))?.memberId).toBe(memberOf(8))
    const asa = await lethe.get(memberOf(4))
    expect(asa.personal.phone).toBe("+46 70 123 45 67")
    expect(asa.consents).toEqual([
      expect.objectContaining({
        purpose: "sms",
        method: "import",
        basis: "consent",
        wordingVersion: "v1",
        givenAt: new Date("2024-06-02T12:00:00Z"),
        source: { kind: "import", tag: "store-import" },
      }),
    ])
  })

  it("R6: a duplicate e-mail adds its consent to the member the first row created", async () => {
    const { lethe } = await setup()
    const report = await lethe.importCsv(fixture, importing)
    const first = report.applied.find((a) => a.row === 2)
    const duplicate = report.applied.find((a) => a.row === 15)
    expect(duplicate?.memberId).toBe(first?.memberId)
    const anna = await lethe.get(first?.memberId ?? "")
    expect(anna.personal.name).toBe("Anna Kowalska")
    expect(anna.consents.map((c) => [c.purpose, c.givenAt.toISOString()])).toEqual([
      ["newsletter", "2024-05-25T10:00:00.000Z"],
      ["marketing", "2024-08-01T00:00:00.000Z"],
    ])
  })

  it("R6: nothing half-applied: each applied row is one append, and the file's rejects write nothing", async () => {
    const { store, counter } = countingAppends()
    const { lethe } = await setup({ store })
    const report = await lethe.importCsv(fixture, importing)
    expect(counter.appends).toBe(report.applied.length)
    // The new contacts in one transaction, the row adding a consent to one of them in another.
    expect(counter.transactions).toBe(2)
    const first = report.applied[0]?.memberId ?? ""
    const events = await store.events.readStream(memberStream(first))
    expect(events.map((e) => e.type)).toEqual([
      "MemberRegistered",
      "PersonalDataRecorded",
      "PersonalDataRecorded",
      "ConsentGiven",
      "ConsentGiven",
    ])
    expect(new Set(events.slice(0, 4).map((e) => e.metadata.correlationId)).size).toBe(1)
    expect(events[0]?.metadata.source).toBe("import:footer-form")
  })

  it("R6: new contacts imported in one transaction report and store exactly what one row at a time does", async () => {
    const [batched, alone] = await Promise.all(
      [true, false].map((batches) => importRun({ batches }, fixture, importing)),
    )
    expect(batched?.seen).toEqual(alone?.seen)
    expect(JSON.stringify(batched?.seen)).not.toContain("another id")
    expect(batched?.transactions).toBe(2)
    expect(alone?.transactions).toBe(14)
  })

  it("R6: importing a known list again looks its e-mails up once per chunk, not once per row, with the same outcome", async () => {
    const again = (manyLookups: boolean) =>
      importRun({ manyLookups }, fixture, importing, async ({ lethe }) => {
        await lethe.importCsv(fixture, importing)
      })
    const [many, single] = await Promise.all([again(true), again(false)])
    expect(many.seen).toEqual(single.seen)
    const { report } = many.seen as unknown as { report: { applied: ReadonlyArray<{ outcome: string }> } }
    expect(new Set(report.applied.map((a) => a.outcome))).toEqual(new Set(["unchanged"]))
    // One query for the chunk's e-mails (all held by active members, so no restorable look-up),
    // and one for the row whose e-mail an earlier row of the file already named.
    expect(many.lookupCalls).toBe(2)
    expect(single.lookupCalls).toBe(report.applied.length)
    expect(many.transactions).toBe(0)
  })

  it("R6: importing the same file again changes nothing", async () => {
    const { lethe, store } = await setup()
    const first = await lethe.importCsv(fixture, importing)
    const before = await countEvents(store)
    const again = await lethe.importCsv(fixture, importing)
    expect(again.applied.map((a) => [a.row, a.memberId])).toEqual(
      first.applied.map((a) => [a.row, a.memberId]),
    )
    expect(new Set(again.applied.map((a) => a.outcome))).toEqual(new Set(["unchanged"]))
    expect(again.rejected).toEqual(first.rejected)
    expect(await countEvents(store)).toBe(before)
  })
})

describe("importCsv: forgotten members (R5, R6)", () => {
  const row = (email: string) =>
    `email,name,purpose,given_at\r\n${email},Someone New,newsletter,2026-03-01\r\n`

  /** Lethe with Anna Kowalska, anna@example.org, just forgotten. */
  const withForgottenAnna = async () => {
    const context = await setup()
    const { memberId } = await context.lethe.register({
      tenantId: "shop",
      personal: { name: "Anna Kowalska", email: "anna@example.org" },
      source: "form",
    })
    await context.lethe.forget(memberId, { actor: admin })
    return { ...context, memberId }
  }

  it("R6: with restoreForgotten a member forgotten within the window comes back with its data", async () => {
    const { lethe, clock, memberId } = await withForgottenAnna()
    clock.advance(3 * day)
    const report = await lethe.importCsv(row(" ANNA@example.org"), { ...importing, restoreForgotten: true })
    expect(report.applied).toEqual([{ row: 2, line: 2, memberId, outcome: "restored" }])
    const view = await lethe.get(memberId)
    expect(view.status).toBe("active")
    expect(view.personal.name).toBe("Anna Kowalska")
    expect(view.consents.map((c) => c.purpose)).toEqual(["newsletter"])
  })

  it("R6: without restoreForgotten the row is rejected and the forgotten member stays forgotten", async () => {
    const { lethe, store, memberId } = await withForgottenAnna()
    const before = await countEvents(store)
    const report = await lethe.importCsv(row("anna@example.org"), importing)
    expect(report.applied).toEqual([])
    expect(report.rejected).toMatchObject([{ row: 2, reason: "ForgottenMember" }])
    expect((await lethe.get(memberId)).status).toBe("forgotten")
    expect(await countEvents(store)).toBe(before)
  })

  it("R5, R6: after the window a matching row starts a fresh member with no link to the old one", async () => {
    const { lethe, clock, memberId } = await withForgottenAnna()
    clock.advance(8 * day)
    const report = await lethe.importCsv(row("anna@example.org"), { ...importing, restoreForgotten: true })
    expect(report.applied).toMatchObject([{ outcome: "created" }])
    expect(report.applied[0]?.memberId).not.toBe(memberId)
    expect((await lethe.get(report.applied[0]?.memberId ?? "")).personal.name).toBe("Someone New")
  })

  it("R1, R5, R6: a chunk's e-mails looked up in two queries are told apart as one look-up per row tells them: active, restorable, forgotten for good, new", async () => {
    const csv = [
      "email,name,purpose,given_at",
      "new.one@example.org,New One,newsletter,2026-03-01",
      "active@example.org,Active Again,newsletter,2026-03-01",
      "restorable@example.org,Restorable Again,newsletter,2026-03-01",
      "gone@example.org,Gone Again,newsletter,2026-03-01",
      "NEW.ONE@example.org,New One Twice,sms,2026-03-02",
      "new.two@example.org,New Two,newsletter,2026-03-01",
    ].join("\r\n")
    // Active, forgotten 8 days ago (window over), forgotten a day ago (still restorable).
    const before = async ({ lethe, clock }: Awaited<ReturnType<typeof setup>>) => {
      const register = (name: string, email: string) =>
        lethe.register({ tenantId: "shop", personal: { name, email }, source: "form" })
      await register("Active", "active@example.org")
      const gone = await register("Gone", "gone@example.org")
      const restorable = await register("Restorable", "restorable@example.org")
      await lethe.forget(gone.memberId, { actor: admin })
      clock.advance(7 * day)
      await lethe.forget(restorable.memberId, { actor: admin })
      clock.advance(day)
    }
    for (const restoreForgotten of [false, true]) {
      const input = { ...importing, restoreForgotten }
      const [many, single, alone] = await Promise.all([
        importRun({}, csv, input, before),
        importRun({ manyLookups: false }, csv, input, before),
        importRun({ batches: false }, csv, input, before),
      ])
      expect(many.seen, `restoreForgotten: ${restoreForgotten}`).toEqual(alone.seen)
      expect(single.seen, `restoreForgotten: ${restoreForgotten}`).toEqual(alone.seen)
      // The three new contacts (new.one, gone, new.two) in one batch; the others alone (a refused
      // restore writes nothing).
      expect(many.transactions).toBe(restoreForgotten ? 4 : 3)
      // Two queries for the chunk, then the rows not batched look their owner up again.
      expect(many.lookupCalls).toBeLessThan(single.lookupCalls)
      const outcomes = (
        many.seen as unknown as { report: { applied: Array<{ row: number; outcome: string }> } }
      ).report
      expect(outcomes.applied.map((a) => [a.row, a.outcome])).toEqual(
        restoreForgotten
          ? [
              [2, "created"],
              [3, "subscribed"],
              [4, "restored"],
              [5, "created"],
              [6, "subscribed"],
              [7, "created"],
            ]
          : [
              [2, "created"],
              [3, "subscribed"],
              [5, "created"],
              [6, "subscribed"],
              [7, "created"],
            ],
      )
    }
  })

  it("R8: restoring needs member:restore; the row is refused, nothing written", async () => {
    const { lethe, store, memberId } = await withForgottenAnna()
    const before = await countEvents(store)
    const report = await lethe.importCsv(row("anna@example.org"), {
      ...importing,
      actor: clerk,
      restoreForgotten: true,
    })
    expect(report.rejected).toMatchObject([{ row: 2, reason: "NotPermitted" }])
    expect((await lethe.get(memberId)).status).toBe("forgotten")
    expect(await countEvents(store)).toBe(before)
  })
})

describe("importCsv: consents already on record (R4)", () => {
  const consentRow = (givenAt: string) => `email,purpose,given_at\n anna@example.org,newsletter,${givenAt}\n`

  it("R4: an old list does not sign up again someone who unsubscribed since; a newer consent does", async () => {
    const { lethe, store, clock } = await setup()
    const { memberId } = await lethe.subscribe({
      tenantId: "shop",
      email: "anna@example.org",
      purpose: "newsletter",
      source: "form",
    })
    clock.advance(day)
    await lethe.unsubscribe(memberId, { purpose: "newsletter", via: "link" })
    const before = await countEvents(store)
    const stale = await lethe.importCsv(consentRow("2026-03-02T12:00:00Z"), importing)
    expect(stale.rejected).toMatchObject([{ row: 2, reason: "ConsentObjected" }])
    expect(await countEvents(store)).toBe(before)
    expect((await lethe.get(memberId)).unsubscribed).toEqual(["newsletter"])

    clock.advance(day)
    const fresh = await lethe.importCsv(consentRow(clock.now().toISOString()), importing)
    expect(fresh.applied).toEqual([{ row: 2, line: 2, memberId, outcome: "subscribed" }])
    expect((await lethe.get(memberId)).unsubscribed).toEqual([])
  })

  it("R33: an older consent in the file does not replace the newer one on record", async () => {
    const { lethe, store } = await setup()
    const { memberId } = await lethe.subscribe({
      tenantId: "shop",
      email: "anna@example.org",
      purpose: "newsletter",
      source: "form",
    })
    const before = await countEvents(store)
    const report = await lethe.importCsv(consentRow("2024-01-01"), importing)
    expect(report.applied).toEqual([{ row: 2, line: 2, memberId, outcome: "unchanged" }])
    expect(await countEvents(store)).toBe(before)
    expect((await lethe.get(memberId)).consents[0]?.method).toBe("checkbox")
  })
})

describe("importCsv: the file as a whole", () => {
  it("InvalidCommand: broken quoting, repeated or missing columns apply nothing", async () => {
    const { lethe, store } = await setup()
    const before = await countEvents(store)
    const files = [
      "",
      'email,purpose,given_at\r\n"a@example.org,newsletter,2024-01-01\r\n',
      "email,name\r\na@example.org,Ada\r\n",
      "email,purpose,given_at,email\r\na@example.org,newsletter,2024-01-01,b@example.org\r\n",
    ]
    for (const file of files) {
      const error = await rejection(lethe.importCsv(file, importing))
      expect(error).toMatchObject({ _tag: "InvalidCommand", command: "importCsv" })
    }
    expect(await countEvents(store)).toBe(before)
  })

  it("R43: a column no field maps is ignored and listed in the report (it failed the whole file before issue 19)", async () => {
    const { lethe } = await setup()
    const report = await lethe.importCsv(
      "email,purpose,given_at,favourite_colour\r\na@example.org,newsletter,2024-01-01,blue\r\n",
      importing,
    )
    expect(report.applied).toMatchObject([{ row: 2, outcome: "created" }])
    expect(report.ignoredColumns).toEqual(["favourite_colour"])
  })

  it("R6: headers in any order and case; blank rows skipped but counted; too few fields rejected", async () => {
    const { lethe } = await setup()
    const text = "Given_At , EMAIL,Purpose\n2024-01-01,a@example.org,newsletter\n\n2024-01-02,b@example.org\n"
    const report = await lethe.importCsv(text, { ...importing, source: "crm-export.csv" })
    expect(report.applied).toMatchObject([{ row: 2, outcome: "created" }])
    expect(report.rejected).toMatchObject([{ row: 4, line: 4, reason: "TooFewColumns" }])
    const view = await lethe.get(report.applied[0]?.memberId ?? "")
    expect(view.consents[0]?.source).toEqual({ kind: "import", tag: "crm-export.csv" })
  })

  it("R17: a purpose that needs an explicit consent cannot come from an import; the row is refused whole", async () => {
    const { lethe } = await setup()
    const report = await lethe.importCsv(
      "email,purpose,given_at\nh@example.org,health-data,2024-01-01\n",
      importing,
    )
    expect(report.rejected).toMatchObject([{ row: 2, reason: "ExplicitFlagRequired" }])
    expect(await lethe.findByEmail("shop", "h@example.org")).toBeNull()
  })

  it("R33: an optional wording_version column names the wording the person saw", async () => {
    const { newsletter } = defaultConsentCatalogue
    if (newsletter === undefined) throw new Error("the default catalogue has a newsletter purpose")
    const catalogue = {
      ...defaultConsentCatalogue,
      newsletter: { ...newsletter, wordingVersions: ["v1", "v2"] },
    }
    const { lethe } = await setup({ config: { consentCatalogue: catalogue } })
    const text =
      "email,purpose,given_at,wording_version\na@example.org,newsletter,2024-01-01,v1\nb@example.org,newsletter,2024-01-01,\nc@example.org,newsletter,2024-01-01,v9\n"
    const report = await lethe.importCsv(text, importing)
    const versions = await Promise.all(
      report.applied.map(async (a) => (await lethe.get(a.memberId)).consents[0]?.wordingVersion),
    )
    expect(versions).toEqual(["v1", "v2"])
    expect(report.rejected).toMatchObject([{ row: 4, reason: "UnknownWordingVersion" }])
  })
})

describe("reading dates and rows", () => {
  it("R6: ISO 8601 dates and times are read to the millisecond; impossible ones are not dates", () => {
    expect(parseIsoDate("2024-05-25")).toBe(Date.UTC(2024, 4, 25))
    expect(parseIsoDate("2024-05-25T10:00:00Z")).toBe(Date.UTC(2024, 4, 25, 10))
    expect(parseIsoDate("2024-05-25 12:00+02:00")).toBe(Date.UTC(2024, 4, 25, 10))
    expect(parseIsoDate("2024-05-25T10:00:00.5-0130")).toBe(Date.UTC(2024, 4, 25, 11, 30, 0, 500))
    expect(parseIsoDate(" 2024-05-25T10:00:00.123456789+0000 ")).toBe(Date.UTC(2024, 4, 25, 10, 0, 0, 123))
    // Read by DateTime since issue 20: a year before 100 is that year (the hand-written parser, through
    // Date.UTC, read 0099 as 1999).
    expect(parseIsoDate("0099-05-01")).toBe(new Date("0099-05-01T00:00:00Z").getTime())
    for (const bad of [
      "31/02/2024",
      "2024-02-30",
      "2023-02-29",
      "2024-13-01",
      "2024-05-25T24:00",
      "2024-05-25T10:60Z",
      "2024-05-25T10:00+15:00",
      "2024-5-25",
      "May 25 2024",
      "yesterday",
      "",
    ])
      expect(parseIsoDate(bad)).toBeUndefined()
    fc.assert(
      fc.property(
        fc.date({ min: new Date("1900-01-01"), max: new Date("2999-12-31"), noInvalidDate: true }),
        (d) => {
          expect(parseIsoDate(d.toISOString())).toBe(d.getTime())
        },
      ),
    )
  })

  it("R6: any contact written as RFC 4180 CSV is read back as written, trimmed", () => {
    const text = fc.string({ unit: fc.constantFrom("a", "Ż", " ", ",", '"', "\n", "🚲", "'"), minLength: 1 })
    const quote = (s: string) => `"${s.replaceAll('"', '""')}"`
    fc.assert(
      fc.property(text, text, (name, phone) => {
        fc.pre(name.trim() !== "" && phone.trim() !== "")
        const csv = `email,name,phone,purpose,given_at\r\na@example.org,${quote(name)},${quote(phone)},sms,2024-01-01\r\n`
        const parsed = parseContactsCsv(csv, { now: Date.now(), catalogue: defaultConsentCatalogue })
        expect(Either.getOrThrow(parsed).rows).toMatchObject([{ name: name.trim(), phone: phone.trim() }])
      }),
    )
  })
})
