import { auditLog, verifyStream } from "@lethe/core/audit"
import type { StoredEvent } from "@lethe/core/spi"
import { memberStream } from "@lethe/core/spi"
import { describe, expect, it } from "vitest"
import { checkLink, emptyChain } from "../src/audit/hash-chain.js"
import { admin, anna, audit, auditWorld, brief, logOf, world } from "./audit-logs.js"

/** A member with a few events, purged, so the log holds sealed and erased values. */
const cleanLog = async () => {
  const w = await world()
  const memberId = await anna(w)
  await w.lethe.sendMessage(memberId, { purpose: "newsletter", channel: "email", sentBy: "campaign:1" })
  await w.lethe.recordActivity(memberId, { kind: "visit", clubId: "c1", details: { door: "north" } })
  const other = await w.lethe.register({ tenantId: "club", personal: { name: "Bob" }, source: "staff" })
  await w.lethe.creditWallet(other.memberId, { amount: 1_000 })
  await w.lethe.creditWallet(memberId, { amount: 2_000 })
  return { w, memberId, otherId: other.memberId, events: await logOf(w.store) }
}

const replace = (events: ReadonlyArray<StoredEvent>, at: number, change: (e: StoredEvent) => StoredEvent) =>
  events.map((e, i) => (i === at ? change(e) : e))

describe("audit: hash chains", () => {
  it("R35: a log written through the facade audits clean, with every check run", async () => {
    const { w } = await cleanLog()
    const report = await auditWorld(w)
    expect(report.clean).toBe(true)
    expect(report.findings).toEqual([])
    expect(report.summary.events).toBe((await logOf(w.store)).length)
    expect(report.summary.streams).toBe(2)
    expect(report.checks.every((c) => c.checked)).toBe(true)
  })

  it("R35: a changed event is named by stream and version, and reported once", async () => {
    const { events, memberId } = await cleanLog()
    const index = events.findIndex(
      (e) => e.type === "WalletCredited" && e.streamId === memberStream(memberId),
    )
    const target = events[index] as StoredEvent
    const tampered = replace(events, index, (e) => ({ ...e, data: { ...(e.data as object), amount: 2_001 } }))
    const report = await audit(tampered)
    expect(brief(report)).toEqual([`hash-chain ${target.streamId}@${target.version}`])
    expect(report.findings[0]?.evidence).toMatchObject({ problem: "hash-mismatch" })
    expect(report.findings[0]?.position).toBe(target.position)
    expect(report.findings[0]?.requirements).toEqual(["R35"])
  })

  it("R35: an event removed from the middle of a stream is named by the missing version", async () => {
    const { events, memberId } = await cleanLog()
    const stream = memberStream(memberId)
    const index = events.findIndex((e) => e.streamId === stream && e.version === 3)
    const report = await audit(events.filter((_, i) => i !== index))
    expect(brief(report)).toEqual([`hash-chain ${stream}@3`])
    expect(report.findings[0]?.message).toMatch(/version 3 missing/)
    expect(report.findings[0]?.evidence).toMatchObject({ problem: "version-gap", storedVersion: 4 })
  })

  it("R35: a changed ciphertext fails its committed digest", async () => {
    const { events } = await cleanLog()
    const index = events.findIndex((e) => e.type === "ActivityRecorded")
    const target = events[index] as StoredEvent
    const tampered = replace(events, index, (e) => {
      const data = e.data as { details: Record<string, { ciphertext: string }> }
      const door = data.details.door as { ciphertext: string }
      const flipped = `${door.ciphertext.startsWith("A") ? "B" : "A"}${door.ciphertext.slice(1)}`
      return { ...e, data: { ...data, details: { door: { ...door, ciphertext: flipped } } } }
    })
    const report = await audit(tampered)
    expect(brief(report)).toEqual([`hash-chain ${target.streamId}@${target.version}`])
    expect(report.findings[0]?.evidence).toMatchObject({ problem: "digest-mismatch" })
  })

  it("R35: a stream whose last event was removed is caught against the directory", async () => {
    const { w, memberId } = await cleanLog()
    const stream = memberStream(memberId)
    const events = await logOf(w.store)
    const last = events.findLast((e) => e.streamId === stream) as StoredEvent
    const truncated = events.filter((e) => e !== last)
    expect((await audit(truncated)).clean).toBe(true)
    const report = await auditLog(truncated, {
      streamVersion: async (id) => (await w.store.directory.get(id))?.version,
    })
    expect(brief(report)).toEqual([`hash-chain ${stream}@${last.version}`])
    expect(report.findings[0]?.evidence).toMatchObject({ problem: "stream-truncated" })
  })

  it("R35: an event moved to another stream, or events swapped, break the chain", async () => {
    const { events, otherId } = await cleanLog()
    const moved = replace(events, events.length - 1, (e) => ({ ...e, streamId: memberStream(otherId) }))
    expect((await audit(moved)).findings.map((f) => `${f.rule} ${f.streamId}`)).toEqual([
      `hash-chain ${memberStream(otherId)}`,
    ])
    const [a, b] = [events[3] as StoredEvent, events[4] as StoredEvent]
    const swapped = events.map((e, i) => (i === 3 ? b : i === 4 ? a : e))
    expect((await audit(swapped)).clean).toBe(false)
  })

  it("R35: checkLink and verifyStream agree on every link", async () => {
    const { events, memberId } = await cleanLog()
    const stream = events.filter((e) => e.streamId === memberStream(memberId))
    expect(verifyStream(memberStream(memberId), stream).ok).toBe(true)
    let head = emptyChain
    for (const event of stream) {
      expect(checkLink(event.streamId, head, event)).toBeUndefined()
      head = { version: event.version, hash: event.hash }
    }
    const broken = [...stream.slice(0, 2), ...stream.slice(3)]
    expect(verifyStream(memberStream(memberId), broken)).toMatchObject({ ok: false, problem: "version-gap" })
  })

  it("R29: the audit needs no key and holds no personal value, even of a member still active", async () => {
    const { w } = await cleanLog()
    const events = await logOf(w.store)
    const tampered = events.map((e) =>
      e.type === "WalletCredited" ? { ...e, data: { ...(e.data as object), amount: 1 } } : e,
    )
    const text = JSON.stringify(await audit(tampered))
    for (const personal of ["Anna", "Kowalska", "anna@example.org", "600 100 200", "north", "Bob"])
      expect(text).not.toContain(personal)
  })

  it("R29: a personal value stored in clear is a finding, and its value is not reported", async () => {
    const { events, memberId } = await cleanLog()
    const index = events.findIndex((e) => e.type === "PersonalDataRecorded")
    const target = events[index] as StoredEvent
    const leaked = replace(events, index, (e) => ({
      ...e,
      data: { ...(e.data as object), fields: { name: "Anna Kowalska" } },
    }))
    const report = await audit(leaked)
    expect(brief(report)).toContain(`sealing ${memberStream(memberId)}@${target.version}`)
    expect(JSON.stringify(report)).not.toContain("Kowalska")
  })

  it("R35: an event that does not decode is reported and the replay goes on", async () => {
    const { events } = await cleanLog()
    const index = events.findIndex((e) => e.type === "WalletCredited")
    const target = events[index] as StoredEvent
    const report = await audit(replace(events, index, (e) => ({ ...e, type: "WalletEmptied" })))
    expect(brief(report)).toContain(`event-schema ${target.streamId}@${target.version}`)
  })

  it("R35: an event whose type names a property of every object (constructor, __proto__) is reported, not a crash", async () => {
    const { events } = await cleanLog()
    const index = events.findIndex((e) => e.type === "WalletCredited")
    const target = events[index] as StoredEvent
    for (const type of ["constructor", "__proto__", "toString"]) {
      const report = await audit(replace(events, index, (e) => ({ ...e, type })))
      expect(brief(report)).toContain(`event-schema ${target.streamId}@${target.version}`)
    }
  })

  it("R35: the report counts events, streams and members by status", async () => {
    const { w, memberId } = await cleanLog()
    await w.lethe.forget(memberId, { actor: admin })
    const report = await auditWorld(w)
    expect(report.summary.members).toEqual({ active: 1, forgotten: 1, purged: 0, anonymized: 0 })
    expect(report.summary.messages).toBe(1)
    expect(report.timeline.map((d) => d.forgotten).reduce((a, b) => a + b, 0)).toBe(1)
  })
})
