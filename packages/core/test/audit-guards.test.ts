/**
 * Each guarded event is re-checked against the state just before it: a log in
 * which someone slipped an event past the guards (forged here, with the chain
 * recomputed so that only the broken rule shows) yields exactly one finding,
 * naming the stream, the version and the requirement.
 */
import type { StoredEvent } from "@lethe/core/spi"
import { memberStream } from "@lethe/core/spi"
import { describe, expect, it } from "vitest"
import type { World } from "./audit-logs.js"
import { admin, anna, audit, auditWorld, day, forged, insert, logOf, world } from "./audit-logs.js"

const anonymized = {
  erasedCategories: ["contact", "identity"],
  keptCategories: [],
  policyId: null,
  requestId: null,
}
const consentBasis = (w: World) => ({
  basis: "consent",
  consentGivenAt: w.now(),
  method: "double-opt-in",
  wordingVersion: "v1",
})
const message = (purpose: string, lawfulBasis: unknown, test = false) => ({
  messageId: `m-${purpose}`,
  purpose,
  channel: "email",
  sentBy: "campaign:x",
  test,
  lawfulBasis,
})
const noBasis = { basis: "legitimate-interest", consentGivenAt: null, method: null, wordingVersion: null }

/** The log of the world with one forged event for `memberId` at the world's time. */
const withForged = async (w: World, memberId: string, type: string, data: Record<string, unknown>) => {
  const event = forged(memberId, type, data, w.now())
  const log = insert(await logOf(w.store), event)
  const stored = log.find((e) => e.metadata.correlationId === "forged") as StoredEvent
  return { log, stored }
}

/** Audits the log and expects one finding, of `rule`, at the forged event. */
const expectOne = async (
  w: World,
  memberId: string,
  type: string,
  data: Record<string, unknown>,
  rule: string,
) => {
  expect((await audit(await logOf(w.store), { asOf: new Date(w.now()) })).findings).toEqual([])
  const { log, stored } = await withForged(w, memberId, type, data)
  const report = await audit(log, { asOf: new Date(w.now()) })
  expect(report.findings.map((f) => `${f.rule} ${f.streamId}@${f.version}#${f.position}`)).toEqual([
    `${rule} ${memberStream(memberId)}@${stored.version}#${stored.position}`,
  ])
  const [finding] = report.findings
  if (finding === undefined) throw new Error("no finding")
  return finding
}

describe("audit: anonymization guards", () => {
  it("R25: Anonymized while the wallet held money, a contract ran and a debt case was open lists every blocker", async () => {
    const w = await world()
    const id = await anna(w)
    await w.lethe.creditWallet(id, { amount: 2_000 })
    await w.lethe.signContract(id, { contractId: "c1", clubId: "club-a", startsAt: new Date(w.now() - day) })
    await w.lethe.signContract(id, {
      contractId: "c2",
      clubId: "club-a",
      startsAt: new Date(w.now() + 30 * day),
    })
    await w.lethe.openDebtCase(id, { caseId: "d1", clubId: "club-b" })
    const refusal = await w.lethe
      .anonymize(id, { actor: admin, confirmEmail: "anna@example.org" })
      .catch((e: { reasons: ReadonlyArray<string> }) => e.reasons)
    w.advance(1)
    const finding = await expectOne(w, id, "Anonymized", anonymized, "anonymization-guard")
    expect(finding.requirements).toEqual(["R25"])
    expect(finding.evidence.blockers).toEqual([
      "ActiveContract",
      "FutureContract",
      "OpenDebtCase",
      "WalletNotEmpty",
    ])
    expect(finding.evidence.blockers).toEqual(refusal)
    expect(finding.evidence).toMatchObject({ walletBalance: 2_000, openDebtCases: [{ caseId: "d1" }] })
  })

  it("R23: Anonymized while processing was restricted", async () => {
    const w = await world()
    const id = await anna(w)
    await w.lethe.restrictProcessing(id, { reason: "accuracy contested" })
    const finding = await expectOne(w, id, "Anonymized", anonymized, "anonymization-guard")
    expect(finding.requirements).toEqual(["R23", "R25"])
    expect(finding.evidence.blockers).toEqual(["ProcessingRestricted"])
  })

  it("R22: Anonymized twice", async () => {
    const w = await world()
    const id = await anna(w)
    await w.lethe.anonymize(id, { actor: admin, confirmEmail: "anna@example.org" })
    const finding = await expectOne(w, id, "Anonymized", anonymized, "anonymization-guard")
    expect(finding.requirements).toEqual(["R22", "R25"])
  })

  it("R25: a contract ended early and an emptied wallet block nothing", async () => {
    const w = await world()
    const id = await anna(w)
    await w.lethe.creditWallet(id, { amount: 500 })
    await w.lethe.debitWallet(id, { amount: 500 })
    await w.lethe.signContract(id, { contractId: "c1", clubId: "a", startsAt: new Date(w.now() - day) })
    await w.lethe.endContract(id, { contractId: "c1" })
    await w.lethe.anonymize(id, { actor: admin, confirmEmail: "anna@example.org" })
    expect((await auditWorld(w)).findings).toEqual([])
  })
})

describe("audit: erasure under restriction", () => {
  it("R37, R23: Forgotten while processing was restricted, which forget refuses with ErasureBlocked", async () => {
    const w = await world()
    const id = await anna(w)
    await w.lethe.restrictProcessing(id, { reason: "accuracy contested" })
    await expect(w.lethe.forget(id, { actor: admin })).rejects.toMatchObject({
      _tag: "ErasureBlocked",
      reasons: ["ProcessingRestricted"],
    })
    w.advance(1)
    const finding = await expectOne(
      w,
      id,
      "Forgotten",
      { restorableUntil: w.now() + 7 * day, requestId: null },
      "erasure-guard",
    )
    expect(finding.requirements).toEqual(["R23"])
  })

  it("R37, R23: an erasure after the restriction was lifted is clean", async () => {
    const w = await world()
    const id = await anna(w)
    await w.lethe.restrictProcessing(id, { reason: "accuracy contested" })
    await w.lethe.liftRestriction(id)
    await w.lethe.forget(id, { actor: admin })
    expect((await auditWorld(w)).findings).toEqual([])
  })
})

describe("audit: messages", () => {
  it("R2: a message, even a test one, after the member was forgotten", async () => {
    const w = await world()
    const id = await anna(w)
    await w.lethe.forget(id, { actor: admin })
    const finding = await expectOne(
      w,
      id,
      "MessageSent",
      message("newsletter", consentBasis(w), true),
      "message-guard",
    )
    expect(finding.requirements).toEqual(["R2"])
    expect(finding.evidence).toMatchObject({ blockers: ["MemberErased"], test: true, status: "forgotten" })
  })

  it("R4: a message for a purpose the member unsubscribed from", async () => {
    const w = await world()
    const id = await anna(w)
    await w.lethe.unsubscribe(id, { purpose: "newsletter", via: "link" })
    const finding = await expectOne(
      w,
      id,
      "MessageSent",
      message("newsletter", consentBasis(w)),
      "message-guard",
    )
    expect(finding.requirements).toEqual(["R4"])
    expect(finding.evidence.unsubscribedAt).toBe(new Date(w.now()).toISOString())
  })

  it("R16: a message without a lawful basis, or for a purpose the catalogue does not know", async () => {
    const w = await world()
    const id = await anna(w)
    const finding = await expectOne(w, id, "MessageSent", message("sms", noBasis), "message-guard")
    expect(finding.requirements).toEqual(["R16"])
    expect(finding.evidence.blockers).toEqual(["NoLawfulBasis"])
    const unknown = await expectOne(w, id, "MessageSent", message("lottery", noBasis), "message-guard")
    expect(unknown.message).toMatch(/not in the consent catalogue/)
  })

  it("R16: legitimate interest covers marketing to a customer, not to a mere subscriber", async () => {
    const w = await world()
    const id = await anna(w)
    const basis = { basis: "legitimate-interest", consentGivenAt: null, method: null, wordingVersion: null }
    await expectOne(w, id, "MessageSent", message("marketing", basis), "message-guard")
    await w.lethe.recordPurchase(id, { purchaseId: "p1", amount: 100, paid: true })
    await w.lethe.sendMessage(id, { purpose: "marketing", channel: "email", sentBy: "campaign:x" })
    expect((await auditWorld(w)).findings).toEqual([])
  })

  it("R23: a message while processing was restricted", async () => {
    const w = await world()
    const id = await anna(w)
    await w.lethe.restrictProcessing(id, { reason: "objection pending" })
    const finding = await expectOne(
      w,
      id,
      "MessageSent",
      message("newsletter", consentBasis(w)),
      "message-guard",
    )
    expect(finding.requirements).toEqual(["R23"])
  })

  it("R31: a profiling message while profiling was off", async () => {
    const w = await world()
    const id = await anna(w)
    await w.lethe.giveConsent(id, { purpose: "profiling", method: "checkbox", source: "form" })
    await w.lethe.disableProfiling(id)
    const basis = { ...consentBasis(w), method: "checkbox" }
    const finding = await expectOne(w, id, "MessageSent", message("profiling", basis), "message-guard")
    expect(finding.requirements).toEqual(["R31"])
  })

  it("R3: a message that records a basis other than the one in force", async () => {
    const w = await world()
    const id = await anna(w)
    const finding = await expectOne(
      w,
      id,
      "MessageSent",
      message("newsletter", { ...consentBasis(w), wordingVersion: "v9" }),
      "message-proof",
    )
    expect(finding.requirements).toEqual(["R3"])
    expect(finding.evidence).toMatchObject({
      recorded: { wordingVersion: "v9" },
      inForce: { wordingVersion: "v1" },
    })
  })
})

describe("audit: erasure, restore and purge", () => {
  it("R2: activity recorded after anonymization, and data after purge", async () => {
    const w = await world()
    const id = await anna(w)
    await w.lethe.anonymize(id, { actor: admin, confirmEmail: "anna@example.org" })
    const activity = { kind: "visit", clubId: null, details: {} }
    const finding = await expectOne(w, id, "ActivityRecorded", activity, "erased-member")
    expect(finding.requirements).toEqual(["R2"])

    const v = await world()
    const other = await anna(v)
    await v.lethe.forget(other, { actor: admin })
    v.advance(8)
    await v.lethe.runRetention()
    const data = {
      category: "address",
      fields: { street: { _tag: "Erased", category: "address", digest: "00" } },
      source: { kind: "staff" },
    }
    await expectOne(v, other, "PersonalDataRecorded", data, "erased-member")
  })

  it("R5: Restored after the restore window ended", async () => {
    const w = await world()
    const id = await anna(w)
    await w.lethe.forget(id, { actor: admin })
    w.advance(8)
    const finding = await expectOne(w, id, "Restored", { by: "staff" }, "restore-guard")
    expect(finding.requirements).toEqual(["R5"])
    expect(finding.message).toMatch(/after the restore window ended/)
  })

  it("R22: Restored after anonymization", async () => {
    const w = await world()
    const id = await anna(w)
    await w.lethe.anonymize(id, { actor: admin, confirmEmail: "anna@example.org" })
    const finding = await expectOne(w, id, "Restored", { by: "staff" }, "restore-guard")
    expect(finding.requirements).toEqual(["R22"])
  })

  it("R5: a restore within the window, through subscribe, is clean", async () => {
    const w = await world()
    const id = await anna(w)
    await w.lethe.forget(id, { actor: admin })
    w.advance(6)
    await w.lethe.subscribe({
      tenantId: "club",
      email: "anna@example.org",
      purpose: "newsletter",
      source: "form",
    })
    expect((await w.lethe.get(id)).status).toBe("active")
    expect((await auditWorld(w)).findings).toEqual([])
  })

  it("R5: Purged before the restore window ended", async () => {
    const w = await world()
    const id = await anna(w)
    await w.lethe.forget(id, { actor: admin })
    w.advance(2)
    const finding = await expectOne(w, id, "Purged", {}, "purge-guard")
    expect(finding.requirements).toEqual(["R5"])
  })

  it("R5: Forgotten with a restore window shorter than the configured one", async () => {
    const w = await world()
    const id = await anna(w)
    const finding = await expectOne(
      w,
      id,
      "Forgotten",
      { restorableUntil: w.now() + day, requestId: null },
      "restore-window",
    )
    expect(finding.requirements).toEqual(["R5"])
    const longer = await audit(await logOf(w.store), { config: { restoreWindowDays: 1 } })
    expect(longer.findings).toEqual([])
  })
})

describe("audit: special categories and lifecycle", () => {
  const health = {
    category: "health",
    fields: { bmi: { _tag: "Erased", category: "health", digest: "00" } },
    source: { kind: "staff" },
  }

  it("R17: health data recorded without an explicit consent", async () => {
    const w = await world()
    const id = await anna(w)
    const finding = await expectOne(w, id, "PersonalDataRecorded", health, "special-category")
    expect(finding.requirements).toEqual(["R17"])
    expect(finding.evidence).toMatchObject({ category: "health", coveringPurposes: ["health-data"] })
  })

  it("R17: health data under an explicit consent in force is clean; after its withdrawal it is not", async () => {
    const w = await world()
    const id = await anna(w)
    await w.lethe.giveConsent(id, {
      purpose: "health-data",
      explicit: true,
      method: "paper",
      source: "staff",
    })
    await w.lethe.recordPersonalData(id, { category: "health", fields: { bmi: "22" }, source: "staff" })
    expect((await auditWorld(w)).findings).toEqual([])
    await w.lethe.withdrawConsent(id, { purpose: "health-data" })
    await expectOne(w, id, "PersonalDataRecorded", health, "special-category")
  })

  it("R35: an event in a stream that was never registered", async () => {
    const w = await world()
    await anna(w)
    const stray = forged("ghost", "WalletCredited", { amount: 5 }, w.now())
    const report = await audit(insert(await logOf(w.store), stray))
    expect(report.findings.map((f) => `${f.rule} ${f.streamId}@${f.version}`)).toEqual([
      "lifecycle member-ghost@1",
    ])
  })

  it("R35: a report on one tenant's log finds nothing personal to show, only ids and times", async () => {
    const w = await world()
    const id = await anna(w)
    await w.lethe.creditWallet(id, { amount: 900 })
    const { log } = await withForged(w, id, "Anonymized", anonymized)
    const text = JSON.stringify(await audit(log))
    expect(text).toContain(id)
    expect(text).not.toContain("anna@example.org")
  })
})
