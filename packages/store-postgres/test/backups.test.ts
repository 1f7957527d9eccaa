import { execFileSync } from "node:child_process"
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import type { Actor, LetheClient } from "@lethe/core"
import { createLethe, keyringFromSecret } from "@lethe/core"
import { auditLog, auditSourcesOf } from "@lethe/core/audit"
import type { LetheStore } from "@lethe/core/spi"
import { readAllEvents, sealedKeyIds } from "@lethe/core/spi"
import type { PGliteLike, PgPoolLike } from "@lethe/store-postgres"
import { postgresStore } from "@lethe/store-postgres"
import pg from "pg"
import { afterAll, describe, expect, it } from "vitest"
import { noServerReason, pgliteDatabase, serverUrl } from "./fixtures.js"

const keyring = keyringFromSecret("store-postgres backups test secret, long enough")
const admin: Actor = { id: "staff:admin", roles: ["admin"] }
const day = 86_400_000
const nameOf = (i: number) => `Þórdís Ægisdóttir-${i}-Kx${i * 7919}`
const emailOf = (i: number) => `member.${i}.kx${i * 7919}@example.org`

/** Registers member number `i` (its name, e-mail and address), and returns its id. */
const registerWithAddress = async (lethe: LetheClient, i: number): Promise<string> => {
  const { memberId } = await lethe.register({
    tenantId: "gym",
    personal: { name: nameOf(i), email: emailOf(i) },
    source: { kind: "form" },
  })
  await lethe.recordPersonalData(memberId, {
    category: "address",
    fields: { street: `Laugavegur ${i}`, city: "Reykjavík" },
    source: { kind: "form" },
  })
  return memberId
}

/** The same PGlite database behind another object: to the store, a key store on connections of its own. */
const otherConnections = (pool: PgPoolLike | PGliteLike): PGliteLike => {
  const lite = pool as PGliteLike
  return {
    query: (text, params) => lite.query(text, params),
    transaction: (callback) => lite.transaction(callback),
  }
}
const random = () => Math.random().toString(36).slice(2, 10)

/** Every key id the member's stored events seal values under. */
const sealedUnder = async (store: LetheStore, memberId: string): Promise<ReadonlyArray<string>> => [
  ...new Set((await store.events.readStream(`member-${memberId}`)).flatMap((e) => sealedKeyIds(e.data))),
]

describe("postgres store with its keys apart: opening (R42)", () => {
  const lite = pgliteDatabase()

  it("R42: the log's schema never holds a wrapped key, and opens only beside its own key store", async () => {
    const schema = lite.freshSchema()
    const keys = `${schema}_keys`
    const lethe = await createLethe({
      store: await postgresStore({ pool: lite.pool, schema, keys: { schema: keys } }),
      keyring,
    })
    await lethe.register({ tenantId: "gym", personal: { name: nameOf(1) }, source: { kind: "form" } })
    await lethe.close()
    expect(await lite.query(`SELECT count(*)::int AS n FROM "${schema}".keys`)).toEqual([{ n: 0 }])
    expect(((await lite.query(`SELECT count(*)::int AS n FROM "${keys}".keys`))[0]?.n as number) > 0).toBe(
      true,
    )
    await expect(postgresStore({ pool: lite.pool, schema })).rejects.toMatchObject({
      _tag: "StoreError",
      detail: expect.stringMatching(/keeps its keys in the key store/),
    })
    await expect(
      postgresStore({ pool: lite.pool, schema, keys: { schema: `${schema}_other` } }),
    ).rejects.toMatchObject({
      detail: expect.stringMatching(/not in/),
    })
    await expect(postgresStore({ pool: lite.pool, schema: keys })).rejects.toMatchObject({
      detail: expect.stringMatching(/is not a Lethe schema/),
    })
    await expect(postgresStore({ pool: lite.pool, schema, keys: { schema } })).rejects.toMatchObject({
      detail: expect.stringMatching(/another schema/),
    })
  })

  it("R42: a schema written by the previous version keeps its keys in it; beside a key store it is refused until they are moved, and the documented move opens it", async () => {
    const schema = lite.freshSchema()
    const keys = `${schema}_keys`
    const lethe = await createLethe({ store: await postgresStore({ pool: lite.pool, schema }), keyring })
    const { memberId } = await lethe.register({
      tenantId: "gym",
      personal: { name: nameOf(2), email: emailOf(2) },
      source: { kind: "form" },
    })
    await lethe.close()
    // One schema: the directory's personal columns are in the log's members rows, as they always were.
    expect(await lite.query(`SELECT name FROM "${schema}".members`)).toEqual([{ name: nameOf(2) }])
    // The schema as the previous version left it: version 7, no record of where the keys live.
    await lite.query(`DROP TABLE "${schema}".key_store`)
    await lite.query(`DELETE FROM "${schema}".lethe_migrations WHERE version = 8`)
    const single = await createLethe({ store: await postgresStore({ pool: lite.pool, schema }), keyring })
    expect((await single.get(memberId)).personal.name).toBe(nameOf(2))
    await single.close()
    await expect(postgresStore({ pool: lite.pool, schema, keys: { schema: keys } })).rejects.toMatchObject({
      detail: expect.stringMatching(/holds \d+ keys of its own/),
    })
    // docs/operations.md, "Moving the keys apart", PostgreSQL, in one transaction.
    // (The refused open created and migrated the key store's schema.)
    await (lite.pool as unknown as { exec(sql: string): Promise<unknown> }).exec(`BEGIN;
      INSERT INTO "${keys}".keys SELECT key_id, tenant_id, member_id, category, wrapped_key, kek_id, created_at, destroyed_at FROM "${schema}".keys;
      DELETE FROM "${schema}".keys;
      COMMIT;`)
    const apart = await createLethe({
      store: await postgresStore({ pool: lite.pool, schema, keys: { schema: keys } }),
      keyring,
    })
    expect((await apart.get(memberId)).personal.name).toBe(nameOf(2))
    expect((await apart.findByEmail("gym", emailOf(2)))?.memberId).toBe(memberId)
    expect((await apart.search("gym", nameOf(2).toLowerCase())).map((m) => m.memberId)).toEqual([memberId])
    await apart.close()
    // The open that followed the move moved the directory's personal columns with the keys.
    expect(await lite.query(`SELECT name, email, search_text FROM "${schema}".members`)).toEqual([
      { name: null, email: null, search_text: null },
    ])
    expect(await lite.query(`SELECT member_id, name FROM "${keys}".member_personal`)).toEqual([
      { member_id: memberId, name: nameOf(2) },
    ])
  })

  it("R42: a pair written by the previous version (the directory's personal columns still in the log's schema) has them moved into the key store schema on its first open, in one transaction; every member reads back", async () => {
    const schema = lite.freshSchema()
    const keys = `${schema}_keys`
    const open = () => postgresStore({ pool: lite.pool, schema, keys: { schema: keys } })
    const lethe = await createLethe({ store: await open(), keyring })
    const ids: Array<string> = []
    for (let i = 0; i < 3; i++)
      ids.push(
        (
          await lethe.register({
            tenantId: "gym",
            personal: { name: nameOf(i), email: emailOf(i) },
            source: { kind: "form" },
          })
        ).memberId,
      )
    await lethe.forget(ids[2] as string, { actor: admin })
    await lethe.close()
    expect(
      await lite.query(`SELECT count(*)::int AS n FROM "${schema}".members WHERE name IS NOT NULL`),
    ).toEqual([{ n: 0 }])
    // The pair as the previous version left it: key store schema version 1, the personal columns in
    // the log's members rows (as that version wrote them), none in the key store.
    await (lite.pool as unknown as { exec(sql: string): Promise<unknown> }).exec(`
      UPDATE "${schema}".members AS m SET name = p.name, email = p.email, search_text = p.search_text
        FROM "${keys}".member_personal AS p WHERE p.member_id = m.member_id;
      DROP TABLE "${keys}".member_personal;
      ALTER TABLE "${keys}".key_store DROP COLUMN personal_moved_at, DROP COLUMN log_members;
      DELETE FROM "${keys}".lethe_key_store_migrations WHERE version = 2;`)
    expect(
      await lite.query(`SELECT count(*)::int AS n FROM "${schema}".members WHERE name IS NOT NULL`),
    ).toEqual([{ n: 2 }])

    const upgraded = await createLethe({ store: await open(), keyring })
    expect(
      await lite.query(
        `SELECT count(*)::int AS n FROM "${schema}".members WHERE name IS NOT NULL OR email IS NOT NULL OR search_text IS NOT NULL`,
      ),
    ).toEqual([{ n: 0 }])
    for (const [i, id] of ids.entries()) {
      if (i === 2) {
        expect((await upgraded.get(id)).status).toBe("forgotten")
        continue
      }
      expect((await upgraded.get(id)).personal).toMatchObject({ name: nameOf(i), email: emailOf(i) })
      expect((await upgraded.findByEmail("gym", emailOf(i)))?.memberId).toBe(id)
      expect((await upgraded.search("gym", nameOf(i).toLowerCase())).map((m) => m.memberId)).toEqual([id])
    }
    await upgraded.close()
    // A key store holding the personal columns cannot serve a log over other connections: refused.
    await expect(
      postgresStore({ pool: lite.pool, schema, keys: { schema: keys, pool: otherConnections(lite.pool) } }),
    ).rejects.toMatchObject({ detail: expect.stringMatching(/holds the directory's personal columns/) })
  })
})

describe("postgres store with its keys on their own connections: crash order (R42)", () => {
  const logDb = pgliteDatabase()
  const keyDb = pgliteDatabase()

  it("R42: an append cut between its two transactions (keys committed, the log's lost) leaves an orphan key, never an event without its key; the next attempt reuses it", async () => {
    const schema = logDb.freshSchema()
    const lite = logDb.pool as PGliteLike
    let cut = false
    // The log's database, failing the append statement (as a connection lost mid-append would) while `cut`.
    const log: PGliteLike = {
      query: async (text, params) => {
        if (cut && text.includes(".append("))
          throw Object.assign(new Error("connection lost"), { code: "08006" })
        return lite.query(text, params)
      },
      transaction: (callback) => lite.transaction(callback),
    }
    const store = await postgresStore({
      pool: log,
      schema,
      keys: { pool: keyDb.pool, schema: `${schema}_keys` },
    })
    const lethe = await createLethe({ store, keyring })
    const { memberId } = await lethe.register({
      tenantId: "gym",
      personal: { name: nameOf(3) },
      source: { kind: "form" },
    })
    cut = true
    await expect(
      lethe.recordPersonalData(memberId, {
        category: "address",
        fields: { street: "Laugavegur 3" },
        source: { kind: "form" },
      }),
    ).rejects.toMatchObject({ _tag: "StoreUnavailable" })
    cut = false
    const keyId = `dk:${memberId}:address`
    expect((await store.keys.get(keyId))?._tag, "the key committed first").toBe("Live")
    expect(
      (await store.events.readStream(`member-${memberId}`)).flatMap((e) => sealedKeyIds(e.data)),
    ).not.toContain(keyId)
    await lethe.recordPersonalData(memberId, {
      category: "address",
      fields: { street: "Laugavegur 3" },
      source: { kind: "form" },
    })
    expect((await lethe.get(memberId)).data.address?.street).toBe("Laugavegur 3")
    const audit = await auditLog(readAllEvents(store.events), { ...auditSourcesOf(store), asOf: new Date() })
    expect(
      audit.findings.filter((f) => ["hash-chain", "keys-destroyed", "log-behind-key-store"].includes(f.rule)),
    ).toEqual([])
    await lethe.close()
  })
})

if (serverUrl === undefined) {
  describe("postgres store with its keys apart: backups forget (R42)", () => {
    it.skip(`pg_dump, purge, restore [skipped: ${noServerReason}]`, () => {})
  })
} else {
  const url = serverUrl
  describe("postgres store with its keys apart: backups forget (R42)", () => {
    const logSchema = `lethe_r42_${random()}${random()}`
    const keySchema = `${logSchema}_keys`
    const restoredDb = `lethe_r42_restored_${random()}`
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lethe-pg-backup-"))
    const pool = new pg.Pool({ connectionString: url, max: 4 })
    const keysPool = new pg.Pool({ connectionString: url, max: 4 })
    const restoredUrl = (() => {
      const u = new URL(url)
      u.pathname = `/${restoredDb}`
      return u.toString()
    })()
    const restoredPool = new pg.Pool({ connectionString: restoredUrl, max: 4 })
    const sameLog = `${logSchema}_same`
    const sameKeys = `${sameLog}_keys`
    afterAll(async () => {
      await restoredPool.end()
      for (const schema of [logSchema, keySchema, sameLog, sameKeys])
        await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
      await pool.query(`DROP DATABASE IF EXISTS "${restoredDb}"`)
      await pool.end()
      await keysPool.end()
      fs.rmSync(dir, { recursive: true, force: true })
    })

    it("R42: with the key store in the log's database, a pg_dump of the log's schema taken while a member is active holds none of the directory's names or e-mails; restored in place after the member's purge, it opens nothing of them, and everyone else reads back, looks up and searches as before", async () => {
      let now = new Date("2026-03-02T09:00:00Z").getTime()
      const clock = () => new Date(now)
      const open = () => postgresStore({ pool, schema: sameLog, keys: { schema: sameKeys } })
      const lethe = await createLethe({ store: await open(), keyring, clock })
      const ids: Array<string> = []
      for (let i = 0; i < 5; i++) {
        ids.push(await registerWithAddress(lethe, i))
        now += 60_000
      }
      const purgedId = ids[2] as string
      const clearOf = (i: number) => [nameOf(i), emailOf(i), nameOf(i).toLowerCase(), `Laugavegur ${i}`]
      const dumpOf = (file: string) => {
        execFileSync("pg_dump", ["--schema", sameLog, "--no-owner", "--file", file, url])
        return fs.readFileSync(file)
      }
      // The log backup, taken while every member is active.
      const whileActive = path.join(dir, "same-log-active.sql")
      const bytes = dumpOf(whileActive)
      expect(bytes.includes(Buffer.from(sameLog))).toBe(true)
      for (const i of ids.keys())
        for (const text of clearOf(i))
          expect(bytes.includes(Buffer.from(text)), `the dump holds ${text} only as ciphertext`).toBe(false)

      // Someone registers after the backup: the restore loses them, and their personal row with them.
      const { memberId: later } = await lethe.register({
        tenantId: "gym",
        personal: { name: nameOf(9), email: emailOf(9) },
        source: { kind: "form" },
      })
      await lethe.forget(purgedId, { actor: admin })
      now += (lethe.config.restoreWindowDays + 1) * day
      expect((await lethe.runRetention()).executed.map((e) => e.memberId)).toEqual([purgedId])
      await lethe.close()

      // Disaster: the log's schema is lost and restored from that dump, beside the current key store.
      await pool.query(`DROP SCHEMA "${sameLog}" CASCADE`)
      execFileSync("psql", ["--quiet", "--set", "ON_ERROR_STOP=1", "--file", whileActive, url])
      const personalRow = async () =>
        (
          await pool.query(
            `SELECT count(*)::int AS n FROM "${sameKeys}".member_personal WHERE member_id = $1`,
            [later],
          )
        ).rows
      expect(await personalRow()).toEqual([{ n: 1 }])
      const store = await open()
      expect(await personalRow(), "the row of a member the restored log does not know").toEqual([{ n: 0 }])
      expect(await store.directory.get(later)).toBeUndefined()
      const restored = await createLethe({ store, keyring, clock })
      expect(await store.directory.get(purgedId)).toMatchObject({ status: "active", name: null, email: null })
      expect(await restored.search("gym", nameOf(2).toLowerCase())).toEqual([])
      for (const [i, id] of ids.entries())
        if (id !== purgedId) {
          const view = await restored.get(id)
          expect(view.personal.name, `member ${i}`).toBe(nameOf(i))
          expect(view.personal.email, `member ${i}`).toBe(emailOf(i))
          expect(view.data.address?.street, `member ${i}`).toBe(`Laugavegur ${i}`)
          expect((await restored.findByEmail("gym", emailOf(i)))?.memberId, `member ${i}`).toBe(id)
          expect(
            (await restored.search("gym", nameOf(i).toLowerCase())).map((m) => m.memberId),
            `member ${i}`,
          ).toEqual([id])
        }
      await restored.close()
      const again = dumpOf(path.join(dir, "same-log-restored.sql"))
      for (const text of clearOf(2))
        expect(again.includes(Buffer.from(text)), `the restored log holds ${text} only as ciphertext`).toBe(
          false,
        )
    })

    it("R42: a pg_dump of the log taken before a purge, restored into a fresh database beside the current key store, opens nothing of the purged member, everything of the others, and the audit flags it until the purge is done again", async () => {
      let now = new Date("2026-03-02T09:00:00Z").getTime()
      const clock = () => new Date(now)
      // The keys on their own connections: two transactions per append, the keys' first.
      const lethe = await createLethe({
        store: await postgresStore({ pool, schema: logSchema, keys: { pool: keysPool, schema: keySchema } }),
        keyring,
        clock,
      })
      const ids: Array<string> = []
      for (let i = 0; i < 5; i++) {
        ids.push(await registerWithAddress(lethe, i))
        now += 60_000
      }
      const purgedId = ids[2] as string
      await lethe.forget(purgedId, { actor: admin })

      // The nightly log backup: the log's schema only, in plain SQL.
      const dump = path.join(dir, "log.sql")
      execFileSync("pg_dump", ["--schema", logSchema, "--no-owner", "--file", dump, url])
      const bytes = fs.readFileSync(dump)
      expect(bytes.includes(Buffer.from(logSchema))).toBe(true)
      expect(bytes.includes(Buffer.from(nameOf(2))), "the dump holds the name only as ciphertext").toBe(false)
      expect(bytes.includes(Buffer.from("Laugavegur 2")), "the street only as ciphertext").toBe(false)
      expect(
        bytes.includes(Buffer.from("wrapped_key")) && bytes.includes(Buffer.from(`"${keySchema}"`)),
      ).toBe(false)

      now += (lethe.config.restoreWindowDays + 1) * day
      const run = await lethe.runRetention()
      expect(run.executed.map((e) => e.memberId)).toEqual([purgedId])
      await lethe.close()

      // Disaster: the log is restored from the dump into a fresh database, beside the current key store.
      await pool.query(`CREATE DATABASE "${restoredDb}"`)
      execFileSync("psql", ["--quiet", "--set", "ON_ERROR_STOP=1", "--file", dump, restoredUrl])
      const store = await postgresStore({
        pool: restoredPool,
        schema: logSchema,
        keys: { pool: keysPool, schema: keySchema },
      })
      const restored = await createLethe({ store, keyring, clock })
      const under = await sealedUnder(store, purgedId)
      expect(under.length).toBeGreaterThan(0)
      for (const keyId of under) expect((await store.keys.get(keyId))?._tag, keyId).toBe("Destroyed")
      for (const [i, id] of ids.entries())
        if (id !== purgedId) {
          const view = await restored.get(id)
          expect(view.personal.name, `member ${i}`).toBe(nameOf(i))
          expect(view.data.address?.street, `member ${i}`).toBe(`Laugavegur ${i}`)
        }

      const audit = async () =>
        auditLog(readAllEvents(store.events), { ...auditSourcesOf(store), asOf: new Date(now) })
      const flagged = (await audit()).findings.filter((f) => f.rule === "log-behind-key-store")
      expect(flagged.map((f) => [f.streamId, f.requirements])).toEqual([[`member-${purgedId}`, ["R42"]]])

      const again = await restored.runRetention()
      expect(again.failed).toEqual([])
      expect(again.executed.map((e) => [e.rule, e.memberId])).toEqual([["purge-forgotten", purgedId]])
      expect(await sealedUnder(store, purgedId)).toEqual([])
      const after = await audit()
      expect(
        after.findings.filter((f) => f.rule === "log-behind-key-store" || f.rule === "keys-destroyed"),
      ).toEqual([])
      await restored.close()
    })
  })
}
