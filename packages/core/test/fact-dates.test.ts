/**
 * R38: business facts with their own dates. A command may date a fact in the past (`occurredAt`), for a
 * migration of history; the event keeps it beside the time it was recorded (`at`), and the state, the
 * view, the exports and the retention rules read the fact's date. `decide` refuses a date in the future,
 * before the registration or before the member's last erasure; the audit reports a log that holds one.
 */
import { anonymizeAfterContractEnd, anonymizeInactive } from "@lethe/core"
import { auditLog, auditSourcesOf } from "@lethe/core/audit"
import type { MemberCommand, MemberEvent } from "@lethe/core/domain"
import { clockSkew, decide, factDate, fold, isBusinessFact } from "@lethe/core/domain"
import { readAllEvents } from "@lethe/core/spi"
import {
  activityRecorded,
  context,
  days,
  defaultNow,
  forgotten,
  given,
  registered,
  restored,
  walletCredited,
} from "@lethe/testkit"
import { Either } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { checkEvent } from "../src/audit/checks.js"
import { admin, anna, audit, forged, insert, logOf, world } from "./audit-logs.js"
import { day, rejection, setup } from "./rights-setup.js"

const joined = defaultNow - days(400)
const history = [registered({ at: defaultNow - days(1), occurredAt: joined })]

describe("R38: decide dates a business fact", () => {
  it("R38: a fact given a date records it beside the recorded time; the state reads the fact's date", () => {
    given(history)
      .when({
        _tag: "RecordActivity",
        kind: "visit",
        clubId: "krk",
        details: {},
        occurredAt: joined + days(30),
      })
      .thenEvents([
        activityRecorded({ kind: "visit", clubId: "krk", details: {}, occurredAt: joined + days(30) }),
      ])
      .thenState({ lastActivityAt: joined + days(30) })
    given(history)
      .when({
        _tag: "RecordPurchase",
        purchaseId: "p-1",
        amount: 900,
        paid: true,
        occurredAt: joined + days(2),
      })
      .thenState((state) => expect(state.purchases["p-1"]?.at).toBe(joined + days(2)))
  })

  it("R38: a fact given no date records none: the event is as it always was", () => {
    const decided = decide(fold(history), { _tag: "CreditWallet", amount: 500 }, context())
    if (Either.isLeft(decided)) throw new Error(decided.left._tag)
    expect(decided.right.events).toEqual([walletCredited({ amount: 500 })])
    expect(Object.keys(decided.right.events[0] ?? {})).not.toContain("occurredAt")
  })

  it("R38: a registration dated in the past is the member's registration", () => {
    given([])
      .when({
        _tag: "Register",
        memberId: "member-1",
        tenantId: "tenant-1",
        personal: {},
        source: { kind: "import" },
        occurredAt: joined,
      })
      .thenState({ registeredAt: joined, lastActivityAt: joined, lastContactAt: joined })
  })

  it("R38: a date in the future, before the registration or before the last erasure is refused", () => {
    const wallet = (occurredAt: number): MemberCommand => ({ _tag: "CreditWallet", amount: 500, occurredAt })
    given(history)
      .when(wallet(defaultNow + clockSkew + 1))
      .thenRejects("InvalidCommand", {
        command: "CreditWallet",
        issues: [{ path: "occurredAt", message: expect.stringContaining("must not be in the future") }],
      })
    given(history)
      .when(wallet(joined - 1))
      .thenRejects("InvalidCommand", {
        issues: [
          { path: "occurredAt", message: expect.stringContaining("before the member's registration") },
        ],
      })
    given([...history, forgotten({ at: defaultNow - days(1) + 1 }), restored({ at: defaultNow - 10 })])
      .when(wallet(joined + days(1)))
      .thenRejects("InvalidCommand", {
        issues: [
          { path: "occurredAt", message: expect.stringContaining("before the member's last erasure") },
        ],
      })
    given([registered()])
      .when({
        _tag: "Register",
        memberId: "member-1",
        tenantId: "tenant-1",
        personal: {},
        source: { kind: "import" },
        occurredAt: defaultNow + days(1),
      })
      .thenRejects("DuplicateReference")
  })

  it("R38: a date within the clocks' skew is recorded as now", () => {
    given(history)
      .when({ _tag: "DebitWallet", amount: 1, occurredAt: defaultNow + clockSkew })
      .thenRejects("InsufficientFunds")
    given(history)
      .when({ _tag: "CreditWallet", amount: 1, occurredAt: defaultNow + clockSkew })
      .thenEvents([walletCredited({ amount: 1, occurredAt: defaultNow })])
  })

  it("R38 (property): any accepted occurredAt lies between the registration (or the last erasure) and now, and the audit agrees", () => {
    const command = (occurredAt: number): fc.Arbitrary<MemberCommand> =>
      fc.constantFrom<MemberCommand>(
        { _tag: "RecordActivity", kind: "class", clubId: null, details: {}, occurredAt },
        { _tag: "CreditWallet", amount: 100, occurredAt },
        { _tag: "OpenDebtCase", caseId: "d", clubId: "c", occurredAt },
        { _tag: "RecordPurchase", purchaseId: "p", amount: 10, paid: false, occurredAt },
        { _tag: "RecordMissedInstalment", instalmentId: "i", clubId: "c", amount: 10, occurredAt },
        { _tag: "SignContract", contractId: "k", clubId: "c", startsAt: 0, endsAt: null, occurredAt },
      )
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2_000 }).map(days),
        fc.option(fc.integer({ min: 1, max: 300 }).map(days), { nil: undefined }),
        fc.integer({ min: -3_000, max: 3_000 }).chain((offset) => command(defaultNow + offset * 3_600_000)),
        (age, erasedAgo, cmd) => {
          // Recorded no earlier than it happened, and before any erasure below.
          const joinedAt = defaultNow - age
          const events: Array<MemberEvent> = [
            registered({ at: Math.max(joinedAt, defaultNow - days(301)), occurredAt: joinedAt }),
          ]
          if (erasedAgo !== undefined && erasedAgo < age)
            events.push(
              forgotten({ at: defaultNow - erasedAgo }),
              restored({ at: defaultNow - erasedAgo + 1 }),
            )
          const state = fold(events)
          const decided = decide(state, cmd, context())
          const floor = Math.max(state.registeredAt, state.lastErasureAt ?? 0)
          const asked = (cmd as { readonly occurredAt: number }).occurredAt
          if (Either.isLeft(decided)) {
            expect(decided.left._tag).toBe("InvalidCommand")
            expect(asked < floor || asked > defaultNow + clockSkew).toBe(true)
            return
          }
          for (const event of decided.right.events) {
            expect(isBusinessFact(event)).toBe(true)
            expect(factDate(event)).toBeGreaterThanOrEqual(floor)
            expect(factDate(event)).toBeLessThanOrEqual(defaultNow)
            expect(checkEvent(state, event, context().config)).toEqual([])
          }
        },
      ),
    )
  })
})

const month = 30 * day

describe("R38: a gym moves 18 months of history into Lethe", () => {
  it("R38: the history keeps its dates in the view, the export, the audit and the retention rules", async () => {
    const { lethe, store, clock } = await setup()
    const now = clock.millis()
    const since = now - 19 * month
    const regular = await lethe.register({
      tenantId: "gym",
      personal: { name: "Ola" },
      source: { kind: "import", tag: "old-gym.csv" },
      occurredAt: new Date(since),
    })
    const lapsed = await lethe.register({
      tenantId: "gym",
      personal: { name: "Piotr" },
      source: { kind: "import", tag: "old-gym.csv" },
      occurredAt: new Date(since),
    })
    const leaver = await lethe.register({
      tenantId: "gym",
      personal: { name: "Ewa" },
      source: { kind: "import", tag: "old-gym.csv" },
      occurredAt: new Date(since),
    })
    for (let m = 0; m < 18; m++) {
      const occurredAt = new Date(since + (m + 1) * month)
      await lethe.recordActivity(regular.memberId, { kind: "visit", clubId: "krk", occurredAt })
      await lethe.creditWallet(regular.memberId, { amount: 5_000, occurredAt })
      await lethe.debitWallet(regular.memberId, { amount: 5_000, occurredAt })
      if (m < 4) await lethe.recordActivity(lapsed.memberId, { kind: "class", clubId: "krk", occurredAt })
    }
    await lethe.recordPurchase(regular.memberId, {
      purchaseId: "p-1",
      amount: 12_000,
      paid: true,
      occurredAt: new Date(since + month),
    })
    await lethe.signContract(leaver.memberId, {
      contractId: "k-1",
      clubId: "krk",
      startsAt: new Date(since),
      endsAt: null,
      occurredAt: new Date(since),
    })
    await lethe.endContract(leaver.memberId, { contractId: "k-1", occurredAt: new Date(now - 8 * month) })

    // Statistics: the view counts every fact, whatever its date.
    const view = await lethe.get(regular.memberId)
    expect(view.counts.visit).toBe(18)
    expect(view.registeredAt).toEqual(new Date(since))
    expect((await lethe.get(lapsed.memberId)).counts.class).toBe(4)

    // The export: each fact at its own date, the recorded time beside it.
    const json = await lethe.exportMember(regular.memberId, { format: "json", actor: admin })
    if (json.format !== "json") throw new Error("expected json")
    const doc = json.document
    const recorded = new Date(now).toISOString()
    expect(doc.member.registeredAt).toBe(new Date(since).toISOString())
    expect(doc.activity).toHaveLength(18)
    expect(doc.activity[0]).toMatchObject({ at: new Date(since + month).toISOString(), recordedAt: recorded })
    expect(doc.activity[17]).toMatchObject({
      at: new Date(since + 18 * month).toISOString(),
      recordedAt: recorded,
    })
    expect(doc.wallet.movements[0]).toMatchObject({
      at: new Date(since + month).toISOString(),
      recordedAt: recorded,
      kind: "credit",
    })
    expect(doc.purchases[0]).toMatchObject({
      at: new Date(since + month).toISOString(),
      recordedAt: recorded,
    })
    const csv = await lethe.exportMember(regular.memberId, { format: "csv", actor: admin })
    if (csv.format !== "csv") throw new Error("expected csv")
    const [header, first] = (csv.files["activity.csv"] ?? "").replace(/^\uFEFF/, "").split("\r\n")
    expect(header).toContain("recorded_at")
    expect(first).toContain(new Date(since + month).toISOString())
    expect(first).toContain(recorded)

    // The audit: a migrated history is clean.
    const report = await auditLog(readAllEvents(store.events), {
      ...auditSourcesOf(store),
      asOf: new Date(now),
    })
    expect(report.findings).toEqual([])

    // Retention reads the facts' dates: the member whose last class was 14 months ago is inactive, and the
    // contract ended 8 months ago ended more than 6 months ago; recorded today, neither would be.
    const run = await lethe.runRetention({
      policies: [anonymizeInactive({ months: 12 }), anonymizeAfterContractEnd({ months: 6 })],
    })
    expect(run.executed.map((e) => e.memberId).sort()).toEqual([lapsed.memberId, leaver.memberId].sort())
    expect((await lethe.get(regular.memberId)).status).toBe("active")
  })

  it("R38: a fact dated in the future or before the registration is refused as InvalidCommand, naming occurredAt", async () => {
    const { lethe, clock } = await setup()
    const now = clock.millis()
    const { memberId } = await lethe.register({ tenantId: "gym", personal: { name: "Ada" }, source: "form" })
    for (const occurredAt of [new Date(now + 6 * 60_000), new Date(now - day), new Date(Number.NaN)])
      for (const op of ["recordActivity", "creditWallet"] as const) {
        const input = { kind: "visit", amount: 100, occurredAt } as const
        expect(await rejection(lethe[op](memberId, input))).toMatchObject({
          _tag: "InvalidCommand",
          command: op,
          issues: [expect.objectContaining({ path: "occurredAt" })],
        })
      }
    expect(
      await rejection(
        lethe.register({ tenantId: "gym", personal: {}, source: "form", occurredAt: new Date(now + day) }),
      ),
    ).toMatchObject({
      _tag: "InvalidCommand",
      command: "register",
      issues: [expect.objectContaining({ path: "occurredAt" })],
    })
    await expect(
      lethe.recordActivity(memberId, { kind: "visit", occurredAt: new Date(now + 4 * 60_000) }),
    ).resolves.toMatchObject({ recorded: ["ActivityRecorded"] })
  })
})

describe("R38: the audit checks the facts' dates", () => {
  const visit = (occurredAt: number) => ({ kind: "visit", clubId: null, details: {}, occurredAt })

  it("R38: an activity recorded after a restore, dated before the member was forgotten, is a finding", async () => {
    const w = await world()
    const id = await anna(w)
    const beforeForget = w.now()
    w.advance(1)
    await w.lethe.forget(id, { actor: admin })
    w.advance(1)
    await w.lethe.restore(id, { actor: admin })
    w.advance(1)
    const clean = await audit(await logOf(w.store), { asOf: new Date(w.now()) })
    expect(clean.findings).toEqual([])
    const log = insert(await logOf(w.store), forged(id, "ActivityRecorded", visit(beforeForget), w.now()))
    const report = await audit(log, { asOf: new Date(w.now()) })
    expect(report.findings.map((f) => [f.rule, f.requirements, f.message])).toEqual([
      ["fact-date", ["R38"], "ActivityRecorded dated before the member's last erasure"],
    ])
    expect(report.findings[0]?.evidence).toMatchObject({ occurredAt: new Date(beforeForget).toISOString() })
  })

  it("R38: a fact dated after its own recording, or before the registration, is a finding", async () => {
    const w = await world()
    const id = await anna(w)
    w.advance(1)
    const late = insert(
      await logOf(w.store),
      forged(id, "WalletCredited", { amount: 100, occurredAt: w.now() + day }, w.now()),
    )
    expect((await audit(late, { asOf: new Date(w.now()) })).findings.map((f) => [f.rule, f.message])).toEqual(
      [["fact-date", "WalletCredited dated after it was recorded"]],
    )
    const early = insert(
      await logOf(w.store),
      forged(id, "ActivityRecorded", visit(w.now() - 5 * day), w.now()),
    )
    expect(
      (await audit(early, { asOf: new Date(w.now()) })).findings.map((f) => [f.rule, f.message]),
    ).toEqual([["fact-date", "ActivityRecorded dated before the member's registration"]])
  })
})
