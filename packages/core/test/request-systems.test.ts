/**
 * The other systems of a request, tracked (R14, issue 19 item 8): an erasure
 * or access request records the systems configured when it is made; each
 * confirms with `confirmSystem`; the request is fulfilled only when Lethe's
 * own part and every system are done; the overdue list names the systems
 * still pending, and the audit judges a late confirmation as a late
 * fulfilment (R11, R35). Through the facade, over a memory store; the
 * adapters run the same flow in the conformance kit (`erasure/other-systems-confirm`).
 */
import type { LetheClient, LetheConfig, LetheStore } from "@lethe/core"
import { createLethe } from "@lethe/core"
import { type AuditReport, auditLog } from "@lethe/core/audit"
import { memoryStore } from "@lethe/store-memory"
import {
  days,
  defaultNow,
  erasureRequested,
  forgotten,
  given,
  purged,
  registered,
  systemConfirmed,
} from "@lethe/testkit"
import { afterEach, describe, expect, it } from "vitest"
import { forged, insert, logOf } from "./audit-logs.js"
import { admin, clerk, countEvents, day, keyring, rejection, testClock } from "./rights-setup.js"

const systems = ["Accounting (Fakturownia)", "Mailchimp"]

const open: Array<LetheClient> = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((lethe) => lethe.close()))
})

/** Lethe over `store` with `otherSystems`, on a clock the test moves; `memberCache: 0` reads the store each time. */
const setup = async (
  config: Partial<LetheConfig> = { otherSystems: systems },
  store: LetheStore = memoryStore(),
  clock = testClock(),
) => {
  const lethe = await createLethe({ store, keyring, clock: clock.now, config, memberCache: 0 })
  open.push(lethe)
  return { lethe, store, clock }
}

const anna = async (lethe: LetheClient) =>
  (
    await lethe.register({
      tenantId: "club",
      personal: { name: "Anna Kowalska", email: "anna@example.org" },
      source: "form",
    })
  ).memberId

/** The open request `requestId` as `openRequests` lists it. */
const listed = async (lethe: LetheClient, requestId: string) =>
  (await lethe.openRequests()).find((r) => r.requestId === requestId)

describe("R14: other systems, tracked per request", () => {
  it("R14: an erasure request is fulfilled only when forget is done and every other system has confirmed", async () => {
    const { lethe, clock } = await setup()
    const memberId = await anna(lethe)
    const request = await lethe.requestErasure(memberId, { via: "email" })
    expect(request.otherSystems).toEqual(systems)
    expect(await listed(lethe, request.requestId)).toMatchObject({
      systems,
      pendingSystems: systems,
      handledAt: null,
    })

    clock.advance(day)
    await lethe.forget(memberId, { actor: admin, requestId: request.requestId })
    const forgottenAt = clock.now()
    expect(await listed(lethe, request.requestId), "forgotten, but two systems pending").toMatchObject({
      pendingSystems: systems,
      handledAt: forgottenAt,
    })

    clock.advance(day)
    const first = await lethe.confirmSystem(memberId, {
      actor: admin,
      requestId: request.requestId,
      system: "Mailchimp",
    })
    expect(first).toMatchObject({
      recorded: ["SystemConfirmed"],
      pendingSystems: ["Accounting (Fakturownia)"],
      handledAt: forgottenAt,
      fulfilledAt: null,
    })
    expect((await listed(lethe, request.requestId))?.pendingSystems).toEqual(["Accounting (Fakturownia)"])

    clock.advance(day)
    const last = await lethe.confirmSystem(memberId, {
      actor: admin,
      requestId: request.requestId,
      system: "Accounting (Fakturownia)",
    })
    expect(last).toMatchObject({ pendingSystems: [], fulfilledAt: clock.now() })
    expect(await listed(lethe, request.requestId), "fulfilled: no longer open").toBeUndefined()
  })

  it("R14: systems confirmed before Lethe's part leave the request open until forget, which fulfils it", async () => {
    const { lethe, clock } = await setup()
    const memberId = await anna(lethe)
    const { requestId } = await lethe.requestErasure(memberId, { via: "form" })
    for (const system of systems) await lethe.confirmSystem(memberId, { actor: admin, requestId, system })
    expect(await listed(lethe, requestId)).toMatchObject({ pendingSystems: [], handledAt: null })
    clock.advance(day)
    await lethe.forget(memberId, { actor: admin, requestId })
    expect(await listed(lethe, requestId)).toBeUndefined()
  })

  it("R14: a purged member's systems still confirm, and the last confirmation fulfils the request", async () => {
    const { lethe, clock } = await setup()
    const memberId = await anna(lethe)
    const { requestId } = await lethe.requestErasure(memberId, { via: "email" })
    await lethe.forget(memberId, { actor: admin, requestId })
    clock.advance((lethe.config.restoreWindowDays + 1) * day)
    await lethe.purge(memberId, { actor: admin })
    await lethe.confirmSystem(memberId, { actor: admin, requestId, system: "Mailchimp" })
    expect(await listed(lethe, requestId)).toMatchObject({ pendingSystems: ["Accounting (Fakturownia)"] })
    const last = await lethe.confirmSystem(memberId, {
      actor: admin,
      requestId,
      system: "Accounting (Fakturownia)",
    })
    expect(last.fulfilledAt).toEqual(clock.now())
    expect((await lethe.get(memberId)).status).toBe("purged")
  })

  it("R14: an access request is fulfilled by the export and its systems' confirmations, under member:export", async () => {
    const { lethe } = await setup({
      otherSystems: ["Accounting"],
      permissions: { admin: ["member:forget"], exporter: ["member:export"] },
    })
    const memberId = await anna(lethe)
    const { requestId } = await lethe.requestAccess(memberId, { via: "email" })
    await lethe.exportMember(memberId, {
      actor: { id: "staff:e", roles: ["exporter"] },
      format: "json",
      requestId,
    })
    expect(await listed(lethe, requestId)).toMatchObject({ pendingSystems: ["Accounting"] })
    const refused = await rejection(
      lethe.confirmSystem(memberId, { actor: admin, requestId, system: "Accounting" }),
    )
    expect(refused).toMatchObject({ _tag: "NotPermitted", permission: "member:export" })
    const done = await lethe.confirmSystem(memberId, {
      actor: { id: "staff:e", roles: ["exporter"] },
      requestId,
      system: "Accounting",
    })
    expect(done.fulfilledAt).not.toBeNull()
  })

  it("R14: the systems are fixed on the request: a later configuration changes no old request", async () => {
    const store = memoryStore()
    const clock = testClock()
    const before = await setup({ otherSystems: ["Old CRM"] }, store, clock)
    const memberId = await anna(before.lethe)
    const { requestId } = await before.lethe.requestErasure(memberId, { via: "email" })
    const after = await setup({ otherSystems: ["New CRM"] }, store, clock)
    expect((await listed(after.lethe, requestId))?.systems).toEqual(["Old CRM"])
    expect(
      await rejection(after.lethe.confirmSystem(memberId, { actor: admin, requestId, system: "New CRM" })),
    ).toMatchObject({ _tag: "UnknownReference", kind: "system", id: "New CRM" })
    await after.lethe.confirmSystem(memberId, { actor: admin, requestId, system: "Old CRM" })
    const second = await after.lethe.requestErasure(memberId, { via: "email" })
    expect(second.otherSystems).toEqual(["New CRM"])
  })

  it("R14: with no other system configured, a request is fulfilled by Lethe's part alone, as before", async () => {
    const { lethe } = await setup({})
    const memberId = await anna(lethe)
    const { requestId, otherSystems } = await lethe.requestErasure(memberId, { via: "email" })
    expect(otherSystems).toEqual([])
    expect(await listed(lethe, requestId)).toMatchObject({ systems: [], pendingSystems: [] })
    await lethe.forget(memberId, { actor: admin, requestId })
    expect(await listed(lethe, requestId)).toBeUndefined()
  })

  it("R14: a repeated confirmation records nothing", async () => {
    const { lethe, store } = await setup()
    const memberId = await anna(lethe)
    const { requestId } = await lethe.requestErasure(memberId, { via: "email" })
    await lethe.confirmSystem(memberId, { actor: admin, requestId, system: "Mailchimp" })
    const events = await countEvents(store)
    const again = await lethe.confirmSystem(memberId, { actor: admin, requestId, system: "Mailchimp" })
    expect(again).toMatchObject({ recorded: [], pendingSystems: ["Accounting (Fakturownia)"] })
    expect(await countEvents(store)).toBe(events)
  })

  it("R14, R45: an unknown system, an unknown request, a clerk, and junk write nothing", async () => {
    const { lethe, store } = await setup()
    const memberId = await anna(lethe)
    const { requestId } = await lethe.requestErasure(memberId, { via: "email" })
    const events = await countEvents(store)
    const confirm = (input: unknown, member: unknown = memberId) =>
      rejection((lethe.confirmSystem as (m: unknown, i: unknown) => Promise<unknown>)(member, input))

    expect(await confirm({ actor: admin, requestId, system: "Slack" })).toMatchObject({
      _tag: "UnknownReference",
      kind: "system",
      id: "Slack",
    })
    expect(await confirm({ actor: admin, requestId: "no-such-request", system: "Mailchimp" })).toMatchObject({
      _tag: "UnknownReference",
      kind: "request",
      id: "no-such-request",
    })
    expect(await confirm({ actor: admin, requestId: "constructor", system: "Mailchimp" })).toMatchObject({
      _tag: "UnknownReference",
      kind: "request",
    })
    expect(await confirm({ actor: clerk, requestId, system: "Mailchimp" })).toMatchObject({
      _tag: "NotPermitted",
      permission: "member:forget",
    })
    expect(await confirm({ actor: admin, requestId, system: "Mailchimp" }, "no-such-member")).toMatchObject({
      _tag: "MemberNotFound",
    })
    const junk = [
      [{ actor: admin, requestId: 42, system: "Mailchimp" }, "requestId"],
      [{ actor: admin, requestId, system: "" }, "system"],
      [{ actor: admin, requestId, system: " Mailchimp" }, "system"],
      [{ actor: admin, requestId }, "system"],
      [{ actor: admin, requestId, system: "Mailchimp", note: "   " }, "note"],
      [{ actor: admin, requestId, system: "Mailchimp", note: "a\u0000b" }, "note"],
    ] as const
    for (const [input, path] of junk) {
      const error = await confirm(input)
      expect(error._tag, JSON.stringify(input)).toBe("InvalidCommand")
      expect(error.issues, JSON.stringify(input)).toEqual([expect.objectContaining({ path })])
    }
    expect(await confirm(null)).toMatchObject({ _tag: "InvalidCommand", command: "confirmSystem" })
    expect(await confirm({ actor: admin, requestId, system: "Mailchimp" }, "")).toMatchObject({
      _tag: "InvalidCommand",
    })
    expect(await countEvents(store), "nothing was written").toBe(events)
  })

  it("R14, R29: a confirmation's note is sealed, and refused once the member's keys are destroyed", async () => {
    const { lethe, store, clock } = await setup()
    const memberId = await anna(lethe)
    const { requestId } = await lethe.requestErasure(memberId, { via: "email" })
    const note = "Ticket from Ola: removed Anna's invoices"
    await lethe.confirmSystem(memberId, { actor: admin, requestId, system: "Mailchimp", note })
    const log = JSON.stringify(await logOf(store))
    expect(log).toContain("SystemConfirmed")
    expect(log).not.toContain("Ticket from Ola")

    await lethe.forget(memberId, { actor: admin, requestId })
    clock.advance((lethe.config.restoreWindowDays + 1) * day)
    await lethe.purge(memberId, { actor: admin })
    const events = await countEvents(store)
    expect(
      await rejection(
        lethe.confirmSystem(memberId, { actor: admin, requestId, system: "Accounting (Fakturownia)", note }),
      ),
    ).toMatchObject({ _tag: "InvalidCommand", issues: [expect.objectContaining({ path: "note" })] })
    expect(await countEvents(store)).toBe(events)
  })
})

describe("R11, R14: the overdue list names the systems still pending", () => {
  it("R11, R14: an overdue erasure request forgotten in time but waiting for a system is listed with it", async () => {
    const { lethe, clock } = await setup()
    const memberId = await anna(lethe)
    const { requestId, dueBy } = await lethe.requestErasure(memberId, { via: "email" })
    await lethe.forget(memberId, { actor: admin, requestId })
    await lethe.confirmSystem(memberId, { actor: admin, requestId, system: "Mailchimp" })
    clock.advance(29 * day)
    expect(await lethe.overdueErasureRequests()).toEqual([])
    clock.advance(2 * day)
    expect(await lethe.overdueErasureRequests()).toEqual([
      expect.objectContaining({
        memberId,
        requestId,
        dueBy,
        systems,
        pendingSystems: ["Accounting (Fakturownia)"],
        handledAt: expect.any(Date),
      }),
    ])
    await lethe.confirmSystem(memberId, { actor: admin, requestId, system: "Accounting (Fakturownia)" })
    expect(await lethe.overdueErasureRequests()).toEqual([])
  })
})

describe("R35, R14: the audit judges the systems' confirmations", () => {
  it("R11, R14: a system confirming after the due date makes the fulfilment late, and the finding names it", async () => {
    const { lethe, store, clock } = await setup()
    const memberId = await anna(lethe)
    const { requestId } = await lethe.requestErasure(memberId, { via: "email" })
    await lethe.forget(memberId, { actor: admin, requestId })
    await lethe.confirmSystem(memberId, { actor: admin, requestId, system: "Mailchimp" })
    clock.advance(35 * day)
    const asOf = clock.now()
    // The member is forgotten and not purged by now: that is a purge-deadline finding of its own (R29).
    const deadline = (report: AuditReport) => report.findings.filter((f) => f.rule !== "purge-deadline")
    const open = deadline(await auditLog(await logOf(store), { asOf }))
    expect(open.map((f) => f.rule)).toEqual(["erasure-deadline"])
    expect(open[0]?.message).toMatch(/still open 5\.0 days after its due date; waiting for Accounting/)
    expect(open[0]?.evidence).toMatchObject({ pendingSystems: ["Accounting (Fakturownia)"] })

    await lethe.confirmSystem(memberId, { actor: admin, requestId, system: "Accounting (Fakturownia)" })
    const report = await auditLog(await logOf(store), { asOf: clock.now() })
    const late = deadline(report)
    expect(late.map((f) => [f.rule, f.requirements])).toEqual([["erasure-deadline", ["R11"]]])
    expect(late[0]?.message).toMatch(
      /fulfilled 5\.0 days after its due date; confirmed late by Accounting \(Fakturownia\)/,
    )
    expect(late[0]?.evidence).toMatchObject({ pendingSystems: [] })
    expect(report.summary.erasureRequests).toMatchObject({ total: 1, open: 0 })
  })

  it("R14: every system confirming in time is clean, even after the member was purged", async () => {
    const { lethe, store, clock } = await setup()
    const memberId = await anna(lethe)
    const { requestId } = await lethe.requestErasure(memberId, { via: "email" })
    await lethe.forget(memberId, { actor: admin, requestId })
    clock.advance((lethe.config.restoreWindowDays + 1) * day)
    await lethe.purge(memberId, { actor: admin })
    for (const system of systems) await lethe.confirmSystem(memberId, { actor: admin, requestId, system })
    clock.advance(60 * day)
    const report = await auditLog(await logOf(store), { asOf: clock.now() })
    expect(report.findings).toEqual([])
  })

  it("R10, R14: a confirmation appended after the final erasure receipt leaves the receipts and the log verifying", async () => {
    const { lethe, store, clock } = await setup()
    const memberId = await anna(lethe)
    const { requestId } = await lethe.requestErasure(memberId, { via: "email" })
    await lethe.forget(memberId, { actor: admin, requestId })
    clock.advance((lethe.config.restoreWindowDays + 1) * day)
    await lethe.purge(memberId, { actor: admin })
    const before = await lethe.erasureReceipt(memberId)
    await lethe.confirmSystem(memberId, { actor: admin, requestId, system: "Mailchimp" })
    const after = await lethe.erasureReceipt(memberId)
    expect(after.status).toBe(before.status)
    await lethe.confirmSystem(memberId, { actor: admin, requestId, system: "Accounting (Fakturownia)" })
    const report = await auditLog(await logOf(store), {
      asOf: clock.now(),
      publicKeys: [await keyring.receiptPublicKey()],
    })
    expect(report.findings).toEqual([])
  })

  it("R35: a SystemConfirmed no decision could produce (a system the request does not list) is a lifecycle finding", async () => {
    const { lethe, store, clock } = await setup()
    const memberId = await anna(lethe)
    const { requestId } = await lethe.requestErasure(memberId, { via: "email" })
    clock.advance(day)
    const log = insert(
      await logOf(store),
      forged(memberId, "SystemConfirmed", { requestId, system: "Slack" }, clock.millis()),
    )
    const report = await auditLog(log, { asOf: clock.now() })
    expect(report.findings.map((f) => [f.rule, f.evidence])).toEqual([
      ["lifecycle", { requestId, system: "Slack" }],
    ])
  })
})

describe("R14: the decider, given/when/then", () => {
  const requested = erasureRequested({ at: defaultNow - days(40), systems: ["Accounting", "Mailchimp"] })
  const erased = [registered(), requested, forgotten({ at: defaultNow - days(30), requestId: "request-1" })]
  const purgedAfter = purged({ at: defaultNow - days(20) })

  it("R14: a system confirms after the member was forgotten and purged, holding no personal data", () => {
    given([...erased, purgedAfter])
      .when({ _tag: "ConfirmSystem", requestId: "request-1", system: "Accounting" })
      .thenEvents([systemConfirmed({ system: "Accounting" })])
      .thenState((state) => {
        expect(state.status).toBe("purged")
        expect(state.requests["request-1"]).toMatchObject({
          fulfilledAt: null,
          handledAt: defaultNow - days(30),
        })
      })
  })

  it("R14: the last system's confirmation fulfils the request, at its time", () => {
    given([...erased, systemConfirmed({ at: defaultNow - days(1), system: "Mailchimp" })])
      .when({ _tag: "ConfirmSystem", requestId: "request-1", system: "Accounting" })
      .thenState({
        requests: {
          "request-1": expect.objectContaining({
            fulfilledAt: defaultNow,
            confirmations: [
              { system: "Mailchimp", at: defaultNow - days(1) },
              { system: "Accounting", at: defaultNow },
            ],
          }),
        },
      })
  })

  it("R14: an unknown system or request is refused, a repeat records nothing, a clerk is not permitted", () => {
    given(erased)
      .when({ _tag: "ConfirmSystem", requestId: "request-1", system: "Slack" })
      .thenRejects("UnknownReference", { kind: "system", id: "Slack" })
    given(erased)
      .when({ _tag: "ConfirmSystem", requestId: "request-2", system: "Accounting" })
      .thenRejects("UnknownReference", { kind: "request", id: "request-2" })
    given([...erased, systemConfirmed()])
      .when({ _tag: "ConfirmSystem", requestId: "request-1", system: "Accounting" })
      .thenNothing()
    given(erased)
      .when({ _tag: "ConfirmSystem", requestId: "request-1", system: "Accounting" }, { actor: clerk })
      .thenRejects("NotPermitted", { permission: "member:forget" })
  })

  it("R14: a request without systems records none, so its event is the one recorded before R14's tracking", () => {
    given([registered()])
      .when({
        _tag: "RequestErasure",
        requestId: "request-1",
        receivedAt: defaultNow,
        via: "email",
        systems: [],
      })
      .thenEvents([erasureRequested()])
    given([registered()])
      .when({
        _tag: "RequestErasure",
        requestId: "request-1",
        receivedAt: defaultNow,
        via: "email",
        systems: ["Accounting", "Accounting"],
      })
      .thenEvents([erasureRequested({ systems: ["Accounting"] })])
  })
})
