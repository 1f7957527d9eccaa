/**
 * Issue 5: `lethe audit`, `export-log`, `retention` and `import` on a
 * PostgreSQL database (`postgres://` or `postgresql://` URL, `--schema`),
 * with the exit codes of a SQLite file: 0 clean, 1 findings, 2 usage or I/O.
 * The database is built by the facade (the demo scenario through
 * `createLethe` on `@lethe/store-postgres`). PGlite cannot be reached by URL,
 * so these tests need a real server: they run only when `LETHE_PG_URL` is set.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { postgresStore } from "@lethe/store-postgres"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { demoSecret, runDemo } from "../src/demo.js"
import { openPostgres, printable } from "../src/postgres.js"
import { lethe, workdir } from "./run-cli.js"

const serverUrl: string | undefined = process.env.LETHE_PG_URL || undefined
const skipped =
  serverUrl === undefined ? " [skipped: set LETHE_PG_URL to run against a real PostgreSQL server]" : ""

const random = () => Math.random().toString(36).slice(2, 10)
const oneLineReason = (stderr: string): string => {
  const lines = stderr.trimEnd().split("\n")
  expect(lines).toHaveLength(1)
  return lines[0] ?? ""
}

describe("lethe on postgres:// URLs, without a server", () => {
  it("a server that cannot be reached: exit code 2, one line saying the store is unavailable, no password printed", async () => {
    const work = workdir()
    try {
      const url = "postgresql://auditor:s3cret-pw@127.0.0.1:1/crm"
      for (const args of [
        ["audit", url],
        ["export-log", url, "--out", work.path("log.jsonl")],
        ["retention", url, "--dry-run"],
      ]) {
        const run = await lethe(args, { cwd: work.dir })
        expect(run.code, args.join(" ")).toBe(2)
        const reason = oneLineReason(run.stderr)
        expect(reason).toMatch(/unavailable/)
        expect(reason).toContain("auditor:***@127.0.0.1:1/crm")
        expect(reason).not.toContain("s3cret-pw")
      }
    } finally {
      work.cleanup()
    }
  })

  it("--schema is for postgres:// sources only: exit code 2 for a SQLite file", async () => {
    const work = workdir()
    try {
      const run = await lethe(["audit", work.path("lethe.db"), "--schema", "crm"], { cwd: work.dir })
      expect(run.code).toBe(2)
      expect(oneLineReason(run.stderr)).toMatch(/--schema crm: only a postgres:\/\/ source has schemas/)
    } finally {
      work.cleanup()
    }
  })

  it("printable: a URL's password never reaches a report or a message", () => {
    expect(printable("postgres://app:s3cret@db.example/crm?sslmode=require")).toBe(
      "postgres://app:***@db.example/crm?sslmode=require",
    )
    expect(printable("postgresql://db.example/crm?password=s3cret")).toBe(
      "postgresql://db.example/crm?password=***",
    )
    expect(printable("lethe.db")).toBe("lethe.db")
  })
})

describe.skipIf(serverUrl === undefined)(
  `lethe on a PostgreSQL database built by the facade${skipped}`,
  () => {
    const url = serverUrl ?? ""
    const work = workdir()
    const pool = new pg.Pool({ connectionString: url, max: 4 })
    const schema = `lethe_cli_${random()}`
    const schemas = [schema]

    /** Runs the demo scenario through the facade into `name`. */
    const demoInto = async (name: string) => {
      const store = await postgresStore({ pool, schema: name })
      const result = await runDemo({ store, say: () => undefined })
      expect(result.ok).toBe(true)
    }

    beforeAll(() => demoInto(schema), 120_000)

    afterAll(async () => {
      for (const name of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`)
      await pool.end()
      work.cleanup()
    })

    /** `lethe audit <url> --schema <name> --format json`: exit code and findings as `rule stream@version`. */
    const audit = async (name: string, source = url) => {
      const run = await lethe(["audit", source, "--schema", name, "--format", "json"], { cwd: work.dir })
      const findings =
        run.code === 2
          ? []
          : (
              JSON.parse(run.stdout) as {
                findings: ReadonlyArray<{ rule: string; streamId: string; version: number }>
              }
            ).findings.map((f) => `${f.rule} ${f.streamId}@${f.version}`)
      return { ...run, findings }
    }

    /** A copy of the demo's tables (not its functions: for reading only), for a test that changes them. */
    const copyOfDemo = async (): Promise<string> => {
      const copy = `lethe_cli_${random()}`
      schemas.push(copy)
      await pool.query(`CREATE SCHEMA "${copy}"`)
      const { rows } = await pool.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'",
        [schema],
      )
      for (const { table_name } of rows)
        await pool.query(
          `CREATE TABLE "${copy}"."${table_name}" (LIKE "${schema}"."${table_name}" INCLUDING ALL); INSERT INTO "${copy}"."${table_name}" SELECT * FROM "${schema}"."${table_name}"`,
        )
      return copy
    }

    it("R35: the database audits clean with a postgres:// and a postgresql:// URL: exit code 0, the report names the schema, not the password", async () => {
      const text = await lethe(["audit", url, "--schema", schema], { cwd: work.dir })
      expect(text.stderr).toBe("")
      expect(text.code).toBe(0)
      expect(text.stdout).toMatch(/Result: clean, no finding/)
      expect(text.stdout).toContain(`(schema ${schema})`)
      const other = url.replace(/^postgres(ql)?:/i, (scheme) =>
        scheme.length > 9 ? "postgres:" : "postgresql:",
      )
      const json = await audit(schema, other)
      expect(json.code).toBe(0)
      expect(json.findings).toEqual([])
    })

    it("R35: one stored event's amount changed in the database: exit code 1, naming its stream and version", async () => {
      const copy = await copyOfDemo()
      expect((await audit(copy)).code).toBe(0)
      const { rows } = await pool.query(
        `UPDATE "${copy}".events SET data = jsonb_set(data, '{amount}', to_jsonb((data->>'amount')::bigint + 1))
       WHERE position = (SELECT min(position) FROM "${copy}".events WHERE type = 'WalletCredited')
       RETURNING stream_id, version`,
      )
      const row = rows[0] as { stream_id: string; version: number }
      const tampered = await audit(copy)
      expect(tampered.code).toBe(1)
      expect(tampered.findings[0]).toBe(`hash-chain ${row.stream_id}@${row.version}`)
    })

    it("export-log from PostgreSQL writes a log file that audits clean on its own", async () => {
      const log = work.path("pg.jsonl")
      const run = await lethe(["export-log", url, "--schema", schema, "--out", log], { cwd: work.dir })
      expect(run.code).toBe(0)
      expect(run.stderr).toMatch(/exported \d+ events of \d+ members/)
      const audited = await lethe(["audit", log], { cwd: work.dir })
      expect(audited.code).toBe(0)
      const header = JSON.parse(readFileSync(log, "utf8").split("\n")[0] ?? "") as { source: string }
      expect(header.source).toContain(`(schema ${schema})`)
    })

    it("retention --dry-run on PostgreSQL plans without the secret and changes nothing", async () => {
      const count = async () =>
        Number((await pool.query(`SELECT count(*) AS n FROM "${schema}".events`)).rows[0]?.n)
      const before = await count()
      const plan = await lethe(["retention", url, "--schema", schema, "--dry-run"], { cwd: work.dir })
      expect(plan.code).toBe(0)
      expect(plan.stdout).toMatch(/dry run: nothing changed/)
      expect(await count()).toBe(before)
    })

    it("R12: retention on PostgreSQL (a run, with the secret) exits 0, and the schema still audits clean", async () => {
      const copy = `lethe_cli_${random()}`
      schemas.push(copy)
      await demoInto(copy)
      const policies = work.path("policies.json")
      writeFileSync(policies, JSON.stringify([{ _tag: "AnonymizeInactive", id: "inactive-1m", months: 1 }]))
      const run = await lethe(
        ["retention", url, "--schema", copy, "--policies", policies, "--format", "json"],
        {
          cwd: work.dir,
          env: { LETHE_SECRET: demoSecret },
        },
      )
      expect(run.stderr).toBe("")
      expect(run.code).toBe(0)
      expect((JSON.parse(run.stdout) as { dryRun: boolean }).dryRun).toBe(false)
      expect((await audit(copy)).code).toBe(0)
    })

    it("a read-only command creates nothing: a schema without a Lethe log exits 2 and is not created", async () => {
      const absent = `lethe_cli_absent_${random()}`
      schemas.push(absent)
      const run = await audit(absent)
      expect(run.code).toBe(2)
      expect(oneLineReason(run.stderr)).toMatch(/no Lethe log in this schema/)
      const { rows } = await pool.query("SELECT 1 FROM information_schema.schemata WHERE schema_name = $1", [
        absent,
      ])
      expect(rows).toEqual([])
    })

    it("a read-only open runs every statement in READ ONLY sessions: a write through the store is refused by the server", async () => {
      const opened = await openPostgres(url, { readonly: true, schema })
      try {
        const error = await opened.store.events
          .append({
            streamId: "member-intruder",
            expectedVersion: "no_stream",
            events: [
              {
                type: "Intruded",
                data: {},
                metadata: { actor: "intruder", source: "test", tenantId: "gym", correlationId: "c" },
                recordedAt: 0,
                prevHash: "",
                hash: "not-chained",
              },
            ],
          })
          .then(
            () => undefined,
            (e: unknown) => e as { readonly _tag?: string; readonly detail?: string },
          )
        expect(error?._tag).toBe("StoreError")
        expect(error?.detail).toMatch(/25006|read-only transaction/)
        expect((await opened.store.events.readAll({ limit: 1 })).events).toHaveLength(1)
      } finally {
        await opened.close()
      }
    })

    it("a read-only command on a schema that needs migrating exits 2 and leaves it as it was", async () => {
      const copy = await copyOfDemo()
      await pool.query(
        `DELETE FROM "${copy}".lethe_migrations WHERE version = (SELECT max(version) FROM "${copy}".lethe_migrations)`,
      )
      const ledger = async () =>
        (await pool.query(`SELECT version FROM "${copy}".lethe_migrations ORDER BY version`)).rows
      const before = await ledger()
      const run = await audit(copy)
      expect(run.code).toBe(2)
      expect(await ledger()).toEqual(before)
    })

    it("R6: import a CSV into a new PostgreSQL schema (created), which then audits clean", async () => {
      const target = `lethe_cli_${random()}`
      schemas.push(target)
      const csv = work.path("contacts.csv")
      writeFileSync(
        csv,
        ["email,name,purpose,given_at", "ada@example.org,Ada O'Hara,newsletter,2026-01-05"].join("\n"),
      )
      const run = await lethe(["import", csv, "--db", url, "--schema", target, "--tenant", "shop"], {
        cwd: work.dir,
        env: { LETHE_SECRET: demoSecret },
      })
      expect(run.stderr).toBe("")
      expect(run.stdout).toMatch(/applied 1 rows \(created: 1\); rejected 0/)
      expect(run.code).toBe(0)
      expect((await audit(target)).code).toBe(0)
    })
  },
)
