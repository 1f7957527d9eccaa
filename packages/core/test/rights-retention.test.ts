import type { LetheClient, LetheStore, RetentionPolicy } from "@lethe/core"
import { anonymizeAfterContractEnd, anonymizeInactive, forgetColdLeads } from "@lethe/core"
import { memberStream, readAllEvents } from "@lethe/core/spi"
import { memoryStore } from "@lethe/store-memory"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { monthsBefore } from "../src/retention/policies.js"
import { applyHistoryAction, countEvents, day, rejection, setup } from "./rights-setup.js"

const month = 30 * day

const person = (lethe: LetheClient, name: string, tenantId = "gym") =>
  lethe.register({
    tenantId,
    personal: { name, email: `${name.toLowerCase()}@example.org` },
    source: "staff",
  })

const eventsOf = async (store: LetheStore, memberId: string) =>
  (await store.events.readStream(memberStream(memberId))).map((e) => e.type)

describe("retention policies", () => {
  it("R20: anonymizeAfterContractEnd anonymizes N months after the last contract ended, as the policy, unconfirmed", async () => {
    const { lethe, store, clock } = await setup()
    const ended = await person(lethe, "Ended")
    const recent = await person(lethe, "Recent")
    const none = await person(lethe, "None")
    await lethe.signContract(ended.memberId, {
      contractId: "c",
      clubId: "krk",
      startsAt: clock.now(),
      endsAt: new Date(clock.millis() + 30 * day),
    })
    clock.advance(14 * month)
    await lethe.signContract(recent.memberId, {
      contractId: "c",
      clubId: "krk",
      startsAt: clock.now(),
      endsAt: new Date(clock.millis() + 30 * day),
    })
    clock.advance(12 * month) // about 24.5 months after the first contract ended, 11 after the second
    const policy = anonymizeAfterContractEnd({ months: 24 })
    const report = await lethe.runRetention({ policies: [policy] })
    expect(report.planned).toEqual([{ memberId: ended.memberId, rule: policy.id, action: "Anonymize" }])
    expect(report.executed).toMatchObject([
      { memberId: ended.memberId, rule: "anonymize-after-contract-end-24m" },
    ])
    expect(report.blocked).toEqual([])
    expect((await lethe.get(ended.memberId)).status).toBe("anonymized")
    for (const kept of [recent, none]) expect((await lethe.get(kept.memberId)).status).toBe("active")
    const anonymized = (await store.events.readStream(memberStream(ended.memberId))).at(-1)
    expect(anonymized).toMatchObject({
      type: "Anonymized",
      data: { policyId: policy.id, requestId: null },
      metadata: { actor: "lethe:retention", correlationId: report.correlationId },
    })
  })

  it("R12: anonymizeInactive anonymizes members with no purchase or visit for N months; one visit keeps a member", async () => {
    const { lethe, clock } = await setup()
    const idle = await person(lethe, "Idle")
    const visitor = await person(lethe, "Visitor")
    const buyer = await person(lethe, "Buyer")
    clock.advance(13 * month)
    await lethe.recordActivity(visitor.memberId, { kind: "visit", clubId: "krk" })
    await lethe.recordPurchase(buyer.memberId, { purchaseId: "p", amount: 100, paid: true })
    clock.advance(month)
    const report = await lethe.runRetention({ policies: [anonymizeInactive({ months: 12 })] })
    expect(report.executed.map((e) => e.memberId)).toEqual([idle.memberId])
    expect((await lethe.get(idle.memberId)).status).toBe("anonymized")
    expect((await lethe.get(visitor.memberId)).status).toBe("active")
    expect((await lethe.get(buyer.memberId)).status).toBe("active")
  })

  it("R15: forgetColdLeads forgets leads who never became customers and have not answered; customers and live leads stay", async () => {
    const { lethe, store, clock } = await setup()
    const cold = await lethe.subscribe({
      tenantId: "shop",
      email: "cold@example.org",
      purpose: "newsletter",
      source: "form",
    })
    const answered = await lethe.subscribe({
      tenantId: "shop",
      email: "warm@example.org",
      purpose: "newsletter",
      source: "form",
    })
    const customer = await lethe.subscribe({
      tenantId: "shop",
      email: "buyer@example.org",
      purpose: "newsletter",
      source: "form",
    })
    await lethe.recordPurchase(customer.memberId, { purchaseId: "p", amount: 990, paid: true })
    clock.advance(20 * day)
    await lethe.giveConsent(answered.memberId, { purpose: "sms", method: "checkbox", source: "form" })
    clock.advance(11 * day)
    const report = await lethe.runRetention({ policies: [forgetColdLeads({ days: 30 })] })
    expect(report.executed).toEqual([
      { memberId: cold.memberId, rule: "forget-cold-leads-30d", action: "Forget", erasure: null },
    ])
    expect((await lethe.get(cold.memberId)).status).toBe("forgotten")
    expect(await lethe.findByEmail("shop", "cold@example.org")).toBeNull()
    expect((await store.events.readStream(memberStream(cold.memberId))).at(-1)?.metadata.actor).toBe(
      "lethe:retention",
    )
    for (const kept of [answered, customer]) expect((await lethe.get(kept.memberId)).status).toBe("active")
    // The built-in purge finishes the job once the restore window is over (R29).
    clock.advance(8 * day)
    const later = await lethe.runRetention({ policies: [forgetColdLeads({ days: 30 })] })
    expect(later.executed).toMatchObject([
      { memberId: cold.memberId, rule: "purge-forgotten", action: "Purge" },
    ])
  })

  it("R23, R25: members whose guards refuse are skipped and reported with every reason; nothing is written for them", async () => {
    const { lethe, store, clock } = await setup()
    const restricted = await person(lethe, "Restricted")
    await lethe.restrictProcessing(restricted.memberId, { reason: "accuracy contested" })
    await lethe.creditWallet(restricted.memberId, { amount: 500 })
    const debtor = await person(lethe, "Debtor")
    await lethe.openDebtCase(debtor.memberId, { caseId: "d", clubId: "waw" })
    const restrictedLead = await lethe.subscribe({
      tenantId: "shop",
      email: "lead@example.org",
      purpose: "newsletter",
      source: "form",
    })
    await lethe.restrictProcessing(restrictedLead.memberId, { reason: "legal claim" })
    const free = await person(lethe, "Free")
    clock.advance(13 * month)
    const before = {
      restricted: await eventsOf(store, restricted.memberId),
      debtor: await eventsOf(store, debtor.memberId),
      lead: await eventsOf(store, restrictedLead.memberId),
    }
    const report = await lethe.runRetention({
      policies: [forgetColdLeads({ days: 30, tenantId: "shop" }), anonymizeInactive({ months: 12 })],
    })
    expect(report.executed.map((e) => e.memberId)).toEqual([free.memberId])
    const blocked = Object.fromEntries(report.blocked.map((b) => [b.memberId, b.reasons]))
    expect(blocked).toEqual({
      [restricted.memberId]: ["WalletNotEmpty", "ProcessingRestricted"],
      [debtor.memberId]: ["OpenDebtCase"],
      [restrictedLead.memberId]: ["ProcessingRestricted"],
    })
    expect(report.blocked.find((b) => b.memberId === restrictedLead.memberId)).toMatchObject({
      rule: "forget-cold-leads-30d",
      error: { _tag: "RetentionBlocked", policyId: "forget-cold-leads-30d" },
    })
    expect(await eventsOf(store, restricted.memberId)).toEqual(before.restricted)
    expect(await eventsOf(store, debtor.memberId)).toEqual(before.debtor)
    expect(await eventsOf(store, restrictedLead.memberId)).toEqual(before.lead)
    expect(report.failed).toEqual([])
  })

  it("R27: reminders of executed anonymizations come back in the report", async () => {
    const { lethe, clock } = await setup()
    const owing = await person(lethe, "Owing")
    await lethe.recordPurchase(owing.memberId, { purchaseId: "p", amount: 100, paid: false })
    clock.advance(25 * month)
    const report = await lethe.runRetention({ policies: [anonymizeInactive({ months: 24 })] })
    expect(report.executed.map((e) => e.memberId)).toEqual([owing.memberId])
    expect(report.warnings).toEqual([
      {
        memberId: owing.memberId,
        rule: "anonymize-inactive-24m",
        action: "Anonymize",
        warnings: ["UnpaidPurchases"],
      },
    ])
  })

  it("R12: a dry run plans from the directory alone: it reads no event and writes nothing", async () => {
    let reads = 0
    const inner = memoryStore()
    const counting: LetheStore = {
      ...inner,
      events: {
        ...inner.events,
        readStream: (...args) => {
          reads++
          return inner.events.readStream(...args)
        },
        readAll: (...args) => {
          reads++
          return inner.events.readAll(...args)
        },
      },
    }
    const { lethe, clock } = await setup({ store: counting })
    const ids = []
    for (const name of ["A", "B", "C"]) ids.push((await person(lethe, name)).memberId)
    clock.advance(25 * month)
    const before = await countEvents(inner)
    reads = 0
    const plan = await lethe.runRetention({ dryRun: true, policies: [anonymizeInactive({ months: 24 })] })
    expect(reads).toBe(0)
    expect(plan.dryRun).toBe(true)
    expect(plan.planned.map((p) => p.memberId).sort()).toEqual([...ids].sort())
    expect(plan.executed).toEqual([])
    expect(await countEvents(inner)).toBe(before)
  })

  it("R12: policies run page by page; each member is handled once, by the first rule that selects it", async () => {
    const { lethe, clock } = await setup()
    const ids = []
    for (const name of ["A", "B", "C", "D", "E"]) ids.push((await person(lethe, name)).memberId)
    const blocked = await person(lethe, "Blocked")
    await lethe.creditWallet(blocked.memberId, { amount: 1 })
    clock.advance(25 * month)
    const progress: Array<number> = []
    const report = await lethe.runRetention({
      batchSize: 2,
      // The second policy selects the blocked member again: it was handled in this run already.
      policies: [anonymizeInactive({ months: 24 }), anonymizeInactive({ months: 12, id: "second" })],
      onProgress: (p) => progress.push(p.done),
    })
    expect(report.planned.map((p) => p.rule)).toEqual(Array(6).fill("anonymize-inactive-24m"))
    expect(report.executed.map((e) => e.memberId).sort()).toEqual([...ids].sort())
    expect(report.blocked).toMatchObject([{ memberId: blocked.memberId, reasons: ["WalletNotEmpty"] }])
    expect(progress).toEqual([1, 2, 3, 4, 5, 6])
  })

  it("R12: running retention twice does nothing the second time", async () => {
    const { lethe, store, clock } = await setup()
    await person(lethe, "Idle")
    const busy = await person(lethe, "Busy")
    await lethe.creditWallet(busy.memberId, { amount: 1 })
    clock.advance(25 * month)
    const policies = [anonymizeInactive({ months: 24 })]
    const first = await lethe.runRetention({ policies })
    expect(first.executed).toHaveLength(1)
    const after = await countEvents(store)
    const second = await lethe.runRetention({ policies })
    expect(second.executed).toEqual([])
    expect(second.blocked.map((b) => b.memberId)).toEqual([busy.memberId])
    expect(await countEvents(store)).toBe(after)
  })

  it("R20: a policy scoped to a tenant leaves other tenants alone", async () => {
    const { lethe, clock } = await setup()
    const here = await person(lethe, "Here", "club-a")
    const there = await person(lethe, "There", "club-b")
    clock.advance(25 * month)
    const report = await lethe.runRetention({
      policies: [anonymizeInactive({ months: 24, tenantId: "club-a" })],
    })
    expect(report.executed.map((e) => e.memberId)).toEqual([here.memberId])
    expect((await lethe.get(there.memberId)).status).toBe("active")
  })

  it("InvalidCommand: a malformed policy or a repeated id is refused before anything runs", async () => {
    const { lethe, store, clock } = await setup()
    await person(lethe, "Idle")
    clock.advance(25 * month)
    const before = await countEvents(store)
    const bad: ReadonlyArray<ReadonlyArray<RetentionPolicy>> = [
      [anonymizeInactive({ months: 0 })],
      [anonymizeInactive({ months: 1.5 })],
      [{ _tag: "AnonymizeEveryone", id: "x" } as unknown as RetentionPolicy],
      [anonymizeInactive({ months: 12 }), forgetColdLeads({ days: 30, id: "anonymize-inactive-12m" })],
      [forgetColdLeads({ days: 30, id: "purge-forgotten" })],
    ]
    for (const policies of bad)
      expect((await rejection(lethe.runRetention({ policies })))._tag).toBe("InvalidCommand")
    expect(await countEvents(store)).toBe(before)
  })

  it("R20: months are calendar months, the day clamped to the month's length", () => {
    expect(new Date(monthsBefore(Date.parse("2026-03-31T10:00:00Z"), 1)).toISOString()).toBe(
      "2026-02-28T10:00:00.000Z",
    )
    expect(new Date(monthsBefore(Date.parse("2024-03-31T00:00:00Z"), 1)).toISOString()).toBe(
      "2024-02-29T00:00:00.000Z",
    )
    expect(new Date(monthsBefore(Date.parse("2026-01-15T00:00:00Z"), 24)).toISOString()).toBe(
      "2024-01-15T00:00:00.000Z",
    )
  })
})

/** One thing that happens to a member in a generated history, then time passes. */
type Step = {
  readonly member: number
  readonly action: "visit" | "purchase" | "contract" | "restrict" | "lift" | "credit" | "consent" | "nothing"
  readonly advanceDays: number
}

const arbStep: fc.Arbitrary<Step> = fc.record({
  member: fc.nat({ max: 4 }),
  action: fc.constantFrom(
    "visit",
    "purchase",
    "contract",
    "restrict",
    "lift",
    "credit",
    "consent",
    "nothing",
  ),
  advanceDays: fc.oneof(fc.nat({ max: 40 }), fc.integer({ min: 100, max: 800 })),
})

const apply = (lethe: LetheClient, memberId: string, step: Step, now: number, i: number) =>
  applyHistoryAction(lethe, memberId, step.action, { now, i, email: `m${step.member}@example.org` })

describe("retention properties", () => {
  const policies = [
    forgetColdLeads({ days: 30 }),
    anonymizeAfterContractEnd({ months: 12 }),
    anonymizeInactive({ months: 18 }),
  ]

  it("R23, R12: whatever the histories, no run touches a restricted member, each selected member is handled once, and a second run does nothing", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbStep, { maxLength: 25 }),
        fc.integer({ min: 1, max: 4 }),
        async (steps, batchSize) => {
          const { lethe, store, clock } = await setup()
          const ids: Array<string> = []
          for (let i = 0; i < 5; i++) ids.push((await person(lethe, `M${i}`)).memberId)
          for (const [i, step] of steps.entries()) {
            const memberId = ids[step.member] as string
            await apply(lethe, memberId, step, clock.millis(), i).catch(() => undefined)
            clock.advance(step.advanceDays * day)
          }
          const restricted = new Map<string, number>()
          for (const id of ids) {
            const view = await lethe.get(id)
            if (view.restricted) restricted.set(id, (await store.events.readStream(memberStream(id))).length)
          }

          const first = await lethe.runRetention({ policies, batchSize })
          const handled = [...first.executed, ...first.blocked, ...first.failed].map((e) => e.memberId).sort()
          expect(handled).toEqual(first.planned.map((p) => p.memberId).sort())
          expect(new Set(handled).size).toBe(handled.length)
          expect(first.failed).toEqual([])
          for (const [id, length] of restricted) {
            expect((await lethe.get(id)).status).toBe("active")
            expect((await store.events.readStream(memberStream(id))).length).toBe(length)
            expect(first.executed.map((e) => e.memberId)).not.toContain(id)
          }
          for (const e of first.executed)
            expect((await lethe.get(e.memberId)).status).toBe(
              e.action === "Forget" ? "forgotten" : "anonymized",
            )

          let events = 0
          for await (const _ of readAllEvents(store.events)) events++
          const second = await lethe.runRetention({ policies, batchSize })
          expect(second.executed).toEqual([])
          expect(second.blocked.map((b) => b.memberId).sort()).toEqual(
            first.blocked.map((b) => b.memberId).sort(),
          )
          expect(await countEvents(store)).toBe(events)
          await lethe.close()
        },
      ),
      { numRuns: 40 },
    )
  })
})
