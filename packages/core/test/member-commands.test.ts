import { Email, InputFields, MemberCommand, RequestErasure, SignContract, Text } from "@lethe/core/domain"
import { Either, Schema } from "effect"
import { describe, expect, it } from "vitest"

const decode = Schema.decodeUnknownEither(MemberCommand)
const accepts = (input: unknown) => expect(Either.isRight(decode(input)), JSON.stringify(input)).toBe(true)
const rejects = (input: unknown) => expect(Either.isLeft(decode(input)), JSON.stringify(input)).toBe(true)

const register = {
  _tag: "Register",
  memberId: "member-1",
  tenantId: "tenant-1",
  personal: { name: "Anna", email: "anna@example.org" },
  source: { kind: "form" },
}
const contract = { _tag: "SignContract", contractId: "c-1", clubId: "club-1", startsAt: 1_000, endsAt: 2_000 }

describe("InvalidCommand: input that fails its schema (the application decodes before decide)", () => {
  it("InvalidCommand: well-formed commands decode (so the refusals below are about the flaw)", () => {
    accepts(register)
    accepts(contract)
    accepts({ ...contract, endsAt: null })
    accepts({ _tag: "CreditWallet", amount: 1 })
    accepts({
      _tag: "RecordPersonalData",
      category: "notes",
      fields: { note: "x" },
      source: { kind: "staff" },
    })
    accepts({ _tag: "Anonymize", confirmEmail: null, policyId: null, requestId: null })
  })

  it.each([
    "anna",
    "anna@",
    "@example.org",
    "anna@example",
    "anna @example.org",
    "anna@exa mple.org",
    `${"a".repeat(250)}@example.org`,
  ])("InvalidCommand: Register with the bad e-mail %j is rejected", (email) => {
    rejects({ ...register, personal: { ...register.personal, email } })
  })

  it("InvalidCommand: empty ids, names and fields are rejected", () => {
    rejects({ ...register, memberId: "" })
    rejects({ ...register, tenantId: "" })
    rejects({ ...register, personal: { name: "" } })
    rejects({ ...contract, contractId: "" })
    rejects({ ...contract, clubId: " club-1" })
    rejects({ _tag: "RecordPersonalData", category: "notes", fields: {}, source: { kind: "staff" } })
    rejects({
      _tag: "RecordPersonalData",
      category: "notes",
      fields: { note: "" },
      source: { kind: "staff" },
    })
    rejects({ _tag: "RecordPersonalData", category: "notes", fields: { "": "x" }, source: { kind: "staff" } })
    rejects({ _tag: "ErasePersonalData", categories: [], reason: "request" })
    rejects({
      _tag: "SendMessage",
      messageId: "",
      purpose: "newsletter",
      channel: "email",
      sentBy: "a",
      test: false,
    })
    rejects({ _tag: "RestrictProcessing", reason: "" })
  })

  it("InvalidCommand: a blank text (only spaces) is rejected, as Text promises 'not blank'", () => {
    rejects({ _tag: "RestrictProcessing", reason: "   " })
    rejects({
      _tag: "RecordPersonalData",
      category: "notes",
      fields: { note: " " },
      source: { kind: "staff" },
    })
  })

  it("InvalidCommand: a contract that ends before, or when, it starts is rejected", () => {
    rejects({ ...contract, endsAt: 999 })
    rejects({ ...contract, endsAt: 1_000 })
  })

  it.each([-1, 0, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    "InvalidCommand: the amount %s is rejected (money is a positive integer in minor units)",
    (amount) => {
      rejects({ _tag: "CreditWallet", amount })
      rejects({ _tag: "DebitWallet", amount })
      rejects({ _tag: "RecordPurchase", purchaseId: "p-1", amount, paid: false })
      rejects({ _tag: "RecordMissedInstalment", instalmentId: "i-1", clubId: "club-1", amount })
    },
  )

  it("InvalidCommand: unknown tags, categories, purposes' bases and negative times are rejected", () => {
    rejects({ _tag: "DeleteEverything" })
    rejects({
      _tag: "RecordPersonalData",
      category: "shoeSize",
      fields: { size: "42" },
      source: { kind: "staff" },
    })
    rejects({
      _tag: "GiveConsent",
      purpose: "newsletter",
      basis: "because",
      explicit: false,
      method: "checkbox",
      wordingVersion: "v1",
      source: { kind: "form" },
    })
    rejects({ ...contract, startsAt: -5 })
    rejects({ _tag: "RequestErasure", requestId: "r-1", receivedAt: -1, via: "email" })
    rejects({ _tag: "Restore", by: "anyone" })
  })

  it("InvalidCommand: the schema explains what is wrong", () => {
    const result = decode({ _tag: "CreditWallet", amount: -1 })
    expect(Either.isLeft(result) && result.left.message).toMatch(/positive/)
  })
})

describe("R45: a malformed command says what is wrong", () => {
  const messageOf = (schema: Schema.Schema.AnyNoContext, input: unknown): string => {
    const result = Schema.decodeUnknownEither(schema)(input)
    return Either.isLeft(result) ? result.left.message : "accepted"
  }

  it("R45: each refinement of a command's fields names its rule", () => {
    expect(messageOf(Email, "anna@example")).toBe("must be an e-mail address")
    expect(messageOf(Email, "anna\u200b@example.org")).toBe("must not hold control or zero-width characters")
    expect(messageOf(Text, " \n ")).toBe("must not be blank")
    expect(messageOf(InputFields, {})).toContain("must name at least one field")
    expect(messageOf(SignContract, { ...contract, endsAt: 1_000 })).toMatch(
      /\["endsAt"\][\s\S]*must be after startsAt/,
    )
    expect(
      messageOf(RequestErasure, {
        _tag: "RequestErasure",
        requestId: "r-1",
        receivedAt: Date.UTC(10000, 0, 1),
        via: "email",
      }),
    ).toContain("must be a date before the year 10000")
  })

  it("R45: a well-formed value passes the same refinements", () => {
    expect(messageOf(Email, "anna@example.org")).toBe("accepted")
    expect(messageOf(Text, " x ")).toBe("accepted")
    expect(messageOf(InputFields, { note: "x" })).toBe("accepted")
    expect(messageOf(SignContract, { ...contract, endsAt: 1_001 })).toBe("accepted")
    expect(
      messageOf(RequestErasure, {
        _tag: "RequestErasure",
        requestId: "r-1",
        receivedAt: Date.UTC(9999, 11, 31, 23, 59, 59, 999),
        via: "email",
      }),
    ).toBe("accepted")
  })
})
