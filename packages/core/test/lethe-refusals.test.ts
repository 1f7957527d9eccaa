/**
 * R45: readable refusals. Bad input to any operation is refused with a typed
 * error whose message is one short line naming the operation and the field,
 * with the same as structured `issues`; an unknown purpose is
 * `UnknownPurpose` whatever else is wrong with the command.
 */
import type { InvalidCommand, LetheClient } from "@lethe/core"
import { anonymizeInactive } from "@lethe/core"
import { PersonalCategory } from "@lethe/core/domain"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { admin, countEvents, rejection, setup } from "./rights-setup.js"

type Input = Readonly<Record<string, unknown>>

/** A facade operation with a valid input, and bad values for each of its fields. */
interface Operation {
  readonly name: string
  readonly call: (lethe: LetheClient, memberId: string, input: Input) => Promise<unknown>
  readonly valid: Input
  /** Each field's bad values; a nested field is named by its path (`personal.email`). */
  readonly fields: Readonly<Record<string, fc.Arbitrary<unknown>>>
  /** The path an issue names, when it is not the field's (`email` for `subscribe`'s `personal.email`). */
  readonly paths?: Readonly<Record<string, string>>
}

/** Values of any type but `type` (nor null or undefined, which some fields read as "absent"). */
const wrong = (type: "string" | "number" | "boolean") =>
  fc.anything({ maxDepth: 3 }).filter((v) => v !== undefined && v !== null && typeof v !== type)
const huge = (min: number) => fc.integer({ min, max: min + 5_000 }).map((n) => "x".repeat(n))
const nested = fc.constant({ a: { b: [1, { c: "d".repeat(500) }] } })

const badId = fc.oneof(
  wrong("string"),
  nested,
  fc.constant(""),
  huge(201),
  fc.string().map((s) => ` ${s}`),
)
const badText = fc.oneof(wrong("string"), nested, fc.constantFrom("", " ", "\t\n"), huge(10_001))
const badAmount = fc.oneof(
  wrong("number"),
  nested,
  fc.double().filter((d) => !(Number.isSafeInteger(d) && d > 0)),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, 12.5, 0, -5),
)
const badBoolean = fc.oneof(wrong("boolean"), nested)
const badLiteral = (allowed: ReadonlyArray<string>) =>
  fc.oneof(
    wrong("string"),
    nested,
    fc.string().filter((s) => !allowed.includes(s)),
    huge(300),
  )
const badDate = fc.oneof(
  fc.anything({ maxDepth: 2 }).filter((v) => v !== undefined && v !== null && !(v instanceof Date)),
  fc.constant(new Date(Number.NaN)),
  fc.integer({ min: -1e12, max: -1 }).map((ms) => new Date(ms)),
)
const badEmail = fc.oneof(
  wrong("string"),
  fc.string().filter((s) => !s.includes("@")),
  huge(300).map((x) => `${x}@example.org`),
)
const sourceKinds = ["form", "import", "api", "staff", "subject", "system"]
const badSource = fc.oneof(
  fc.string().filter((s) => !sourceKinds.includes(s)),
  fc.record({ kind: fc.string().filter((s) => !sourceKinds.includes(s)) }),
  fc.integer(),
  nested,
)
const categories: ReadonlyArray<string> = PersonalCategory.literals
const key = fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/)
/** A record of personal values with at least one bad value, or no record at all. */
const badValues = fc.oneof(
  fc.dictionary(key, badText, { minKeys: 1, maxKeys: 3 }),
  fc.oneof(fc.string(), fc.integer(), fc.boolean()),
)
const badCount = fc.oneof(wrong("number"), fc.constantFrom(0, -1, 1.5, Number.NaN))

const channels = ["link", "staff", "email", "form", "letter", "phone", "api"]

const operations: ReadonlyArray<Operation> = [
  {
    name: "register",
    call: (l, _, input) => l.register(input as never),
    valid: { tenantId: "gym", personal: { name: "Ada", email: "ada@example.org" }, source: "form" },
    fields: {
      tenantId: badId,
      "personal.name": badText,
      "personal.email": badEmail,
      "personal.phone": badText,
      source: badSource,
    },
  },
  {
    name: "subscribe",
    call: (l, _, input) => l.subscribe(input as never),
    valid: { tenantId: "gym", email: "new@example.org", purpose: "newsletter", source: "form", name: "New" },
    fields: {
      tenantId: badId,
      email: badEmail,
      name: badText,
      purpose: badId,
      source: badSource,
      method: badLiteral(["checkbox", "double-opt-in", "paper", "verbal", "import", "api"]),
      wordingVersion: badId,
    },
  },
  {
    name: "recordPersonalData",
    call: (l, id, input) => l.recordPersonalData(id, input as never),
    valid: { category: "notes", fields: { note: "likes yoga" }, source: "staff" },
    fields: {
      category: badLiteral(categories),
      fields: fc.oneof(fc.constant({}), badValues),
      source: badSource,
    },
  },
  {
    name: "erasePersonalData",
    call: (l, id, input) => l.erasePersonalData(id, input as never),
    valid: { categories: ["notes"], reason: "asked", actor: admin },
    fields: {
      categories: fc.oneof(
        fc.constant([]),
        fc.array(badLiteral(categories), { minLength: 1, maxLength: 3 }),
        fc.oneof(fc.string(), fc.integer(), nested),
      ),
      reason: badText,
    },
  },
  {
    name: "giveConsent",
    call: (l, id, input) => l.giveConsent(id, input as never),
    valid: { purpose: "newsletter", method: "checkbox", source: "form", givenAt: new Date("2026-01-01") },
    fields: {
      purpose: badId,
      basis: badLiteral(["consent", "legitimate-interest", "contract", "legal-obligation"]),
      explicit: badBoolean,
      method: badLiteral(["checkbox", "double-opt-in", "paper", "verbal", "import", "api"]),
      wordingVersion: badId,
      source: badSource,
      givenAt: badDate,
    },
  },
  {
    name: "withdrawConsent",
    call: (l, id, input) => l.withdrawConsent(id, input as never),
    valid: { purpose: "newsletter", source: "subject" },
    fields: { purpose: badId, source: badSource },
  },
  {
    name: "unsubscribe",
    call: (l, id, input) => l.unsubscribe(id, input as never),
    valid: { purpose: "newsletter", via: "link" },
    fields: { purpose: badId, via: badLiteral(["link", "staff"]) },
  },
  {
    name: "signContract",
    call: (l, id, input) => l.signContract(id, input as never),
    valid: {
      contractId: "c-1",
      clubId: "club",
      startsAt: new Date("2026-01-01"),
      endsAt: new Date("2027-01-01"),
    },
    fields: { contractId: badId, clubId: badId, startsAt: badDate, endsAt: badDate },
  },
  {
    name: "endContract",
    call: (l, id, input) => l.endContract(id, input as never),
    valid: { contractId: "c-1" },
    fields: { contractId: badId },
  },
  {
    name: "creditWallet",
    call: (l, id, input) => l.creditWallet(id, input as never),
    valid: { amount: 100 },
    fields: { amount: badAmount },
  },
  {
    name: "debitWallet",
    call: (l, id, input) => l.debitWallet(id, input as never),
    valid: { amount: 100 },
    fields: { amount: badAmount },
  },
  {
    name: "openDebtCase",
    call: (l, id, input) => l.openDebtCase(id, input as never),
    valid: { caseId: "d-1", clubId: "club" },
    fields: { caseId: badId, clubId: badId },
  },
  {
    name: "closeDebtCase",
    call: (l, id, input) => l.closeDebtCase(id, input as never),
    valid: { caseId: "d-1" },
    fields: { caseId: badId },
  },
  {
    name: "recordPurchase",
    call: (l, id, input) => l.recordPurchase(id, input as never),
    valid: { purchaseId: "p-1", amount: 100, paid: false },
    fields: { purchaseId: badId, amount: badAmount, paid: badBoolean },
  },
  {
    name: "markPurchasePaid",
    call: (l, id, input) => l.markPurchasePaid(id, input as never),
    valid: { purchaseId: "p-1" },
    fields: { purchaseId: badId },
  },
  {
    name: "recordMissedInstalment",
    call: (l, id, input) => l.recordMissedInstalment(id, input as never),
    valid: { instalmentId: "i-1", clubId: "club", amount: 100 },
    fields: { instalmentId: badId, clubId: badId, amount: badAmount },
  },
  {
    name: "markInstalmentPaid",
    call: (l, id, input) => l.markInstalmentPaid(id, input as never),
    valid: { instalmentId: "i-1" },
    fields: { instalmentId: badId },
  },
  {
    name: "recordActivity",
    call: (l, id, input) => l.recordActivity(id, input as never),
    valid: { kind: "visit", clubId: "club", details: { door: "north" } },
    fields: {
      kind: badLiteral(["visit", "class", "transaction", "page-view"]),
      clubId: badId,
      details: badValues,
    },
  },
  {
    name: "sendMessage",
    call: (l, id, input) => l.sendMessage(id, input as never),
    valid: { purpose: "newsletter", channel: "email", sentBy: "campaign", test: true, messageId: "m-1" },
    fields: { purpose: badId, channel: badId, sentBy: badId, test: badBoolean, messageId: badId },
  },
  {
    name: "restrictProcessing",
    call: (l, id, input) => l.restrictProcessing(id, input as never),
    valid: { reason: "contested" },
    fields: { reason: badText },
  },
  ...(["requestErasure", "requestAccess"] as const).map(
    (name): Operation => ({
      name,
      call: (l, id, input) => l[name](id, input as never),
      valid: { via: "email", receivedAt: new Date("2026-03-01"), requestId: "r-1" },
      fields: { via: badLiteral(channels), receivedAt: badDate, requestId: badId },
    }),
  ),
  {
    name: "forget",
    call: (l, id, input) => l.forget(id, input as never),
    valid: { actor: admin, requestId: "r-1" },
    fields: { requestId: badId },
  },
  {
    name: "anonymize",
    call: (l, id, input) => l.anonymize(id, input as never),
    valid: { actor: admin, confirmEmail: "ada@example.org", requestId: "r-1" },
    fields: { confirmEmail: wrong("string"), requestId: badId },
  },
  {
    name: "exportMember",
    call: (l, id, input) => l.exportMember(id, input as never),
    valid: { actor: admin, format: "json", requestId: "r-1" },
    fields: { format: badLiteral(["json", "csv", "html", "pdf"]), requestId: badId },
  },
  {
    name: "createExportLink",
    call: (l, id, input) => l.createExportLink(id, input as never),
    valid: { actor: admin, format: "json", validFor: "2 hours", requestId: "r-1" },
    fields: {
      format: badLiteral(["json", "csv", "html", "pdf"]),
      validFor: fc.constantFrom(
        0,
        -5,
        Number.NaN,
        Number.POSITIVE_INFINITY,
        "forever",
        "",
        "1 fortnight",
        {},
      ),
      requestId: badId,
    },
  },
  {
    name: "runRetention",
    call: (l, _, input) => l.runRetention({ policies: [input as never] }),
    valid: anonymizeInactive({ months: 12 }),
    fields: { id: badId, months: badCount, tenantId: badId },
    paths: { id: "policies[0].id", months: "policies[0].months", tenantId: "policies[0].tenantId" },
  },
]

/** `input` with the field at `path` (dotted) set to `value`. */
const withField = (input: Input, path: string, value: unknown): Input => {
  const [head = "", ...rest] = path.split(".")
  return {
    ...input,
    [head]: rest.length === 0 ? value : withField((input[head] ?? {}) as Input, rest.join("."), value),
  }
}

const arbCase = fc
  .constantFrom(...operations)
  .chain((operation) =>
    fc
      .constantFrom(...Object.keys(operation.fields))
      .chain((field) =>
        (operation.fields[field] as fc.Arbitrary<unknown>).map((bad) => ({ operation, field, bad })),
      ),
  )

/** Whether `path` is `field` or inside it (`fields.note`, `categories[0]`, `source.kind`). */
const names = (path: string, field: string) =>
  path === field || path.startsWith(`${field}.`) || path.startsWith(`${field}[`)

describe("R45: readable refusals", () => {
  it("R45: every operation refuses any bad field value with InvalidCommand: one line under 300 characters, starting with the operation, its issues naming the field; nothing written", async () => {
    const { lethe, store } = await setup()
    const { memberId } = await lethe.register({
      tenantId: "gym",
      personal: { name: "Ada", email: "ada@example.org" },
      source: "form",
    })
    const before = await countEvents(store)
    await fc.assert(
      fc.asyncProperty(arbCase, async ({ operation, field, bad }) => {
        const input = withField(operation.valid, field, bad)
        const error = (await rejection(operation.call(lethe, memberId, input))) as unknown as InvalidCommand
        const path = operation.paths?.[field] ?? field
        const shown = `${operation.name} ${field}: ${error.message}`
        expect(error._tag, shown).toBe("InvalidCommand")
        expect(error.command, shown).toBe(operation.name)
        expect(error.message.length, shown).toBeLessThan(300)
        expect(error.message.startsWith(`${operation.name}: `), shown).toBe(true)
        expect(error.message, shown).not.toMatch(/[\n\r]/)
        expect(
          error.issues.some((issue) => names(issue.path, path)),
          `${shown} ${JSON.stringify(error.issues)}`,
        ).toBe(true)
        for (const issue of error.issues) expect(issue.message.length, shown).toBeLessThan(300)
      }),
      { numRuns: 400 },
    )
    expect(await countEvents(store)).toBe(before)
  })

  it("R45: creditWallet with 12.5 says so in one short line, and in issues", async () => {
    const { lethe } = await setup()
    const { memberId } = await lethe.register({ tenantId: "gym", personal: { name: "Ada" }, source: "form" })
    const error = (await rejection(
      lethe.creditWallet(memberId, { amount: 12.5 }),
    )) as unknown as InvalidCommand
    expect(error).toMatchObject({
      _tag: "InvalidCommand",
      command: "creditWallet",
      issues: [{ path: "amount", message: "must be an integer (got 12.5)" }],
    })
    expect(error.message).toBe("creditWallet: amount must be an integer (got 12.5)")
  })

  it("R45: each field's problem is said after its path, in the caller's words", async () => {
    const { lethe } = await setup()
    const { memberId } = await lethe.register({ tenantId: "gym", personal: { name: "Ada" }, source: "form" })
    const messageOf = async (attempt: Promise<unknown>) => String((await rejection(attempt)).message)
    expect(
      await messageOf(
        lethe.sendMessage(memberId, { purpose: "", channel: "c".repeat(1_000), sentBy: "campaign" }),
      ),
    ).toBe("sendMessage: purpose must not be empty; channel must be at most 200 characters (got 1000)")
    expect(
      await messageOf(lethe.register({ tenantId: "gym", personal: {}, source: "bogus" as "form" })),
    ).toBe('register: source.kind must be one of form, import, api, staff, subject, system (got "bogus")')
    expect(await messageOf(lethe.creditWallet(memberId, {} as never))).toBe("creditWallet: amount is missing")
    expect(
      await messageOf(
        lethe.signContract(memberId, { contractId: "c", clubId: "a", startsAt: new Date("not a date") }),
      ),
    ).toBe("signContract: startsAt must be a valid Date")
    expect(
      await messageOf(
        lethe.signContract(memberId, {
          contractId: "c",
          clubId: "a",
          startsAt: new Date("2026-02-01"),
          endsAt: new Date("2026-01-01"),
        }),
      ),
    ).toBe("signContract: endsAt must be after startsAt")
    expect(
      await messageOf(lethe.erasePersonalData(memberId, { categories: [], reason: "asked", actor: admin })),
    ).toBe("erasePersonalData: categories must not be empty")
    expect(
      await messageOf(
        lethe.subscribe({ tenantId: "gym", email: "nope", purpose: "newsletter", source: "form" }),
      ),
    ).toBe("subscribe: email must be an e-mail address")
    expect(await messageOf(lethe.exportMember(memberId, { format: "xml" as "json", actor: admin }))).toBe(
      'exportMember: format must be one of json, csv, html, pdf (got "xml")',
    )
    expect(await messageOf(lethe.runRetention({ policies: [anonymizeInactive({ months: 1.5 })] }))).toBe(
      "runRetention: policies[0].months must be an integer (got 1.5)",
    )
  })

  it("R45: a long value is echoed cut to 40 characters, a personal value never", async () => {
    const { lethe } = await setup()
    const { memberId } = await lethe.register({ tenantId: "gym", personal: { name: "Ada" }, source: "form" })
    const long = await rejection(lethe.recordActivity(memberId, { kind: `${"k".repeat(5_000)}` as "visit" }))
    expect(long.message).toBe(
      `recordActivity: kind must be one of visit, class, transaction, page-view (got "${"k".repeat(39)}…")`,
    )
    const secret = "Ada Lovelace, 10 Downing Street"
    for (const attempt of [
      lethe.register({ tenantId: "gym", personal: { name: `${secret} `.repeat(400) }, source: "form" }),
      lethe.register({ tenantId: "gym", personal: { email: secret }, source: "form" }),
      lethe.recordPersonalData(memberId, {
        category: "notes",
        fields: { note: `${secret}`.repeat(400) },
        source: "staff",
      }),
      lethe.restrictProcessing(memberId, { reason: `${secret}`.repeat(400) }),
      lethe.anonymize(memberId, { actor: admin, confirmEmail: [secret] as never }),
    ]) {
      const error = (await rejection(attempt)) as unknown as InvalidCommand
      expect(error._tag).toBe("InvalidCommand")
      expect(error.message).not.toContain("Ada")
      expect(JSON.stringify(error.issues)).not.toContain("Ada")
    }
  })

  it("R45: many problems at once are counted past what fits in 300 characters", async () => {
    const { lethe } = await setup()
    const { memberId } = await lethe.register({ tenantId: "gym", personal: { name: "Ada" }, source: "form" })
    const fields = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`field${i}`, " "]))
    const error = (await rejection(
      lethe.recordPersonalData(memberId, { category: "notes", fields, source: "staff" }),
    )) as unknown as InvalidCommand
    expect(error.issues).toHaveLength(30)
    expect(error.issues[29]).toEqual({ path: "fields.field29", message: "must not be blank" })
    expect(error.message.length).toBeLessThan(300)
    expect(error.message).toMatch(/^recordPersonalData: fields\.field0 must not be blank; .*; and \d+ more$/)
  })

  it("R33, R45: an unknown purpose is UnknownPurpose, even when other fields are wrong too", async () => {
    const { lethe, store } = await setup()
    const { memberId } = await lethe.register({ tenantId: "gym", personal: { name: "Ada" }, source: "form" })
    const before = await countEvents(store)
    const unknown = { _tag: "UnknownPurpose", purpose: "telepathy" }
    expect(
      await rejection(
        lethe.giveConsent(memberId, { purpose: "telepathy", method: "smoke" as "paper", source: "form" }),
      ),
    ).toMatchObject(unknown)
    expect(
      await rejection(
        lethe.giveConsent(memberId, { purpose: "telepathy", method: "checkbox", source: "form" }),
      ),
    ).toMatchObject(unknown)
    expect(
      await rejection(lethe.withdrawConsent(memberId, { purpose: "telepathy", source: 42 as never })),
    ).toMatchObject(unknown)
    expect(
      await rejection(lethe.unsubscribe(memberId, { purpose: "telepathy", via: "pigeon" as "link" })),
    ).toMatchObject(unknown)
    expect(
      await rejection(lethe.sendMessage(memberId, { purpose: "telepathy", channel: "", sentBy: "campaign" })),
    ).toMatchObject(unknown)
    expect(
      await rejection(
        lethe.subscribe({
          tenantId: "gym",
          email: "not an e-mail",
          purpose: "telepathy",
          source: "form",
          wordingVersion: "v1",
        }),
      ),
    ).toMatchObject(unknown)
    // A name every object inherits is no purpose either.
    expect(
      await rejection(
        lethe.giveConsent(memberId, { purpose: "constructor", method: "checkbox", source: "form" }),
      ),
    ).toMatchObject({ _tag: "UnknownPurpose", purpose: "constructor" })
    // A known purpose with a bad field is that field's InvalidCommand.
    expect(
      await rejection(
        lethe.giveConsent(memberId, { purpose: "newsletter", method: "smoke" as "paper", source: "form" }),
      ),
    ).toMatchObject({ _tag: "InvalidCommand", command: "giveConsent", issues: [{ path: "method" }] })
    expect(await countEvents(store)).toBe(before)
  })

  it("R45: a subscription's e-mail and name are checked whoever holds the e-mail", async () => {
    const { lethe } = await setup()
    await lethe.subscribe({
      tenantId: "gym",
      email: "ada@example.org",
      purpose: "newsletter",
      source: "form",
    })
    for (const email of ["ada@example.org", "new@example.org"])
      expect(
        await rejection(
          lethe.subscribe({ tenantId: "gym", email, name: " ", purpose: "newsletter", source: "form" }),
        ),
      ).toMatchObject({ _tag: "InvalidCommand", command: "subscribe", issues: [{ path: "name" }] })
  })

  it("R45: the file-level refusals of an import and a repeated policy id name what is wrong", async () => {
    const { lethe } = await setup()
    const importing = { tenantId: "gym", restoreForgotten: false, actor: admin }
    expect(await rejection(lethe.importCsv("email,name\r\na@example.org,Ada\r\n", importing))).toMatchObject({
      _tag: "InvalidCommand",
      command: "importCsv",
      issues: [{ path: "header", message: "lacks column(s): purpose, given_at" }],
      message: "importCsv: header lacks column(s): purpose, given_at",
    })
    const repeated = await rejection(
      lethe.runRetention({
        policies: [anonymizeInactive({ months: 12 }), anonymizeInactive({ months: 12 })],
      }),
    )
    expect(repeated).toMatchObject({
      _tag: "InvalidCommand",
      command: "runRetention",
      issues: [{ path: "policies" }],
    })
    expect(repeated.message).toContain("anonymize-inactive-12m")
  })
})
