/**
 * Issue 21: a command decides on the state its instance kept, without
 * reading the stream first; the append at that version is the check. These
 * tests put two instances on one store, so that one decides on a state the
 * other has moved, and check that every answer is the one a fresh read
 * gives: a stale acceptance lands at the right version after a retry, a
 * stale refusal is decided again, and a key the other destroyed is never
 * reported instead of the member's real status.
 */
import type { LetheClient, LetheStore } from "@lethe/core"
import { createLethe } from "@lethe/core"
import { memberStream } from "@lethe/core/spi"
import { describe, expect, it } from "vitest"
import { admin, keyring, rejection, setup } from "./rights-setup.js"

/** Two instances on one store, and a way to open a third that keeps nothing yet. */
const twoInstances = async () => {
  const world = await setup()
  const other = await createLethe({ store: world.store, keyring, clock: world.clock.now, keyCheck: "skip" })
  const fresh = () => createLethe({ store: world.store, keyring, clock: world.clock.now, keyCheck: "skip" })
  return { ...world, a: world.lethe, b: other, fresh }
}

const registered = async (lethe: LetheClient) =>
  (
    await lethe.register({
      tenantId: "club",
      personal: { name: "Łukasz Żółć", email: "lukasz@example.pl" },
      source: "form",
    })
  ).memberId

const versionsAndChain = async (store: LetheStore, memberId: string) => {
  const events = await store.events.readStream(memberStream(memberId))
  return {
    versions: events.map((event) => event.version),
    chained: events.every((event, i) => i === 0 || event.prevHash === events[i - 1]?.hash),
  }
}

describe("optimistic decisions on a kept state", () => {
  it("R8: a command decided on a state another instance moved lands after a retry, at the next version, chained", async () => {
    const { a, b, store } = await twoInstances()
    const memberId = await registered(a)
    await a.recordActivity(memberId, { kind: "visit", details: { club: "north" } })
    // b appends twice: a's kept state is now two events behind.
    await b.recordActivity(memberId, { kind: "visit", details: { club: "south" } })
    await b.recordActivity(memberId, { kind: "visit", details: { club: "east" } })
    const landed = await a.recordActivity(memberId, { kind: "visit", details: { club: "west" } })
    const { versions, chained } = await versionsAndChain(store, memberId)
    expect(versions).toEqual([1, 2, 3, 4, 5, 6, 7])
    expect(landed.version).toBe(7)
    expect(chained).toBe(true)
  })

  it("R23: a refusal on a stale kept state is decided again on a fresh read (the restriction another instance lifted)", async () => {
    const { a, b, store } = await twoInstances()
    const memberId = await registered(a)
    await a.restrictProcessing(memberId, { reason: "accuracy contested", actor: admin })
    await b.liftRestriction(memberId, { actor: admin })
    // a still keeps the restricted state; erasing is refused under a restriction, and allowed now.
    await a.erasePersonalData(memberId, { categories: ["contact"], reason: "asked", actor: admin })
    const events = await store.events.readStream(memberStream(memberId))
    expect(events.map((event) => event.type)).toContain("PersonalDataErased")
    expect((await a.get(memberId)).data.contact).toBeUndefined()
  })

  it("R2: a member another instance anonymized is refused as erased, never as a destroyed key", async () => {
    const { a, b, fresh } = await twoInstances()
    const memberId = await registered(a)
    await a.recordActivity(memberId, { kind: "visit", details: { club: "north" } })
    await b.anonymize(memberId, { actor: admin, confirmEmail: "lukasz@example.pl" })
    const attempt = () =>
      a.recordPersonalData(memberId, {
        category: "contact",
        fields: { email: "nowy@example.pl" },
        source: "staff",
      })
    const stale = await rejection(attempt())
    const reference = await rejection(
      (await fresh()).recordPersonalData(memberId, {
        category: "contact",
        fields: { email: "nowy@example.pl" },
        source: "staff",
      }),
    )
    expect(stale).toEqual(reference)
    expect(stale).toMatchObject({ _tag: "MemberErased" })
  })

  it("R8: a refused command on a current kept state writes nothing and gives the fresh answer", async () => {
    const { a, store, fresh } = await twoInstances()
    const memberId = await registered(a)
    await a.restrictProcessing(memberId, { reason: "accuracy contested", actor: admin })
    const before = await versionsAndChain(store, memberId)
    const stale = await rejection(
      a.erasePersonalData(memberId, { categories: ["contact"], reason: "asked", actor: admin }),
    )
    const reference = await rejection(
      (await fresh()).erasePersonalData(memberId, { categories: ["contact"], reason: "asked", actor: admin }),
    )
    expect(stale).toEqual(reference)
    expect(await versionsAndChain(store, memberId)).toEqual(before)
  })
})
