import { createLethe, keyringFromSecret } from "@lethe/core"
import { postgresStore } from "@lethe/store-postgres"
import { describe, expect, it } from "vitest"
import type { TestDatabase } from "./fixtures.js"
import { pgliteDatabase, serverDatabase, serverUrl } from "./fixtures.js"

const keyring = keyringFromSecret("store-postgres erasure test secret, long enough")
const admin = { id: "staff:admin", roles: ["admin"] } as const
const day = 86_400_000

const databases: ReadonlyArray<TestDatabase> =
  serverUrl === undefined ? [pgliteDatabase()] : [pgliteDatabase(), serverDatabase(serverUrl)]

/** Every live row of every table of `schema`, as text. */
const everyRowAsText = async (database: TestDatabase, schema: string): Promise<Array<string>> => {
  const tables = await database.query(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name",
    [schema],
  )
  expect(tables.map((t) => t.table_name)).toEqual(
    expect.arrayContaining(["events", "keys", "members", "member_requests", "messages", "lethe_migrations"]),
  )
  const rows: Array<string> = []
  for (const { table_name } of tables) {
    const result = await database.query(`SELECT t::text AS row FROM "${schema}"."${String(table_name)}" AS t`)
    rows.push(...result.map((r) => `${String(table_name)}: ${String(r.row)}`))
  }
  return rows
}

for (const database of databases) {
  describe(`postgres store on ${database.name}: erasure (R29)`, () => {
    it("R29: after forget and the purge past the restore window, no live row of any table of the schema holds the person's name or e-mail", async () => {
      const schema = database.freshSchema()
      const store = await postgresStore({ pool: database.pool, schema })
      let now = new Date("2026-03-01T09:00:00Z").getTime()
      const lethe = await createLethe({ store, keyring, clock: () => new Date(now) })
      const name = "Zofia O'Marker-Ąłęk"
      const email = "Zofia.Marker+r29@example.org"
      const { memberId } = await lethe.register({
        tenantId: "gym",
        personal: { name, email },
        source: { kind: "form", tag: "footer" },
      })
      await lethe.giveConsent(memberId, {
        purpose: "newsletter",
        method: "checkbox",
        source: { kind: "form" },
      })
      await lethe.register({
        tenantId: "gym",
        personal: { name: "Other Person-r29", email: "other.r29@example.org" },
        source: { kind: "import" },
      })
      const needles = [name, email, name.toLowerCase(), email.toLowerCase()]
      const holding = (rows: ReadonlyArray<string>) =>
        rows.filter((row) =>
          needles.some((needle) => row.includes(needle) || row.includes(JSON.stringify(needle).slice(1, -1))),
        )
      // The check can fail: before the erasure, the directory holds them in clear.
      expect(holding(await everyRowAsText(database, schema)).length).toBeGreaterThan(0)

      await lethe.forget(memberId, { actor: admin })
      now += (lethe.config.restoreWindowDays + 1) * day
      const report = await lethe.runRetention({})
      expect(report.failed).toEqual([])
      expect(report.executed.filter((e) => e.rule === "purge-forgotten").map((e) => e.memberId)).toEqual([
        memberId,
      ])

      const rows = await everyRowAsText(database, schema)
      expect(holding(rows)).toEqual([])
      // Other members' data stays.
      expect(rows.some((row) => row.includes("Other Person-r29"))).toBe(true)
      await lethe.close()
    }, 30_000)
  })
}
