/**
 * Member snapshots in the `snapshots` table: one row per member, the state
 * as JSON text (so it reads back exactly as written). A removed snapshot
 * leaves its row with the state NULL (a floor: its version is the highest
 * that will not be kept again).
 *
 * Costs: `read`, `write` and `remove` O(log n) through the primary key, plus
 * the state's size; `remove` then checkpoints the WAL.
 *
 * @module
 */
import type { SnapshotStore, StoredSnapshot } from "@lethe/core/spi"
import { checkSnapshotFloor, snapshotStateJson } from "@lethe/core/spi"
import type { Connection } from "./connection.js"

interface SnapshotRow {
  readonly member_id: string
  readonly tenant_id: string
  readonly version: number
  readonly head: string
  readonly state: string
  readonly taken_at: number
}

interface HeldRow {
  readonly held: number
}

const sql = {
  read: `SELECT member_id, tenant_id, version, head, state, taken_at FROM snapshots
    WHERE member_id = ? AND state IS NOT NULL`,
  // One statement: the version comparison and the write cannot be split by another writer.
  write: `INSERT INTO snapshots (member_id, tenant_id, version, head, state, taken_at) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (member_id) DO UPDATE SET tenant_id = excluded.tenant_id, version = excluded.version,
      head = excluded.head, state = excluded.state, taken_at = excluded.taken_at
    WHERE excluded.version > snapshots.version`,
  held: "SELECT state IS NOT NULL AS held FROM snapshots WHERE member_id = ?",
  // The state overwritten by NULL (secure_delete zeroes its old bytes); the floor only rises.
  remove: `INSERT INTO snapshots (member_id, tenant_id, version, head, state, taken_at) VALUES (?, '', ?, '', NULL, 0)
    ON CONFLICT (member_id) DO UPDATE SET version = max(snapshots.version, excluded.version), head = '',
      state = NULL, taken_at = 0`,
} as const

/** Every statement that reads snapshots, for checking their query plans. Internal: not exported from the package. */
export const snapshotQueries = (): ReadonlyArray<string> => [sql.read]

const toSnapshot = (row: SnapshotRow): StoredSnapshot => ({
  memberId: row.member_id,
  tenantId: row.tenant_id,
  version: row.version,
  head: row.head,
  state: JSON.parse(row.state) as unknown,
  takenAt: row.taken_at,
})

/**
 * The snapshot store over `connection`. A snapshot is checked
 * (`snapshotStateJson`) before any statement runs, so a refused one writes
 * nothing. `remove` checkpoints the WAL after it commits, as `redact` and
 * `keys.destroy` do: with `secure_delete`, the removed state is then in
 * neither the database file nor the WAL (R29).
 *
 * @example
 * ```ts
 * const snapshots = sqliteSnapshotStore(connection)
 * await snapshots.write(snapshot) // true: kept
 * await snapshots.remove(snapshot.memberId) // true, and the bytes are gone from the file and the WAL
 * ```
 */
export const sqliteSnapshotStore = (connection: Connection): SnapshotStore => {
  connection.prepare(Object.values(sql))
  return {
    read: async (memberId) =>
      connection.run("snapshots.read", () => {
        const row = connection.statement<[string], SnapshotRow>(sql.read).get(memberId)
        return row === undefined ? undefined : toSnapshot(row)
      }),

    write: async (snapshot) => {
      const operation = "snapshots.write"
      return connection.run(operation, () => {
        const state = snapshotStateJson(operation, snapshot)
        const { memberId, tenantId, version, head, takenAt } = snapshot
        const { changes } = connection
          .statement(sql.write)
          .run(memberId, tenantId, version, head, state, takenAt)
        return changes > 0
      })
    },

    remove: async (memberId, upTo) => {
      const operation = "snapshots.remove"
      const floor = checkSnapshotFloor(operation, upTo)
      const held = connection.write(operation, () => {
        const row = connection.statement<[string], HeldRow>(sql.held).get(memberId)
        connection.statement(sql.remove).run(memberId, floor)
        return row?.held === 1
      })
      if (held) connection.checkpoint(operation)
      return held
    },
  }
}
