/**
 * What one append reads on a long-lived connection. PL/pgSQL caches a
 * generic plan for each statement of `append` after a few calls, planned
 * once, for no stream in particular, with the statistics of that moment
 * (often a nearly empty table). A statement whose best plan depends on the
 * stream's length (`max(version)` of a stream of 10 or of 10,000 events) or
 * on the table's size must have one plan that is good for all: these tests
 * let the function cache its plans on small tables, grow the tables, and
 * count what the next append reads, from the transaction's own statistics
 * (`pg_stat_xact_user_tables`, `pg_stat_get_xact_tuples_returned`).
 *
 * Each database is used through one session (a pool of one connection on the
 * server), so the cached plans and the statistics are those of the
 * connection the appends run on.
 */
import type { AppendRequest, LetheStore } from "@lethe/core"
import type { PGliteLike, PgPoolLike } from "@lethe/store-postgres"
import { postgresStore } from "@lethe/store-postgres"
import pg from "pg"
import { afterAll, describe, expect, it } from "vitest"
import type { TestDatabase } from "./fixtures.js"
import { memberRow, newEvent, pgliteDatabase, serverDatabase, serverUrl } from "./fixtures.js"

/** The database through one session: the test's statements and the store's run on the same connection. */
const oneSession = (database: TestDatabase): PgPoolLike | PGliteLike => {
  if (database.name === "pglite" || serverUrl === undefined) return database.pool
  const pool = new pg.Pool({ connectionString: serverUrl, max: 1 })
  afterAll(() => pool.end())
  return pool
}

const databases: ReadonlyArray<TestDatabase> =
  serverUrl === undefined ? [pgliteDatabase()] : [pgliteDatabase(), serverDatabase(serverUrl)]

/** A member's append as the core sends it: events, its directory row with an e-mail key, two new keys. */
const memberAppend = (
  memberId: string,
  expectedVersion: AppendRequest["expectedVersion"],
  streamId = memberId,
): AppendRequest => ({
  streamId,
  expectedVersion,
  events: [newEvent({ n: 1 }), newEvent({ n: 2 })],
  directory: { member: memberRow(memberId, { openRequests: [] }), messages: [] },
  keys: ["identity", "contact"].map((category) => ({
    keyId: `key-${memberId}-${category}`,
    tenantId: "t1",
    memberId,
    category,
    wrappedKey: "d3JhcHBlZA==",
    kekId: "kek-1",
    createdAt: 0,
  })),
})

for (const database of databases) {
  describe(`postgres append cost on ${database.name}`, () => {
    const session = oneSession(database)
    const query = async (text: string, params: Array<unknown> = []) =>
      (await session.query(text, params)).rows as ReadonlyArray<Record<string, unknown>>
    const stores: Array<LetheStore> = []
    afterAll(async () => {
      for (const store of stores) await store.close()
    })

    it("R35: an append reads a few index entries and scans no table, however long its stream and however large the tables since its plans were cached", async () => {
      const schema = database.freshSchema()
      const s = `"${schema}"`
      const store = await postgresStore({ pool: session, schema })
      stores.push(store)
      // Ten appends while the tables hold a few rows: the function's statements now have cached plans.
      for (let i = 0; i < 10; i++) await store.events.append(memberAppend(`m${i}`, "no_stream"))
      // Then the tables grow: one member with 5,000 events, 3,000 more members with their keys.
      await query(
        `INSERT INTO ${s}.events (position, stream_id, version, type, data, metadata, recorded_at, hash, prev_hash)
         SELECT nextval('${schema}.positions'), 'long', v, 'Tested', '{}', '{}', 0, 'h', 'p'
         FROM generate_series(1, 5000) AS v`,
      )
      await query(
        `INSERT INTO ${s}.members (member_id, tenant_id, status, email_key, restricted, customer,
           registered_at, last_activity_at, last_contact_at, holds_invoice_data, version)
         SELECT 'other-' || i, 't1', 'active', 'key-' || i, false, false, 0, 0, 0, false, 1
         FROM generate_series(1, 3000) AS i`,
      )
      await query(
        `INSERT INTO ${s}.keys (key_id, tenant_id, member_id, category, wrapped_key, kek_id, created_at)
         SELECT 'other-key-' || i, 't1', 'other-' || i, 'identity', 'd3JhcHBlZA==', 'kek-1', 0
         FROM generate_series(1, 3000) AS i`,
      )

      // The next append to the long stream, measured as the difference of the session's pending
      // statistics (which may still hold earlier statements') before and after it.
      const reads = async () => {
        const rows = await query(
          `SELECT c.relname, c.relkind, pg_stat_get_xact_numscans(c.oid) AS scans,
             pg_stat_get_xact_tuples_returned(c.oid) AS read
           FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
           WHERE n.nspname = $1 AND c.relkind IN ('r', 'i')`,
          [schema],
        )
        return new Map(
          rows.map((row) => [
            String(row.relname),
            { kind: String(row.relkind), scans: Number(row.scans), read: Number(row.read) },
          ]),
        )
      }
      await query("BEGIN")
      try {
        const before = await reads()
        await store.events.append(memberAppend("long-member", 5000, "long"))
        const after = await reads()
        const delta = [...after].map(([name, row]) => ({
          name,
          kind: row.kind,
          scans: row.scans - (before.get(name)?.scans ?? 0),
          read: row.read - (before.get(name)?.read ?? 0),
        }))
        const described = JSON.stringify(delta.filter((row) => row.scans > 0))
        // No table is scanned whole (a table's scans count its sequential scans).
        expect(
          delta.filter((row) => row.kind === "r" && row.scans > 0),
          described,
        ).toEqual([])
        // The version check reads the stream's last entry, not its 5,000; the e-mail and key
        // checks read their own entries, not the tenant's 3,000.
        const read = delta.filter((row) => row.kind === "i").reduce((sum, row) => sum + row.read, 0)
        expect(read, described).toBeLessThanOrEqual(10)
      } finally {
        await query("ROLLBACK")
      }
    })
  })
}
