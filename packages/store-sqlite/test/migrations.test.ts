import path from "node:path"
import { StoreError } from "@lethe/core"
import type { BeforeQuery, RetentionQueryName } from "@lethe/core/spi"
import { newEvent, sealed } from "@lethe/testkit/fixtures"
import Database from "better-sqlite3"
import { describe, expect, it } from "vitest"
import { directoryIdQueries, directoryManyQueries, directoryQueries } from "../src/directory.js"
import { eventQueries } from "../src/event-store.js"
import { keyQueries } from "../src/key-store.js"
import type { Migration } from "../src/migrations.js"
import { migrate, migrations } from "../src/migrations.js"
import { snapshotQueries } from "../src/snapshot-store.js"
import { freshFile, open } from "./fixtures.js"

/** The schema as SQLite stores it, and the migration ledger. */
const schemaOf = (filename: string) => {
  const db = new Database(filename, { readonly: true })
  try {
    return {
      schema: db.prepare("SELECT type, name, sql FROM sqlite_schema ORDER BY name").all(),
      ledger: db.prepare("SELECT version, name, applied_at FROM lethe_migrations ORDER BY version").all(),
    }
  } finally {
    db.close()
  }
}

/** A database with the schema of `list` applied, closed again. */
const migrated = (filename: string, list: ReadonlyArray<Migration>, now = 1) => {
  const db = new Database(filename)
  try {
    return migrate(db, filename, list, now)
  } finally {
    db.close()
  }
}

const released = migrations.map((m) => m.version)

const laterMigration: Migration = {
  version: migrations.length + 1,
  name: "a later column",
  sql: "ALTER TABLE events ADD COLUMN later TEXT",
}

describe("sqlite store: schema and migrations", () => {
  it("SPI: migrations are numbered 1, 2, 3... without gaps, so each file records exactly which it has", () => {
    expect(migrations.map((m) => m.version)).toEqual(migrations.map((_, i) => i + 1))
  })

  it("SPI: a new file gets every migration once; reopening applies nothing and changes no schema object", async () => {
    const filename = freshFile()
    const first = open(filename)
    await first.events.append({ streamId: "s", expectedVersion: "no_stream", events: [newEvent()] })
    await first.close()
    const before = schemaOf(filename)
    expect(before.ledger).toEqual(
      migrations.map((m) => ({ version: m.version, name: m.name, applied_at: expect.any(Number) })),
    )
    for (const table of ["events", "keys", "members", "member_requests", "messages", "snapshots"])
      expect(before.schema).toContainEqual(expect.objectContaining({ type: "table", name: table }))

    await open(filename).close()
    await open(filename).close()
    expect(schemaOf(filename)).toEqual(before)
    expect(migrated(filename, migrations)).toEqual([])
  })

  it("SPI: two stores opening the same new file at once both work, and the schema is applied once", async () => {
    const filename = freshFile()
    const [a, b] = await Promise.all([
      Promise.resolve().then(() => open(filename)),
      Promise.resolve().then(() => open(filename)),
    ])
    await a?.events.append({ streamId: "s", expectedVersion: "no_stream", events: [newEvent()] })
    expect(await b?.events.readStream("s")).toHaveLength(1)
    expect(schemaOf(filename).ledger).toHaveLength(migrations.length)
  })

  it("SPI: a later migration is applied once, on the next open, to a file made by earlier code; its data stays", async () => {
    const filename = freshFile()
    const store = open(filename)
    await store.events.append({ streamId: "s", expectedVersion: "no_stream", events: [newEvent()] })
    await store.close()
    expect(migrated(filename, [...migrations, laterMigration], 2)).toEqual([laterMigration.version])
    expect(migrated(filename, [...migrations, laterMigration], 3)).toEqual([])
    expect(schemaOf(filename).ledger.map((row) => (row as { version: number }).version)).toEqual([
      ...released,
      laterMigration.version,
    ])
    // The code of before the later migration now refuses the file rather than misread it.
    expect(() => open(filename)).toThrow(StoreError)
  })

  it("SPI: migration 2 indexes the sealed values of events written before it, so erasure finds them", async () => {
    const filename = freshFile()
    // A file as the first release wrote it: no sealed_keys column yet.
    migrated(filename, migrations.slice(0, 1))
    const db = new Database(filename)
    const insert = db.prepare(
      `INSERT INTO events (stream_id, version, type, data, metadata, recorded_at, hash, prev_hash)
       VALUES ('s', ?, 'Tested', ?, '{}', 1, 'h', '')`,
    )
    insert.run(1, JSON.stringify({ fields: { name: sealed("k1"), email: sealed("k2") } }))
    insert.run(2, JSON.stringify({ kind: "visit" }))
    insert.run(3, JSON.stringify({ nested: [{ deeper: sealed("k2") }] }))
    db.close()

    const store = open(filename)
    try {
      const versions = async (keyIds: ReadonlyArray<string>) =>
        (await store.events.readStream("s", { sealedUnder: keyIds })).map((e) => e.version)
      expect(await versions(["k1"])).toEqual([1])
      expect(await versions(["k2"])).toEqual([1, 3])
      expect(await versions(["k3"])).toEqual([])
      expect(await store.events.redact("s", ["k2"])).toBe(2)
      expect(await versions(["k2"])).toEqual([])
      expect(await versions(["k1"])).toEqual([1])
    } finally {
      await store.close()
    }
  })

  it("R37: migration 7 re-indexes the invoices held in a file of migrations 1-6, whose purged members holding invoice data invoicesHeldSince then finds beside the anonymized, paged in member_id order", async () => {
    const filename = freshFile()
    // A file as the previous release left it, its rows as that release wrote them.
    expect(migrated(filename, migrations.slice(0, 6))).toEqual([1, 2, 3, 4, 5, 6])
    const db = new Database(filename)
    const insert = db.prepare(
      `INSERT INTO members (member_id, tenant_id, status, restricted, customer, registered_at, last_activity_at,
         last_contact_at, anonymized_at, purged_at, holds_invoice_data, version)
       VALUES (?, ?, ?, 0, 1, 1, 1, 1, ?, ?, ?, 3)`,
    )
    insert.run("m1", "t1", "purged", null, 10, 1)
    insert.run("m2", "t1", "anonymized", 20, null, 1)
    insert.run("m3", "t1", "anonymized", 5, null, 0)
    insert.run("m4", "t2", "purged", null, 30, 1)
    insert.run("m5", "t1", "purged", null, 5, 0)
    insert.run("m6", "t1", "active", null, null, 1)
    insert.run("m7", "t1", "anonymized", 90, null, 1)
    const previous = db
      .prepare<[], { sql: string }>("SELECT sql FROM sqlite_schema WHERE name = 'members_by_invoices_held'")
      .get()
    db.close()
    expect(previous?.sql).toContain("(status, holds_invoice_data, anonymized_at)")

    const store = open(filename)
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
    await store.close()
    const { schema, ledger } = schemaOf(filename)
    expect(ledger.find((row) => (row as { version: number }).version === 7)).toEqual({
      version: 7,
      name: "invoices held after a purge too",
      applied_at: expect.any(Number),
    })
    expect(schema).toContainEqual(
      expect.objectContaining({
        name: "members_by_invoices_held",
        sql: expect.stringContaining(
          "(status, coalesce(anonymized_at, purged_at))\n        WHERE holds_invoice_data = 1 AND status IN ('anonymized', 'purged')",
        ),
      }),
    )
  })

  it("R12, R15, R20: migration 8 puts the member id in the retention indexes of a file of migrations 1-7, whose members retentionMemberIds then reads from the indexes alone, as the queries' rows", async () => {
    const filename = freshFile()
    // A file as the previous release left it, its rows as that release wrote them.
    expect(migrated(filename, migrations.slice(0, 7))).toEqual([1, 2, 3, 4, 5, 6, 7])
    const db = new Database(filename)
    const insert = db.prepare(
      `INSERT INTO members (member_id, tenant_id, status, restricted, customer, registered_at, last_activity_at,
         last_contact_at, contracts_ended_at, restorable_until, holds_invoice_data, version)
       VALUES (?, ?, ?, 0, ?, 1, ?, ?, ?, ?, 0, 3)`,
    )
    insert.run("m1", "t1", "active", 0, 5, 5, null, null)
    insert.run("m2", "t2", "active", 1, 5, 5, 8, null)
    insert.run("m3", "t1", "active", 0, 50, 50, 20, null)
    insert.run("m4", "t1", "forgotten", 0, 5, 5, null, 10)
    insert.run("m5", "t2", "active", 0, 9, 9, 9, null)
    insert.run("m6", "t1", "forgotten", 0, 5, 5, null, 30)
    const previous = db
      .prepare<[], { sql: string }>("SELECT sql FROM sqlite_schema WHERE name = 'members_by_last_activity'")
      .get()
    db.close()
    expect(previous?.sql).toContain("(status, last_activity_at)")

    const store = open(filename)
    const { directory } = store
    const retentionIds = directory.retentionMemberIds?.bind(directory)
    if (retentionIds === undefined) throw new Error("the SQLite directory has retentionMemberIds")
    const cases: ReadonlyArray<readonly [RetentionQueryName, BeforeQuery, ReadonlyArray<string>]> = [
      ["inactiveSince", { before: 10, limit: 10 }, ["m1", "m2", "m5"]],
      ["inactiveSince", { before: 10, limit: 1, after: "m1" }, ["m2"]],
      ["inactiveSince", { before: 10, limit: 10, tenantId: "t2" }, ["m2", "m5"]],
      ["coldLeadsSince", { before: 10, limit: 10 }, ["m1", "m5"]],
      ["contractsEndedBefore", { before: 10, limit: 10 }, ["m2", "m5"]],
      ["contractsEndedBefore", { before: 10, limit: 10, after: "m2" }, ["m5"]],
      ["restoreWindowEndedBefore", { before: 10, limit: 10 }, ["m4"]],
      ["restoreWindowEndedBefore", { before: 30, limit: 10, tenantId: "t1" }, ["m4", "m6"]],
    ]
    for (const [name, query, expected] of cases) {
      const described = `${name} ${JSON.stringify(query)}`
      expect(await retentionIds(name, query), described).toEqual(expected)
      expect(
        (await directory[name](query)).map((row) => row.memberId),
        described,
      ).toEqual(expected)
    }
    await store.close()
    const { schema, ledger } = schemaOf(filename)
    expect(ledger.at(-1)).toEqual({
      version: 8,
      name: "retention indexes carry the member id",
      applied_at: expect.any(Number),
    })
    const definitionOf = (name: string) =>
      (schema as ReadonlyArray<{ name: string; sql: string | null }>).find((row) => row.name === name)?.sql
    expect(definitionOf("members_by_last_activity")).toContain("(status, last_activity_at, member_id)")
    expect(definitionOf("members_by_last_contact")).toContain(
      "(status, customer, last_contact_at, member_id)",
    )
    expect(definitionOf("members_by_contracts_ended")).toContain(
      "(status, contracts_ended_at, member_id)\n        WHERE contracts_ended_at IS NOT NULL",
    )
    expect(definitionOf("members_by_restorable_until")).toContain(
      "(status, restorable_until, member_id)\n        WHERE restorable_until IS NOT NULL",
    )
  })

  it("R12, R15, R20: retentionMemberIds over all tenants reads the ids from its retention index alone (a covering index); none of its statements scans a table, before or after ANALYZE", () => {
    const filename = freshFile()
    open(filename)
    const db = new Database(filename)
    try {
      // 6,000 members of every status, some customers, some with a contract ended, two tenants.
      db.exec(`INSERT INTO members (member_id, tenant_id, status, restricted, customer, registered_at,
          last_activity_at, last_contact_at, contracts_ended_at, restorable_until, holds_invoice_data, version)
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 6000)
        SELECT 'm' || i, 't' || (i % 2), CASE i % 3 WHEN 0 THEN 'forgotten' ELSE 'active' END, 0, i % 2, 0,
          i, i, CASE WHEN i % 5 = 0 THEN i END, CASE WHEN i % 3 = 0 THEN i END, 0, 1 FROM n`)
      const statements = directoryIdQueries()
      expect(statements).toHaveLength(24)
      const covering: Readonly<Record<string, string>> = {
        last_activity_at: "members_by_last_activity",
        last_contact_at: "members_by_last_contact",
        contracts_ended_at: "members_by_contracts_ended",
        restorable_until: "members_by_restorable_until",
      }
      const named = { before: 3_000, limit: 10, tenantId: "t1", after: "m1" }
      for (const when of ["fresh", "analyzed"]) {
        if (when === "analyzed") db.exec("ANALYZE")
        for (const query of statements) {
          const plan = db
            .prepare<[object], { detail: string }>(`EXPLAIN QUERY PLAN ${query}`)
            .all(named)
            .map((row) => row.detail)
          const described = `${when}: ${query}\n${plan.join("\n")}`
          expect(
            plan.some((step) => step.startsWith("SEARCH")),
            described,
          ).toBe(true)
          expect(
            plan.filter((step) => step.startsWith("SCAN")),
            described,
          ).toEqual([])
          const column = Object.keys(covering).find((name) => query.includes(`${name} <`))
          // Without statistics (Lethe never gathers them), the date's index, read alone; once analyzed,
          // the planner may walk the ids in order instead, as for the queries' rows.
          if (when === "fresh" && column !== undefined && !query.includes("@tenantId"))
            expect(
              plan.some((step) =>
                step.startsWith(`SEARCH members USING COVERING INDEX ${covering[column]} `),
              ),
              described,
            ).toBe(true)
        }
      }
    } finally {
      db.close()
    }
  })

  it("SPI: an up-to-date file opens while another connection holds the write lock: opening takes no write lock unless it migrates", async () => {
    const filename = freshFile()
    await open(filename).close()
    const writer = new Database(filename)
    writer.exec("BEGIN IMMEDIATE")
    try {
      const started = Date.now()
      const store = open(filename)
      expect(Date.now() - started).toBeLessThan(1_000)
      expect((await store.events.readAll()).events).toEqual([])
      // Its writes wait for the lock as any writer's do.
      writer.exec("COMMIT")
      expect(
        await store.events.append({ streamId: "s", expectedVersion: "no_stream", events: [newEvent()] }),
      ).toEqual({ version: 1, position: 1 })
    } finally {
      if (writer.inTransaction) writer.exec("ROLLBACK")
      writer.close()
    }
  })

  it("SPI: a migration that fails leaves the file as it was: no table, no ledger row of the failed batch", () => {
    const filename = freshFile()
    const broken: Migration = {
      version: migrations.length + 1,
      name: "broken",
      sql: "CREATE TABLE half (x); THIS IS NOT SQL",
    }
    expect(() => migrated(filename, [...migrations, broken])).toThrow()
    const db = new Database(filename, { readonly: true })
    try {
      expect(db.prepare("SELECT name FROM sqlite_schema").all()).toEqual([])
    } finally {
      db.close()
    }
    expect(migrated(filename, migrations)).toEqual(released)
  })

  it("SPI: every statement the store reads with searches an index; none scans a table", () => {
    const filename = freshFile()
    open(filename)
    const db = new Database(filename, { readonly: true })
    try {
      const named = { before: 1, limit: 1, tenantId: "t1", after: "m1", text: "a" }
      for (const query of [...directoryQueries(), ...eventQueries(), ...keyQueries(), ...snapshotQueries()]) {
        const parameters = query.includes("@")
          ? [named]
          : query
              .split("?")
              .slice(1)
              .map(() => "x")
        const plan = db
          .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${query}`)
          .all(...parameters)
          .map((row) => row.detail)
        expect(
          plan.some((step) => step.startsWith("SEARCH")),
          `${query}\n${plan.join("\n")}`,
        ).toBe(true)
        expect(
          plan.filter((step) => step.startsWith("SCAN")),
          `${query}\n${plan.join("\n")}`,
        ).toEqual([])
      }
    } finally {
      db.close()
    }
  })

  it("R42: with the keys apart, every directory statement walks the log's members by the same index, and finds each personal row by its key in the key store; none scans a table", () => {
    const filename = freshFile()
    const keys = path.join(path.dirname(filename), "keys.db")
    open(filename, { keys: { filename: keys } })
    const db = new Database(keys, { readonly: true })
    db.prepare("ATTACH DATABASE ? AS log").run(filename)
    const single = new Database(filename, { readonly: true })
    try {
      const named = { before: 1, limit: 1, tenantId: "t1", after: "m1", text: "a" }
      const planOf = (on: Database.Database, query: string) => {
        const parameters = query.includes("@")
          ? [named]
          : query
              .split("?")
              .slice(1)
              .map((_, i) => (query.includes("json_each") && i === 1 ? "[]" : "x"))
        return on
          .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${query}`)
          .all(...parameters)
          .map((row) => row.detail)
      }
      const apart = [...directoryQueries(true), ...directoryManyQueries(true)]
      const alone = [...directoryQueries(), ...directoryManyQueries()]
      for (const [i, query] of apart.entries()) {
        const plan = planOf(db, query)
        const described = `${query}\n${plan.join("\n")}`
        expect(
          plan.filter((step) => step.startsWith("SCAN") && !step.startsWith("SCAN json_each")),
          described,
        ).toEqual([])
        // The same way through the log's tables as with one file, and one look-up per row for its personal columns.
        expect(
          plan.filter((step) => !step.includes("member_personal")),
          described,
        ).toEqual(planOf(single, alone[i] ?? ""))
        if (query.includes("member_personal"))
          expect(plan, described).toContain(
            "SEARCH member_personal USING INDEX sqlite_autoindex_member_personal_1 (member_id=?) LEFT-JOIN",
          )
      }
    } finally {
      db.close()
      single.close()
    }
  })

  it("SPI: the retention indexes leave out the members without their date (migrations 5 and 7); the queries still search them", () => {
    const filename = freshFile()
    open(filename)
    const db = new Database(filename, { readonly: true })
    try {
      const definitions = db
        .prepare<[], { name: string; sql: string }>(
          `SELECT name, sql FROM sqlite_schema WHERE name IN
             ('members_by_contracts_ended', 'members_by_restorable_until', 'members_by_invoices_held') ORDER BY name`,
        )
        .all()
        .map((row) => [row.name, row.sql.replace(/^[\s\S]*WHERE /, "").trim()])
      expect(definitions).toEqual([
        ["members_by_contracts_ended", "contracts_ended_at IS NOT NULL"],
        // Migration 7: anonymized or purged members holding invoice data (R37), the only ones invoicesHeldSince finds.
        ["members_by_invoices_held", "holds_invoice_data = 1 AND status IN ('anonymized', 'purged')"],
        ["members_by_restorable_until", "restorable_until IS NOT NULL"],
      ])
      const planOf = (filter: string) =>
        db
          .prepare<[], { detail: string }>(`EXPLAIN QUERY PLAN SELECT member_id FROM members WHERE ${filter}`)
          .all()
          .map((row) => row.detail)
          .join("\n")
      expect(planOf("status = 'active' AND contracts_ended_at < 100")).toContain("members_by_contracts_ended")
      expect(planOf("status = 'forgotten' AND restorable_until <= 100")).toContain(
        "members_by_restorable_until",
      )
      expect(
        planOf(
          "holds_invoice_data = 1 AND status IN ('anonymized', 'purged') AND coalesce(anonymized_at, purged_at) < 100",
        ),
      ).toContain("members_by_invoices_held")
    } finally {
      db.close()
    }
  })

  it("R37: every statement of invoicesHeldSince (with or without tenant and after) searches members_by_invoices_held by status and date, before and after ANALYZE", () => {
    const filename = freshFile()
    open(filename)
    const db = new Database(filename)
    try {
      // 6,000 members of every status, half holding invoice data; the anonymized and the purged with their date.
      db.exec(`INSERT INTO members (member_id, tenant_id, status, restricted, customer, registered_at,
          last_activity_at, last_contact_at, holds_invoice_data, version, anonymized_at, purged_at)
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 6000)
        SELECT 'm' || i, 't' || (i % 2), CASE i % 4 WHEN 0 THEN 'active' WHEN 1 THEN 'forgotten' WHEN 2 THEN 'anonymized' ELSE 'purged' END, 0, 0, 0, 0, 0, (i / 4) % 2, 1,
          CASE WHEN i % 4 = 2 THEN i END, CASE WHEN i % 4 = 3 THEN i END FROM n`)
      // The adapter's own statements (with the keys apart they also join member_personal, and walk
      // the log's members alike: the R42 test above checks it).
      const statements = directoryQueries().filter((query) =>
        query.includes("coalesce(anonymized_at, purged_at)"),
      )
      expect(statements).toHaveLength(4)
      const named = { before: 1_000, limit: 10, tenantId: "t1", after: "m1" }
      for (const when of ["fresh", "analyzed"]) {
        if (when === "analyzed") db.exec("ANALYZE")
        for (const query of statements) {
          const plan = db
            .prepare<[object], { detail: string }>(`EXPLAIN QUERY PLAN ${query}`)
            .all(named)
            .map((row) => row.detail)
          const described = `${when}: ${query}\n${plan.join("\n")}`
          expect(plan, described).toContain(
            "SEARCH members USING INDEX members_by_invoices_held (status=? AND <expr><?)",
          )
          expect(
            plan.filter((step) => step.startsWith("SCAN")),
            described,
          ).toEqual([])
        }
      }
      // What the search finds: the anonymized and the purged holding invoice data (i / 4 odd), in member_id order.
      const [withoutTenantOrAfter] = statements.filter(
        (query) => !query.includes("@tenantId") && !query.includes("@after"),
      )
      const found = db
        .prepare<[object], { member_id: string; status: string }>(withoutTenantOrAfter ?? "")
        .all({ before: 20, limit: 100 })
      expect(found.map((row) => [row.member_id, row.status])).toEqual([
        ["m14", "anonymized"],
        ["m15", "purged"],
        ["m6", "anonymized"],
        ["m7", "purged"],
      ])
    } finally {
      db.close()
    }
  })

  it("SPI: look-ups by e-mail and restore key use their own indexes", () => {
    const filename = freshFile()
    open(filename)
    const db = new Database(filename, { readonly: true })
    try {
      const planOf = (query: string) =>
        db
          .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${query}`)
          .all(...["t1", "k", "m1"].slice(0, (query.match(/\?/g) ?? []).length))
          .map((row) => row.detail)
          .join("\n")
      const [, findByEmail, emailHolder, findRestorable] = directoryQueries()
      expect(planOf(findByEmail ?? "")).toContain("members_one_email")
      expect(planOf(emailHolder ?? "")).toContain("members_one_email")
      expect(planOf(findRestorable ?? "")).toContain("members_by_restore_key")
    } finally {
      db.close()
    }
  })

  it("SPI: look-ups of many keys search the key's index once per key and scan nothing but the keys' array", () => {
    const filename = freshFile()
    open(filename)
    const db = new Database(filename)
    try {
      // Two tenants of 3,000 members, before and after their statistics are gathered.
      db.exec(`INSERT INTO members (member_id, tenant_id, status, email_key, restore_key, restricted, customer,
          registered_at, last_activity_at, last_contact_at, holds_invoice_data, version)
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 6000)
        SELECT 'm' || i, 't' || (i % 2), CASE WHEN i % 3 = 0 THEN 'forgotten' ELSE 'active' END,
          CASE WHEN i % 3 = 0 THEN NULL ELSE 'ek' || i END, CASE WHEN i % 3 = 0 THEN 'rk' || i END,
          0, 0, 0, 0, 0, 0, 1 FROM n`)
      const keys = JSON.stringify(Array.from({ length: 200 }, (_, i) => `ek${i}`))
      const [byEmail, restorable] = directoryManyQueries()
      for (const when of ["fresh", "analyzed"]) {
        if (when === "analyzed") db.exec("ANALYZE")
        for (const [query, index] of [
          [byEmail, "members_one_email"],
          [restorable, "members_by_restore_key"],
        ] as const) {
          const plan = db
            .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${query}`)
            .all("t1", keys)
            .map((row) => row.detail)
          const described = `${when}: ${query}\n${plan.join("\n")}`
          expect(
            plan.some((step) => step.startsWith("SEARCH members USING") && step.includes(index)),
            described,
          ).toBe(true)
          expect(
            plan.filter((step) => step.startsWith("SCAN") && !step.startsWith("SCAN json_each")),
            described,
          ).toEqual([])
        }
      }
    } finally {
      db.close()
    }
  })
})
