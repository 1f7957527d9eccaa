import fs from "node:fs"
import path from "node:path"
import type { Actor, LetheClient } from "@lethe/core"
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
const emailOf = (i: number) => `member.${i}.kx${i * 7919}@example.org`

/** Registers member number `i` (its name and e-mail), and returns its id. */
const register = async (lethe: LetheClient, i: number): Promise<string> =>
  (
    await lethe.register({
      tenantId: "gym",
      personal: { name: nameOf(i), email: emailOf(i) },
      source: { kind: "form" },
    })
  ).memberId

/** A consistent copy of the SQLite file `from` (the online backup API, as `.backup` makes it). */
const backUp = async (from: string, to: string): Promise<void> => {
  const source = new Database(from, { readonly: true })
  await source.backup(to)
  source.close()
}

/** Puts the log file back from `backup`, with no WAL beside it, as a restore does. */
const restoreLog = (log: string, backup: string): void => {
  for (const file of [log, `${log}-wal`, `${log}-shm`]) fs.rmSync(file, { force: true })
  fs.copyFileSync(backup, log)
}

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
        personal: { name: nameOf(i), email: emailOf(i) },
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
    // A log backup taken while the member is still active: the directory's name, e-mail and search
    // text live in the key store file, so not even an active member's are in the log in clear.
    const whileActive = path.join(path.dirname(log), "lethe-backup-active.db")
    await backUp(log, whileActive)
    for (const i of ids.keys()) {
      expect(contains(rawBytes(log), nameOf(i)), `the live log holds no name in clear (${i})`).toBe(false)
      expect(contains(rawBytes(log), emailOf(i)), `the live log holds no e-mail in clear (${i})`).toBe(false)
    }
    await lethe.forget(purgedId, { actor: admin })

    // The nightly log backup, taken while the member is forgotten, within the restore window.
    const backup = path.join(path.dirname(log), "lethe-backup.db")
    await backUp(log, backup)

    now += (lethe.config.restoreWindowDays + 1) * day
    const run = await lethe.runRetention()
    expect(run.executed.map((e) => e.memberId)).toEqual([purgedId])
    await lethe.close()

    // Disaster: the log is lost and restored from the backup taken while the member was active,
    // beside the current key store. Nothing of the purged member is in it in clear...
    restoreLog(log, whileActive)
    const clearOf = (i: number) => [nameOf(i), emailOf(i), nameOf(i).toLowerCase(), emailOf(i).toLowerCase()]
    for (const text of [...clearOf(2), "Fjordgata 2"])
      expect(contains(rawBytes(log), text), `the restored log holds ${text} only as ciphertext`).toBe(false)
    const fromActive = open()
    const restoredActive = await createLethe({ store: fromActive, keyring, clock })
    // ...nor does the directory show it (its personal row went with the forget), and everyone else
    // reads back, looks up and searches as before.
    expect(await fromActive.directory.get(purgedId)).toMatchObject({
      status: "active",
      name: null,
      email: null,
      searchText: null,
    })
    expect(await restoredActive.search("gym", nameOf(2).toLowerCase())).toEqual([])
    for (const [i, id] of ids.entries())
      if (id !== purgedId) {
        const view = await restoredActive.get(id)
        expect(view.personal.name, `member ${i}`).toBe(nameOf(i))
        expect(view.personal.email, `member ${i}`).toBe(emailOf(i))
        expect((await restoredActive.findByEmail("gym", emailOf(i)))?.memberId, `member ${i}`).toBe(id)
        expect(
          (await restoredActive.search("gym", nameOf(i).toLowerCase())).map((m) => m.memberId),
          `member ${i}`,
        ).toEqual([id])
      }
    for (const text of clearOf(2))
      expect(contains(rawBytes(log), text), `the restored log, opened, holds no ${text}`).toBe(false)
    await restoredActive.close()

    // The same with the nightly backup taken after the forget, and the repair the audit names.
    restoreLog(log, backup)
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
    for (let i = 0; i < 3; i++) ids.push(await register(lethe, i))
    await lethe.close()
    // One file: the directory's personal columns are in it, in clear, as they always were.
    expect(contains(rawBytes(log), nameOf(0))).toBe(true)
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
    expect(moveKeysApart({ filename: log, keys: { filename: keys } })).toMatchObject({
      moved: keyCount,
      members: 3,
    })
    fs.copyFileSync(beforeMove, log)
    expect(() => sqliteStore({ filename: log, keys: { filename: keys } })).toThrow(
      /holds \d+ keys of its own/,
    )
    expect(moveKeysApart({ filename: log, keys: { filename: keys } })).toMatchObject({
      moved: keyCount,
      members: 3,
    })
    expect(moveKeysApart({ filename: log, keys: { filename: keys } })).toMatchObject({ moved: 0, members: 0 })
    const keyFile = new Database(keys, { readonly: true })
    const wrappedKeys = keyFile
      .prepare("SELECT wrapped_key AS w FROM keys WHERE wrapped_key <> ''")
      .all() as ReadonlyArray<{ w: string }>
    keyFile.close()
    expect(wrappedKeys.length).toBeGreaterThan(2)
    for (const { w } of wrappedKeys)
      expect(contains(rawBytes(log), w), "a wrapped key in the log's bytes").toBe(false)
    // The directory's personal columns moved with the keys: none of them is in the log's bytes.
    for (const i of ids.keys())
      for (const text of [nameOf(i), emailOf(i), nameOf(i).toLowerCase()])
        expect(contains(rawBytes(log), text), `${text} in the log's bytes`).toBe(false)
    expect(() => sqliteStore({ filename: log })).toThrow(/keeps its keys in the key store/)
    const apart = await createLethe({
      store: sqliteStore({ filename: log, keys: { filename: keys } }),
      keyring,
    })
    for (const [i, id] of ids.entries()) {
      expect((await apart.get(id)).personal.name).toBe(nameOf(i))
      expect((await apart.findByEmail("gym", emailOf(i)))?.memberId).toBe(id)
      expect((await apart.search("gym", nameOf(i).toLowerCase())).map((m) => m.memberId)).toEqual([id])
    }
    await apart.close()
  })

  it("R42: a pair written by the previous version (the directory's personal columns still in the log) has them moved into the key store on its first open: none is left in the log file's bytes, and every member reads back", async () => {
    const { log, keys } = pair()
    const lethe = await createLethe({
      store: sqliteStore({ filename: log, keys: { filename: keys } }),
      keyring,
    })
    const ids: Array<string> = []
    for (let i = 0; i < 4; i++) ids.push(await register(lethe, i))
    const forgottenId = ids[3] as string
    await lethe.forget(forgottenId, { actor: admin })
    await lethe.close()
    // The pair as the previous version left it: key store schema version 1, the personal columns in
    // the log's members rows (as that version wrote them), none in the key store.
    const old = new Database(keys)
    old.prepare("ATTACH DATABASE ? AS log").run(log)
    old.exec(`UPDATE log.members SET name = p.name, email = p.email, search_text = p.search_text
      FROM member_personal AS p WHERE p.member_id = members.member_id`)
    old.exec(`DROP TABLE member_personal; ALTER TABLE key_store DROP COLUMN personal_moved_at;
      ALTER TABLE key_store DROP COLUMN log_position; ALTER TABLE key_store DROP COLUMN log_hash;
      DELETE FROM lethe_key_store_migrations WHERE version = 2`)
    old.close()
    expect(contains(rawBytes(log), nameOf(0)), "the previous version's log holds the names").toBe(true)
    expect(contains(rawBytes(log), emailOf(0)), "and the e-mails").toBe(true)
    // An auditor's read-only open waits for the move, which only a read-write open makes.
    expect(() => sqliteStore({ filename: log, keys: { filename: keys }, readonly: true })).toThrow(
      /needs key store migrations 2/,
    )

    const store = sqliteStore({ filename: log, keys: { filename: keys } })
    for (const i of ids.keys())
      for (const text of [nameOf(i), emailOf(i), nameOf(i).toLowerCase(), emailOf(i).toLowerCase()])
        expect(contains(rawBytes(log), text), `${text} in the log's bytes`).toBe(false)
    const upgraded = await createLethe({ store, keyring })
    for (const [i, id] of ids.entries()) {
      if (id === forgottenId) continue
      expect((await upgraded.get(id)).personal).toMatchObject({ name: nameOf(i), email: emailOf(i) })
      expect((await upgraded.findByEmail("gym", emailOf(i)))?.memberId).toBe(id)
      expect((await upgraded.search("gym", nameOf(i).toLowerCase())).map((m) => m.memberId)).toEqual([id])
    }
    expect(await store.directory.get(forgottenId)).toMatchObject({ status: "forgotten", name: null })
    await upgraded.close()
    const logFile = new Database(log, { readonly: true })
    expect(
      logFile
        .prepare(
          "SELECT count(*) AS n FROM members WHERE name IS NOT NULL OR email IS NOT NULL OR search_text IS NOT NULL",
        )
        .get(),
    ).toEqual({ n: 0 })
    logFile.close()
    // Opened again, there is nothing left to move; read-only opens work again.
    const readonly = sqliteStore({ filename: log, keys: { filename: keys }, readonly: true })
    expect((await readonly.directory.get(ids[0] as string))?.name).toBe(nameOf(0))
    await readonly.close()
  })

  it("R42: crash order with the personal columns apart: a personal row committed without its directory row (the key store commits first, or the log was restored from a backup) is removed, with its bytes, on the next open or by the next write that changes a personal row", async () => {
    const { log, keys } = pair()
    const open = () => sqliteStore({ filename: log, keys: { filename: keys } })
    const first = await createLethe({ store: open(), keyring })
    const kept = await register(first, 0)
    const forgotten = await register(first, 1)
    await first.forget(forgotten, { actor: admin })
    await first.close()

    // A registration and a restore cut between their two commits: the key store committed, the log
    // did not; made here by putting back the log as it was before them.
    const beforeCut = path.join(path.dirname(log), "before-cut.db")
    await backUp(log, beforeCut)
    const second = await createLethe({ store: open(), keyring })
    const orphan = await register(second, 2)
    await second.restore(forgotten, { actor: admin })
    await second.close()
    restoreLog(log, beforeCut)
    expect(contains(rawBytes(keys), nameOf(2)), "the cut registration's row is in the key store").toBe(true)
    expect(contains(rawBytes(keys), nameOf(1)), "and the cut restore's").toBe(true)

    const store = open()
    for (const i of [1, 2])
      for (const text of [nameOf(i), emailOf(i)])
        expect(contains(rawBytes(keys), text), `${text} in the key store's bytes`).toBe(false)
    expect(await store.directory.get(orphan)).toBeUndefined()
    expect(await store.directory.get(forgotten)).toMatchObject({
      status: "forgotten",
      name: null,
      email: null,
    })
    const third = await createLethe({ store, keyring })
    expect((await third.get(kept)).personal.name).toBe(nameOf(0))
    expect((await third.search("gym", nameOf(0).toLowerCase())).map((m) => m.memberId)).toEqual([kept])
    expect(await third.search("gym", "bärbel")).toHaveLength(1)

    // The same left by another process that crashed while this one stays open (its registration's
    // row, and the mark of its last event, which the log never got): the next write here that
    // changes a personal row removes it.
    const other = new Database(keys)
    other
      .prepare("INSERT INTO member_personal (member_id, name, email, search_text) VALUES (?, ?, ?, ?)")
      .run("ghost", nameOf(5), emailOf(5), nameOf(5).toLowerCase())
    const { position } = (await store.events.readAll({ limit: 10_000 })).events.at(-1) ?? { position: 0 }
    other.prepare("UPDATE key_store SET log_position = ?, log_hash = 'lost'").run(position + 1)
    const ghostRows = () =>
      other.prepare("SELECT count(*) AS n FROM member_personal WHERE member_id = 'ghost'").get()
    await third.recordActivity(kept, { kind: "visit" })
    expect(ghostRows(), "a write that leaves the personal rows alone leaves it").toEqual({ n: 1 })
    const later = await register(third, 6)
    expect(ghostRows()).toEqual({ n: 0 })
    expect((await third.get(later)).personal.name).toBe(nameOf(6))
    other.close()
    await third.close()
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
