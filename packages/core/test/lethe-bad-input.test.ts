/**
 * R45: readable refusals, for any input. Every facade operation, given junk
 * (null, undefined, numbers, arrays, strings where objects are expected,
 * actors that are not objects, roles such as `__proto__`), rejects its promise
 * with one of Lethe's tagged errors: never a synchronous throw, a `TypeError`,
 * nor Effect's `ParseError` or a defect.
 */
import type { LetheClient } from "@lethe/core"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { operationErrors } from "./operation-errors.js"
import { admin, countEvents, day, rejection, setup } from "./rights-setup.js"

/** Every `_tag` a Lethe operation may reject with (`LetheError`). */
const letheTags = new Set([
  "AnonymizationBlocked",
  "ErasureBlocked",
  "MessageRefused",
  "MemberErased",
  "MemberNotFound",
  "NotPermitted",
  "RestoreWindowExpired",
  "NothingToRestore",
  "NotPurgeable",
  "ExplicitConsentRequired",
  "UnknownPurpose",
  "UnknownWordingVersion",
  "ExplicitFlagRequired",
  "BasisNotAllowed",
  "InsufficientFunds",
  "WalletLimitExceeded",
  "UnknownReference",
  "DuplicateReference",
  "EmailTaken",
  "InvalidCommand",
  "ConcurrencyConflict",
  "StoreError",
  "StoreUnavailable",
  "KeyDestroyed",
  "KeyExists",
  "IntegrityError",
  "ErasureIncomplete",
  "NotErased",
  "MessageNotFound",
  "ExportLinkInvalid",
  "RetentionBlocked",
  "KeyringMismatch",
])

/** Every operation of the facade, but `close`. */
const operations = [
  "register",
  "recordPersonalData",
  "erasePersonalData",
  "giveConsent",
  "withdrawConsent",
  "unsubscribe",
  "subscribe",
  "disableProfiling",
  "enableProfiling",
  "signContract",
  "endContract",
  "creditWallet",
  "debitWallet",
  "openDebtCase",
  "closeDebtCase",
  "recordPurchase",
  "markPurchasePaid",
  "recordMissedInstalment",
  "markInstalmentPaid",
  "recordActivity",
  "sendMessage",
  "restrictProcessing",
  "liftRestriction",
  "requestErasure",
  "requestAccess",
  "forget",
  "forgetMany",
  "restore",
  "anonymize",
  "get",
  "findByEmail",
  "search",
  "purge",
  "proveMessage",
  "erasureReceipt",
  "runRetention",
  "exportMember",
  "createExportLink",
  "redeemExportLink",
  "importCsv",
  "overdueErasureRequests",
  "openRequests",
  "dataMap",
] as const
type Operation = (typeof operations)[number]

/** Values that have broken input handling elsewhere, named. */
const throwing = {
  get actor(): never {
    throw new Error("boom")
  },
}
const nasty: ReadonlyArray<unknown> = [
  null,
  undefined,
  0,
  -1,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  12.5,
  "",
  " ",
  "\u0000",
  "__proto__",
  "constructor",
  "toString",
  "admin",
  [],
  [null],
  ["__proto__"],
  {},
  Object.create(null),
  { __proto__: null, _tag: "Register" },
  new Date(Number.NaN),
  new Date(8.64e15),
  () => 1,
  10n,
  Symbol("s"),
  "x".repeat(2_000),
]
const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({ maxDepth: 3, withBigInt: true, withDate: true, withNullPrototype: true }),
  fc.constantFrom(...nasty),
)

/** Actors that are not a well-formed `{ id, roles }`. */
const badActors: ReadonlyArray<unknown> = [
  null,
  "admin",
  5,
  [],
  ["admin"],
  {},
  { id: 5, roles: [] },
  { id: "", roles: ["admin"] },
  { id: "x", roles: "admin" },
  { id: "x", roles: ["__proto__"] },
  { id: "x", roles: ["constructor"] },
  { id: "x", roles: ["toString"] },
  { id: "x", roles: [5] },
  { id: "x", roles: [null] },
  { id: "x", roles: null },
  { id: "x" },
  { roles: ["admin"] },
  { id: "x", roles: { 0: "admin", length: 1 } },
]
const junkActor: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...badActors),
  fc.record({ id: junk, roles: junk }),
  fc.record({ id: fc.string({ minLength: 1 }), roles: fc.array(junk, { maxLength: 3 }) }),
)

/** Figures per class of bad input, reported at the end. */
const figures: Record<string, number> = {}

const show = (args: ReadonlyArray<unknown>): string =>
  args
    .map((a) => {
      try {
        if (typeof a === "bigint" || typeof a === "symbol" || typeof a === "function") return String(a)
        return String(JSON.stringify(a)).slice(0, 60)
      } catch {
        return "?"
      }
    })
    .join(", ")

/** Calls `operation` with `args`: it must resolve, or reject with a Lethe-tagged error of a short message. */
const probe = async (lethe: LetheClient, cls: string, operation: Operation, args: ReadonlyArray<unknown>) => {
  figures[cls] = (figures[cls] ?? 0) + 1
  let promise: unknown
  try {
    promise = (lethe[operation] as (...a: ReadonlyArray<unknown>) => unknown)(...args)
  } catch (error) {
    throw new Error(`${operation}(${show(args)}) threw synchronously: ${String(error)}`)
  }
  if (!(promise instanceof Promise)) throw new Error(`${operation} returned no promise`)
  try {
    await promise
  } catch (error) {
    const tag = (error as { _tag?: unknown } | null)?._tag
    if (typeof tag !== "string" || !letheTags.has(tag))
      throw new Error(
        `${operation}(${show(args)}) rejected with ${String(tag)}: ${String(error).slice(0, 300)}`,
      )
    // Inside the union its operation declares (LetheService.Errors), not only inside LetheError.
    if (!(operationErrors[operation] as ReadonlyArray<string>).includes(tag))
      throw new Error(
        `${operation}(${show(args)}) rejected with ${tag}, outside LetheService.Errors["${operation}"]`,
      )
    expect((error as Error).message.length, `${operation}: ${(error as Error).message}`).toBeLessThan(300)
  }
}

/** A fresh Lethe with one member (and its id, for operations that take one). */
const withMember = async () => {
  const { lethe } = await setup()
  const { memberId } = await lethe.register({
    tenantId: "club",
    personal: { name: "Ada", email: "ada@example.org" },
    source: "form",
  })
  return { lethe, memberId }
}

const operation = fc.constantFrom(...operations)
const numRuns = 200

describe("R45 bad input to every facade operation is a tagged rejection", () => {
  it("R45 junk in every argument", async () => {
    const { lethe } = await withMember()
    await fc.assert(
      fc.asyncProperty(operation, fc.array(junk, { maxLength: 3 }), (op, args) =>
        probe(lethe, "junk arguments", op, args),
      ),
      { numRuns: numRuns * 3 },
    )
  }, 120_000)

  it("R45 a real member id with a junk input", async () => {
    const { lethe, memberId } = await withMember()
    await fc.assert(
      fc.asyncProperty(operation, junk, junk, (op, input, third) =>
        probe(lethe, "member id, junk input", op, [memberId, input, third]),
      ),
      { numRuns: numRuns * 2 },
    )
  }, 120_000)

  it("R45 a junk actor, in one place for every operation", async () => {
    const { lethe, memberId } = await withMember()
    await fc.assert(
      fc.asyncProperty(operation, junkActor, (op, actor) =>
        probe(lethe, "junk actor", op, [memberId, { actor, purpose: "newsletter" }]),
      ),
      { numRuns: numRuns * 2 },
    )
    for (const op of operations) {
      for (const actor of badActors) await probe(lethe, "junk actor", op, [memberId, { actor }])
      // An input whose getter throws is refused, not thrown.
      await probe(lethe, "junk actor", op, [memberId, throwing])
      await probe(lethe, "junk actor", op, [throwing])
    }
  }, 120_000)

  it("R45 junk ids, e-mails, search texts, tokens and options", async () => {
    const { lethe } = await withMember()
    const direct: ReadonlyArray<[Operation, (j: unknown) => ReadonlyArray<unknown>]> = [
      ["get", (j) => [j]],
      ["findByEmail", (j) => ["club", j]],
      ["findByEmail", (j) => [j, "ada@example.org"]],
      ["search", (j) => ["club", j]],
      ["search", (j) => [j, "ada"]],
      ["search", (j) => ["club", "ada", j]],
      ["search", (j) => ["club", "ada", { limit: j }]],
      ["search", (j) => ["club", "ada", { after: j }]],
      ["proveMessage", (j) => [j]],
      ["erasureReceipt", (j) => [j]],
      ["redeemExportLink", (j) => [j]],
      ["importCsv", (j) => [j, { tenantId: "club", actor: admin }]],
      ["importCsv", (j) => ["email,purpose\na@b.org,newsletter\n", j]],
      ["forgetMany", (j) => [j, { actor: admin }]],
      ["forgetMany", (j) => [[j], { actor: admin }]],
      ["runRetention", (j) => [j]],
      ["runRetention", (j) => [{ batchSize: j }]],
      ["runRetention", (j) => [{ policies: j }]],
      ["dataMap", (j) => [j]],
      ["dataMap", (j) => [{ policies: j }]],
    ]
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...direct), junk, ([op, args], j) =>
        probe(lethe, "junk ids and options", op, args(j)),
      ),
      { numRuns: numRuns * 3 },
    )
  }, 120_000)

  it("R45 junk export formats and link validity", async () => {
    const { lethe, memberId } = await withMember()
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("exportMember", "createExportLink"),
        junk,
        junk,
        (op, format, validFor) =>
          probe(lethe, "junk formats and validity", op, [memberId, { actor: admin, format, validFor }]),
      ),
      { numRuns },
    )
    console.info(`R45 bad-input cases per class: ${JSON.stringify(figures)}`)
  }, 120_000)
})

describe("R45 counts, dates and durations out of range are InvalidCommand", () => {
  it("R45 a search limit or a retention batch out of range is refused before the store", async () => {
    const { lethe } = await withMember()
    for (const limit of [0, -1, 2.5, Number.NaN, Number.POSITIVE_INFINITY, 1001, "10"]) {
      const error = await rejection(lethe.search("club", "ada", { limit: limit as number }))
      expect(error).toMatchObject({ _tag: "InvalidCommand", command: "search" })
      expect(error.issues).toEqual([expect.objectContaining({ path: "options.limit" })])
    }
    for (const batchSize of [0, -3, 0.5, Number.NaN, 10_001, Number.MAX_SAFE_INTEGER])
      expect(await rejection(lethe.runRetention({ batchSize }))).toMatchObject({
        _tag: "InvalidCommand",
        command: "runRetention",
        issues: [expect.objectContaining({ path: "options.batchSize" })],
      })
    expect(await lethe.search("club", "ada", { limit: 1000 })).toHaveLength(1)
    await expect(lethe.runRetention({ batchSize: 10_000, dryRun: true })).resolves.toBeDefined()
  })

  it("R45 a request received in the future, or at an absurd date, is refused", async () => {
    const { lethe, clock } = await setup()
    const { memberId } = await lethe.register({ tenantId: "club", personal: { name: "Ada" }, source: "form" })
    const now = clock.millis()
    for (const receivedAt of [
      new Date(now + 6 * 60_000),
      new Date(now + day),
      new Date(8.64e15),
      new Date(Date.UTC(275760, 0, 1)),
      new Date(Number.NaN),
    ])
      for (const op of ["requestErasure", "requestAccess"] as const)
        expect(await rejection(lethe[op](memberId, { via: "email", receivedAt }))).toMatchObject({
          _tag: "InvalidCommand",
          command: op,
          issues: [expect.objectContaining({ path: "receivedAt" })],
        })
    // Within the skew of two clocks: accepted.
    await expect(
      lethe.requestAccess(memberId, { via: "email", receivedAt: new Date(now + 4 * 60_000) }),
    ).resolves.toMatchObject({ requestId: expect.any(String) })
  })

  it("R45 a consent or contract dated after the year 9999 is refused", async () => {
    const { lethe } = await withMember()
    const { memberId } = await lethe.register({ tenantId: "club", personal: { name: "Bo" }, source: "form" })
    const late = new Date(Date.UTC(10_000, 0, 1))
    expect(
      await rejection(
        lethe.giveConsent(memberId, {
          purpose: "newsletter",
          explicit: true,
          method: "checkbox",
          source: "form",
          givenAt: late,
        }),
      ),
    ).toMatchObject({ _tag: "InvalidCommand", issues: [expect.objectContaining({ path: "givenAt" })] })
    expect(
      await rejection(
        lethe.signContract(memberId, {
          contractId: "c-1",
          clubId: "gym",
          startsAt: new Date("2026-01-01"),
          endsAt: late,
          actor: admin,
        }),
      ),
    ).toMatchObject({ _tag: "InvalidCommand", issues: [expect.objectContaining({ path: "endsAt" })] })
  })
})

describe("R13 an export link's validity is bounded by the configuration", () => {
  it("R13 validFor beyond maxExportLinkValidity (7 days by default), or not finite, is InvalidCommand", async () => {
    const { lethe, memberId } = await withMember()
    for (const validFor of [8 * day, "8 days", Number.POSITIVE_INFINITY, "Infinity", Number.NaN, 0, -1])
      expect(
        await rejection(
          lethe.createExportLink(memberId, { format: "json", actor: admin, validFor } as never),
        ),
      ).toMatchObject({
        _tag: "InvalidCommand",
        command: "createExportLink",
        issues: [expect.objectContaining({ path: "validFor" })],
      })
    await expect(
      lethe.createExportLink(memberId, { format: "json", actor: admin, validFor: "7 days" }),
    ).resolves.toMatchObject({ token: expect.any(String) })
    const { lethe: strict } = await setup({ config: { maxExportLinkValidity: 3_600_000 } })
    const { memberId: other } = await strict.register({
      tenantId: "club",
      personal: { name: "Cy" },
      source: "form",
    })
    expect(await rejection(strict.createExportLink(other, { format: "json", actor: admin }))).toMatchObject({
      _tag: "InvalidCommand",
    })
    await expect(
      strict.createExportLink(other, { format: "json", actor: admin, validFor: "1 hour" }),
    ).resolves.toBeDefined()
  })
})

describe("R1 an e-mail is one address in any Unicode form", () => {
  it("R1 josé composed and decomposed is one member; zero-width characters are refused", async () => {
    const { lethe } = await setup()
    const composed = "jos\u00e9@example.org"
    const decomposed = "jose\u0301@example.org"
    const { memberId } = await lethe.register({
      tenantId: "club",
      personal: { email: composed },
      source: "form",
    })
    expect((await lethe.findByEmail("club", decomposed))?.memberId).toBe(memberId)
    expect(
      await rejection(lethe.register({ tenantId: "club", personal: { email: decomposed }, source: "form" })),
    ).toMatchObject({ _tag: "EmailTaken" })
    for (const hidden of ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u0000"])
      expect(
        await rejection(
          lethe.register({
            tenantId: "club",
            personal: { email: `ada${hidden}@example.org` },
            source: "form",
          }),
        ),
      ).toMatchObject({
        _tag: "InvalidCommand",
        issues: [expect.objectContaining({ path: "personal.email" })],
      })
  })
})

describe("R45 control characters are refused by the schemas, on every adapter alike", () => {
  /** Every C0 control, DEL and a few C1 controls, each inside an otherwise valid value. */
  const controls = [
    ...Array.from({ length: 32 }, (_, code) => String.fromCharCode(code)),
    "\u007f",
    "\u0085",
    "\u009f",
  ]
  /** Tab, line feed and carriage return stay allowed in free text (an address on two lines). */
  const textAllows = new Set(["\t", "\n", "\r"])

  it("R45: a control character in a personal text (name, phone) is InvalidCommand naming the field; tab and newlines are kept", async () => {
    const { lethe } = await setup()
    let tried = 0
    for (const control of controls) {
      for (const field of ["name", "phone"] as const) {
        tried += 1
        const register = lethe.register({
          tenantId: "club",
          personal: { [field]: `Ada${control}Lovelace` },
          source: "form",
        })
        if (textAllows.has(control)) {
          const { memberId } = await register
          expect((await lethe.get(memberId)).personal[field]).toBe(`Ada${control}Lovelace`)
        } else
          expect(await rejection(register)).toMatchObject({
            _tag: "InvalidCommand",
            issues: [
              expect.objectContaining({
                path: `personal.${field}`,
                message: "must not hold control characters",
              }),
            ],
          })
      }
    }
    expect(tried).toBe(2 * controls.length)
  })

  it("R45: a control character in an identifier (tenant, purpose, contract, message id) is InvalidCommand and writes nothing", async () => {
    const { lethe, store } = await setup()
    const { memberId } = await lethe.register({ tenantId: "club", personal: { name: "Ada" }, source: "form" })
    const before = await countEvents(store)
    const ids = (control: string) => [
      lethe.register({ tenantId: `club${control}`, personal: { name: "Bo" }, source: "form" }),
      lethe.signContract(memberId, {
        contractId: `c-1${control}`,
        clubId: "club-1",
        startsAt: new Date("2026-03-01T00:00:00Z"),
        endsAt: new Date("2027-03-01T00:00:00Z"),
      }),
      lethe.sendMessage(memberId, {
        messageId: `m-1${control}`,
        purpose: "service",
        channel: "email",
        sentBy: "staff:ada",
      }),
    ]
    let tried = 0
    for (const control of controls)
      for (const attempt of ids(control)) {
        tried += 1
        expect(await rejection(attempt)).toMatchObject({ _tag: "InvalidCommand" })
      }
    expect(tried).toBe(3 * controls.length)
    expect(await countEvents(store)).toBe(before)
  })
})
