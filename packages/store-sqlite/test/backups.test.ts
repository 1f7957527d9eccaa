import fs from "node:fs"
import path from "node:path"
import type { Actor } from "@lethe/core"
import { createLethe, keyringFromSecret } from "@lethe/core"
import { auditLog, auditSourcesOf } from "@lethe/core/audit"
import type { LetheStore } from "@lethe/core/spi"
import { readAllEvents, sealedKeyIds } from "@lethe/core/spi"
import { moveKeysApart, sqliteStore } from "@lethe/store-sqlite"
import Database from "better-sqlite3"
import { describe, expect, it } from "vitest"
import { contains, freshFile, rawBytes } from "./fixtures.js"

const keyring = keyringFromSecret("store-sqlite backups test secret, at least 32 bytes")
const admin: Actor = { id: "staff:admin", roles: ["admin"] }
const day = 86_400_000
const nameOf = (i: number) => `Bärbel Ødegård-${i}-Kx${i * 7919}`

/** A log file and a key store file side by side in a fresh folder. */
const pair = () => {
  const log = freshFile("lethe.db")
  return { log, keys: path.join(path.dirname(log), "lethe-keys.db") }
}

/** Every key id the member's stored events seal values under. */
const sealedUnder = async (store: LetheStore, memberId: string): Promise<ReadonlyArray<string>> => [
  ...new Set((await store.events.readStream(`member-${memberId}`)).flatMap((e) => sealedKeyIds(e.data))),
]

describe("sqlite store with its keys apart: backups forget (R42)", () => {
  it("R42: a log backup taken before a purge, restored beside the current key store, opens nothing of the purged member, everything of the others, and the audit flags it until the purge is done again", async () => {
    const { log, keys } = pair()
    let now = new Date("2026-03-02T09:00:00Z").getTime()
    const clock = () => new Date(now)
    const open = () => sqliteStore({ filename: log, keys: { filename: keys } })
    const lethe = await createLethe({ store: open(), keyring, clock })
    const ids: Array<string> = []
    for (let i = 0; i < 5; i++) {
      const { memberId } = await lethe.register({
        tenantId: "gym",
        personal: { name: nameOf(i), email: `member.${i}.kx${i * 7919}@example.org` },
        source: { kind: "form" },
      })
      await lethe.recordPersonalData(memberId, {
        category: "address",
        fields: { street: `Fjordgata ${i}`, city: "Tromsø" },
        source: { kind: "form" },
      })
      ids.push(memberId)
      now += 60_000
    }
    const purgedId = ids[2] as string
    await lethe.forget(purgedId, { actor: admin })

    // The nightly log backup, taken while the member is forgotten, within the restore window.
    const backup = path.join(path.dirname(log), "lethe-backup.db")
    const source = new Database(log, { readonly: true })
    await source.backup(backup)
    source.close()

    now += (lethe.config.restoreWindowDays + 1) * day
    const run = await lethe.runRetention()
    expect(run.executed.map((e) => e.memberId)).toEqual([purgedId])
    await lethe.close()

    // Disaster: the log is lost and restored from the backup, beside the current key store.
    for (const file of [log, `${log}-wal`, `${log}-shm`]) fs.rmSync(file, { force: true })
    fs.copyFileSync(backup, log)
    expect(contains(rawBytes(log), nameOf(2)), "the backup holds the name only as ciphertext").toBe(false)
    expect(contains(rawBytes(log), "Fjordgata 2"), "the backup holds the street only as ciphertext").toBe(
      false,
    )

    const store = open()
    const restored = await createLethe({ store, keyring, clock })
    // The restored log still holds the purged member's sealed values: every one is under a destroyed key.
    const under = await sealedUnder(store, purgedId)
    expect(under.length).toBeGreaterThan(0)
    for (const keyId of under) expect((await store.keys.get(keyId))?._tag, keyId).toBe("Destroyed")
    const history = await store.events.readStream(`member-${purgedId}`)
    expect(history.some((e) => JSON.stringify(e.data).includes('"Sealed"'))).toBe(true)
    // Everyone else reads as before.
    for (const [i, id] of ids.entries())
      if (id !== purgedId) {
        const view = await restored.get(id)
        expect(view.personal.name, `member ${i}`).toBe(nameOf(i))
        expect(view.data.address?.street, `member ${i}`).toBe(`Fjordgata ${i}`)
      }

    // The audit sees a log older than the key store: the purge is lost from the log.
    const audit = async () =>
      auditLog(readAllEvents(store.events), { ...auditSourcesOf(store), asOf: new Date(now) })
    const flagged = (await audit()).findings.filter((f) => f.rule === "log-behind-key-store")
    expect(flagged.map((f) => [f.streamId, f.requirements])).toEqual([[`member-${purgedId}`, ["R42"]]])
    expect(flagged[0]?.evidence).toMatchObject({ status: "forgotten", destroyedKeys: expect.any(Array) })
    expect(flagged[0]?.message).toMatch(/redo the erasure/)

    // The repair the finding names: the retention run purges the member again; nothing is left to flag.
    const again = await restored.runRetention()
    expect(again.failed).toEqual([])
    expect(again.executed.map((e) => [e.rule, e.memberId])).toEqual([["purge-forgotten", purgedId]])
    expect((await restored.get(purgedId)).status).toBe("purged")
    expect(await sealedUnder(store, purgedId)).toEqual([])
    const after = await audit()
    expect(
      after.findings.filter((f) => f.rule === "log-behind-key-store" || f.rule === "keys-destroyed"),
    ).toEqual([])
    await restored.close()
  })

  it("R42: the log file never holds a wrapped key, and opens only beside its own key store", async () => {
    const { log, keys } = pair()
    const lethe = await createLethe({
      store: sqliteStore({ filename: log, keys: { filename: keys } }),
      keyring,
    })
    await lethe.register({ tenantId: "gym", personal: { name: nameOf(1) }, source: { kind: "form" } })
    await lethe.close()
    const db = new Database(log, { readonly: true })
    expect(db.prepare("SELECT count(*) AS n FROM keys").get()).toEqual({ n: 0 })
    db.close()
    expect(() => sqliteStore({ filename: log })).toThrow(/keeps its keys in the key store/)
    const other = path.join(path.dirname(log), "other-keys.db")
    expect(() => sqliteStore({ filename: log, keys: { filename: other } })).toThrow(/not in .*other-keys\.db/)
    expect(() => sqliteStore({ filename: keys })).toThrow(/is not a Lethe database/)
    expect(() => sqliteStore({ filename: log, keys: { filename: log } })).toThrow(/another file/)
    // An auditor's read-only copy of both.
    const readonly = sqliteStore({ filename: log, keys: { filename: keys }, readonly: true })
    expect((await readonly.events.readAll()).events.length).toBeGreaterThan(0)
    await readonly.close()
  })

  it("R42: a store written by the previous version keeps its keys in its one file; moveKeysApart moves them, and a move cut short is finished by running it again", async () => {
    const { log, keys } = pair()
    const lethe = await createLethe({ store: sqliteStore({ filename: log }), keyring })
    const ids: Array<string> = []
    for (let i = 0; i < 3; i++)
      ids.push(
        (await lethe.register({ tenantId: "gym", personal: { name: nameOf(i) }, source: { kind: "form" } }))
          .memberId,
      )
    await lethe.close()
    // The file as the previous version left it: schema version 5, no record of where the keys live.
    const old = new Database(log)
    old.exec("DROP TABLE key_store; DELETE FROM lethe_migrations WHERE version = 6")
    const keyCount = (old.prepare("SELECT count(*) AS n FROM keys").get() as { n: number }).n
    old.close()
    expect(keyCount).toBeGreaterThan(3)

    // Opened alone, it migrates and keeps its keys where they are.
    const single = await createLethe({ store: sqliteStore({ filename: log }), keyring })
    expect((await single.get(ids[0] as string)).personal.name).toBe(nameOf(0))
    await single.close()
    // Beside a key store, it is refused until its keys are moved.
    expect(() => sqliteStore({ filename: log, keys: { filename: keys } })).toThrow(
      /holds \d+ keys of its own/,
    )

    // A move cut short: the key store committed, the log did not (the key store commits first),
    // made here by putting back the log as it was before the move.
    const beforeMove = `${log}.before-move`
    fs.copyFileSync(log, beforeMove)
    expect(moveKeysApart({ filename: log, keys: { filename: keys } }).moved).toBe(keyCount)
    fs.copyFileSync(beforeMove, log)
    expect(() => sqliteStore({ filename: log, keys: { filename: keys } })).toThrow(
      /holds \d+ keys of its own/,
    )
    expect(moveKeysApart({ filename: log, keys: { filename: keys } }).moved).toBe(keyCount)
    expect(moveKeysApart({ filename: log, keys: { filename: keys } }).moved).toBe(0)
    const keyFile = new Database(keys, { readonly: true })
    const wrappedKeys = keyFile
      .prepare("SELECT wrapped_key AS w FROM keys WHERE wrapped_key <> ''")
      .all() as ReadonlyArray<{ w: string }>
    keyFile.close()
    expect(wrappedKeys.length).toBeGreaterThan(2)
    for (const { w } of wrappedKeys)
      expect(contains(rawBytes(log), w), "a wrapped key in the log's bytes").toBe(false)
    expect(() => sqliteStore({ filename: log })).toThrow(/keeps its keys in the key store/)
    const apart = await createLethe({
      store: sqliteStore({ filename: log, keys: { filename: keys } }),
      keyring,
    })
    for (const [i, id] of ids.entries()) expect((await apart.get(id)).personal.name).toBe(nameOf(i))
    await apart.close()
  })

  it("R42: crash order with keys apart: a key or an erasure marker committed without its event (the key store commits first) is harmless; the next attempt uses it", async () => {
    const { log, keys } = pair()
    let now = new Date("2026-03-02T09:00:00Z").getTime()
    const clock = () => new Date(now)
    const store = sqliteStore({ filename: log, keys: { filename: keys } })
    const lethe = await createLethe({ store, keyring, clock })
    const { memberId } = await lethe.register({
      tenantId: "gym",
      personal: { name: nameOf(7) },
      source: { kind: "form" },
    })
    // What an append cut between its two commits leaves: its new address key, and later its purge marker.
    const keyId = `dk:${memberId}:address`
    const wrapped = await keyring.wrapKey(new Uint8Array(32).fill(7), keyId)
    await store.keys.put({
      keyId,
      tenantId: "gym",
      memberId,
      category: "address",
      wrappedKey: wrapped.wrapped,
      kekId: wrapped.kekId,
      createdAt: now,
    })
    await lethe.recordPersonalData(memberId, {
      category: "address",
      fields: { street: "Fjordgata 7" },
      source: { kind: "form" },
    })
    expect((await lethe.get(memberId)).data.address?.street).toBe("Fjordgata 7")
    await lethe.forget(memberId, { actor: admin })
    await store.keys.put({
      keyId: `lethe:erasures:purge:${memberId}`,
      tenantId: "gym",
      memberId: "lethe:erasures",
      category: "purge",
      wrappedKey: "",
      kekId: "none",
      createdAt: now,
    })
    // Within the window the marker finishes nothing: the member is forgotten, not purged.
    const early = await lethe.runRetention()
    expect(early.executed).toEqual([])
    expect(early.failed).toEqual([])
    now += (lethe.config.restoreWindowDays + 1) * day
    const run = await lethe.runRetention()
    expect(run.failed).toEqual([])
    expect(run.executed.map((e) => [e.rule, e.memberId])).toEqual([["purge-forgotten", memberId]])
    expect((await store.keys.get(`lethe:erasures:purge:${memberId}`))?._tag).toBe("Destroyed")
    expect((await store.keys.get(keyId))?._tag).toBe("Destroyed")
    const audit = await auditLog(readAllEvents(store.events), {
      ...auditSourcesOf(store),
      asOf: new Date(now),
    })
    expect(audit.findings).toEqual([])
    await lethe.close()
  })
})
