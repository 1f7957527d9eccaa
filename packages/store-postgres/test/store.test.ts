import net from "node:net"
import type { LetheStore, MemberStatus } from "@lethe/core"
import { ConcurrencyConflict, createLethe, keyringFromSecret, StoreError } from "@lethe/core"
import type { BeforeQuery } from "@lethe/core/spi"
import { postgresStore } from "@lethe/store-postgres"
import { memberRow, newEvent, rejection } from "@lethe/testkit/fixtures"
import pg from "pg"
import { afterAll, describe, expect, it } from "vitest"
import { toDatabase } from "../src/client.js"
import { selectByKeys } from "../src/directory.js"
import { migrate, migrations, toSchema } from "../src/migrations.js"
import type { TestDatabase } from "./fixtures.js"
import { noServerReason, pgliteDatabase, serverDatabase, serverUrl } from "./fixtures.js"

const databases: ReadonlyArray<TestDatabase> =
  serverUrl === undefined ? [pgliteDatabase()] : [pgliteDatabase(), serverDatabase(serverUrl)]

const opened: Array<LetheStore> = []
afterAll(async () => {
  for (const store of opened) await store.close()
})
const open = async (database: TestDatabase, schema = database.freshSchema()) => {
  const store = await postgresStore({ pool: database.pool, schema })
  opened.push(store)
  return store
}

for (const database of databases) {
  describe(`postgres store on ${database.name}`, () => {
    it("R39: a schema written with one secret refuses another with KeyringMismatch, and the key checks are unchanged", async () => {
      const schema = database.freshSchema()
      const keyring = keyringFromSecret("the secret this schema was written with, 32+ bytes")
      const lethe = await createLethe({ store: await open(database, schema), keyring })
      await lethe.register({ tenantId: "gym", personal: { email: "ada@example.org" }, source: "staff" })
      await lethe.close()
      const checks = () =>
        database.query(`SELECT key_id, wrapped_key FROM ${schema}.keys WHERE member_id = 'lethe:keyring'`)
      const before = await checks()
      expect(before).toHaveLength(1)
      const other = keyringFromSecret("another secret that is also at least 32 bytes")
      const error = await rejection(createLethe({ store: await open(database, schema), keyring: other }))
      expect(error).toMatchObject({ _tag: "KeyringMismatch" })
      expect(await checks()).toEqual(before)
      const again = await createLethe({ store: await open(database, schema), keyring })
      expect(await again.findByEmail("gym", "ada@example.org")).not.toBeNull()
      await again.close()
    })

    it("opens under the default schema name `lethe` when none is given", async () => {
      if (database.name === "server") {
        // The real server is shared: only check the default on PGlite, where the database is ours.
        return
      }
      const store = await postgresStore({ pool: database.pool })
      opened.push(store)
      await store.events.append({ streamId: "s", expectedVersion: "no_stream", events: [newEvent()] })
      const rows = await database.query("SELECT count(*)::int AS n FROM lethe.events")
      expect(rows[0]?.n).toBe(1)
    })

    it("refuses a schema name that is not a plain lower-case identifier, before touching the database", async () => {
      for (const schema of ['lethe"; DROP TABLE x; --', "Lethe", "1abc", "", "pg_catalog", "a".repeat(64)]) {
        const error = await rejection(postgresStore({ pool: database.pool, schema }))
        expect(error, schema).toBeInstanceOf(StoreError)
        expect(error.operation).toBe("open")
      }
    })

    it("R-SPI: close never ends the caller's pool; later calls reject with StoreError; closing twice is harmless", async () => {
      const schema = database.freshSchema()
      const store = await open(database, schema)
      await store.close()
      await store.close()
      const error = await rejection(store.events.readAll())
      expect(error).toBeInstanceOf(StoreError)
      expect(String(error.detail)).toContain("closed")
      expect((await rejection(store.keys.get("k")))._tag).toBe("StoreError")
      // The pool still works: another store on the same schema reads and writes.
      const again = await open(database, schema)
      await again.events.append({ streamId: "s", expectedVersion: "no_stream", events: [newEvent()] })
      expect((await again.events.readStream("s")).length).toBe(1)
    })

    it("migrations: two stores opening one new schema at once migrate it once", async () => {
      const schema = database.freshSchema()
      const [a, b, c] = await Promise.all([
        open(database, schema),
        open(database, schema),
        open(database, schema),
      ])
      const ledger = await database.query(`SELECT version FROM "${schema}".lethe_migrations`)
      expect(ledger).toEqual(migrations.map(({ version }) => ({ version })))
      await a?.events.append({ streamId: "s", expectedVersion: "no_stream", events: [newEvent()] })
      expect((await c?.events.readAll())?.events.length).toBe(1)
      expect(b).toBeDefined()
    })

    it("migrations: a schema written by a newer version is refused, unchanged", async () => {
      const schema = database.freshSchema()
      await open(database, schema)
      await database.query(
        `INSERT INTO "${schema}".lethe_migrations (version, name, applied_at) VALUES (99, 'from the future', 0)`,
      )
      const error = await rejection(open(database, schema))
      expect(error).toBeInstanceOf(StoreError)
      expect(String(error.detail)).toContain(
        `schema version 99, newer than this @lethe/store-postgres knows (${migrations.length})`,
      )
    })

    it("migrations: a schema holding another program's tables is refused, untouched", async () => {
      const schema = database.freshSchema()
      await database.query(`CREATE SCHEMA "${schema}"`)
      await database.query(`CREATE TABLE "${schema}".orders (id int)`)
      const error = await rejection(open(database, schema))
      expect(error).toBeInstanceOf(StoreError)
      expect(String(error.detail)).toContain("not a Lethe schema")
      const tables = await database.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
        [schema],
      )
      expect(tables).toEqual([{ table_name: "orders" }])
    })

    it("SPI: each retention query ranges over its own index, which leaves out the members it cannot find (migrations 7 and 9)", async () => {
      const schema = database.freshSchema()
      await open(database, schema)
      // 6,000 members of every status; a fifth with a contract end, the forgotten with a restore
      // window, the anonymized with an anonymization date, the purged with a purge date; half of
      // them holding invoice data.
      await database.query(
        `INSERT INTO "${schema}".members (member_id, tenant_id, status, email_key, restricted, customer,
           registered_at, last_activity_at, last_contact_at, holds_invoice_data, version,
           contracts_ended_at, restorable_until, anonymized_at, purged_at)
         SELECT 'm' || i, 'club', (ARRAY['active', 'forgotten', 'anonymized', 'purged'])[i % 4 + 1], 'k' || i, false,
           false, 0, 0, 0, i % 8 < 4, 1, CASE WHEN i % 5 = 0 THEN i END, CASE WHEN i % 4 = 1 THEN i END,
           CASE WHEN i % 4 = 2 THEN i END, CASE WHEN i % 4 = 3 THEN i END
         FROM generate_series(1, 6000) AS i`,
      )
      // The filters as directory.ts writes them; invoicesHeldSince (R37) also with a tenant and after a member id.
      const invoicesHeld =
        "holds_invoice_data AND status IN ('anonymized', 'purged') AND coalesce(anonymized_at, purged_at) < 100::bigint"
      // With a tenant, the planner may walk the tenant's own (tenant_id, status) index instead, as
      // for every retention query of one tenant (directory.ts).
      const ofTenant = /members_by_invoices_held|members_by_tenant_status/
      const retention: ReadonlyArray<readonly [string | RegExp, string]> = [
        ["members_by_contracts_ended", "status = 'active' AND contracts_ended_at < 100::bigint"],
        ["members_by_restorable_until", "status = 'forgotten' AND restorable_until <= 100::bigint"],
        ["members_by_invoices_held", invoicesHeld],
        ["members_by_invoices_held", `${invoicesHeld} AND m.member_id > 'm1'`],
        [ofTenant, `${invoicesHeld} AND m.tenant_id = 'club'`],
        [ofTenant, `${invoicesHeld} AND m.tenant_id = 'club' AND m.member_id > 'm1'`],
      ]
      for (const when of ["fresh", "analyzed"]) {
        if (when === "analyzed") await database.query(`ANALYZE "${schema}".members`)
        for (const [index, filter] of retention) {
          const plan = JSON.stringify(
            await database.query(
              `EXPLAIN (FORMAT JSON) SELECT member_id FROM "${schema}".members AS m WHERE ${filter}
               ORDER BY m.member_id LIMIT 100`,
            ),
          )
          expect(plan, `${when}: ${filter}`).toMatch(index)
          expect(plan, `${when}: ${filter}`).not.toContain("Seq Scan")
        }
      }
      // What it finds: the anonymized and the purged holding invoice data (i % 4 is 2 or 3, i % 8
      // below 4) before the date, in member_id order (bytes).
      const found = await database.query(
        `SELECT member_id FROM "${schema}".members AS m WHERE ${invoicesHeld.replace("100::bigint", "30::bigint")}
         ORDER BY m.member_id LIMIT 100`,
      )
      expect(found.map((row) => row.member_id)).toEqual([
        "m10",
        "m11",
        "m18",
        "m19",
        "m2",
        "m26",
        "m27",
        "m3",
      ])
      const definitions = await database.query(
        `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = ANY($2) ORDER BY indexname`,
        [schema, ["members_by_contracts_ended", "members_by_invoices_held", "members_by_restorable_until"]],
      )
      expect(definitions.map((row) => String(row.indexdef).replace(/^.* USING btree /, ""))).toEqual([
        "(status, contracts_ended_at) WHERE (contracts_ended_at IS NOT NULL)",
        "(COALESCE(anonymized_at, purged_at)) WHERE (holds_invoice_data AND (status = ANY (ARRAY['anonymized'::text, 'purged'::text])))",
        "(status, restorable_until) WHERE (restorable_until IS NOT NULL)",
      ])
    })

    it("SPI: a look-up by e-mail in a tenant of thousands reads the e-mail's index entry, not the tenant's members", async () => {
      const schema = database.freshSchema()
      await open(database, schema)
      // 3,000 members of one tenant, written as the directory holds them.
      await database.query(
        `INSERT INTO "${schema}".members (member_id, tenant_id, status, email_key, restricted, customer,
           registered_at, last_activity_at, last_contact_at, holds_invoice_data, version)
         SELECT 'm' || i, 'club', 'active', 'key-' || i, false, false, 0, 0, 0, false, 1
         FROM generate_series(1, 3000) AS i`,
      )
      // The directory's look-up (without ORDER BY, see directory.ts).
      const plan = async (key: "email_key" | "restore_key", status: string) =>
        JSON.stringify(
          await database.query(
            `EXPLAIN (FORMAT JSON) SELECT member_id FROM "${schema}".members AS m
             WHERE m.tenant_id = 'club' AND m.${key} = 'key-42' AND m.status = '${status}'`,
          ),
        )
      // Before the table's statistics are gathered (a table just filled) and after.
      for (const when of ["fresh", "analyzed"]) {
        if (when === "analyzed") await database.query(`ANALYZE "${schema}".members`)
        expect(await plan("email_key", "active"), when).toMatch(/members_by_email_key|members_one_email/)
        expect(await plan("restore_key", "forgotten"), when).toContain("members_by_restore_key")
      }
    })

    it("SPI: a look-up of 200 keys in a tenant of thousands searches the key's index once per key, not the tenant's members", async () => {
      const schema = database.freshSchema()
      const store = await open(database, schema)
      // Two tenants of 3,000 members each, holding the same keys: two in three active with an
      // e-mail key, one in three forgotten with a restore key.
      await database.query(
        `INSERT INTO "${schema}".members (member_id, tenant_id, status, email_key, restore_key, restricted,
           customer, registered_at, last_activity_at, last_contact_at, holds_invoice_data, version)
         SELECT t || '-m' || i, t, CASE WHEN i % 3 = 0 THEN 'forgotten' ELSE 'active' END,
           CASE WHEN i % 3 = 0 THEN NULL ELSE 'key-' || i END, CASE WHEN i % 3 = 0 THEN 'key-' || i END,
           false, false, 0, 0, 0, false, 1
         FROM generate_series(1, 3000) AS i, unnest(ARRAY['club', 'other']) AS t`,
      )
      const keys = Array.from({ length: 200 }, (_, i) => `key-${i * 7}`)
      /** Each node of the look-up's plan on the members table: how it reads them, through which index. */
      const membersRead = async (column: "email_key" | "restore_key", status: MemberStatus) => {
        const [row] = await database.query(
          `EXPLAIN (FORMAT JSON) ${selectByKeys(toSchema(schema).sql, column, status)}`,
          ["club", keys],
        )
        const reads: Array<string> = []
        const walk = (node: Record<string, unknown>): void => {
          if (node["Relation Name"] === "members")
            reads.push(`${node["Node Type"]} ${String(node["Index Name"] ?? "")}`.trim())
          for (const child of (node.Plans as Array<Record<string, unknown>> | undefined) ?? []) walk(child)
        }
        const explained = row?.["QUERY PLAN"]
        walk((typeof explained === "string" ? JSON.parse(explained) : explained)[0].Plan)
        return reads
      }
      // Before the table's statistics are gathered (a table just filled) and after.
      for (const when of ["fresh", "analyzed"]) {
        if (when === "analyzed") await database.query(`ANALYZE "${schema}".members`)
        const byEmail = await membersRead("email_key", "active")
        expect(byEmail, when).toHaveLength(1)
        expect(byEmail[0], when).toMatch(/^Index (Only )?Scan (members_by_email_key|members_one_email)$/)
        expect(await membersRead("restore_key", "forgotten"), when).toEqual([
          expect.stringMatching(/^Index (Only )?Scan members_by_restore_key$/),
        ])
      }
      // And it finds what it should: the club's active members under the keys, then its forgotten ones.
      const expected = (remainder: (i: number) => boolean) =>
        keys
          .map((key) => Number(key.slice(4)))
          .filter((i) => i >= 1 && i <= 3000 && remainder(i))
          .map((i) => `club-m${i}`)
          .sort()
      const email = store.directory.findManyByEmail ?? expect.fail("the postgres store has findManyByEmail")
      const restorable =
        store.directory.findManyRestorable ?? expect.fail("the postgres store has findManyRestorable")
      const found = (rows: ReadonlyArray<{ readonly memberId: string }>) => rows.map((row) => row.memberId)
      expect(found(await email.call(store.directory, "club", keys))).toEqual(expected((i) => i % 3 !== 0))
      expect(found(await restorable.call(store.directory, "club", keys))).toEqual(
        expected((i) => i % 3 === 0),
      )
    })

    it("migrations: migration 4 adds the snapshots table to a schema of migrations 1-3, whose data stays; its state is text, kept byte for byte", async () => {
      const schema = database.freshSchema()
      expect(await migrate(toDatabase(database.pool), toSchema(schema), migrations.slice(0, 3), 1)).toEqual([
        1, 2, 3,
      ])
      await database.query(
        `INSERT INTO "${schema}".keys (key_id, tenant_id, member_id, category, wrapped_key, kek_id, created_at)
         VALUES ('k1', 't1', 'm1', 'contact', 'w', 'kek', 1)`,
      )
      const store = await open(database, schema)
      const ledger = await database.query(
        `SELECT version, name FROM "${schema}".lethe_migrations ORDER BY version`,
      )
      expect(ledger.find((row) => row.version === 4)).toEqual({ version: 4, name: "member snapshots" })
      expect((await store.keys.get("k1"))?._tag).toBe("Live")
      const columns = await database.query(
        `SELECT column_name, data_type, collation_name, is_nullable FROM information_schema.columns
         WHERE table_schema = $1 AND table_name = 'snapshots' ORDER BY ordinal_position`,
        [schema],
      )
      const column = (name: string, type: string, collation: string | null = null, nullable = "NO") => ({
        column_name: name,
        data_type: type,
        collation_name: collation,
        is_nullable: nullable,
      })
      expect(columns).toEqual([
        column("member_id", "text", "C"),
        column("tenant_id", "text", "C"),
        column("version", "bigint"),
        column("head", "text"),
        // NULL once removed: the row then holds the member's floor only.
        column("state", "text", null, "YES"),
        column("taken_at", "bigint"),
      ])
      // Keys out of order and numbers spelled as JavaScript spells them: jsonb would change both.
      const state = { zeta: 1, alpha: [0.1, 1e21, -5e-324], Ł: { b: true, a: null } }
      const snapshots = store.snapshots ?? expect.fail("the postgres store has snapshots")
      await snapshots.write({ memberId: "m1", tenantId: "t1", version: 3, head: "h3", state, takenAt: 7 })
      const [row] = await database.query(`SELECT state FROM "${schema}".snapshots WHERE member_id = 'm1'`)
      expect(row?.state).toBe(JSON.stringify(state))
      expect(await snapshots.read("m1")).toEqual({
        memberId: "m1",
        tenantId: "t1",
        version: 3,
        head: "h3",
        state,
        takenAt: 7,
      })
    })

    it("migrations: migration 5 replaces append in a schema of migrations 1-4; its streams keep their versions and the version check holds", async () => {
      const schema = database.freshSchema()
      expect(await migrate(toDatabase(database.pool), toSchema(schema), migrations.slice(0, 4), 1)).toEqual([
        1, 2, 3, 4,
      ])
      await database.query(
        `INSERT INTO "${schema}".events (position, stream_id, version, type, data, metadata, recorded_at, hash, prev_hash)
         SELECT nextval('"${schema}".positions'), 's', v, 'Tested', '{}', '{}', 0, 'h', 'p' FROM generate_series(1, 3) AS v`,
      )
      const store = await open(database, schema)
      const [source] = await database.query(
        `SELECT prosrc FROM pg_proc WHERE proname = 'append' AND pronamespace = $1::regnamespace`,
        [schema],
      )
      expect(String(source?.prosrc)).toContain("ORDER BY version DESC LIMIT 1")
      expect(String(source?.prosrc)).not.toContain("max(version)")
      expect(await store.events.append({ streamId: "s", expectedVersion: 3, events: [newEvent()] })).toEqual({
        version: 4,
        position: 4,
      })
      expect(
        await rejection(store.events.append({ streamId: "s", expectedVersion: 3, events: [newEvent()] })),
      ).toMatchObject({ _tag: "ConcurrencyConflict", expected: 3, actual: 4 })
      expect(
        await rejection(
          store.events.append({ streamId: "s", expectedVersion: "no_stream", events: [newEvent()] }),
        ),
      ).toMatchObject({ _tag: "ConcurrencyConflict", actual: 4 })
      expect(
        await store.events.append({ streamId: "new", expectedVersion: "no_stream", events: [newEvent()] }),
      ).toEqual({ version: 1, position: 5 })
    })

    it("R37: migration 9 re-indexes the invoices held in a schema of migrations 1-8, whose purged members holding invoice data invoicesHeldSince then finds beside the anonymized, paged in member_id order", async () => {
      const schema = database.freshSchema()
      // The schema as the previous version left it, its rows as that version wrote them.
      expect(await migrate(toDatabase(database.pool), toSchema(schema), migrations.slice(0, 8), 1)).toEqual([
        1, 2, 3, 4, 5, 6, 7, 8,
      ])
      await database.query(
        `INSERT INTO "${schema}".members (member_id, tenant_id, status, restricted, customer, registered_at,
           last_activity_at, last_contact_at, anonymized_at, purged_at, holds_invoice_data, version)
         SELECT id, tenant, status, false, true, 1, 1, 1, anonymized, purged, holds, 3
         FROM (VALUES ('m1', 't1', 'purged', NULL, 10, true), ('m2', 't1', 'anonymized', 20, NULL, true),
           ('m3', 't1', 'anonymized', 5, NULL, false), ('m4', 't2', 'purged', NULL, 30, true),
           ('m5', 't1', 'purged', NULL, 5, false), ('m6', 't1', 'active', NULL, NULL, true),
           ('m7', 't1', 'anonymized', 90, NULL, true))
           AS v (id, tenant, status, anonymized, purged, holds)`,
      )
      const indexOf = async () =>
        String(
          (
            await database.query(
              "SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = 'members_by_invoices_held'",
              [schema],
            )
          )[0]?.indexdef,
        )
      expect(await indexOf()).toContain("(status, holds_invoice_data, anonymized_at)")

      const store = await open(database, schema)
      const held = async (query: Partial<BeforeQuery>) =>
        (await store.directory.invoicesHeldSince({ before: 50, limit: 10, ...query })).map(
          (row) => row.memberId,
        )
      expect(await held({})).toEqual(["m1", "m2", "m4"])
      expect(await held({ limit: 1 })).toEqual(["m1"])
      expect(await held({ limit: 1, after: "m1" })).toEqual(["m2"])
      expect(await held({ limit: 1, after: "m2" })).toEqual(["m4"])
      expect(await held({ limit: 1, after: "m4" })).toEqual([])
      expect(await held({ tenantId: "t1" })).toEqual(["m1", "m2"])
      expect(await held({ before: 20 })).toEqual(["m1"])
      expect(await held({ before: 10 })).toEqual([])
      const ledger = await database.query(
        `SELECT version, name FROM "${schema}".lethe_migrations ORDER BY version DESC LIMIT 1`,
      )
      expect(ledger).toEqual([{ version: 9, name: "invoices held after a purge too" }])
      expect(await indexOf()).toContain(
        "(COALESCE(anonymized_at, purged_at)) WHERE (holds_invoice_data AND (status = ANY (ARRAY['anonymized'::text, 'purged'::text])))",
      )
    })

    it("a NUL character in a snapshot's member id, tenant id or head is refused with StoreError before any SQL, and nothing is written; one in its state is stored", async () => {
      const store = await open(database)
      const snapshots = store.snapshots ?? expect.fail("the postgres store has snapshots")
      const good = { memberId: "m1", tenantId: "t1", version: 1, head: "h1", state: { n: 1 }, takenAt: 1 }
      for (const bad of [{ memberId: "m\u00001" }, { tenantId: "t\u0000" }, { head: "\u0000h" }]) {
        const error = await rejection(snapshots.write({ ...good, ...bad }))
        expect(error, JSON.stringify(bad)).toBeInstanceOf(StoreError)
        expect(error.operation).toBe("snapshots.write")
        expect(String(error.detail)).toContain("NUL character (U+0000)")
      }
      expect(await snapshots.read("m1")).toBeUndefined()
      const withNul = { ...good, state: { text: "a\u0000b", "\u0000": ["\\u0000"] } }
      expect(await snapshots.write(withNul)).toBe(true)
      expect(await snapshots.read("m1")).toEqual(withNul)
    })

    it("SQL is parameterized: quotes, %, _, backslashes, unicode and very long strings are stored and found as they are", async () => {
      const store = await open(database)
      const nasty = [
        "O'Brien'); DROP TABLE events; --",
        "100% _match_ \\ back\\slash",
        "Łucja Żak 😀 \u{1F468}\u200D\u{1F469} العربية",
        `long ${"x".repeat(200_000)}`,
        "$1 $2 ::jsonb",
      ]
      for (const [i, text] of nasty.entries()) {
        const streamId = `member-${text.slice(0, 40)}`
        await store.events.append({
          streamId,
          expectedVersion: "no_stream",
          events: [newEvent({ text, [text.slice(0, 30)]: i }, text.slice(0, 50))],
          directory: {
            member: memberRow(`m${i}-${text.slice(0, 20)}`, {
              name: text,
              email: `${text.slice(0, 30)}@example.org`,
              emailKey: text,
              searchText: text.toLowerCase(),
            }),
            messages: [{ messageId: text, memberId: `m${i}`, tenantId: "t1", sentAt: 5 }],
          },
        })
        const [event] = await store.events.readStream(streamId)
        expect(event?.data).toEqual({ text, [text.slice(0, 30)]: i })
        expect(event?.type).toBe(text.slice(0, 50))
        const found = await store.directory.findByEmail("t1", text)
        expect(found.map((row) => row.name)).toEqual([text])
        expect((await store.directory.messageOwner(text))?.memberId).toBe(`m${i}`)
      }
      // '%' and '_' match themselves only.
      const percent = await store.directory.search("t1", "100% _match_", { limit: 10 })
      expect(percent.map((row) => row.name)).toEqual([nasty[1]])
      expect(await store.directory.search("t1", "%", { limit: 10 })).toHaveLength(1)
      expect(await store.directory.search("t1", "zzz%", { limit: 10 })).toEqual([])
    })

    it("a value PostgreSQL cannot hold (a NUL character) rejects with StoreError, and nothing is written", async () => {
      const store = await open(database)
      const error = await rejection(
        store.events.append({
          streamId: "s",
          expectedVersion: "no_stream",
          events: [newEvent({ t: "a\u0000b" })],
        }),
      )
      expect(error).toBeInstanceOf(StoreError)
      expect(error.operation).toBe("events.append")
      expect(await store.events.readAll()).toEqual({ events: [], next: 0, done: true })
      // No gap was left: the next append gets position 1.
      expect(
        await store.events.append({ streamId: "s", expectedVersion: "no_stream", events: [newEvent()] }),
      ).toEqual({
        version: 1,
        position: 1,
      })
    })

    it("positions and versions come back as numbers, and an unsafe bigint is refused rather than rounded", async () => {
      const schema = database.freshSchema()
      const store = await open(database, schema)
      await store.events.append({
        streamId: "s",
        expectedVersion: "no_stream",
        events: [newEvent(), newEvent()],
      })
      const [first] = (await store.events.readAll()).events
      expect(typeof first?.position).toBe("number")
      expect(typeof first?.version).toBe("number")
      expect(typeof first?.recordedAt).toBe("number")
      await database.query(`UPDATE "${schema}".events SET recorded_at = 9007199254740993 WHERE position = 2`)
      expect((await rejection(store.events.readStream("s")))._tag).toBe("StoreError")
    })

    it("a version conflict is ConcurrencyConflict with the stream's actual version, never a driver error", async () => {
      const store = await open(database)
      await store.events.append({ streamId: "s", expectedVersion: "no_stream", events: [newEvent()] })
      const error = await rejection(
        store.events.append({ streamId: "s", expectedVersion: "no_stream", events: [newEvent()] }),
      )
      expect(error).toBeInstanceOf(ConcurrencyConflict)
      expect(error).toMatchObject({ streamId: "s", expected: "no_stream", actual: 1 })
    })
  })
}

describe("postgres store: an unreachable server", () => {
  it("a wrong connection string fails on open with StoreUnavailable", async () => {
    const pool = new pg.Pool({
      connectionString: "postgresql://nobody@127.0.0.1:1/none",
      connectionTimeoutMillis: 2_000,
    })
    try {
      const error = await rejection(postgresStore({ pool }))
      expect(error).toMatchObject({ _tag: "StoreUnavailable", store: "postgres", operation: "open" })
      expect(String(error.detail)).toContain("ECONNREFUSED")
    } finally {
      await pool.end()
    }
  })

  it.skipIf(serverUrl === undefined)(
    `a lost connection fails the command with StoreUnavailable, and the same command succeeds when retried${serverUrl === undefined ? ` [skipped: ${noServerReason}]` : ""}`,
    async () => {
      const target = new URL(serverUrl ?? "")
      const proxy = await tcpProxy(target.hostname, Number(target.port || 5432))
      const url = new URL(serverUrl ?? "")
      url.hostname = "127.0.0.1"
      url.port = String(proxy.port)
      const pool = new pg.Pool({ connectionString: url.toString(), max: 2, connectionTimeoutMillis: 2_000 })
      // The application's pool must listen for errors of idle clients (pg's rule), or Node exits.
      pool.on("error", () => undefined)
      const schema = `lethe_test_lost_${Math.random().toString(36).slice(2, 10)}`
      try {
        const store = await postgresStore({ pool, schema })
        await store.events.append({ streamId: "s", expectedVersion: "no_stream", events: [newEvent()] })
        proxy.down()
        const append = () => store.events.append({ streamId: "s", expectedVersion: 1, events: [newEvent()] })
        const error = await rejection(append())
        expect(error).toMatchObject({
          _tag: "StoreUnavailable",
          store: "postgres",
          operation: "events.append",
        })
        expect((await rejection(store.events.readAll()))._tag).toBe("StoreUnavailable")
        proxy.up()
        expect(await append()).toEqual({ version: 2, position: 2 })
        await store.close()
      } finally {
        proxy.up()
        await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined)
        await pool.end()
        await proxy.close()
      }
    },
  )
})

/** A TCP proxy to the server that can drop every connection and refuse new ones, as a network outage does. */
const tcpProxy = async (host: string, port: number) => {
  let isDown = false
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    if (isDown) {
      client.destroy()
      return
    }
    const upstream = net.connect(port, host)
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
      socket.on("error", () => undefined)
    }
    client.pipe(upstream).pipe(client)
    client.on("close", () => upstream.destroy())
    upstream.on("close", () => client.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    down: () => {
      isDown = true
      for (const socket of sockets) socket.destroy()
    },
    up: () => {
      isDown = false
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
