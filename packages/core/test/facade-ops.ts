/**
 * Random operations through the facade on a few members, for properties that
 * must hold whatever the application does: every command with its guards
 * (consents, messages, contracts, wallet, debt, restriction, requests and
 * their other systems' confirmations, forget, restore, anonymize, erasure by
 * category), retention runs, and time
 * moving on.
 */
import type { LetheClient, PersonalCategory } from "@lethe/core"
import fc from "fast-check"
import { admin, day, start } from "./audit-logs.js"

/** How many member slots the operations pick from. */
export const members = 3
/** The other systems the runs configure, each request to be confirmed by them (R14). */
export const otherSystems = ["Accounting", "Mailchimp"]
const purposes = ["newsletter", "marketing", "profiling", "sms", "health-data", "service"] as const
const categories: ReadonlyArray<PersonalCategory> = ["address", "health", "notes", "invoice", "photo"]

/** Where the run is: the facade, the clock, and each slot's current member id. */
export interface Run {
  readonly lethe: LetheClient
  readonly ids: Array<string | undefined>
  readonly clock: { now: number }
}

export type Op = (run: Run) => Promise<unknown>

const email = (slot: number) => `member${slot}@example.org`
const onMember =
  (slot: number, act: (lethe: LetheClient, memberId: string) => Promise<unknown>): Op =>
  async (run) => {
    const id = run.ids[slot]
    return id === undefined ? undefined : act(run.lethe, id)
  }

const slot = fc.integer({ min: 0, max: members - 1 })
const purpose = fc.constantFrom(...purposes)

/** Registers the slot's member (again, after an erasure: a new member). */
export const register =
  (i: number): Op =>
  async (run) => {
    const { memberId } = await run.lethe.register({
      tenantId: "club",
      personal: { name: `Member ${i}`, email: email(i) },
      source: "form",
    })
    run.ids[i] = memberId
  }

/** One operation; a refused one is part of the run (callers ignore its error). */
export const arbOp: fc.Arbitrary<Op> = fc.oneof(
  slot.map(register),
  fc.tuple(slot, purpose).map(
    ([i, p]): Op =>
      async (run) => {
        const { memberId } = await run.lethe.subscribe({
          tenantId: "club",
          email: email(i),
          purpose: p,
          source: "form",
        })
        run.ids[i] = memberId
      },
  ),
  fc
    .tuple(slot, fc.constantFrom(...categories))
    .map(([i, category]) =>
      onMember(i, (l, id) =>
        l.recordPersonalData(id, { category, fields: { value: "personal" }, source: "staff" }),
      ),
    ),
  fc
    .tuple(slot, purpose, fc.boolean())
    .map(([i, p, explicit]) =>
      onMember(i, (l, id) => l.giveConsent(id, { purpose: p, explicit, method: "checkbox", source: "form" })),
    ),
  fc.tuple(slot, purpose).map(([i, p]) => onMember(i, (l, id) => l.withdrawConsent(id, { purpose: p }))),
  fc
    .tuple(slot, purpose, fc.constantFrom("link" as const, "staff" as const))
    .map(([i, p, via]) => onMember(i, (l, id) => l.unsubscribe(id, { purpose: p, via }))),
  fc
    .tuple(slot, fc.boolean())
    .map(([i, off]) => onMember(i, (l, id) => (off ? l.disableProfiling(id) : l.enableProfiling(id)))),
  fc
    .tuple(slot, fc.integer({ min: -20, max: 20 }), fc.option(fc.integer({ min: 1, max: 60 })))
    .map(([i, offset, length]) =>
      onMember(i, (l, id) => {
        const startsAt = start + offset * day
        return l.signContract(id, {
          contractId: `c${offset}`,
          clubId: "club-a",
          startsAt: new Date(startsAt),
          endsAt: length === null ? null : new Date(startsAt + length * day),
        })
      }),
    ),
  fc
    .tuple(slot, fc.integer({ min: -20, max: 20 }))
    .map(([i, offset]) => onMember(i, (l, id) => l.endContract(id, { contractId: `c${offset}` }))),
  fc
    .tuple(slot, fc.boolean(), fc.integer({ min: 1, max: 500 }))
    .map(([i, credit, amount]) =>
      onMember(i, (l, id) => (credit ? l.creditWallet(id, { amount }) : l.debitWallet(id, { amount }))),
    ),
  fc
    .tuple(slot, fc.boolean())
    .map(([i, open]) =>
      onMember(i, (l, id) =>
        open ? l.openDebtCase(id, { caseId: "d1", clubId: "club-b" }) : l.closeDebtCase(id, { caseId: "d1" }),
      ),
    ),
  fc
    .tuple(slot, fc.boolean())
    .map(([i, paid]) =>
      onMember(i, (l, id) => l.recordPurchase(id, { purchaseId: `p${paid}`, amount: 100, paid })),
    ),
  slot.map((i) =>
    onMember(i, (l, id) => l.recordActivity(id, { kind: "visit", details: { door: "north" } })),
  ),
  {
    // Messages meet the most guards (basis, unsubscribe, restriction, profiling, erasure): more of them.
    weight: 4,
    arbitrary: fc
      .tuple(slot, purpose, fc.boolean())
      .map(([i, p, test]) =>
        onMember(i, (l, id) => l.sendMessage(id, { purpose: p, channel: "email", sentBy: "campaign", test })),
      ),
  },
  fc
    .tuple(slot, fc.boolean())
    .map(([i, on]) =>
      onMember(i, (l, id) =>
        on ? l.restrictProcessing(id, { reason: "contested" }) : l.liftRestriction(id),
      ),
    ),
  fc.tuple(slot, fc.boolean(), fc.integer({ min: 0, max: 45 })).map(
    ([i, erasure, ago]): Op =>
      async (run) => {
        const id = run.ids[i]
        if (id === undefined) return
        const input = { via: "email" as const, receivedAt: new Date(run.clock.now - ago * day) }
        return erasure ? run.lethe.requestErasure(id, input) : run.lethe.requestAccess(id, input)
      },
  ),
  // R14: an open request, of any member, confirmed by one of its pending systems (with `otherSystems`).
  {
    weight: 3,
    arbitrary: fc.nat().map(
      (pick): Op =>
        async (run) => {
          const waiting = (await run.lethe.openRequests()).filter((r) => r.pendingSystems.length > 0)
          const request = waiting[pick % Math.max(waiting.length, 1)]
          if (request === undefined) return
          const system = request.pendingSystems[pick % request.pendingSystems.length] ?? ""
          return run.lethe.confirmSystem(request.memberId, {
            actor: admin,
            requestId: request.requestId,
            system,
          })
        },
    ),
  },
  slot.map((i) => onMember(i, (l, id) => l.forget(id, { actor: admin }))),
  slot.map((i) => onMember(i, (l, id) => l.restore(id, { actor: admin }))),
  slot.map((i) => onMember(i, (l, id) => l.anonymize(id, { actor: admin, confirmEmail: email(i) }))),
  fc
    .tuple(slot, fc.constantFrom(...categories))
    .map(([i, category]) =>
      onMember(i, (l, id) =>
        l.erasePersonalData(id, { categories: [category], reason: "not needed", actor: admin }),
      ),
    ),
  fc.constant<Op>((run) => run.lethe.runRetention()),
  fc.integer({ min: 0, max: 12 }).map(
    (days): Op =>
      async (run) => {
        run.clock.now += days * day
      },
  ),
)
