/**
 * Member snapshots (issue 8: deciding must not grow with activity history):
 * an instance starting cold reads a member's snapshot and the events after
 * it; whatever the application did, it decides and answers exactly as one
 * that folds the whole stream; a snapshot it cannot trust (MAC, head, fold)
 * is not used; an erasure removes the member's snapshot (R29).
 */
import type { Keyring, LetheClient, LetheStore } from "@lethe/core"
import { createLethe } from "@lethe/core"
import type { MemberState } from "@lethe/core/domain"
import type { StoredEvent } from "@lethe/core/spi"
import { memoryStore } from "@lethe/store-memory"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { toEnvelope } from "../src/service/snapshots.js"
import { admin, keyring, start } from "./audit-logs.js"
import type { Run } from "./facade-ops.js"
import { arbOp, members, otherSystems, register } from "./facade-ops.js"

/** The store, counting the events its streams hand out. */
const counting = (store: LetheStore) => {
  const seen = { events: 0 }
  const readStream = store.events.readStream.bind(store.events)
  const events = {
    ...store.events,
    readStream: async (...args: Parameters<typeof readStream>): Promise<ReadonlyArray<StoredEvent>> => {
      const read = await readStream(...args)
      seen.events += read.length
      return read
    },
  }
  return { store: { ...store, events } satisfies LetheStore, seen }
}

const open = (store: LetheStore, options: { snapshotEvery?: number; keyring?: Keyring } = {}) =>
  createLethe({
    store,
    keyring: options.keyring ?? keyring,
    clock: () => new Date(start),
    // Cold on every operation: each one reads the snapshot (or the stream) again.
    memberCache: 0,
    ...(options.snapshotEvery === undefined ? {} : { snapshotEvery: options.snapshotEvery }),
  })

const visits = async (lethe: LetheClient, memberId: string, count: number) => {
  for (let i = 0; i < count; i++) await lethe.recordActivity(memberId, { kind: "visit" })
}

const registered = async (lethe: LetheClient) =>
  (
    await lethe.register({
      tenantId: "club",
      personal: { name: "Anna Nowak", email: "anna@example.org" },
      source: "form",
    })
  ).memberId

describe("member snapshots", () => {
  it("a cold instance reads the snapshot and the events after it, not the whole history", async () => {
    const store = memoryStore()
    const writer = await open(store, { snapshotEvery: 100 })
    const memberId = await registered(writer)
    await visits(writer, memberId, 450)
    const snapshot = await store.snapshots?.read(memberId)
    expect(snapshot?.version).toBe(400)

    const { store: watched, seen } = counting(store)
    const cold = await open(watched, { snapshotEvery: 100 })
    await cold.recordActivity(memberId, { kind: "visit" })
    // The snapshot's own event (its head checked), the 53 after it: not 453.
    expect(seen.events).toBe(54)

    const whole = await open(store, { snapshotEvery: 0 })
    expect(await cold.get(memberId)).toEqual(await whole.get(memberId))
    expect((await cold.get(memberId)).counts.visit).toBe(451)
  })

  it("R35: whatever the application does, an instance reading snapshots decides and answers as one folding every stream", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbOp, { minLength: 5, maxLength: 40, size: "max" }),
        fc.integer({ min: 1, max: 4 }),
        async (ops, every) => {
          const clock = { now: start }
          const at = () => new Date(clock.now)
          const options = { keyring, clock: at, memberCache: 0, config: { otherSystems } }
          // Two stores run the same operations: one whose instance snapshots every few events
          // and starts cold each time, one that never snapshots.
          const snapshotted = memoryStore()
          const plain = memoryStore()
          const withSnapshots = await createLethe({
            ...options,
            store: snapshotted,
            snapshotEvery: every,
            newId: counterIds(),
          })
          const without = await createLethe({
            ...options,
            store: plain,
            snapshotEvery: 0,
            newId: counterIds(),
          })
          const runs: ReadonlyArray<Run> = [
            { lethe: withSnapshots, ids: [], clock },
            { lethe: without, ids: [], clock },
          ]
          try {
            for (let i = 0; i < members; i++) for (const run of runs) await register(i)(run)
            for (const op of ops) {
              const [a, b] = await Promise.all(runs.map((run) => outcome(() => op(run))))
              expect(a, "the same operation, with and without snapshots").toEqual(b)
            }
            expect(runs[0]?.ids).toEqual(runs[1]?.ids)
            for (const id of runs[0]?.ids ?? []) {
              if (id === undefined) continue
              expect(await outcome(() => withSnapshots.get(id))).toEqual(await outcome(() => without.get(id)))
            }
          } finally {
            await Promise.all([withSnapshots.close(), without.close()])
          }
        },
      ),
      { numRuns: 40 },
    )
  })

  it("a snapshot whose MAC does not verify is not used: a changed wallet balance cannot open the way to anonymization (R25)", async () => {
    const store = memoryStore()
    const writer = await open(store, { snapshotEvery: 1 })
    const memberId = await registered(writer)
    await writer.creditWallet(memberId, { amount: 5_000 })
    const snapshot = await store.snapshots?.read(memberId)
    if (snapshot === undefined || store.snapshots === undefined) throw new Error("no snapshot taken")
    // The genuine snapshot is used: only its own event is read.
    const genuine = counting(store)
    expect((await (await open(genuine.store, { snapshotEvery: 1 })).get(memberId)).walletBalance).toBe(5_000)
    expect(genuine.seen.events).toBe(1)
    const envelope = snapshot.state as { state: { walletBalance: number } }
    expect(envelope.state.walletBalance).toBe(5_000)
    const forged = { ...envelope, state: { ...envelope.state, walletBalance: 0 } }
    // Removed with no floor (0), so the forgery at the same version is kept.
    await store.snapshots.remove(memberId, 0)
    expect(await store.snapshots.write({ ...snapshot, state: forged })).toBe(true)

    const { store: watched, seen } = counting(store)
    const cold = await open(watched, { snapshotEvery: 1 })
    expect((await cold.get(memberId)).walletBalance).toBe(5_000)
    // The whole stream was read: registration (3 events) and the credit.
    expect(seen.events).toBe(4)
    await expect(
      cold.anonymize(memberId, { actor: admin, confirmEmail: "anna@example.org" }),
    ).rejects.toMatchObject({ _tag: "AnonymizationBlocked" })
  })

  it("a snapshot of another member is not used", async () => {
    const store = memoryStore()
    const writer = await open(store, { snapshotEvery: 1 })
    const anna = await registered(writer)
    await writer.creditWallet(anna, { amount: 700 })
    const bob = (await writer.register({ tenantId: "club", personal: { name: "Bob" }, source: "form" }))
      .memberId
    await visits(writer, bob, 3)
    const annas = await store.snapshots?.read(anna)
    if (annas === undefined || store.snapshots === undefined) throw new Error("no snapshot taken")
    // Anna's snapshot under Bob's id: its MAC binds it to Anna.
    await store.snapshots.remove(bob, 0)
    expect(await store.snapshots.write({ ...annas, memberId: bob })).toBe(true)

    const cold = await open(store, { snapshotEvery: 1 })
    expect(await cold.get(bob)).toEqual(await (await open(store, { snapshotEvery: 0 })).get(bob))
    expect((await cold.get(bob)).walletBalance).toBe(0)
  })

  it("a snapshot whose head is not the log's event at its version is not used (a log restored from an older backup)", async () => {
    const store = memoryStore()
    const writer = await open(store, { snapshotEvery: 1 })
    const memberId = await registered(writer)
    await writer.creditWallet(memberId, { amount: 700 })
    const key = await keyring.snapshotKey?.()
    const genuine = await store.snapshots?.read(memberId)
    if (key === undefined || genuine === undefined || store.snapshots === undefined)
      throw new Error("no snapshot taken")
    // Authentic (its MAC verifies), of this member, at version 4: but of another history, whose 4th
    // event had another hash and left no money in the wallet.
    const { state } = genuine.state as { state: MemberState }
    const head = "0".repeat(64)
    const other = toEnvelope(
      key,
      { memberId, version: 4, head },
      { ...state, walletBalance: 0 },
      state.personal,
      state.restriction?.reason,
    )
    await store.snapshots.remove(memberId, 0)
    expect(await store.snapshots.write({ ...genuine, version: 4, head, state: other })).toBe(true)

    const cold = await open(store, { snapshotEvery: 1 })
    expect((await cold.get(memberId)).walletBalance).toBe(700)
    expect(await cold.get(memberId)).toEqual(await (await open(store, { snapshotEvery: 0 })).get(memberId))
  })

  it("a keyring without a snapshot key takes and reads no snapshots", async () => {
    const store = memoryStore()
    const { snapshotKey: _dropped, ...withoutSnapshotKey } = keyring
    const lethe = await open(store, { snapshotEvery: 1, keyring: withoutSnapshotKey })
    const memberId = await registered(lethe)
    await visits(lethe, memberId, 5)
    expect(await store.snapshots?.read(memberId)).toBeUndefined()
  })

  it("R29: erasing a category removes the member's snapshot; the next one holds nothing sealed under the destroyed key", async () => {
    const store = memoryStore()
    const lethe = await open(store, { snapshotEvery: 2 })
    const memberId = await registered(lethe)
    await visits(lethe, memberId, 3)
    const before = await store.snapshots?.read(memberId)
    const contactKey = `dk:${memberId}:contact`
    expect(JSON.stringify(before?.state)).toContain(contactKey)

    const erased = await lethe.erasePersonalData(memberId, {
      categories: ["contact"],
      reason: "asked by the member",
      actor: admin,
    })
    expect(erased.version).toBeGreaterThan(before?.version ?? 0)
    expect(await store.snapshots?.read(memberId)).toBeUndefined()

    await visits(lethe, memberId, 2)
    const after = await store.snapshots?.read(memberId)
    expect(after).toBeDefined()
    expect(JSON.stringify(after?.state)).not.toContain(contactKey)
    const view = await (await open(store, { snapshotEvery: 2 })).get(memberId)
    expect(view).toEqual(await (await open(store, { snapshotEvery: 0 })).get(memberId))
    expect(JSON.stringify(view)).not.toContain("anna@example.org")
  })

  it("R29: a snapshot taken before an erasure cannot be written back after it, and would open nothing erased", async () => {
    const store = memoryStore()
    const lethe = await open(store, { snapshotEvery: 1 })
    const memberId = await registered(lethe)
    await visits(lethe, memberId, 2)
    const stale = await store.snapshots?.read(memberId)
    if (stale === undefined || store.snapshots === undefined) throw new Error("no snapshot taken")
    await lethe.erasePersonalData(memberId, { categories: ["contact"], reason: "asked", actor: admin })
    // A slow writer of another process puts the old snapshot back after the erasure removed it:
    // refused, its version is below the erasure's.
    expect(await store.snapshots.write(stale)).toBe(false)
    expect(JSON.stringify((await store.snapshots.read(memberId)) ?? null)).not.toContain(
      `dk:${memberId}:contact`,
    )
  })

  it("R29: were a stale snapshot back (an adapter that keeps no floor), it opens nothing erased: its key is destroyed", async () => {
    const inner = memoryStore()
    const snapshots = inner.snapshots
    if (snapshots === undefined) throw new Error("the memory store keeps snapshots")
    const store: LetheStore = {
      ...inner,
      snapshots: { ...snapshots, remove: (id) => snapshots.remove(id, 0) },
    }
    const lethe = await open(store, { snapshotEvery: 1 })
    const memberId = await registered(lethe)
    await visits(lethe, memberId, 2)
    const stale = await snapshots.read(memberId)
    if (stale === undefined) throw new Error("no snapshot taken")
    await lethe.erasePersonalData(memberId, { categories: ["contact"], reason: "asked", actor: admin })
    expect(await snapshots.write(stale)).toBe(true)

    const { store: watched, seen } = counting(store)
    const view = await (await open(watched, { snapshotEvery: 1 })).get(memberId)
    // It was used (the events after it read, not the whole stream), and opened no erased value.
    expect(seen.events).toBeLessThan(stale.version)
    expect(JSON.stringify(view)).not.toContain("anna@example.org")
    expect(view).toEqual(await (await open(store, { snapshotEvery: 0 })).get(memberId))
  })
})

/**
 * How an operation ended, as data two runs compare by: without receipts'
 * hashes and signatures, which commit to ciphertexts sealed under random nonces.
 */
const outcome = async (run: () => Promise<unknown>) => {
  try {
    return { ok: true, value: comparable(await run()) }
  } catch (error) {
    return { ok: false, error: comparable(error) }
  }
}

const comparable = (value: unknown): unknown =>
  JSON.parse(
    JSON.stringify(value ?? null, (key, inner) =>
      /^(hash|headHash|signature|stack)$/.test(key) ? undefined : inner,
    ),
  )

/** member-1, member-2...: both stores mint the same ids in the same order. */
const counterIds = () => {
  let n = 0
  return () => `id-${++n}`
}
