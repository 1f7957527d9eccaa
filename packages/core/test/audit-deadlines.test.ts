/**
 * Deadlines the audit judges at a given time (`asOf`): erasure and access
 * requests fulfilled by their due date, forgotten members purged by the end
 * of the window plus a grace period, and purged members' keys destroyed.
 */

import { memberStream } from "@lethe/core/spi"
import { describe, expect, it } from "vitest"
import { dataKeyId } from "../src/sealing/seal.js"
import { admin, anna, audit, auditWorld, day, logOf, world } from "./audit-logs.js"

const versionOf = async (w: Awaited<ReturnType<typeof world>>, memberId: string, type: string) =>
  (await logOf(w.store)).findLast((e) => e.streamId === memberStream(memberId) && e.type === type)

describe("audit: request deadlines", () => {
  it("R11: an erasure request still open after its due date, as of the audit's time", async () => {
    const w = await world()
    const id = await anna(w)
    const { requestId, dueBy } = await w.lethe.requestErasure(id, { via: "email" })
    const request = await versionOf(w, id, "ErasureRequested")
    w.advance(29)
    expect((await auditWorld(w)).findings).toEqual([])
    w.advance(2)
    const report = await auditWorld(w)
    expect(report.findings.map((f) => `${f.rule} ${f.streamId}@${f.version}`)).toEqual([
      `erasure-deadline ${memberStream(id)}@${request?.version}`,
    ])
    expect(report.findings[0]).toMatchObject({ requirements: ["R11"], at: dueBy, evidence: { requestId } })
    expect(report.summary.erasureRequests).toEqual({ total: 1, fulfilled: 0, open: 1 })
  })

  it("R11: an erasure request fulfilled by forget in time is clean, fulfilled late is a finding", async () => {
    const w = await world()
    const id = await anna(w)
    await w.lethe.requestErasure(id, { via: "letter", receivedAt: new Date(w.now() - 10 * day) })
    await w.lethe.forget(id, { actor: admin })
    expect((await auditWorld(w)).findings).toEqual([])

    const late = await world()
    const other = await anna(late)
    await late.lethe.requestErasure(other, { via: "letter", receivedAt: new Date(late.now() - 40 * day) })
    await late.lethe.anonymize(other, { actor: admin, confirmEmail: "anna@example.org" })
    const anonymized = await versionOf(late, other, "Anonymized")
    const report = await auditWorld(late)
    expect(report.findings.map((f) => `${f.rule}@${f.version}`)).toEqual([
      `erasure-deadline@${anonymized?.version}`,
    ])
    expect(report.findings[0]?.message).toMatch(/fulfilled 10\.0 days after its due date/)
  })

  it("R11: a request due later than the configured deadline allows", async () => {
    const w = await world()
    const id = await anna(w)
    await w.lethe.requestErasure(id, { via: "email" })
    const report = await auditWorld(w, { config: { erasureDeadlineDays: 14 } })
    expect(report.findings.map((f) => f.rule)).toEqual(["erasure-deadline"])
    expect(report.findings[0]?.message).toMatch(/due 30\.0 days after receipt; the deadline is 14 days/)
  })

  it("R13: an access request open past its due date", async () => {
    const w = await world()
    const id = await anna(w)
    await w.lethe.requestAccess(id, { via: "form" })
    w.advance(45)
    const report = await auditWorld(w)
    expect(report.findings.map((f) => [f.rule, f.requirements])).toEqual([["access-deadline", ["R13"]]])
  })
})

describe("audit: purge deadlines and keys", () => {
  it("R29: a forgotten member not purged by the end of the window plus the grace period", async () => {
    const w = await world()
    const id = await anna(w)
    await w.lethe.forget(id, { actor: admin })
    const forgotten = await versionOf(w, id, "Forgotten")
    w.advance(8)
    expect((await auditWorld(w)).findings).toEqual([])
    w.advance(1)
    const report = await auditWorld(w)
    expect(report.findings.map((f) => `${f.rule}@${f.version}`)).toEqual([
      `purge-deadline@${forgotten?.version}`,
    ])
    expect(report.findings[0]?.requirements).toEqual(["R29"])
    expect((await auditWorld(w, { purgeGraceDays: 3 })).findings).toEqual([])
  })

  it("R29: a purge after the grace period is late; within it, clean", async () => {
    const w = await world()
    const id = await anna(w)
    await w.lethe.forget(id, { actor: admin })
    w.advance(10)
    await w.lethe.runRetention()
    const purged = await versionOf(w, id, "Purged")
    const report = await auditWorld(w)
    expect(report.findings.map((f) => `${f.rule}@${f.version}`)).toEqual([
      `purge-deadline@${purged?.version}`,
    ])
    expect(report.findings[0]?.message).toMatch(/Purged 2\.0 days after/)

    const v = await world()
    const other = await anna(v)
    await v.lethe.forget(other, { actor: admin })
    v.advance(8)
    await v.lethe.runRetention()
    expect((await auditWorld(v)).findings).toEqual([])
  })

  it("R29: a purged member with a live data key left in the key store", async () => {
    const w = await world()
    const id = await anna(w)
    await w.lethe.forget(id, { actor: admin })
    w.advance(8)
    await w.lethe.runRetention()
    expect((await auditWorld(w)).findings).toEqual([])
    await w.store.keys.put({
      keyId: dataKeyId(id, "photo"),
      tenantId: "club",
      memberId: id,
      category: "photo",
      wrappedKey: "AAAA",
      kekId: "secret-v1",
      createdAt: w.now(),
    })
    const report = await auditWorld(w)
    expect(report.findings.map((f) => [f.rule, f.requirements, f.evidence.liveKeys])).toEqual([
      ["keys-destroyed", ["R29"], [{ keyId: dataKeyId(id, "photo"), category: "photo" }]],
    ])
  })

  it("R24: an anonymized member keeps only its invoice key live", async () => {
    const w = await world()
    const id = await anna(w)
    await w.lethe.recordPersonalData(id, {
      category: "invoice",
      fields: { address: "Main St 1" },
      source: "staff",
    })
    await w.lethe.anonymize(id, { actor: admin, confirmEmail: "anna@example.org" })
    expect((await auditWorld(w)).findings).toEqual([])
    const contactKey = { keyId: dataKeyId(id, "contact"), category: "contact" }
    const report = await auditWorld(w, {
      keys: {
        listForMember: async () => [
          {
            _tag: "Live",
            key: { ...contactKey, tenantId: "club", memberId: id, wrappedKey: "", kekId: "k", createdAt: 0 },
          },
        ],
      },
    })
    expect(report.findings.map((f) => [f.rule, f.requirements])).toEqual([["keys-destroyed", ["R24", "R29"]]])
  })

  it("R24: a category erased from an active member leaves no live key", async () => {
    const w = await world()
    const id = await anna(w)
    await w.lethe.recordPersonalData(id, {
      category: "address",
      fields: { street: "Main St 1" },
      source: "staff",
    })
    await w.lethe.erasePersonalData(id, { categories: ["address"], reason: "moved away", actor: admin })
    expect((await auditWorld(w)).findings).toEqual([])
    const live = (category: string) => ({
      _tag: "Live" as const,
      key: {
        keyId: dataKeyId(id, "address"),
        tenantId: "club",
        memberId: id,
        category,
        wrappedKey: "",
        kekId: "k",
        createdAt: 0,
      },
    })
    const report = await auditWorld(w, {
      keys: { listForMember: async () => [live("address"), live("contact")] },
    })
    expect(report.findings.map((f) => [f.rule, f.evidence.liveKeys])).toEqual([
      ["keys-destroyed", [{ keyId: dataKeyId(id, "address"), category: "address" }]],
    ])
  })

  it("R29: without a key store the key check is reported as skipped, not passed", async () => {
    const w = await world()
    await anna(w)
    const report = await audit(await logOf(w.store))
    const check = report.checks.find((c) => c.rule === "keys-destroyed")
    expect(check).toMatchObject({ checked: false, note: expect.stringMatching(/no key store/) })
  })
})
