/**
 * Issue 19, item 4 (R10): the proof of deletion the person receives. `forget`
 * returns a signed "erasure scheduled" receipt naming the date the data is
 * destroyed by, the final receipt follows the purge, both are recorded in
 * the log (`lethe:receipts:<memberId>`), where the audit verifies them, and
 * both render as a short text or HTML message with no personal data.
 */
import { verify } from "node:crypto"
import type { Actor, LetheStore } from "@lethe/core"
import { createLethe, keyringFromSecret, verifyReceipt } from "@lethe/core"
import type {
  AuditOptions,
  AuditReport,
  Checkpoint,
  ErasureReceipt,
  FinalErasureReceipt,
  ScheduledErasureReceipt,
} from "@lethe/core/audit"
import {
  auditLog,
  hashEvent,
  keyFingerprint,
  receiptDomains,
  receiptPayload,
  receiptStream,
  renderReceipt,
  verifyCheckpoint,
} from "@lethe/core/audit"
import type { StoredEvent } from "@lethe/core/spi"
import { readAllEvents } from "@lethe/core/spi"
import { memoryStore } from "@lethe/store-memory"
import fc from "fast-check"
import { describe, expect, it } from "vitest"

const day = 86_400_000
const keyring = keyringFromSecret("receipt test secret, long enough for HKDF")
const publicKey = await keyring.receiptPublicKey()
const intruder = keyringFromSecret("an intruder's own secret, long enough too")
const admin: Actor = { id: "staff:admin", roles: ["admin"] }
const start = Date.UTC(2026, 2, 2, 9)

const world = async (config: { readonly purgeGraceDays?: number } = {}) => {
  const store: LetheStore = memoryStore()
  let now = start
  const lethe = await createLethe({ store, keyring, clock: () => new Date(now), config })
  const { memberId } = await lethe.register({
    tenantId: "club",
    personal: { name: "Ola Nordmann", email: "ola@example.org" },
    source: "form",
  })
  return {
    store,
    lethe,
    memberId,
    advance: (ms: number) => {
      now += ms
    },
  }
}

const logOf = async (store: LetheStore): Promise<Array<StoredEvent>> => {
  const events: Array<StoredEvent> = []
  for await (const event of readAllEvents(store.events)) events.push(event)
  return events
}

const auditOf = (events: ReadonlyArray<StoredEvent>, options: AuditOptions = {}): Promise<AuditReport> =>
  auditLog(events, { asOf: new Date(start + 3 * day), ...options })

const receiptFindings = (report: AuditReport) =>
  report.findings.filter((f) => f.rule === "erasure-receipt").map((f) => String(f.evidence.problem))

/** The log with the receipt event at `version` of its stream replaced by `receipt`, that stream re-chained with `hashEvent`. */
const replaceReceipt = (
  events: ReadonlyArray<StoredEvent>,
  streamId: string,
  receipt: ErasureReceipt,
): Array<StoredEvent> => {
  let prevHash = ""
  return events.map((event) => {
    if (event.streamId !== streamId) return event
    const changed = event.version === 1 ? { ...event, data: receipt } : event
    const hash = hashEvent(prevHash, changed)
    const linked = { ...changed, prevHash, hash }
    prevHash = hash
    return linked
  })
}

/** `fields` signed by `by`, as a receipt of format 2. */
const signed = async <R extends ScheduledErasureReceipt | FinalErasureReceipt>(
  fields: Omit<R, "signature">,
  by = keyring,
): Promise<R> => {
  const signature = await by.signReceipt(receiptPayload(fields))
  return { ...fields, signature: Buffer.from(signature).toString("base64") } as R
}

describe("R10: erasure receipts", () => {
  it("R10: forget returns a scheduled receipt that verifies and names the destruction date", async () => {
    const w = await world({ purgeGraceDays: 2 })
    const forgotten = await w.lethe.forget(w.memberId, { actor: admin })
    const receipt = forgotten.receipt
    expect(receipt).toMatchObject({
      format: "lethe-erasure-receipt/2",
      status: "scheduled",
      memberId: w.memberId,
      tenantId: "club",
      forgottenAt: new Date(start).toISOString(),
      forgottenBy: admin.id,
      restorableUntil: new Date(start + 7 * day).toISOString(),
      // restorableUntil + config.purgeGraceDays.
      destroyBy: new Date(start + 9 * day).toISOString(),
      keptCategories: [],
      streamHead: { version: forgotten.version },
      keyFingerprint: keyFingerprint(publicKey),
    })
    expect(verifyReceipt(receipt, publicKey)).toBe(true)
    expect(verifyReceipt(receipt, await intruder.receiptPublicKey())).toBe(false)
    // Asked again, the same receipt, recorded once.
    expect(await w.lethe.erasureReceipt(w.memberId)).toEqual(receipt)
    const recorded = await w.store.events.readStream(receiptStream(w.memberId))
    expect(recorded.map((e) => [e.type, e.data])).toEqual([["ErasureReceiptIssued", receipt]])
  })

  it("R10: after the purge the final receipt verifies, is recorded, and the active member has none", async () => {
    const w = await world()
    await expect(w.lethe.erasureReceipt(w.memberId)).rejects.toMatchObject({ _tag: "NotErased" })
    await w.lethe.forget(w.memberId, { actor: admin })
    w.advance(8 * day)
    await w.lethe.purge(w.memberId, { actor: admin })
    const receipt = await w.lethe.erasureReceipt(w.memberId)
    if (receipt.format !== "lethe-erasure-receipt/2" || receipt.status === "scheduled")
      throw new Error("not a final receipt")
    expect(receipt).toMatchObject({
      status: "purged",
      erasedAt: new Date(start + 8 * day).toISOString(),
      erasedBy: admin.id,
      keptCategories: [],
      keptUntil: null,
    })
    expect(receipt.keys.map((k) => k.category).sort()).toEqual(["contact", "identity"])
    expect(verifyReceipt(receipt, publicKey)).toBe(true)
    const recorded = await w.store.events.readStream(receiptStream(w.memberId))
    expect(recorded.map((e) => (e.data as ErasureReceipt).status)).toEqual(["scheduled", "purged"])
    expect(recorded.at(-1)?.data).toEqual(receipt)
    // The erasure's checkpoint covers the receipt (R41): written after it.
    const log = await logOf(w.store)
    expect(log.at(-1)?.streamId).toBe("lethe:checkpoints")
    const report = await auditOf(log, { publicKeys: [publicKey], asOf: new Date(start + 9 * day) })
    expect(report.findings).toEqual([])
    expect(report.summary.streams).toBe(1)
    expect(report.checks.find((c) => c.rule === "erasure-receipt")).toMatchObject({
      requirements: ["R10"],
      checked: true,
      note: "2 of 2 recorded receipt(s) verified, under the public key given",
    })
  })

  it("R10: any changed field of a scheduled receipt fails verification", async () => {
    const w = await world()
    const { receipt } = await w.lethe.forget(w.memberId, { actor: admin })
    const changes: ReadonlyArray<ScheduledErasureReceipt> = [
      { ...receipt, memberId: `${receipt.memberId}0` },
      { ...receipt, tenantId: "other" },
      { ...receipt, forgottenAt: new Date(start + 1).toISOString() },
      { ...receipt, forgottenBy: "someone-else" },
      { ...receipt, restorableUntil: new Date(start + 30 * day).toISOString() },
      { ...receipt, destroyBy: new Date(start + 365 * day).toISOString() },
      { ...receipt, keptCategories: ["invoice"] },
      { ...receipt, streamHead: { ...receipt.streamHead, version: receipt.streamHead.version + 1 } },
      { ...receipt, keyFingerprint: keyFingerprint(await intruder.receiptPublicKey()) },
    ]
    for (const changed of changes) expect(verifyReceipt(changed, publicKey)).toBe(false)
  })

  it("R10: a scheduled receipt's signature does not verify as a final one, nor as a checkpoint", async () => {
    const w = await world()
    const { receipt } = await w.lethe.forget(w.memberId, { actor: admin })
    const { signature, ...fields } = receipt
    const bytes = Buffer.from(signature, "base64")
    const payload = Buffer.from(receiptPayload(fields)).toString()
    expect(payload.startsWith(`${receiptDomains.scheduled}\n{`)).toBe(true)
    // The same fields under the final receipts' domain, and the status changed: neither verifies.
    const asFinal = Buffer.from(payload.replace(receiptDomains.scheduled, receiptDomains.final))
    expect(verify(null, asFinal, publicKey, bytes)).toBe(false)
    expect(verifyReceipt({ ...receipt, status: "purged" } as unknown as ErasureReceipt, publicKey)).toBe(
      false,
    )
    // The signature on a checkpoint of the same key: refused.
    const checkpoint: Checkpoint = {
      format: "lethe-checkpoint/1",
      position: 1,
      logDigest: "0".repeat(64),
      reason: "erasure",
      at: start,
      keyFingerprint: keyFingerprint(publicKey),
      publicKey,
      signature,
    }
    expect(verifyCheckpoint(checkpoint, publicKey)).toBe(false)
    // Nor does a checkpoint's signature verify as a receipt.
    const log = await logOf(w.store)
    const stored = log.find((e) => e.streamId === "lethe:checkpoints")?.data as Checkpoint
    expect(verifyCheckpoint(stored, publicKey)).toBe(true)
    expect(verifyReceipt({ ...receipt, signature: stored.signature }, publicKey)).toBe(false)
  })

  it("R10: the audit finds a forged receipt, its stream re-chained, and one signed by another key", async () => {
    const w = await world()
    const { receipt } = await w.lethe.forget(w.memberId, { actor: admin })
    const log = await logOf(w.store)
    const streamId = receiptStream(w.memberId)
    expect(receiptFindings(await auditOf(log, { publicKeys: [publicKey] }))).toEqual([])
    expect(receiptFindings(await auditOf(log))).toEqual([])

    // A field changed, the chain recomputed with hashEvent: the signature fails.
    const forged = replaceReceipt(log, streamId, {
      ...receipt,
      forgottenBy: "staff:nobody",
    })
    const report = await auditOf(forged, { publicKeys: [publicKey] })
    expect(report.findings.filter((f) => f.rule === "hash-chain")).toEqual([])
    expect(receiptFindings(report)).toEqual(["signature-invalid"])
    expect(report.findings.find((f) => f.rule === "erasure-receipt")).toMatchObject({
      requirements: ["R10"],
      streamId,
      version: 1,
    })

    // Re-signed by another key: refused under the key given, and under the key the log's checkpoints record.
    const { signature: _, ...fields } = receipt
    const intruderKey = await intruder.receiptPublicKey()
    const resigned = await signed<ScheduledErasureReceipt>(
      { ...fields, keyFingerprint: keyFingerprint(intruderKey) },
      intruder,
    )
    expect(verifyReceipt(resigned, intruderKey)).toBe(true)
    const other = replaceReceipt(log, streamId, resigned)
    const given = await auditOf(other, { publicKeys: [publicKey] })
    expect(receiptFindings(given)).toEqual(["signature-invalid"])
    expect(given.findings.find((f) => f.rule === "erasure-receipt")?.message).toMatch(/not the one given/)
    const inLog = await auditOf(other)
    expect(receiptFindings(inLog)).toEqual(["signature-invalid"])
    expect(inLog.findings.find((f) => f.rule === "erasure-receipt")?.message).toMatch(/no valid checkpoint/)
  })

  it("R10: a receipt signed by the controller that does not say what the log says is a finding", async () => {
    const w = await world()
    const { receipt } = await w.lethe.forget(w.memberId, { actor: admin })
    const { signature: _, ...fields } = receipt
    const log = await logOf(w.store)
    const streamId = receiptStream(w.memberId)
    const late = await signed<ScheduledErasureReceipt>({
      ...fields,
      // Beyond the audit's purge deadline (restore window + purgeGraceDays).
      destroyBy: new Date(start + 30 * day).toISOString(),
      forgottenAt: new Date(start - day).toISOString(),
    })
    const report = await auditOf(replaceReceipt(log, streamId, late), { publicKeys: [publicKey] })
    expect(receiptFindings(report)).toEqual(["mismatch"])
    expect(report.findings.find((f) => f.rule === "erasure-receipt")?.evidence.fields).toEqual([
      "forgottenAt",
      "destroyBy",
    ])
    const stranger = await signed<ScheduledErasureReceipt>({ ...fields, memberId: "no-such-member" })
    const orphan = await auditOf(replaceReceipt(log, streamId, stranger), { publicKeys: [publicKey] })
    expect(receiptFindings(orphan)).toEqual(["no-member"])
  })

  it("R10: the text and HTML renderings name the dates and hold no personal data", async () => {
    const w = await world()
    const { receipt } = await w.lethe.forget(w.memberId, { actor: admin })
    const text = renderReceipt(receipt)
    expect(text).toMatch(/^Your personal data is scheduled for erasure\n/)
    expect(text).toContain("2 March 2026 (UTC)")
    expect(text).toContain("Until 9 March 2026 (UTC)")
    expect(text).toContain("on 10 March 2026 (UTC) at the latest")
    expect(text).toContain(receipt.signature)
    expect(text).toContain(receipt.keyFingerprint)
    expect(text).toContain(w.memberId)
    const local = renderReceipt(receipt, { locale: "de-DE", timeZone: "Europe/Berlin" })
    expect(local).toContain("10. März 2026 (Europe/Berlin)")
    w.advance(8 * day)
    await w.lethe.purge(w.memberId, { actor: admin })
    const final = await w.lethe.erasureReceipt(w.memberId)
    const finalText = renderReceipt(final, { controller: "Gym Club" })
    expect(finalText).toMatch(/^Your personal data has been erased\n/)
    expect(finalText).toContain("On 10 March 2026 (UTC) your personal data was erased: 2 encryption key(s)")
    expect(finalText).toContain("Nothing is kept.")
    expect(finalText).toContain("signed by Gym Club")
    const html = renderReceipt(final, { format: "html", controller: 'Gym <Club> & "Spa"' })
    expect(html).toContain("Gym &lt;Club&gt; &amp; &quot;Spa&quot;")
    expect(html).not.toContain("<Club>")
    expect(html).toContain("10 March 2026 (UTC)")
    for (const rendered of [text, local, finalText, html]) {
      expect(rendered).not.toMatch(/Ola|Nordmann|ola@example\.org/)
      expect(rendered).not.toMatch(/staff:admin/)
    }
  })

  it("R10: an anonymization's receipt says what the law keeps, and until when", async () => {
    const w = await world()
    await w.lethe.recordPersonalData(w.memberId, {
      category: "invoice",
      fields: { name: "Ola Nordmann", address: "Storgata 1" },
      source: "staff",
    })
    await w.lethe.anonymize(w.memberId, { actor: admin, confirmEmail: "ola@example.org" })
    const receipt = await w.lethe.erasureReceipt(w.memberId)
    if (receipt.format !== "lethe-erasure-receipt/2" || receipt.status !== "anonymized")
      throw new Error(`not an anonymization receipt: ${receipt.status}`)
    expect(verifyReceipt(receipt, publicKey)).toBe(true)
    expect(receipt).toMatchObject({
      keptCategories: ["invoice"],
      // config.invoiceRetentionYears (5) after the anonymization (R24).
      keptUntil: new Date(Date.UTC(2031, 2, 2, 9)).toISOString(),
    })
    const recorded = await w.store.events.readStream(receiptStream(w.memberId))
    expect(recorded.map((e) => e.data)).toEqual([receipt])
    const text = renderReceipt(receipt)
    expect(text).toContain("your personal data was anonymized")
    expect(text).toContain("Kept because the law requires it: invoice, until 2 March 2031 (UTC).")
    expect(text).not.toMatch(/Ola|Nordmann|Storgata/)
    const report = await auditOf(await logOf(w.store), { publicKeys: [publicKey] })
    expect(report.findings).toEqual([])
  })

  it("R10: the final receipt counts every erased value of the stream, issued by the purge or asked for later by another instance", async () => {
    const step = fc.oneof(
      fc.record({
        record: fc.constantFrom("contact", "address", "notes", "invoice"),
        value: fc.string({ minLength: 1, maxLength: 12 }).filter((v) => /^[a-z ]*[a-z]$/i.test(v)),
      }),
      fc.record({ erase: fc.constantFrom("contact", "address", "notes") }),
    )
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 6 }), async (steps) => {
        const w = await world()
        for (const s of steps)
          if ("record" in s)
            // A category erased before has no key to seal under any more: refused, and nothing written.
            await w.lethe
              .recordPersonalData(w.memberId, {
                category: s.record as "contact",
                fields: { [s.record === "contact" ? "phone" : "line"]: s.value },
                source: "staff",
              })
              .catch((error: { readonly _tag?: string }) => {
                if (error._tag !== "KeyDestroyed") throw error
              })
          else
            await w.lethe.erasePersonalData(w.memberId, {
              categories: [s.erase as "notes"],
              reason: "asked",
              actor: admin,
            })
        await w.lethe.forget(w.memberId, { actor: admin })
        w.advance(8 * day)
        const { erasure } = await w.lethe.purge(w.memberId, { actor: admin })
        const issued = (await w.store.events.readStream(receiptStream(w.memberId))).at(-1)
          ?.data as FinalErasureReceipt
        const erasedInStream = (await w.store.events.readStream(`member-${w.memberId}`))
          .map((e) => JSON.stringify(e.data).split('"_tag":"Erased"').length - 1)
          .reduce((a, b) => a + b, 0)
        expect(issued.sealedValuesRemoved).toBe(erasedInStream)
        expect(erasure?.sealedValuesRemoved).toBeLessThanOrEqual(erasedInStream)
        // Another instance, with no report of the purge at hand, reads the stream and signs the same receipt.
        const other = await createLethe({ store: w.store, keyring, clock: () => new Date(start + 9 * day) })
        expect(await other.erasureReceipt(w.memberId)).toEqual(issued)
        expect(await w.store.events.readStream(receiptStream(w.memberId))).toHaveLength(2)
      }),
      { numRuns: 40 },
    )
  })
})
