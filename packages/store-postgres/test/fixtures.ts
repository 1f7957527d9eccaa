/**
 * What the store-postgres tests share: databases to run on (one PGlite
 * instance per test file, and the real server when `LETHE_PG_URL` is set),
 * fresh schemas per store (dropped from the real server when the file ends).
 * The builders of what the core hands to an adapter are
 * `@lethe/testkit/fixtures`.
 *
 * @module
 */
import { PGlite } from "@electric-sql/pglite"
import type { LetheStore } from "@lethe/core"
import type { PGliteLike, PgPoolLike } from "@lethe/store-postgres"
import { postgresStore } from "@lethe/store-postgres"
import pg from "pg"
import { afterAll } from "vitest"

/** The real server's URL, if the tests should use it. */
export const serverUrl: string | undefined = process.env.LETHE_PG_URL || undefined

/** Why the real-server tests are skipped, shown in their titles. */
export const noServerReason = "set LETHE_PG_URL to run against a real PostgreSQL server"

/** A database the tests run on, its fresh schemas, and what to do when the file ends. */
export interface TestDatabase {
  readonly name: "pglite" | "server"
  readonly pool: PgPoolLike | PGliteLike
  /** A schema name never used before (by any process: it carries a random part). */
  readonly freshSchema: () => string
  /** Runs a statement (for inspecting tables). */
  readonly query: (text: string, params?: Array<unknown>) => Promise<ReadonlyArray<Record<string, unknown>>>
}

const random = () => Math.random().toString(36).slice(2, 10)

/**
 * A PGlite instance for this test file, closed when the file ends. PGlite
 * starts in about a second, so the file's stores share it, each in a schema
 * of its own.
 */
export const pgliteDatabase = (): TestDatabase => {
  const db = new PGlite()
  afterAll(() => db.close())
  let n = 0
  return {
    name: "pglite",
    pool: db,
    freshSchema: () => `lethe_test_${++n}_${random()}`,
    query: async (text, params = []) => (await db.query<Record<string, unknown>>(text, params)).rows,
  }
}

/** A `pg` Pool on `serverUrl` for this test file; its schemas are dropped and the pool ended when the file ends. */
export const serverDatabase = (url: string, max = 10): TestDatabase => {
  const pool = new pg.Pool({ connectionString: url, max })
  const schemas: Array<string> = []
  afterAll(async () => {
    for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await pool.end()
  })
  return {
    name: "server",
    pool,
    freshSchema: () => {
      const schema = `lethe_test_${random()}${random()}`
      schemas.push(schema)
      return schema
    },
    query: async (text, params = []) => (await pool.query(text, params)).rows,
  }
}

/** The databases to run on: PGlite always, the real server when `LETHE_PG_URL` is set. */
export const testDatabases = (): ReadonlyArray<TestDatabase> =>
  serverUrl === undefined ? [pgliteDatabase()] : [pgliteDatabase(), serverDatabase(serverUrl)]

/** Opens stores on fresh schemas of `database`, and reopens them on the same schema. */
export const storeOpener = (database: TestDatabase) => {
  const schemas = new WeakMap<LetheStore, string>()
  const openSchema = async (schema: string): Promise<LetheStore> => {
    const store = await postgresStore({ pool: database.pool, schema })
    schemas.set(store, schema)
    return store
  }
  return {
    fresh: () => openSchema(database.freshSchema()),
    reopen: async (store: LetheStore) => {
      await store.close()
      return openSchema(schemas.get(store) ?? database.freshSchema())
    },
    schemaOf: (store: LetheStore) => schemas.get(store),
  }
}
