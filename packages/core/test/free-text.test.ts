/**
 * Issue 18, item 4: free text a person writes about a member (a restriction's
 * reason, an erasure's reason) is sealed under the member's key like any
 * personal value; what is stored in clear beside it (source tags, actor and
 * correlation ids) is a short token, refused otherwise with `InvalidCommand`
 * before anything is written; logs written before keep reading, and the
 * audit's sealing check names what they hold in clear.
 */
import type { Actor, LetheClient, LetheStore } from "@lethe/core"
import { createLethe, keyringFromSecret } from "@lethe/core"
import { auditLog, hashEvent } from "@lethe/core/audit"
import { maxTokenLength, Token } from "@lethe/core/domain"
import type { StoredEvent } from "@lethe/core/spi"
import { readAllEvents } from "@lethe/core/spi"
import { memoryStore } from "@lethe/store-memory"
import { Schema } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { sealingCodec } from "../src/sealing/sealing-codec.js"

const keyring = keyringFromSecret("free-text test secret of at least 32 bytes")
const admin: Actor = { id: "staff:admin", roles: ["admin"] }
const day = 86_400_000
const isToken = Schema.is(Token)

const reason = "Zażółć-REASON-r18: Anna Kowalska disputes her address, letter of 3 March"
const erasureReason = "Gęślą-ERASURE-r18: asked by phone, +48 600 100 200"

const logOf = async (store: LetheStore): Promise<Array<StoredEvent>> => {
  const events: Array<StoredEvent> = []
  for await (const event of readAllEvents(store.events)) events.push(event)
  return events
}

const setup = async () => {
  let now = new Date("2026-03-02T09:00:00Z").getTime()
  const store = memoryStore()
  const lethe = await createLethe({ store, keyring, clock: () => new Date(now) })
  const { memberId } = await lethe.register({
    tenantId: "gym",
    personal: { name: "Anna Kowalska", email: "anna.r18@example.org" },
    source: { kind: "form", tag: "web:signup-form" },
    correlationId: "0190f3a2-7c1e-7d3b-9a55-2f4f3c1e8d21",
  })
  return { store, lethe, memberId, advance: (ms: number) => (now += ms) }
}

const rejection = async (promise: Promise<unknown>) => {
  try {
    await promise
  } catch (error) {
    return error as { readonly _tag: string; readonly issues?: ReadonlyArray<{ path: string }> }
  }
  return expect.fail("expected a rejection")
}

describe("free text is sealed (R29)", () => {
  it("R29: a restriction's and an erasure's reason are stored sealed under the member's notes key, read back while the key lives, and Erased after purge", async () => {
    const { store, lethe, memberId, advance } = await setup()
    await lethe.recordPersonalData(memberId, {
      category: "address",
      fields: { city: "Łódź" },
      source: "staff",
    })
    await lethe.erasePersonalData(memberId, { categories: ["address"], reason: erasureReason, actor: admin })
    await lethe.restrictProcessing(memberId, { reason })
    const stored = JSON.stringify(await logOf(store))
    // The check can fail: the reasons are nowhere in the stored log, not even while the member is active.
    expect(stored).not.toContain("REASON-r18")
    expect(stored).not.toContain("ERASURE-r18")
    const restricted = (await logOf(store)).find((e) => e.type === "ProcessingRestricted")
    expect(restricted?.data).toMatchObject({
      reason: { _tag: "Sealed", keyId: `dk:${memberId}:notes`, category: "notes" },
    })
    const exported = await lethe.exportMember(memberId, { format: "json", actor: admin })
    expect(JSON.stringify(exported)).toContain("REASON-r18")

    await lethe.liftRestriction(memberId)
    await lethe.forget(memberId, { actor: admin })
    advance((lethe.config.restoreWindowDays + 1) * day)
    expect((await lethe.runRetention()).failed).toEqual([])
    const history = (await logOf(store)).filter(
      (e) => e.type === "ProcessingRestricted" || e.type === "PersonalDataErased",
    )
    for (const event of history)
      expect((event.data as { reason: unknown }).reason).toMatchObject({ _tag: "Erased", category: "notes" })
    const report = await auditLog(await logOf(store))
    expect(report.findings.filter((f) => f.rule === "sealing")).toEqual([])
    await lethe.close()
  })

  it("R29: a reason written after the member's notes were erased is not kept (no key replaces a destroyed one), and the operation still succeeds", async () => {
    const { store, lethe, memberId } = await setup()
    await lethe.restrictProcessing(memberId, { reason })
    await lethe.liftRestriction(memberId)
    await lethe.erasePersonalData(memberId, { categories: ["notes"], reason: erasureReason, actor: admin })
    await lethe.restrictProcessing(memberId, { reason: `${reason} (again)` })
    const events = await logOf(store)
    expect(JSON.stringify(events)).not.toContain("REASON-r18")
    expect(events.at(-1)).toMatchObject({
      type: "ProcessingRestricted",
      data: { reason: { _tag: "Erased", category: "notes" } },
    })
    expect((await lethe.get(memberId)).restricted).toBe(true)
    await lethe.close()
  })

  it("R29: a log written before reasons were sealed still reads (the clear reason is decoded as it is), and the audit names the event holding it", async () => {
    const { store, lethe, memberId } = await setup()
    await lethe.restrictProcessing(memberId, { reason })
    // The old shape: the reason in clear, the chain recomputed as the old writer computed it.
    const old: Array<StoredEvent> = []
    let prevHash = ""
    for (const event of await logOf(store)) {
      const data =
        event.type === "ProcessingRestricted"
          ? { ...(event.data as object), reason: "contested by Anna" }
          : event.data
      const hash = hashEvent(prevHash, { ...event, data })
      old.push({ ...event, data, prevHash, hash })
      prevHash = hash
    }
    const codec = sealingCodec(store.keys, keyring).session()
    const { Effect } = await import("effect")
    const decoded = await Effect.runPromise(codec.decode(old.at(-1) as StoredEvent))
    expect(decoded).toMatchObject({ _tag: "ProcessingRestricted", reason: "contested by Anna" })

    const report = await auditLog(old)
    const sealing = report.findings.filter((f) => f.rule === "sealing")
    expect(sealing).toEqual([
      expect.objectContaining({
        requirements: ["R29"],
        streamId: `member-${memberId}`,
        version: old.length,
        position: old.at(-1)?.position,
        evidence: { paths: ["reason"] },
      }),
    ])
    expect(JSON.stringify(report)).not.toContain("contested by Anna")
    await lethe.close()
  })

  it("R29: the audit finds a source tag, an actor id, a correlation id or a metadata source that is no token, naming stream and version", async () => {
    const { store, memberId, lethe } = await setup()
    const [first] = await logOf(store)
    await lethe.close()
    if (first === undefined) return expect.fail("no event")
    const changes: ReadonlyArray<readonly [string, (e: StoredEvent) => StoredEvent]> = [
      [
        "source.tag",
        (e) => ({ ...e, data: { ...(e.data as object), source: { kind: "form", tag: "Anna K." } } }),
      ],
      ["metadata.actor", (e) => ({ ...e, metadata: { ...e.metadata, actor: "anna@example.org" } })],
      [
        "metadata.correlationId",
        (e) => ({ ...e, metadata: { ...e.metadata, correlationId: "x".repeat(1 << 20) } }),
      ],
      ["metadata.source", (e) => ({ ...e, metadata: { ...e.metadata, source: "form:Anna Kowalska" } })],
    ]
    for (const [path, change] of changes) {
      const changed = change(first)
      const event = { ...changed, hash: hashEvent("", changed) }
      const report = await auditLog([event])
      expect(
        report.findings.filter((f) => f.rule === "sealing"),
        path,
      ).toEqual([
        expect.objectContaining({
          requirements: ["R29"],
          streamId: `member-${memberId}`,
          version: 1,
          evidence: { paths: [path] },
        }),
      ])
      expect(JSON.stringify(report.findings)).not.toMatch(/Anna|xxxxxxxx/)
    }
  })
})

/** Every operation that takes a source tag or a correlation id, given `tag` and `correlationId`. */
const taking = (lethe: LetheClient, memberId: string, text: string) => [
  () => lethe.register({ tenantId: "gym", personal: { name: "B" }, source: { kind: "form", tag: text } }),
  () => lethe.register({ tenantId: "gym", personal: { name: "B" }, source: "form", correlationId: text }),
  () =>
    lethe.recordPersonalData(memberId, {
      category: "notes",
      fields: { n: "x" },
      source: { kind: "staff", tag: text },
    }),
  () =>
    lethe.giveConsent(memberId, {
      purpose: "newsletter",
      method: "checkbox",
      source: { kind: "form", tag: text },
    }),
  () => lethe.withdrawConsent(memberId, { purpose: "newsletter", source: { kind: "form", tag: text } }),
  () => lethe.creditWallet(memberId, { amount: 100, correlationId: text }),
  () => lethe.restrictProcessing(memberId, { reason: "r", actor: { id: text, roles: [] } }),
  () => lethe.forget(memberId, { actor: { ...admin }, correlationId: text }),
  () =>
    lethe.importCsv("email,purpose,given_at\nc@example.org,newsletter,2024-01-01\n", {
      tenantId: "gym",
      restoreForgotten: false,
      actor: admin,
      source: text,
    }),
]

describe("tokens are bounded (R29, R45)", () => {
  it("R29: whatever the token schema accepts is at most 128 characters of ASCII letters, digits and _ . : / - (no space, no @); a UUID, a purpose and web:signup-form pass", () => {
    for (const ok of [
      "0190f3a2-7c1e-7d3b-9a55-2f4f3c1e8d21",
      "newsletter",
      "web:signup-form",
      "crm-export.csv",
      "staff:ola",
      "x".repeat(maxTokenLength),
    ])
      expect(isToken(ok), ok).toBe(true)
    let accepted = 0
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.string({ unit: "grapheme", maxLength: 40 }),
          fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,140}$/),
        ),
        (text) => {
          if (!isToken(text)) return
          accepted += 1
          expect(text.length).toBeLessThanOrEqual(maxTokenLength)
          expect(text).toMatch(/^[A-Za-z0-9_.:/-]+$/)
        },
      ),
      { numRuns: 2_000 },
    )
    expect(accepted).toBeGreaterThan(100)
  })

  it("R45: any text the token schema refuses, given as a source tag, an actor id or a correlation id, is InvalidCommand naming its path, and nothing is written", async () => {
    const { store, lethe, memberId } = await setup()
    const before = (await logOf(store)).length
    let cases = 0
    await fc.assert(
      fc.asyncProperty(
        fc
          .oneof(
            fc.string({ maxLength: 200 }),
            fc.constant("Anna Kowalska"),
            fc.constant("anna@example.org"),
            fc.constant("x".repeat(maxTokenLength + 1)),
            fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.:/-]{127,140}$/),
          )
          .filter((text) => !isToken(text)),
        async (text) => {
          for (const operation of taking(lethe, memberId, text)) {
            cases += 1
            const error = await rejection(operation())
            expect(error._tag).toBe("InvalidCommand")
          }
        },
      ),
      { numRuns: 60 },
    )
    expect(cases).toBeGreaterThan(400)
    expect((await logOf(store)).length).toBe(before)
    await lethe.close()
  })

  it("R45: a 1 MB correlation id is refused with InvalidCommand (path correlationId, a short message) and nothing is written", async () => {
    const { store, lethe, memberId } = await setup()
    const before = await logOf(store)
    const huge = "c".repeat(1 << 20)
    const error = await rejection(lethe.creditWallet(memberId, { amount: 100, correlationId: huge }))
    expect(error).toMatchObject({ _tag: "InvalidCommand", issues: [{ path: "correlationId" }] })
    expect(String((error as unknown as Error).message).length).toBeLessThan(300)
    expect(await logOf(store)).toEqual(before)
    expect((await lethe.get(memberId)).walletBalance ?? 0).toBe(0)
    await lethe.close()
  })
})
