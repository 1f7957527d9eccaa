/**
 * Signed checkpoints (R41, issue 18): whoever can write to the database but
 * does not hold the keyring cannot rewrite, delete, renumber or truncate
 * history before the last checkpoint without a finding, even after
 * recomputing every hash chain with the exported `hashEvent`.
 */
import { createHash } from "node:crypto"
import type { LetheClient, LetheStore } from "@lethe/core"
import { createLethe, keyringFromSecret } from "@lethe/core"
import type { AuditOptions, AuditReport, Checkpoint } from "@lethe/core/audit"
import {
  auditLog,
  checkpointEventType,
  checkpointStream,
  hashEvent,
  keyFingerprint,
  logDigestStep,
  parseCheckpoint,
  verifyCheckpoint,
} from "@lethe/core/audit"
import type { StoredEvent } from "@lethe/core/spi"
import { memberStream } from "@lethe/core/spi"
import { memoryStore } from "@lethe/store-memory"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { admin, day, keyring, logOf, rechain, start } from "./audit-logs.js"

const publicKey = await keyring.receiptPublicKey()
const intruderKeyring = keyringFromSecret("an intruder's own secret, long enough too")
const intruderKey = await intruderKeyring.receiptPublicKey()

interface Signed {
  readonly lethe: LetheClient
  readonly store: LetheStore
  readonly anchors: Array<Checkpoint>
  advance(days: number): void
}

/** A facade on a fresh memory store, signing every `checkpointEvery` events, its checkpoints handed to `anchors`. */
const signedWorld = async (checkpointEvery = 1000, store: LetheStore = memoryStore()): Promise<Signed> => {
  let now = start
  const anchors: Array<Checkpoint> = []
  const lethe = await createLethe({
    store,
    keyring,
    clock: () => new Date(now),
    checkpointEvery,
    onCheckpoint: async (checkpoint) => {
      anchors.push(checkpoint)
    },
  })
  return {
    lethe,
    store,
    anchors,
    advance: (days) => {
      now += days * day
    },
  }
}

/** Two members with money, consents, an unsubscribe, activity; one forgotten (so a checkpoint is signed). */
const history = async (w: Signed) => {
  const { memberId: anna } = await w.lethe.register({
    tenantId: "club",
    personal: { name: "Anna", email: "anna@example.org" },
    source: "form",
  })
  await w.lethe.giveConsent(anna, { purpose: "newsletter", method: "double-opt-in", source: "form" })
  await w.lethe.creditWallet(anna, { amount: 5_000 })
  await w.lethe.unsubscribe(anna, { purpose: "newsletter", via: "link" })
  const { memberId: bob } = await w.lethe.register({
    tenantId: "club",
    personal: { name: "Bob" },
    source: "staff",
  })
  await w.lethe.recordActivity(bob, { kind: "visit", clubId: "c1", details: { door: "north" } })
  w.advance(1)
  await w.lethe.forget(bob, { actor: admin })
  return { anna, bob }
}

const checkpointsOf = (events: ReadonlyArray<StoredEvent>): Array<Checkpoint> =>
  events.flatMap((e) => {
    if (e.streamId !== checkpointStream) return []
    const parsed = parseCheckpoint(e.data)
    return typeof parsed === "string" ? [] : [parsed]
  })

const auditOf = (events: ReadonlyArray<StoredEvent>, options: AuditOptions = {}): Promise<AuditReport> =>
  auditLog(events, { asOf: new Date(start + 2 * day), ...options })

const problems = (report: AuditReport): Array<string> =>
  report.findings.filter((f) => f.rule === "checkpoint").map((f) => String(f.evidence.problem))

/** Recomputes the hashes of one stream, positions and versions kept: what a writer with `hashEvent` does. */
const rehash = (events: ReadonlyArray<StoredEvent>, streamId: string): Array<StoredEvent> => {
  let prevHash = ""
  return events.map((event) => {
    if (event.streamId !== streamId) return event
    const hash = hashEvent(prevHash, event)
    const linked = { ...event, prevHash, hash }
    prevHash = hash
    return linked
  })
}

/** Changes the `index`-th event of `type` (by `change` of its data), then recomputes its stream's chain. */
const rewrite = (
  events: ReadonlyArray<StoredEvent>,
  type: string,
  change: (data: Record<string, unknown>) => Record<string, unknown>,
): Array<StoredEvent> => {
  const target = events.find((e) => e.type === type)
  if (target === undefined) throw new Error(`no ${type} in the log`)
  const changed = events.map((e) =>
    e === target ? { ...e, data: change(e.data as Record<string, unknown>) } : e,
  )
  return rehash(changed, target.streamId)
}

describe("R41: signed checkpoints", () => {
  it("R41: the log digest step is SHA-256 of the previous digest and the JSON of [position, streamId, version, hash], whatever a row holds", () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.oneof(fc.integer(), fc.double(), fc.string()),
        fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), fc.constant('a"\\\u0000\ud800')),
        fc.anything(),
        fc.oneof(fc.string(), fc.constant(undefined), fc.integer()),
        (previous, position, streamId, version, hash) => {
          const event = { position, streamId, version, hash } as unknown as StoredEvent
          const text = `${previous}${JSON.stringify([position, streamId, version, hash])}`
          expect(logDigestStep(previous, event)).toBe(createHash("sha256").update(text).digest("hex"))
        },
      ),
    )
  })

  it("R41: an erasure signs the log's head; the log audits clean against the public key, and says so", async () => {
    const w = await signedWorld()
    await history(w)
    const events = await logOf(w.store)
    const checkpoints = checkpointsOf(events)
    expect(checkpoints.map((c) => c.reason)).toEqual(["erasure"])
    const [checkpoint] = checkpoints as [Checkpoint]
    expect(checkpoint.position).toBe(events.length - 1)
    expect(verifyCheckpoint(checkpoint, publicKey)).toBe(true)
    expect(verifyCheckpoint(checkpoint, intruderKey)).toBe(false)
    expect(verifyCheckpoint({ ...checkpoint, position: checkpoint.position - 1 }, publicKey)).toBe(false)
    expect(w.anchors).toEqual(checkpoints)

    const given = await auditOf(events, { publicKeys: [publicKey] })
    expect(given.findings).toEqual([])
    expect(given.summary.streams).toBe(2)
    expect(given.checkpoints).toMatchObject({
      count: 1,
      verified: 1,
      lastPosition: checkpoint.position,
      uncoveredEvents: 1,
      keySource: "given",
      keyFingerprints: [keyFingerprint(publicKey)],
    })
    expect(given.checkpoints.note).toMatch(/verified against the public key given/)
    const inStore = await auditOf(events)
    expect(inStore.clean).toBe(true)
    expect(inStore.checkpoints.keySource).toBe("log")
    expect(inStore.checkpoints.note).toMatch(/not who signed them/)
    expect(inStore.checks.find((c) => c.rule === "checkpoint")?.note).toBe(inStore.checkpoints.note)
  })

  it("R41: checkpoints after purge, anonymize, erasePersonalData, forgetMany (one), retention, and every N events", async () => {
    const w = await signedWorld(6)
    const { anna, bob } = await history(w)
    await w.lethe.erasePersonalData(anna, { categories: ["contact"], reason: "asked", actor: admin })
    const many = await Promise.all(
      ["Cy", "Di"].map((name) =>
        w.lethe.register({ tenantId: "club", personal: { name }, source: "staff" }).then((r) => r.memberId),
      ),
    )
    await w.lethe.forgetMany(many, { actor: admin })
    const { memberId: eve } = await w.lethe.register({
      tenantId: "club",
      personal: { name: "Eve", email: "eve@example.org" },
      source: "staff",
    })
    await w.lethe.anonymize(eve, { actor: admin, confirmEmail: "eve@example.org" })
    w.advance(10)
    await w.lethe.runRetention()
    const reasons = checkpointsOf(await logOf(w.store)).map((c) => c.reason)
    expect(reasons.filter((r) => r === "erasure").length).toBeGreaterThanOrEqual(4)
    expect(reasons).toContain("retention")
    expect(reasons).toContain("interval")
    expect(await w.lethe.checkpoint()).toBeNull()
    await w.lethe.creditWallet(anna, { amount: 1 }).catch(() => null)
    await w.lethe.recordActivity(bob, { kind: "visit", clubId: "c1" }).catch(() => null)
    const report = await auditOf(await logOf(w.store), {
      publicKeys: [publicKey],
      asOf: new Date(start + 11 * day),
    })
    expect(report.findings.filter((f) => f.rule === "checkpoint")).toEqual([])
    expect(report.checkpoints.verified).toBe(reasons.length)
  })

  it("R41: two instances signing at once: one wins the append, the other goes on from it; all verify", async () => {
    const store = memoryStore()
    const a = await signedWorld(1000, store)
    const b = await signedWorld(1000, store)
    const ids = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        (i % 2 === 0 ? a : b).lethe
          .register({ tenantId: "club", personal: { name: `M${i}` }, source: "staff" })
          .then((r) => r.memberId),
      ),
    )
    await Promise.all(ids.map((id, i) => (i % 2 === 0 ? a : b).lethe.forget(id, { actor: admin })))
    await a.lethe.checkpoint()
    const events = await logOf(store)
    const report = await auditOf(events, { publicKeys: [publicKey] })
    expect(report.findings).toEqual([])
    expect(report.checkpoints.verified).toBeGreaterThanOrEqual(1)
    expect(report.checkpoints.uncoveredEvents).toBe(1)
  })

  describe("what a writer to the database without the key cannot hide", () => {
    it("R41: a wallet amount rewritten, the chain recomputed with hashEvent: clean without checkpoints, a finding with them", async () => {
      const w = await signedWorld()
      await history(w)
      const events = await logOf(w.store)
      const tampered = rewrite(events, "WalletCredited", (d) => ({ ...d, amount: 50 }))
      // Without the checkpoint, the rewrite is invisible: that is what R41 closes.
      expect((await auditOf(tampered.filter((e) => e.streamId !== checkpointStream))).clean).toBe(true)
      const report = await auditOf(tampered, { publicKeys: [publicKey] })
      expect(report.findings.filter((f) => f.rule === "hash-chain")).toEqual([])
      expect(problems(report)).toEqual(["digest-mismatch"])
      expect(report.findings[0]).toMatchObject({
        rule: "checkpoint",
        requirements: ["R41", "R35"],
        streamId: checkpointStream,
      })
    })

    it("R41: a consent moved back 30 days, the chain recomputed: a finding", async () => {
      const w = await signedWorld()
      await history(w)
      const tampered = rewrite(await logOf(w.store), "ConsentGiven", (d) => ({
        ...d,
        at: (d.at as number) - 30 * day,
        givenAt: (d.givenAt as number) - 30 * day,
      }))
      expect(problems(await auditOf(tampered))).toEqual(["digest-mismatch"])
    })

    it("R41: an Unsubscribed event deleted and every position and version renumbered: a finding", async () => {
      const w = await signedWorld()
      await history(w)
      const tampered = rechain((await logOf(w.store)).filter((e) => e.type !== "Unsubscribed"))
      const report = await auditOf(tampered, { publicKeys: [publicKey] })
      expect(report.findings.filter((f) => f.rule === "hash-chain")).toEqual([])
      // Renumbered, the checkpoint now sits at the position it covers.
      expect(problems(report)).toEqual(["covers-itself"])
      expect(report.findings[0]?.message).toMatch(/events before it were deleted or renumbered/)
    })

    it("R41: a whole stream deleted (renumbered or not): a finding, though no chain breaks", async () => {
      const w = await signedWorld()
      const { anna } = await history(w)
      const events = await logOf(w.store)
      const without = events.filter((e) => e.streamId !== memberStream(anna))
      expect(without.length).toBeLessThan(events.length)
      expect(problems(await auditOf(without))).toEqual(["digest-mismatch"])
      expect(problems(await auditOf(rechain(without)))).toEqual(["covers-itself"])
      // Bob's Forgotten, the position the checkpoint covers, deleted too: no event is there any more.
      const covered = (checkpointsOf(events)[0] as Checkpoint).position
      expect(problems(await auditOf(events.filter((e) => e.position !== covered)))).toEqual([
        "position-missing",
      ])
    })

    it("R41: a stream's last events deleted, no directory to compare with: a finding", async () => {
      const w = await signedWorld()
      const { anna } = await history(w)
      const events = await logOf(w.store)
      const last = events.filter((e) => e.streamId === memberStream(anna)).slice(-2)
      const truncated = events.filter((e) => !last.includes(e))
      const report = await auditOf(truncated)
      expect(report.findings.filter((f) => f.rule === "hash-chain")).toEqual([])
      expect(problems(report)).toEqual(["digest-mismatch"])
    })

    it("R41: checkpoints re-signed with another key: consistent with the key in the log, refused under the public key given", async () => {
      const w = await signedWorld()
      await history(w)
      const tampered = rewrite(await logOf(w.store), "WalletCredited", (d) => ({ ...d, amount: 50 }))
      // The intruder recomputes the log digest and signs it with a key of their own, stored beside it.
      const resigned = await resign(tampered, intruderKeyring)
      const inStore = await auditOf(resigned)
      // Consistent checkpoints; only the erasure receipt (R10), which the intruder left signed by the
      // controller's key, is not under the key the log's checkpoints record.
      expect(inStore.findings.map((f) => [f.rule, f.evidence.problem])).toEqual([
        ["erasure-receipt", "signature-invalid"],
      ])
      expect(inStore.checkpoints.keyFingerprints).toEqual([keyFingerprint(intruderKey)])
      expect(inStore.checkpoints.keyFingerprints).not.toContain(keyFingerprint(publicKey))
      const given = await auditOf(resigned, { publicKeys: [publicKey] })
      expect(problems(given)).toEqual(["signature-invalid"])
      expect(given.findings[0]?.message).toMatch(/not the one given/)
      expect(given.checkpoints.verified).toBe(0)
    })

    it("R41: a checkpoint's digest changed by one digit: its signature fails", async () => {
      const w = await signedWorld()
      await history(w)
      const events = (await logOf(w.store)).map((e) =>
        e.streamId === checkpointStream
          ? {
              ...e,
              // A digit that differs from the one there (a digest may start with 0 already).
              data: {
                ...(e.data as Checkpoint),
                logDigest: `${(e.data as Checkpoint).logDigest.startsWith("0") ? "1" : "0"}${(e.data as Checkpoint).logDigest.slice(1)}`,
              },
            }
          : e,
      )
      const report = await auditOf(rehash(events, checkpointStream), { publicKeys: [publicKey] })
      expect(problems(report)).toContain("signature-invalid")
    })

    it("R41: every checkpoint deleted: a finding when the public key is given, and a limited check without", async () => {
      const w = await signedWorld()
      await history(w)
      const without = (await logOf(w.store)).filter((e) => e.streamId !== checkpointStream)
      expect(problems(await auditOf(without, { publicKeys: [publicKey] }))).toEqual(["no-checkpoint"])
      const report = await auditOf(without)
      expect(report.clean).toBe(true)
      expect(report.checkpoints.keySource).toBeNull()
      expect(report.checks.find((c) => c.rule === "checkpoint")?.note).toMatch(
        /^limited: the log holds no signed checkpoint/,
      )
    })

    it("R41: the log cut back to an earlier checkpoint is invisible in the log alone, and found against the anchors", async () => {
      const w = await signedWorld()
      const { anna } = await history(w)
      await w.lethe.creditWallet(anna, { amount: 7 })
      await w.lethe.checkpoint()
      const events = await logOf(w.store)
      const [first] = checkpointsOf(events) as [Checkpoint]
      // Everything after the first checkpoint's own event deleted, the second checkpoint with it.
      const cut = events.slice(0, events.findIndex((e) => e.streamId === checkpointStream) + 1)
      expect((await auditOf(cut, { publicKeys: [publicKey] })).clean).toBe(true)
      expect(w.anchors).toHaveLength(2)
      const report = await auditOf(cut, { publicKeys: [publicKey], anchors: w.anchors })
      expect(problems(report)).toEqual(["log-truncated"])
      expect(report.checkpoints.anchorsVerified).toBe(1)
      expect(first.position).toBeLessThan(cut.length)
    })

    it("R41: a wrong public key given: every checkpoint is a finding", async () => {
      const w = await signedWorld()
      await history(w)
      const report = await auditOf(await logOf(w.store), { publicKeys: [intruderKey] })
      expect(problems(report)).toEqual(["signature-invalid"])
      expect(report.checkpoints.note).toMatch(/0 of 1 checkpoint\(s\) verified against the public key given/)
      await expect(auditOf([], { publicKeys: ["not a key"] })).rejects.toThrow(/not a PEM public key/)
    })

    it("R35, R41: a row that does not read back is a finding naming its stream, version and position; the chain goes on", async () => {
      const w = await signedWorld()
      const { anna } = await history(w)
      const events = await logOf(w.store)
      const index = events.findIndex((e) => e.type === "WalletCredited")
      const target = events[index] as StoredEvent
      const broken = events.map((e, i) =>
        i === index ? { ...e, data: null, unreadable: "data is not JSON (Unexpected token)" } : e,
      )
      const report = await auditOf(broken, { publicKeys: [publicKey] })
      expect(report.findings.map((f) => `${f.rule} ${f.streamId}@${f.version} #${f.position}`)).toEqual([
        `unreadable-row ${memberStream(anna)}@${target.version} #${target.position}`,
      ])
      expect(report.findings[0]?.message).toMatch(/does not read back: data is not JSON/)
    })
  })

  it("R41: for any log and any one tampering before the last checkpoint, the audit finds it", async () => {
    const operation = fc.oneof(
      fc.record({ op: fc.constant("register" as const), name: fc.constantFrom("A", "B", "C") }),
      fc.record({
        op: fc.constant("credit" as const),
        who: fc.nat(5),
        amount: fc.integer({ min: 1, max: 900 }),
      }),
      fc.record({ op: fc.constant("consent" as const), who: fc.nat(5) }),
      fc.record({ op: fc.constant("unsubscribe" as const), who: fc.nat(5) }),
      fc.record({ op: fc.constant("visit" as const), who: fc.nat(5) }),
      fc.record({ op: fc.constant("forget" as const), who: fc.nat(5) }),
    )
    const tampering = fc.record({
      kind: fc.constantFrom(
        "rewrite",
        "delete",
        "delete-renumber",
        "delete-stream",
        "truncate-stream",
        "swap",
      ),
      at: fc.nat(),
      shift: fc.integer({ min: 1, max: 40 }),
    })
    await fc.assert(
      fc.asyncProperty(
        fc.array(operation, { minLength: 2, maxLength: 14 }),
        fc.integer({ min: 0, max: 8 }),
        tampering,
        async (operations, every, tamper) => {
          const w = await signedWorld(every)
          const ids: Array<string> = []
          const { memberId } = await w.lethe.register({
            tenantId: "club",
            personal: { name: "Z" },
            source: "staff",
          })
          ids.push(memberId)
          for (const o of operations) {
            const id = ids[("who" in o ? o.who : 0) % ids.length] as string
            const run = async () => {
              switch (o.op) {
                case "register":
                  ids.push(
                    (
                      await w.lethe.register({
                        tenantId: "club",
                        personal: { name: o.name },
                        source: "staff",
                      })
                    ).memberId,
                  )
                  return
                case "credit":
                  await w.lethe.creditWallet(id, { amount: o.amount })
                  return
                case "consent":
                  await w.lethe.giveConsent(id, { purpose: "newsletter", method: "checkbox", source: "form" })
                  return
                case "unsubscribe":
                  await w.lethe.unsubscribe(id, { purpose: "newsletter", via: "link" })
                  return
                case "visit":
                  await w.lethe.recordActivity(id, { kind: "visit", clubId: "c1" })
                  return
                case "forget":
                  await w.lethe.forget(id, { actor: admin })
                  return
              }
            }
            await run().catch(() => undefined)
          }
          await w.lethe.checkpoint()
          const events = await logOf(w.store)
          const covered = Math.max(...checkpointsOf(events).map((c) => c.position))
          const before = events.filter((e) => e.position <= covered && e.streamId !== checkpointStream)
          const target = before[tamper.at % before.length] as StoredEvent
          const tampered = tamperWith(events, target, tamper.kind, tamper.shift)
          if (tampered === undefined) return
          const report = await auditOf(tampered, { publicKeys: [publicKey] })
          expect(
            report.findings.some((f) => f.rule === "checkpoint"),
            `${tamper.kind} of ${target.streamId}@${target.version}`,
          ).toBe(true)
        },
      ),
      { numRuns: 60 },
    )
  }, 120_000)
})

/** One tampering of `target`, as a writer with `hashEvent` and no key would do it; undefined when it changes nothing. */
const tamperWith = (
  events: ReadonlyArray<StoredEvent>,
  target: StoredEvent,
  kind: string,
  shift: number,
): Array<StoredEvent> | undefined => {
  const stream = target.streamId
  switch (kind) {
    case "rewrite":
      return rehash(
        events.map((e) =>
          e === target
            ? { ...e, recordedAt: e.recordedAt - shift * day, data: { ...(e.data as object), at: 1 } }
            : e,
        ),
        stream,
      )
    case "delete":
      return events.filter((e) => e !== target)
    case "delete-renumber":
      return rechain(events.filter((e) => e !== target))
    case "delete-stream":
      return events.filter((e) => e.streamId !== stream)
    case "truncate-stream":
      return events.filter((e) => e.streamId !== stream || e.version < target.version)
    case "swap": {
      const i = events.indexOf(target)
      const next = events[i + 1]
      if (next === undefined || next.streamId === checkpointStream) return undefined
      const swapped = [...events]
      swapped[i] = { ...next, position: target.position }
      swapped[i + 1] = { ...target, position: next.position }
      return swapped
    }
    default:
      throw new Error(kind)
  }
}

/** The log's checkpoints signed again by `by`, over the log as it now is: what an intruder with their own key can do. */
const resign = async (
  events: ReadonlyArray<StoredEvent>,
  by: typeof intruderKeyring,
): Promise<Array<StoredEvent>> => {
  const { checkpointPayload, emptyLogDigest, logDigestStep } = await import("@lethe/core/audit")
  const key = await by.receiptPublicKey()
  const fingerprint = keyFingerprint(key)
  const digests = new Map<number, string>()
  let digest = emptyLogDigest
  let prevHash = ""
  const out: Array<StoredEvent> = []
  for (const event of events) {
    let stored = event
    if (event.streamId === checkpointStream && event.type === checkpointEventType) {
      const old = event.data as Checkpoint
      const unsigned = { ...old, logDigest: digests.get(old.position) ?? "", keyFingerprint: fingerprint }
      const signature = Buffer.from(await by.signReceipt(checkpointPayload(unsigned))).toString("base64")
      const resigned = { ...event, data: { ...unsigned, publicKey: key, signature }, prevHash }
      stored = { ...resigned, hash: hashEvent(prevHash, resigned) }
      prevHash = stored.hash
    }
    out.push(stored)
    digest = logDigestStep(digest, stored)
    digests.set(stored.position, digest)
  }
  return out
}
