/**
 * R23 through the facade: restricted data is neither deleted nor anonymized. A
 * restricted member's erasure is refused with `ErasureBlocked` by every way in
 * (forget, forgetMany, erasePersonalData), writes nothing, and goes on once the
 * restriction is lifted, fulfilling the erasure request it was waiting on.
 */
import { auditLog } from "@lethe/core/audit"
import { readAllEvents } from "@lethe/core/spi"
import { describe, expect, it } from "vitest"
import { admin, day, rejection, setup } from "./rights-setup.js"

describe("R37, R23: an erasure waits for a restriction to be lifted", () => {
  it("R37, R23: forget, forgetMany and erasePersonalData refuse a restricted member with ErasureBlocked and write nothing; lifting lets the pending request go on", async () => {
    const { lethe, store, clock } = await setup()
    const register = async (name: string, email: string) =>
      (await lethe.register({ tenantId: "gym", personal: { name, email }, source: "form" })).memberId
    const held = await register("Held", "held@example.org")
    const free = await register("Free", "free@example.org")
    await lethe.restrictProcessing(held, { reason: "the member contests the data's accuracy" })
    const { requestId } = await lethe.requestErasure(held, { via: "email" })
    /** Events of the members' streams (a signed checkpoint may follow an erasure in its own stream). */
    const memberEvents = async () => {
      let n = 0
      for await (const event of readAllEvents(store.events)) if (event.streamId.startsWith("member-")) n += 1
      return n
    }
    const before = await memberEvents()

    const blocked = { _tag: "ErasureBlocked", memberId: held, reasons: ["ProcessingRestricted"] }
    expect(await rejection(lethe.forget(held, { actor: admin, requestId }))).toMatchObject({
      ...blocked,
      attempted: "Forget",
    })
    expect(
      await rejection(
        lethe.erasePersonalData(held, { actor: admin, categories: ["contact"], reason: "asked by e-mail" }),
      ),
    ).toMatchObject({ ...blocked, attempted: "ErasePersonalData" })
    const many = await lethe.forgetMany([held, free], { actor: admin })
    expect(many).toMatchObject([
      { memberId: held, ok: false, error: { _tag: "ErasureBlocked" } },
      { memberId: free, ok: true },
    ])
    // Only the free member's forget was written.
    expect(await memberEvents()).toBe(before + 1)
    expect((await lethe.get(held)).status).toBe("active")

    clock.advance(day)
    await lethe.liftRestriction(held)
    await lethe.forget(held, { actor: admin, requestId })
    expect((await lethe.get(held)).status).toBe("forgotten")

    // Sixty days on, the request would be overdue had the forget not fulfilled it; no erasure broke R23.
    const report = await auditLog(readAllEvents(store.events), { asOf: new Date(clock.millis() + 60 * day) })
    expect(
      report.findings.filter((f) => f.rule === "erasure-guard" || f.rule === "erasure-deadline"),
    ).toEqual([])
  })
})
