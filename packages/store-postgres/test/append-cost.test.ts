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

import type { LetheStore } from "@lethe/core"
import type { AppendRequest } from "@lethe/core/spi"
import type { PGliteLike, PgPoolLike } from "@lethe/store-postgres"
import { postgresStore } from "@lethe/store-postgres"
import { memberRow, newEvent, storedKey } from "@lethe/testkit/fixtures"
import pg from "pg"
import { afterAll, describe, expect, it } from "vitest"
import type { TestDatabase } from "./fixtures.js"
import { pgliteDatabase, serverDatabase, serverUrl } from "./fixtures.js"

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
  keys: ["identity", "contact"].map((category) =>
    storedKey(`key-${memberId}-${category}`, {
      memberId,
      category,
      wrappedKey: "d3JhcHBlZA==",
      createdAt: 0,
    }),
  ),
})

for (const database of databases) {
  describe(`postgres read costs on ${database.name}`, () => {
    const session = oneSession(database)
    const query = async (text: string, params: Array<unknown> = []) =>
      (await session.query(text, params)).rows as ReadonlyArray<Record<string, unknown>>
    const stores: Array<LetheStore> = []
    afterAll(async () => {
      for (const store of stores) await store.close()
    })

    /** What `schema`'s tables and indexes read per relation, as the session's pending statistics count it. */
    const reads = async (schema: string) => {
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

    /**
     * Runs `operation` in a transaction of the test's, rolled back, and returns
     * what it read: the tables it scanned whole (a table's scans count its
     * sequential scans) and the index entries it read in all, as the
     * difference of the session's pending statistics (which may still hold
     * earlier statements') before and after it.
     */
    const measured = async (schema: string, operation: () => Promise<unknown>) => {
      await query("BEGIN")
      try {
        const before = await reads(schema)
        await operation()
        const after = await reads(schema)
        const delta = [...after].map(([name, row]) => ({
          name,
          kind: row.kind,
          scans: row.scans - (before.get(name)?.scans ?? 0),
          read: row.read - (before.get(name)?.read ?? 0),
        }))
        return {
          tables: delta.filter((row) => row.kind === "r" && row.scans > 0).map((row) => row.name),
          indexEntries: delta.filter((row) => row.kind === "i").reduce((sum, row) => sum + row.read, 0),
          described: JSON.stringify(delta.filter((row) => row.scans > 0)),
        }
      } finally {
        await query("ROLLBACK")
      }
    }

    it("C2: an append reads a few index entries and scans no table, however long its stream and however large the tables since its plans were cached", async () => {
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

      const { tables, indexEntries, described } = await measured(schema, () =>
        store.events.append(memberAppend("long-member", 5000, "long")),
      )
      // No table is scanned whole (a table's scans count its sequential scans).
      expect(tables, described).toEqual([])
      // The version check reads the stream's last entry, not its 5,000; the e-mail and key
      // checks read their own entries, not the tenant's 3,000.
      expect(indexEntries, described).toBeLessThanOrEqual(10)
    })

    it("R29, C2: reading a stream's sealed events reads their index entries, not the stream's, however long the stream, once the table has statistics", async () => {
      const schema = database.freshSchema()
      const s = `"${schema}"`
      const store = await postgresStore({ pool: session, schema })
      stores.push(store)
      // Ten members of 5,000 events (visits of a few hundred bytes), two of each holding sealed
      // values. Before its first ANALYZE, the planner takes "sealed_keys IS NOT NULL" to hold for
      // nearly every row and may walk the stream's whole (stream_id, version) index; autovacuum
      // gathers the statistics once a table has grown (the first time after some 50 rows).
      await query(
        `INSERT INTO ${s}.events (position, stream_id, version, type, data, metadata, recorded_at, hash, prev_hash, sealed_keys)
         SELECT nextval('${schema}.positions'), 'long-' || i, v, 'Tested', jsonb_build_object('pad', repeat('x', 300)),
           '{}', 0, 'h', 'p', CASE WHEN v IN (2, 3) THEN ARRAY['long-' || i || '-key-' || v] END
         FROM generate_series(1, 10) AS i, generate_series(1, 5000) AS v`,
      )
      await query(`ANALYZE ${s}.events`)
      for (const fromVersion of [1, 3]) {
        const { tables, indexEntries, described } = await measured(schema, async () => {
          const events = await store.events.readStream("long-1", {
            fromVersion,
            sealedUnder: ["long-1-key-2", "long-1-key-3"],
          })
          expect(events.map((event) => event.version)).toEqual(fromVersion === 3 ? [3] : [2, 3])
        })
        expect(tables, described).toEqual([])
        expect(indexEntries, described).toBeLessThanOrEqual(10)
      }
    })
  })
}
