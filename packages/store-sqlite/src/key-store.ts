/**
 * Data keys in the `keys` table. Destroying a key sets `wrapped_key` to NULL
 * and `destroyed_at` to the time: the row stays as the tombstone, so the id
 * can never be `put` again, by this process or another one.
 *
 * Costs: `put`, `get`, `destroy` O(log n) through the primary key;
 * `listForMember` O(log n + k) through (member_id, key_id).
 *
 * @module
 */

import { KeyDestroyed, KeyExists } from "@lethe/core"
import type { KeyEntry, KeyStore, StoredKey } from "@lethe/core/spi"
import type { Connection } from "./connection.js"

interface KeyColumns {
  readonly key_id: string
  readonly tenant_id: string
  readonly member_id: string
  readonly category: string
  readonly wrapped_key: string | null
  readonly kek_id: string
  readonly created_at: number
  readonly destroyed_at: number | null
}

const columns = "key_id, tenant_id, member_id, category, wrapped_key, kek_id, created_at, destroyed_at"

const sql = {
  // ON CONFLICT DO NOTHING: a taken id is told apart (live or tombstone) by reading it, not by an error.
  put: `INSERT INTO keys (key_id, tenant_id, member_id, category, wrapped_key, kek_id, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key_id) DO NOTHING`,
  get: `SELECT ${columns} FROM keys WHERE key_id = ?`,
  // Only a live key changes: destroying twice keeps the first tombstone.
  destroy: "UPDATE keys SET wrapped_key = NULL, destroyed_at = ? WHERE key_id = ? AND destroyed_at IS NULL",
  listForMember: `SELECT ${columns} FROM keys WHERE member_id = ? ORDER BY key_id`,
} as const

/** Every statement that reads keys, for checking their query plans. Internal: not exported from the package. */
export const keyQueries = (): ReadonlyArray<string> => [sql.get, sql.listForMember]

const toEntry = (row: KeyColumns): KeyEntry => {
  const { key_id: keyId, tenant_id: tenantId, member_id: memberId, category } = row
  return row.wrapped_key === null || row.destroyed_at !== null
    ? {
        _tag: "Destroyed",
        tombstone: { keyId, tenantId, memberId, category, destroyedAt: row.destroyed_at ?? 0 },
      }
    : {
        _tag: "Live",
        key: {
          keyId,
          tenantId,
          memberId,
          category,
          wrappedKey: row.wrapped_key,
          kekId: row.kek_id,
          createdAt: row.created_at,
        },
      }
}

/** The key store with its write side, used by the event store inside its append transaction. */
export interface SqliteKeyStore {
  readonly keys: KeyStore
  /** Stores new keys; throws `KeyExists` or `KeyDestroyed` for a taken id. Call inside a write transaction. */
  write(keys: ReadonlyArray<StoredKey>): void
}

/**
 * The key store over `connection`. `destroy` checkpoints the WAL after it
 * commits, so the wrapped key is gone from the WAL as well as from the
 * database file (which `secure_delete` overwrites) (R29).
 *
 * @example
 * ```ts
 * const { keys } = sqliteKeyStore(connection)
 * await keys.put(key)
 * await keys.destroy(key.keyId, Date.now())
 * await keys.get(key.keyId) // { _tag: "Destroyed", tombstone: { ... } }
 * ```
 */
export const sqliteKeyStore = (connection: Connection): SqliteKeyStore => {
  connection.prepare(Object.values(sql))
  const get = (keyId: string): KeyEntry | undefined => {
    const row = connection.statement<[string], KeyColumns>(sql.get).get(keyId)
    return row === undefined ? undefined : toEntry(row)
  }

  const write = (keys: ReadonlyArray<StoredKey>): void => {
    const put = connection.statement(sql.put)
    for (const key of keys) {
      const { changes } = put.run(
        key.keyId,
        key.tenantId,
        key.memberId,
        key.category,
        key.wrappedKey,
        key.kekId,
        key.createdAt,
      )
      if (changes > 0) continue
      throw get(key.keyId)?._tag === "Destroyed"
        ? new KeyDestroyed({ keyId: key.keyId })
        : new KeyExists({ keyId: key.keyId })
    }
  }

  const keys: KeyStore = {
    put: async (key: StoredKey) => connection.write("keys.put", () => write([key])),

    get: async (keyId) => connection.run("keys.get", () => get(keyId)),

    destroy: async (keyId, at) => {
      const operation = "keys.destroy"
      const { changes } = connection.run(operation, () => connection.statement(sql.destroy).run(at, keyId))
      if (changes > 0) connection.checkpoint(operation)
    },

    listForMember: async (memberId) =>
      connection.run("keys.listForMember", () =>
        connection.statement<[string], KeyColumns>(sql.listForMember).all(memberId).map(toEntry),
      ),
  }
  return { keys, write }
}
