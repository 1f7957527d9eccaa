/**
 * What the rights-workflow tests share: Lethe over a memory store with a clock
 * the test moves, the actors, and small helpers to look at what was written.
 */
import type { Actor, LetheClient, LetheOptions, LetheStore } from "@lethe/core"
import { createLethe, keyringFromSecret } from "@lethe/core"
import { readAllEvents } from "@lethe/core/spi"
import { memoryStore } from "@lethe/store-memory"
import { afterEach } from "vitest"

export const day = 86_400_000
export const hour = 3_600_000
export const keyring = keyringFromSecret("rights workflows test secret, 32+ bytes")
export const admin: Actor = { id: "staff:admin", roles: ["admin"] }
export const clerk: Actor = { id: "staff:clerk", roles: ["clerk"] }

/** A clock the test moves by hand. */
export const testClock = (start = "2026-03-02T09:00:00Z") => {
  let now = new Date(start).getTime()
  return {
    now: () => new Date(now),
    millis: () => now,
    advance: (ms: number) => {
      now += ms
    },
  }
}

const open: Array<LetheClient> = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((lethe) => lethe.close()))
})

/** Lethe over a fresh memory store (or `options.store`), closed after the test. */
export const setup = async (options: Partial<LetheOptions> & { readonly start?: string } = {}) => {
  const clock = testClock(options.start)
  const store = options.store ?? memoryStore()
  const lethe = await createLethe({ store, keyring, clock: clock.now, ...options })
  open.push(lethe)
  return { lethe, store, clock }
}

/** How many events the whole log holds. */
export const countEvents = async (store: LetheStore): Promise<number> => {
  let n = 0
  for await (const _ of readAllEvents(store.events)) n++
  return n
}

/** The tagged error a promise rejects with; fails the test if it resolves. */
export const rejection = async (promise: Promise<unknown>) => {
  try {
    await promise
  } catch (error) {
    return error as { _tag: string; [key: string]: unknown }
  }
  throw new Error("expected a rejection")
}

/** What may happen to a member in a generated history (the retention properties draw from these). */
export type HistoryAction =
  | "visit"
  | "purchase"
  | "invoice"
  | "contract"
  | "restrict"
  | "lift"
  | "credit"
  | "forget"
  | "purge"
  | "anonymize"
  | "consent"
  | "nothing"

/** One step of a generated history: `action` on the member, the `i`th step, at `now`; `email` confirms an anonymization. */
export const applyHistoryAction = async (
  lethe: LetheClient,
  memberId: string,
  action: HistoryAction,
  at: { readonly now: number; readonly i: number; readonly email: string },
) => {
  const { now, i, email } = at
  switch (action) {
    case "visit":
      return lethe.recordActivity(memberId, { kind: "visit", clubId: "krk" })
    case "purchase":
      return lethe.recordPurchase(memberId, { purchaseId: `p${i}`, amount: 100, paid: true })
    case "invoice":
      return lethe.recordPersonalData(memberId, {
        category: "invoice",
        fields: { address: `Street ${i}` },
        source: "staff",
      })
    case "contract":
      return lethe.signContract(memberId, {
        contractId: `c${i}`,
        clubId: "krk",
        startsAt: new Date(now),
        endsAt: new Date(now + 60 * day),
      })
    case "restrict":
      return lethe.restrictProcessing(memberId, { reason: "objection pending" })
    case "lift":
      return lethe.liftRestriction(memberId, { actor: admin })
    case "credit":
      return lethe.creditWallet(memberId, { amount: 100 })
    case "forget":
      return lethe.forget(memberId, { actor: admin })
    case "purge":
      return lethe.purge(memberId, { actor: admin })
    case "anonymize":
      return lethe.anonymize(memberId, { actor: admin, confirmEmail: email })
    case "consent":
      return lethe.giveConsent(memberId, { purpose: "sms", method: "checkbox", source: "form" })
    case "nothing":
      return undefined
  }
}
