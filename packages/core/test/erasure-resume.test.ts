/**
 * An erasure interrupted between its event and its key destruction is
 * finished by running the same operation again, and the audit names the
 * operation that finishes it (R29, R24).
 */
import type { Actor, LetheStore } from "@lethe/core"
import { createLethe, keyringFromSecret } from "@lethe/core"
import { auditLog, auditSourcesOf } from "@lethe/core/audit"
import { readAllEvents } from "@lethe/core/spi"
import { memoryStore } from "@lethe/store-memory"
import { describe, expect, it } from "vitest"

const admin: Actor = { id: "staff:admin", roles: ["admin"] }
const keyring = keyringFromSecret("erasure resume test secret, 32 bytes or more")
const day = 86_400_000

/** A memory store whose `keys.destroy` fails once, as a crash between the erasure event and the keys would. */
const failingOnce = (): LetheStore => {
  const store = memoryStore()
  let failed = false
  const destroy = store.keys.destroy.bind(store.keys)
  store.keys.destroy = (keyId, at) => {
    if (failed) return destroy(keyId, at)
    failed = true
    return Promise.reject(new Error("the process died here"))
  }
  return store
}

const audit = async (store: LetheStore, asOf: Date) => {
  const events = []
  for await (const event of readAllEvents(store.events)) events.push(event)
  return auditLog(events, { ...auditSourcesOf(store), asOf })
}

describe("R40: an interrupted erasure is finished by running it again", () => {
  it("R40, R24: anonymize whose key destruction failed: the audit names anonymize, which then finishes the job", async () => {
    let now = Date.parse("2026-03-01T00:00:00Z")
    const store = failingOnce()
    const lethe = await createLethe({ store, keyring, clock: () => new Date(now) })
    const { memberId } = await lethe.register({
      tenantId: "gym",
      personal: { name: "Ada", email: "ada@example.org", phone: "+48 600 100 200" },
      source: "staff",
    })
    const first = await lethe
      .anonymize(memberId, { actor: admin, confirmEmail: "ada@example.org" })
      .catch((error: { _tag: string }) => error._tag)
    expect(first).toBe("StoreError")
    expect((await lethe.get(memberId)).status).toBe("anonymized")
    now += day
    const before = await audit(store, new Date(now))
    const finding = before.findings.find((f) => f.rule === "keys-destroyed")
    expect(finding?.message).toMatch(/finish the erasure with anonymize/)
    const finished = await lethe.anonymize(memberId, { actor: admin, confirmEmail: "ada@example.org" })
    expect(finished.erasure?.keyIdsDestroyed.length).toBeGreaterThan(0)
    expect(finished.erasure?.sealedValuesRemoved).toBeGreaterThan(0)
    expect((await audit(store, new Date(now))).findings.filter((f) => f.rule === "keys-destroyed")).toEqual(
      [],
    )
    // Nothing left to finish: anonymize is refused again, as for any anonymized member (R25).
    await expect(
      lethe.anonymize(memberId, { actor: admin, confirmEmail: "ada@example.org" }),
    ).rejects.toMatchObject({
      _tag: "AnonymizationBlocked",
      reasons: ["AlreadyAnonymized"],
    })
  })

  it("R40: purge whose key destruction failed: the audit names purge, which then finishes the job", async () => {
    let now = Date.parse("2026-03-01T00:00:00Z")
    const store = failingOnce()
    const lethe = await createLethe({ store, keyring, clock: () => new Date(now) })
    const { memberId } = await lethe.register({
      tenantId: "gym",
      personal: { name: "Bo", email: "bo@example.org" },
      source: "staff",
    })
    await lethe.forget(memberId, { actor: admin })
    now += 8 * day
    await expect(lethe.purge(memberId, { actor: admin })).rejects.toMatchObject({ _tag: "StoreError" })
    expect((await lethe.get(memberId)).status).toBe("purged")
    const finding = (await audit(store, new Date(now))).findings.find((f) => f.rule === "keys-destroyed")
    expect(finding?.message).toMatch(/finish the erasure with purge/)
    const finished = await lethe.purge(memberId, { actor: admin })
    expect(finished.erasure?.keyIdsDestroyed.length).toBeGreaterThan(0)
    const live = (await store.keys.listForMember(memberId)).filter((entry) => entry._tag === "Live")
    expect(live).toEqual([])
    expect((await audit(store, new Date(now))).findings.filter((f) => f.rule === "keys-destroyed")).toEqual(
      [],
    )
  })

  it("R40: runRetention's finish-erasure rule finishes interrupted purges and anonymizations, and then plans nothing", async () => {
    let now = Date.parse("2026-03-01T00:00:00Z")
    const store = memoryStore()
    const lethe = await createLethe({ store, keyring, clock: () => new Date(now) })
    const register = (name: string) =>
      lethe.register({ tenantId: "gym", personal: { name, email: `${name}@example.org` }, source: "staff" })
    const purged = (await register("cy")).memberId
    const anonymized = (await register("di")).memberId
    const untouched = (await register("ed")).memberId
    await lethe.forget(purged, { actor: admin })
    now += 8 * day
    // Both erasures die between their event and their keys.
    const destroy = store.keys.destroy.bind(store.keys)
    store.keys.destroy = () => Promise.reject(new Error("the process died here"))
    await expect(lethe.purge(purged, { actor: admin })).rejects.toMatchObject({ _tag: "StoreError" })
    await expect(
      lethe.anonymize(anonymized, { actor: admin, confirmEmail: "di@example.org" }),
    ).rejects.toMatchObject({
      _tag: "StoreError",
    })
    store.keys.destroy = destroy
    const report = await lethe.runRetention()
    expect(report.executed.map((e) => [e.memberId, e.rule]).sort()).toEqual(
      [
        [purged, "finish-erasure"],
        [anonymized, "finish-erasure"],
      ].sort(),
    )
    expect(report.failed).toEqual([])
    const live = async (memberId: string) =>
      (await store.keys.listForMember(memberId)).flatMap((e) => (e._tag === "Live" ? [e.key.category] : []))
    expect(await live(purged)).toEqual([])
    expect(await live(anonymized)).toEqual([])
    expect((await live(untouched)).length).toBeGreaterThan(0)
    expect((await audit(store, new Date(now))).findings.filter((f) => f.rule === "keys-destroyed")).toEqual(
      [],
    )
    const again = await lethe.runRetention({ dryRun: true })
    expect(again.planned.filter((e) => e.rule === "finish-erasure")).toEqual([])
  })

  it("R40: an erasure that completes leaves no marker behind: retention plans no finish-erasure", async () => {
    let now = Date.parse("2026-03-01T00:00:00Z")
    const store = memoryStore()
    const lethe = await createLethe({ store, keyring, clock: () => new Date(now) })
    const { memberId } = await lethe.register({ tenantId: "gym", personal: { name: "Fa" }, source: "staff" })
    await lethe.forget(memberId, { actor: admin })
    now += 8 * day
    await lethe.purge(memberId, { actor: admin })
    const plan = await lethe.runRetention({ dryRun: true })
    expect(plan.planned).toEqual([])
  })
})
