/**
 * The Lethe members the read-and-decide and purge cases work on: registered
 * through the facade with a name and an e-mail, then given a history of club
 * visits (one recorded through the facade, the others copies of it), or a
 * mixed history from a cycle of real commands.
 *
 * @module
 */
import { memberStream } from "@lethe/core/spi"
import { nextKey, person, tenantId, visit } from "../fixtures.js"
import type { OpenedLethe } from "../subjects/lethe.js"
import { appendCopies } from "./copies.js"

/** Registers a new member (3 events: registered, identity, contact); returns its id. */
export const registerMember = async ({ lethe }: OpenedLethe): Promise<string> =>
  (await lethe.register({ tenantId, personal: person(nextKey()), source: "import" })).memberId

/**
 * Adds `visits` club visits to `memberId`, which has none yet, and checks
 * that Lethe counts them all.
 */
export const addVisits = async (opened: OpenedLethe, memberId: string, visits: number): Promise<void> => {
  if (visits === 0) return
  const { lethe, store } = opened
  const { version } = await lethe.recordActivity(memberId, visit)
  const template = (await store.events.readStream(memberStream(memberId), { fromVersion: version }))[0]
  if (template?.type !== "ActivityRecorded")
    throw new Error(
      "recordActivity no longer appends an ActivityRecorded event to the member's stream: bench/src/seed must follow",
    )
  await appendCopies(store, template, visits - 1)
  const counted = (await lethe.get(memberId)).counts.visit
  if (counted !== visits) throw new Error(`seeded ${visits} visits but Lethe counts ${counted}`)
}

/** A new member with `events` events in all: its registration, then visits. */
export const memberWithVisits = async (opened: OpenedLethe, events: number): Promise<string> => {
  const memberId = await registerMember(opened)
  await addVisits(opened, memberId, events - registeredEvents)
  return memberId
}

/** Events a registration with a name and an e-mail writes. */
export const registeredEvents = 3

/** One turn of the mixed history: ten commands of a club member's and a subscriber's life, one event each. */
const cycle = (opened: OpenedLethe, memberId: string, turn: number) => {
  const { lethe } = opened
  const now = new Date()
  return [
    () => lethe.giveConsent(memberId, { purpose: "newsletter", method: "checkbox", source: "form" }),
    () => lethe.sendMessage(memberId, { purpose: "newsletter", channel: "email", sentBy: "campaign:weekly" }),
    () => lethe.recordPurchase(memberId, { purchaseId: `p-${turn}`, amount: 1_999, paid: false }),
    () => lethe.markPurchasePaid(memberId, { purchaseId: `p-${turn}` }),
    () => lethe.creditWallet(memberId, { amount: 5_000 }),
    () => lethe.debitWallet(memberId, { amount: 5_000 }),
    () => lethe.signContract(memberId, { contractId: `c-${turn}`, clubId: "club-1", startsAt: now }),
    () => lethe.endContract(memberId, { contractId: `c-${turn}` }),
    () => lethe.recordActivity(memberId, { kind: "page-view", details: { page: `/offers/${turn}` } }),
    () => lethe.withdrawConsent(memberId, { purpose: "newsletter" }),
  ]
}

/**
 * A new member with `events` events: its registration, then turns of real
 * commands (consents, messages, purchases, wallet, contracts, page views with
 * sealed details) up to `varied` events, then visits up to `events`.
 */
export const memberWithMix = async (opened: OpenedLethe, events: number, varied: number): Promise<string> => {
  const memberId = await registerMember(opened)
  let version = registeredEvents
  for (let turn = 0; version < varied; turn++)
    for (const command of cycle(opened, memberId, turn)) {
      if (version >= varied) break
      version = (await command()).version
    }
  await addVisits(opened, memberId, events - version)
  return memberId
}
