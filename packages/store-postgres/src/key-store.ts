/**
 * Data keys in the `keys` table. Destroying a key sets `wrapped_key` to NULL
 * and `destroyed_at` to the time: the row stays as the tombstone, so the id
 * can never be `put` again, by this process or another one. The old row
 * version is a dead tuple until VACUUM reclaims it (see docs/operations.md).
 *
 * Costs: `put`, `get`, `destroy` O(log n) through the primary key;
 * `listForMember` O(log n + k) through (member_id, key_id).
 *
 * @module
 */

import { KeyDestroyed, KeyExists } from "@lethe/core"
import type { KeyEntry, KeyStore, StoredKey } from "@lethe/core/spi"
import type { SqlClient } from "./client.js"
import { toNumber, toNumberOrNull } from "./client.js"
import type { Connection } from "./connection.js"

const columns = "key_id, tenant_id, member_id, category, wrapped_key, kek_id, created_at, destroyed_at"

const sqlFor = (s: string) =>
  ({
    // ON CONFLICT DO NOTHING: a taken id is told apart (live or tombstone) by reading it, not by an error.
    put: `INSERT INTO ${s}.keys (key_id, tenant_id, member_id, category, wrapped_key, kek_id, created_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key_id) DO NOTHING RETURNING key_id`,
    get: `SELECT ${columns} FROM ${s}.keys WHERE key_id = $1`,
    // Only a live key changes: destroying twice keeps the first tombstone.
    destroy: `UPDATE ${s}.keys SET wrapped_key = NULL, destroyed_at = $1 WHERE key_id = $2 AND destroyed_at IS NULL`,
    listForMember: `SELECT ${columns} FROM ${s}.keys WHERE member_id = $1 ORDER BY key_id`,
  }) as const

const toEntry = (row: Readonly<Record<string, unknown>>): KeyEntry => {
  const keyId = row.key_id as string
  const tenantId = row.tenant_id as string
  const memberId = row.member_id as string
  const category = row.category as string
  const destroyedAt = toNumberOrNull(row.destroyed_at)
  return row.wrapped_key === null || destroyedAt !== null
    ? { _tag: "Destroyed", tombstone: { keyId, tenantId, memberId, category, destroyedAt: destroyedAt ?? 0 } }
    : {
        _tag: "Live",
        key: {
          keyId,
          tenantId,
          memberId,
          category,
          wrappedKey: row.wrapped_key as string,
          kekId: row.kek_id as string,
          createdAt: toNumber(row.created_at),
        },
      }
}

/**
 * Stores `keys` in order inside the caller's transaction `tx`, in the key
 * store whose statements `sql` holds; throws `KeyExists` (a live id, or one
 * repeated in `keys`) or `KeyDestroyed` (a tombstone) at the first taken id,
 * leaving the transaction to be rolled back. Internal: not exported from the package.
 */
export const insertKeys = async (
  tx: SqlClient,
  sql: ReturnType<typeof sqlFor>,
  keys: ReadonlyArray<StoredKey>,
): Promise<void> => {
  for (const key of keys) {
    const { rows } = await tx.query(sql.put, [
      key.keyId,
      key.tenantId,
      key.memberId,
      key.category,
      key.wrappedKey,
      key.kekId,
      key.createdAt,
    ])
    if (rows.length > 0) continue
    const existing = (await tx.query(sql.get, [key.keyId])).rows[0]
    throw existing !== undefined && toEntry(existing)._tag === "Destroyed"
      ? new KeyDestroyed({ keyId: key.keyId })
      : new KeyExists({ keyId: key.keyId })
  }
}

/**
 * Throws what `insertKeys` would for `keys`, without writing: the first id
 * repeated in `keys` or already stored. Internal: not exported from the package.
 */
export const checkKeysFree = async (
  db: SqlClient,
  sql: ReturnType<typeof sqlFor>,
  keys: ReadonlyArray<StoredKey>,
): Promise<void> => {
  const seen = new Set<string>()
  for (const key of keys) {
    const existing = (await db.query(sql.get, [key.keyId])).rows[0]
    if (existing !== undefined && toEntry(existing)._tag === "Destroyed")
      throw new KeyDestroyed({ keyId: key.keyId })
    if (existing !== undefined || seen.has(key.keyId)) throw new KeyExists({ keyId: key.keyId })
    seen.add(key.keyId)
  }
}

/** The statements of the key store in `schema` (its quoted name). Internal: not exported from the package. */
export const keyStatements = (schema: string) => sqlFor(schema)

/**
 * The key store over `connection`.
 *
 * @example
 * ```ts
 * const keys = postgresKeyStore(connection)
 * await keys.put(key)
 * await keys.destroy(key.keyId, Date.now())
 * await keys.get(key.keyId) // { _tag: "Destroyed", tombstone: { ... } }
 * ```
 */
export const postgresKeyStore = (connection: Connection): KeyStore => {
  const sql = sqlFor(connection.schema.sql)
  return {
    put: async (key: StoredKey) =>
      connection.transaction("keys.put", async (tx) => insertKeys(tx, sql, [key])),

    get: async (keyId) =>
      connection.run("keys.get", async (db) => {
        const row = (await db.query(sql.get, [keyId])).rows[0]
        return row === undefined ? undefined : toEntry(row)
      }),

    destroy: async (keyId, at) =>
      connection.run("keys.destroy", async (db) => {
        await db.query(sql.destroy, [at, keyId])
      }),

    listForMember: async (memberId) =>
      connection.run("keys.listForMember", async (db) =>
        (await db.query(sql.listForMember, [memberId])).rows.map(toEntry),
      ),
  }
}
