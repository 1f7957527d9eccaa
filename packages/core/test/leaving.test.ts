/**
 * R44: why a person leaves. `unsubscribe`, `withdrawConsent` and `forget`
 * take a reason from a fixed set and, optionally, the person's own words;
 * the reason is recorded in clear (it is not personal: staff count it), the
 * words sealed under the member's key, gone with its erasure. Both show in
 * the member's export; the audit counts the reasons.
 */
import type { LetheStore } from "@lethe/core"
import { auditLog } from "@lethe/core/audit"
import { readAllEvents } from "@lethe/core/spi"
import { describe, expect, it } from "vitest"
import { admin, day, rejection, setup } from "./rights-setup.js"

const words = "Trzy maile tygodniowo to za dużo — Ewa-R44-note"

/** Every byte the store holds of its log, as text. */
const logText = async (store: LetheStore): Promise<string> => {
  const events: Array<unknown> = []
  for await (const event of readAllEvents(store.events)) events.push(event)
  return JSON.stringify(events)
}

const register = async (lethe: Awaited<ReturnType<typeof setup>>["lethe"], name: string) => {
  const { memberId } = await lethe.register({
    tenantId: "shop",
    personal: { name, email: `${name.toLowerCase()}@example.org` },
    source: "form",
  })
  await lethe.giveConsent(memberId, { purpose: "newsletter", method: "double-opt-in", source: "form" })
  return memberId
}

describe("R44: why a person leaves", () => {
  it("R44: an unsubscribe and a withdrawal record why, and the person's words sealed; the export shows both", async () => {
    const { lethe, store } = await setup()
    const ewa = await register(lethe, "Ewa")
    await lethe.unsubscribe(ewa, {
      purpose: "newsletter",
      via: "link",
      leaving: { why: "too-many-messages", note: words },
    })
    await lethe.withdrawConsent(ewa, { purpose: "newsletter", leaving: { why: "not-interested" } })
    // The words are sealed: not in the stored log, in any form.
    expect(await logText(store)).not.toContain("Ewa-R44-note")
    const exported = await lethe.exportMember(ewa, { format: "json", actor: admin })
    if (exported.format !== "json") throw new Error("expected json")
    expect(exported.document.consentHistory.map(({ action, why, note }) => ({ action, why, note }))).toEqual([
      { action: "given", why: null, note: null },
      { action: "unsubscribed", why: "too-many-messages", note: words },
      { action: "withdrawn", why: "not-interested", note: null },
    ])
    const csv = await lethe.exportMember(ewa, { format: "csv", actor: admin })
    if (csv.format !== "csv") throw new Error("expected csv")
    expect(JSON.stringify(csv)).toContain("too-many-messages")
  })

  it("R44, R29: after purge the person's words are erased, the reason is kept for the statistics, and the audit counts it", async () => {
    const { lethe, store, clock } = await setup()
    const ewa = await register(lethe, "Ewa")
    const jan = await register(lethe, "Jan")
    await lethe.unsubscribe(ewa, {
      purpose: "newsletter",
      via: "link",
      leaving: { why: "too-many-messages", note: words },
    })
    await lethe.forget(ewa, { actor: admin, leaving: { why: "wants-deletion", note: `${words} (forget)` } })
    await lethe.unsubscribe(jan, {
      purpose: "newsletter",
      via: "staff",
      leaving: { why: "too-many-messages" },
    })
    clock.advance(8 * day)
    await lethe.runRetention()
    expect((await lethe.get(ewa)).status).toBe("purged")
    expect(await logText(store)).not.toContain("Ewa-R44-note")
    const events = []
    for await (const event of readAllEvents(store.events)) events.push(event)
    const forgotten = events.find((e) => e.type === "Forgotten")
    expect(forgotten?.data).toMatchObject({
      why: "wants-deletion",
      note: { _tag: "Erased", category: "notes" },
    })
    const report = await auditLog(events, { asOf: new Date(clock.millis()) })
    expect(report.summary.leaving).toEqual({
      "too-many-messages": { unsubscribed: 2, withdrawn: 0, forgotten: 0 },
      "wants-deletion": { unsubscribed: 0, withdrawn: 0, forgotten: 1 },
    })
    expect(report.findings.filter((f) => f.rule === "sealing")).toEqual([])
  })

  it("R44, R45: a reason outside the set, or words with a control character, is InvalidCommand and writes nothing", async () => {
    const { lethe, store } = await setup()
    const ewa = await register(lethe, "Ewa")
    const before = await logText(store)
    for (const leaving of [
      { why: "angry" },
      { why: "other", note: "bad\u0000byte" },
      { why: "other", note: "   " },
      "too-many-messages",
      null,
    ])
      expect(
        await rejection(
          lethe.unsubscribe(ewa, { purpose: "newsletter", via: "link", leaving: leaving as never }),
        ),
      ).toMatchObject({ _tag: "InvalidCommand" })
    expect(
      await rejection(lethe.forget(ewa, { actor: admin, leaving: { why: "bored" as never } })),
    ).toMatchObject({
      _tag: "InvalidCommand",
    })
    expect(await logText(store)).toBe(before)
  })
})
