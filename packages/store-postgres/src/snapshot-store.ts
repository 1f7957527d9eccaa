/**
 * Member snapshots in the `snapshots` table: one row per member, the state
 * as JSON text (`text`, not `jsonb`, so it reads back byte for byte as
 * written, key order and number spelling included).
 *
 * `write` is one `INSERT ... ON CONFLICT DO UPDATE ... WHERE` statement: the
 * row of a member is locked while the newer version replaces it, so of
 * concurrent writers the one of the latest version stays. `remove` deletes
 * the state (the row stays as the member's floor); the old row version is a
 * dead tuple until VACUUM reclaims it (see
 * docs/operations.md), as for every other update or delete.
 *
 * Costs: `read`, `write` and `remove` O(log n) through the primary key, plus
 * the state's size.
 *
 * @module
 */
import type { SnapshotStore, StoredSnapshot } from "@lethe/core/spi"
import { checkSnapshotFloor, snapshotStateJson } from "@lethe/core/spi"
import { checkNoNul, toNumber } from "./client.js"
import type { Connection } from "./connection.js"

const sqlFor = (s: string) =>
  ({
    read: `SELECT member_id, tenant_id, version, head, state, taken_at FROM ${s}.snapshots
      WHERE member_id = $1 AND state IS NOT NULL`,
    write: `INSERT INTO ${s}.snapshots (member_id, tenant_id, version, head, state, taken_at)
      VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (member_id) DO UPDATE SET tenant_id = excluded.tenant_id, version = excluded.version,
        head = excluded.head, state = excluded.state, taken_at = excluded.taken_at
      WHERE excluded.version > snapshots.version
      RETURNING member_id`,
    // The state set to NULL, the floor only raised; whether a snapshot was there, as the statement
    // found the row (a CTE reads the table as it was before the statement).
    remove: `WITH prior AS (SELECT state IS NOT NULL AS held FROM ${s}.snapshots WHERE member_id = $1),
      floor AS (INSERT INTO ${s}.snapshots (member_id, tenant_id, version, head, state, taken_at)
        VALUES ($1, '', $2, '', NULL, 0)
        ON CONFLICT (member_id) DO UPDATE SET version = GREATEST(snapshots.version, excluded.version),
          head = '', state = NULL, taken_at = 0)
      SELECT coalesce((SELECT held FROM prior), false) AS held`,
  }) as const

const toSnapshot = (row: Readonly<Record<string, unknown>>): StoredSnapshot => ({
  memberId: row.member_id as string,
  tenantId: row.tenant_id as string,
  version: toNumber(row.version),
  head: row.head as string,
  state: JSON.parse(row.state as string) as unknown,
  takenAt: toNumber(row.taken_at),
})

/**
 * The snapshot store over `connection`. A snapshot is checked before any
 * statement is sent: `snapshotStateJson` (positive integer version, plain
 * JSON state) and no NUL character in its ids or head, which PostgreSQL text
 * cannot hold; either refusal is a `StoreError` and writes nothing. (A NUL in
 * the state is stored: its JSON text spells it `\u0000`.)
 *
 * @example
 * ```ts
 * const snapshots = postgresSnapshotStore(connection)
 * await snapshots.write(snapshot) // true: kept
 * await snapshots.write({ ...snapshot, state: other }) // false: the same version is stored
 * ```
 */
export const postgresSnapshotStore = (connection: Connection): SnapshotStore => {
  const sql = sqlFor(connection.schema.sql)
  return {
    read: async (memberId) =>
      connection.run("snapshots.read", async (db) => {
        const row = (await db.query(sql.read, [memberId])).rows[0]
        return row === undefined ? undefined : toSnapshot(row)
      }),

    write: async (snapshot) => {
      const operation = "snapshots.write"
      const state = snapshotStateJson(operation, snapshot)
      const { memberId, tenantId, version, head, takenAt } = snapshot
      checkNoNul(
        operation,
        JSON.stringify([memberId, tenantId, head]),
        "the snapshot's member id, tenant id or head",
      )
      return connection.run(operation, async (db) => {
        const { rows } = await db.query(sql.write, [memberId, tenantId, version, head, state, takenAt])
        return rows.length > 0
      })
    },

    remove: async (memberId, upTo) => {
      const operation = "snapshots.remove"
      const floor = checkSnapshotFloor(operation, upTo)
      return connection.run(
        operation,
        async (db) => (await db.query(sql.remove, [memberId, floor])).rows[0]?.held === true,
      )
    },
  }
}
