import type { Actor, InvalidCommand, LetheClient, LetheOptions, LetheStore } from "@lethe/core"
import { createLethe, keyringFromSecret } from "@lethe/core"
import { verifyStream } from "@lethe/core/audit"
import { memberStream, readAllEvents } from "@lethe/core/spi"
import { memoryStore } from "@lethe/store-memory"
import { afterEach, describe, expect, it } from "vitest"

const day = 86_400_000
const keyring = keyringFromSecret("test secret that is long enough for HKDF ok")
const admin: Actor = { id: "staff:admin", roles: ["admin"] }
const clerk: Actor = { id: "staff:clerk", roles: ["clerk"] }

const testClock = (start = "2026-01-10T10:00:00Z") => {
  let now = new Date(start).getTime()
  return {
    now: () => new Date(now),
    advance: (ms: number) => {
      now += ms
    },
  }
}

const open: Array<LetheClient> = []
const setup = async (options: Partial<LetheOptions> = {}) => {
  const clock = testClock()
  const store = options.store ?? memoryStore()
  const lethe = await createLethe({ store, keyring, clock: clock.now, ...options })
  open.push(lethe)
  return { lethe, store, clock }
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((l) => l.close()))
})

const countEvents = async (store: LetheStore) => {
  let n = 0
  for await (const _ of readAllEvents(store.events)) n++
  return n
}

const rejection = async (promise: Promise<unknown>) => {
  try {
    await promise
  } catch (error) {
    return error as { _tag: string; [k: string]: unknown }
  }
  throw new Error("expected a rejection")
}

const registerAnna = (lethe: LetheClient, tenantId = "shop") =>
  lethe.register({
    tenantId,
    personal: { name: "Anna Kowalska", email: "Anna.Kowalska@example.org", phone: "+48 600 100 200" },
    source: { kind: "form", tag: "footer" },
  })

describe("createLethe on the memory store", () => {
  it("R19: get returns the registered member with personal data and provenance", async () => {
    const { lethe } = await setup()
    const { memberId, recorded } = await registerAnna(lethe)
    expect(recorded).toEqual(["MemberRegistered", "PersonalDataRecorded", "PersonalDataRecorded"])
    const view = await lethe.get(memberId)
    expect(view.status).toBe("active")
    expect(view.personal).toEqual({
      name: "Anna Kowalska",
      email: "Anna.Kowalska@example.org",
      phone: "+48 600 100 200",
    })
    expect(view.tenantId).toBe("shop")
  })

  it("R1: a forgotten member is found by no lookup, and get shows no personal data", async () => {
    const { lethe } = await setup()
    const { memberId } = await registerAnna(lethe)
    expect((await lethe.findByEmail("shop", " anna.kowalska@EXAMPLE.org"))?.memberId).toBe(memberId)
    expect((await lethe.search("shop", "kowal")).map((m) => m.memberId)).toEqual([memberId])
    await lethe.forget(memberId, { actor: admin })
    expect(await lethe.findByEmail("shop", "anna.kowalska@example.org")).toBeNull()
    expect(await lethe.search("shop", "kowal")).toEqual([])
    expect(await lethe.search("shop", "anna.kowalska@example.org")).toEqual([])
    const view = await lethe.get(memberId)
    expect(view.status).toBe("forgotten")
    expect(view.personal).toEqual({})
    expect(view.data).toEqual({})
  })

  it("R1: lookups are scoped to the tenant", async () => {
    const { lethe } = await setup()
    const { memberId } = await registerAnna(lethe, "shop-a")
    expect(await lethe.findByEmail("shop-b", "anna.kowalska@example.org")).toBeNull()
    expect(await lethe.search("shop-b", "anna")).toEqual([])
    expect((await lethe.findByEmail("shop-a", "anna.kowalska@example.org"))?.memberId).toBe(memberId)
  })

  it("R2: after forget, data, activity and test messages are refused and nothing is written", async () => {
    const { lethe, store } = await setup()
    const { memberId } = await registerAnna(lethe)
    await lethe.giveConsent(memberId, { purpose: "newsletter", method: "checkbox", source: "form" })
    await lethe.forget(memberId, { actor: admin })
    const before = await countEvents(store)
    const attempts = [
      lethe.sendMessage(memberId, { purpose: "newsletter", channel: "email", sentBy: "staff:x", test: true }),
      lethe.recordActivity(memberId, { kind: "page-view", details: { url: "/offers" } }),
      lethe.recordPersonalData(memberId, { category: "address", fields: { city: "Łódź" }, source: "staff" }),
    ]
    for (const attempt of attempts) expect((await rejection(attempt))._tag).toBe("MemberErased")
    expect(await countEvents(store)).toBe(before)
  })

  it("R4: unsubscribe stops that purpose only, and subscribing again re-enables it", async () => {
    const { lethe } = await setup()
    const { memberId } = await registerAnna(lethe)
    await lethe.giveConsent(memberId, { purpose: "newsletter", method: "checkbox", source: "form" })
    await lethe.giveConsent(memberId, { purpose: "sms", method: "checkbox", source: "form" })
    await lethe.unsubscribe(memberId, { purpose: "newsletter", via: "link" })
    const refused = await rejection(
      lethe.sendMessage(memberId, { purpose: "newsletter", channel: "email", sentBy: "c" }),
    )
    expect(refused).toMatchObject({ _tag: "MessageRefused", reasons: ["Unsubscribed"] })
    await lethe.sendMessage(memberId, { purpose: "sms", channel: "sms", sentBy: "c" })
    const again = await lethe.subscribe({
      tenantId: "shop",
      email: "anna.kowalska@example.org",
      purpose: "newsletter",
      source: "form",
    })
    expect(again).toMatchObject({ outcome: "subscribed", memberId })
    const { messageId } = await lethe.sendMessage(memberId, {
      purpose: "newsletter",
      channel: "email",
      sentBy: "c",
    })
    expect(messageId).toMatch(/^[0-9a-f-]{36}$/)
    expect((await lethe.get(memberId)).personal.name).toBe("Anna Kowalska")
  })

  it("R5: subscribing within the window restores the profile; after it, a fresh profile with no link", async () => {
    const { lethe, clock } = await setup()
    const { memberId } = await registerAnna(lethe)
    await lethe.forget(memberId, { actor: admin })
    clock.advance(6 * day)
    const back = await lethe.subscribe({
      tenantId: "shop",
      email: "ANNA.kowalska@example.org",
      purpose: "newsletter",
      source: "form",
    })
    expect(back).toMatchObject({ outcome: "restored", memberId })
    expect((await lethe.get(memberId)).personal.name).toBe("Anna Kowalska")

    await lethe.forget(memberId, { actor: admin })
    clock.advance(7 * day)
    const fresh = await lethe.subscribe({
      tenantId: "shop",
      email: "anna.kowalska@example.org",
      purpose: "newsletter",
      source: "form",
    })
    expect(fresh.outcome).toBe("created")
    expect(fresh.memberId).not.toBe(memberId)
    expect((await lethe.get(fresh.memberId)).personal).toEqual({ email: "anna.kowalska@example.org" })
    expect((await rejection(lethe.restore(memberId, { actor: admin })))._tag).toBe("RestoreWindowExpired")
  })

  it("R5: the restore window is configurable", async () => {
    const { lethe, clock } = await setup({ config: { restoreWindowDays: 2 } })
    const { memberId } = await registerAnna(lethe)
    await lethe.forget(memberId, { actor: admin })
    clock.advance(2 * day + 1)
    expect((await rejection(lethe.restore(memberId, { actor: admin })))._tag).toBe("RestoreWindowExpired")
  })

  it("R8: forget needs the permission, and who did it is recorded", async () => {
    const { lethe, store } = await setup()
    const { memberId } = await registerAnna(lethe)
    expect(await rejection(lethe.forget(memberId, { actor: clerk }))).toMatchObject({
      _tag: "NotPermitted",
      actorId: "staff:clerk",
      permission: "member:forget",
    })
    await lethe.forget(memberId, { actor: admin })
    const events = await store.events.readStream(memberStream(memberId))
    const forgotten = events.find((e) => e.type === "Forgotten")
    expect(forgotten?.metadata.actor).toBe("staff:admin")
    expect(forgotten?.metadata.tenantId).toBe("shop")
  })

  it("R7: forgetMany reports each member, and one refusal does not stop the others", async () => {
    const { lethe } = await setup()
    const a = await registerAnna(lethe)
    const b = await lethe.register({ tenantId: "shop", personal: { name: "Björn" }, source: "api" })
    const progress: Array<number> = []
    const results = await lethe.forgetMany([a.memberId, "no-such-member", b.memberId], {
      actor: admin,
      onProgress: (p) => progress.push(p.done),
    })
    expect(results.map((r) => r.ok)).toEqual([true, false, true])
    expect(results[1]).toMatchObject({ ok: false, error: { _tag: "MemberNotFound" } })
    expect(progress).toEqual([1, 2, 3])
    expect((await lethe.get(b.memberId)).status).toBe("forgotten")
  })

  it("R25: the facade rejects anonymization with every blocker at once and writes nothing", async () => {
    const { lethe, store, clock } = await setup()
    const { memberId } = await registerAnna(lethe)
    await lethe.signContract(memberId, {
      contractId: "c1",
      clubId: "a",
      startsAt: new Date(clock.now().getTime() - day),
    })
    await lethe.signContract(memberId, {
      contractId: "c2",
      clubId: "a",
      startsAt: new Date(clock.now().getTime() + day),
    })
    await lethe.openDebtCase(memberId, { caseId: "d1", clubId: "b" })
    await lethe.creditWallet(memberId, { amount: 100 })
    await lethe.restrictProcessing(memberId, { reason: "accuracy contested" })
    const before = await countEvents(store)
    const error = await rejection(
      lethe.anonymize(memberId, { actor: admin, confirmEmail: "other@example.org" }),
    )
    expect(error._tag).toBe("AnonymizationBlocked")
    expect([...(error.reasons as Array<string>)].sort()).toEqual(
      [
        "ActiveContract",
        "FutureContract",
        "OpenDebtCase",
        "WalletNotEmpty",
        "ProcessingRestricted",
        "SubjectNotConfirmed",
      ].sort(),
    )
    expect(await countEvents(store)).toBe(before)
  })

  it("R19, R24, R27: anonymization keeps the member and its statistics, keeps invoices, warns of unpaid purchases", async () => {
    const { lethe } = await setup()
    const { memberId } = await registerAnna(lethe)
    await lethe.recordPersonalData(memberId, {
      category: "invoice",
      fields: { name: "Anna Kowalska", address: "ul. Długa 1" },
      source: "staff",
    })
    await lethe.recordPersonalData(memberId, {
      category: "photo",
      fields: { ref: "photos/anna.jpg" },
      source: "staff",
    })
    await lethe.recordActivity(memberId, { kind: "visit", clubId: "a" })
    await lethe.recordActivity(memberId, { kind: "class", clubId: "a", details: { class: "Yoga" } })
    await lethe.recordPurchase(memberId, { purchaseId: "p1", amount: 900, paid: false })
    const done = await lethe.anonymize(memberId, { actor: admin, confirmEmail: "ANNA.KOWALSKA@example.org " })
    expect(done.warnings).toEqual(["UnpaidPurchases"])
    expect(done.erasedCategories).toEqual(["activity", "contact", "identity", "photo"])
    expect(done.keptCategories).toEqual(["invoice"])
    const view = await lethe.get(memberId)
    expect(view).toMatchObject({ status: "anonymized", personal: {}, displayName: "Anonymized member" })
    expect(view.data).toEqual({ invoice: { name: "Anna Kowalska", address: "ul. Długa 1" } })
    expect(view.counts).toMatchObject({ visit: 1, class: 1 })
    expect(await lethe.findByEmail("shop", "anna.kowalska@example.org")).toBeNull()
    expect((await rejection(lethe.restore(memberId, { actor: admin })))._tag).toBe("RestoreWindowExpired")
    expect(await rejection(lethe.anonymize(memberId, { actor: admin }))).toMatchObject({
      _tag: "AnonymizationBlocked",
      reasons: ["AlreadyAnonymized"],
    })
  })

  it("R11: erasure requests are due in 30 days, listed when overdue, and fulfilled by forget", async () => {
    const { lethe, clock } = await setup()
    const { memberId } = await registerAnna(lethe)
    const request = await lethe.requestErasure(memberId, { via: "email" })
    expect(request.dueBy.getTime() - clock.now().getTime()).toBe(30 * day)
    expect(await lethe.overdueErasureRequests()).toEqual([])
    expect((await lethe.openRequests()).map((r) => r.requestId)).toEqual([request.requestId])
    clock.advance(31 * day)
    expect((await lethe.overdueErasureRequests()).map((r) => r.requestId)).toEqual([request.requestId])
    await lethe.forget(memberId, { actor: admin, requestId: request.requestId })
    expect(await lethe.overdueErasureRequests()).toEqual([])
    expect(await lethe.openRequests()).toEqual([])
  })

  it("InvalidCommand: bad input is explained and writes nothing", async () => {
    const { lethe, store } = await setup()
    const { memberId } = await registerAnna(lethe)
    const before = await countEvents(store)
    // Each refusal names the operation and the field, in `issues` and in its one-line message (R45).
    const bad: ReadonlyArray<readonly [string, string, Promise<unknown>]> = [
      [
        "register",
        "personal.email",
        lethe.register({ tenantId: "shop", personal: { email: "not-an-email" }, source: "form" }),
      ],
      ["creditWallet", "amount", lethe.creditWallet(memberId, { amount: -5 })],
      ["creditWallet", "amount", lethe.creditWallet(memberId, { amount: 1.5 })],
      [
        "signContract",
        "endsAt",
        lethe.signContract(memberId, {
          contractId: "c",
          clubId: "a",
          startsAt: new Date("2026-02-01"),
          endsAt: new Date("2026-01-01"),
        }),
      ],
      [
        "signContract",
        "startsAt",
        lethe.signContract(memberId, { contractId: "c", clubId: "a", startsAt: new Date("not a date") }),
      ],
      [
        "recordPersonalData",
        "fields",
        lethe.recordPersonalData(memberId, { category: "notes", fields: {}, source: "staff" }),
      ],
      [
        "recordPersonalData",
        "category",
        lethe.recordPersonalData(memberId, {
          category: "bogus" as "notes",
          fields: { a: "b" },
          source: "staff",
        }),
      ],
      // An input that is no object is refused as a whole, before its fields are read.
      ["register", "input", lethe.register(null as never)],
    ]
    for (const [operation, path, attempt] of bad) {
      const error = (await rejection(attempt)) as unknown as InvalidCommand
      expect(error._tag).toBe("InvalidCommand")
      expect(error.command).toBe(operation)
      const issue = error.issues.find((i) => i.path === path)
      expect(issue?.message, `${operation} ${path}: ${error.message}`).toMatch(/\w/)
      expect(error.message.startsWith(`${operation}: `)).toBe(true)
      expect(error.message).toContain(`${path} ${issue?.message}`)
      expect(error.message.length).toBeLessThan(300)
    }
    expect(await countEvents(store)).toBe(before)
  })

  it("EmailTaken: one active member per e-mail in a tenant", async () => {
    const { lethe } = await setup()
    const { memberId } = await registerAnna(lethe)
    expect(await rejection(registerAnna(lethe))).toMatchObject({ _tag: "EmailTaken", memberId })
    await registerAnna(lethe, "other-tenant")
  })

  it("MemberNotFound: operations on an unknown member", async () => {
    const { lethe } = await setup()
    expect(await rejection(lethe.get("nope"))).toMatchObject({ _tag: "MemberNotFound", memberId: "nope" })
    expect((await rejection(lethe.creditWallet("nope", { amount: 1 })))._tag).toBe("MemberNotFound")
  })

  it("R35: every stream written through the facade has a verifiable hash chain", async () => {
    const { lethe, store } = await setup()
    const { memberId } = await registerAnna(lethe)
    await lethe.creditWallet(memberId, { amount: 10 })
    await lethe.forget(memberId, { actor: admin })
    const events = await store.events.readStream(memberStream(memberId))
    expect(verifyStream(memberStream(memberId), events)).toMatchObject({ ok: true, length: events.length })
    const tampered = events.map((e, i) =>
      i === 3 ? { ...e, data: { ...(e.data as object), amount: 1000 } } : e,
    )
    expect(verifyStream(memberStream(memberId), tampered)).toMatchObject({ ok: false, version: 4 })
  })

  it("Concurrency: parallel writers on one member lose no update (optimistic versions, retried)", async () => {
    const { lethe } = await setup({ retries: 50 })
    const { memberId } = await registerAnna(lethe)
    await Promise.all(Array.from({ length: 20 }, () => lethe.creditWallet(memberId, { amount: 7 })))
    expect((await lethe.get(memberId)).walletBalance).toBe(140)
  })

  it("Concurrency: without retries a conflict surfaces as ConcurrencyConflict and nothing is lost", async () => {
    const store = memoryStore()
    const { lethe } = await setup({ store, retries: 0 })
    const { memberId } = await registerAnna(lethe)
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, () => lethe.creditWallet(memberId, { amount: 3 })),
    )
    const failed = outcomes.filter((o) => o.status === "rejected")
    for (const f of failed) expect((f as PromiseRejectedResult).reason._tag).toBe("ConcurrencyConflict")
    const succeeded = outcomes.length - failed.length
    expect(succeeded).toBeGreaterThan(0)
    expect((await lethe.get(memberId)).walletBalance).toBe(3 * succeeded)
    const events = await store.events.readStream(memberStream(memberId))
    expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1))
  })

  it("close: releases the store; later calls reject", async () => {
    const { lethe } = await setup()
    const { memberId } = await registerAnna(lethe)
    await lethe.close()
    await expect(lethe.get(memberId)).rejects.toBeDefined()
  })
})
