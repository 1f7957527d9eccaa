import type { LetheStore } from "@lethe/core"
import type { PGliteLike, PgPoolLike } from "@lethe/store-postgres"
import { postgresStore } from "@lethe/store-postgres"
import { runAdapterConformance } from "@lethe/testkit"
import pg from "pg"
import { afterAll, describe, it } from "vitest"
import type { TestDatabase } from "./fixtures.js"
import { noServerReason, pgliteDatabase, serverDatabase, serverUrl } from "./fixtures.js"

/** Stores whose keys live in a schema of their own, on `keysPool` when given (its own connections). */
const pairOpener = (database: TestDatabase, keysPool?: PgPoolLike | PGliteLike) => {
  const schemas = new WeakMap<LetheStore, string>()
  const open = async (schema: string): Promise<LetheStore> => {
    const keys = `${schema}_keys`
    const store = await postgresStore({
      pool: database.pool,
      schema,
      keys: keysPool === undefined ? { schema: keys } : { schema: keys, pool: keysPool },
    })
    schemas.set(store, schema)
    return store
  }
  const fresh = () => {
    const schema = database.freshSchema()
    // The fixtures drop the log's schema from the server when the file ends; this file drops the keys'.
    schemasToDrop.push(`${schema}_keys`)
    return open(schema)
  }
  return {
    fresh,
    reopen: async (store: LetheStore) => {
      await store.close()
      return open(schemas.get(store) ?? database.freshSchema())
    },
  }
}

const schemasToDrop: Array<string> = []

// In the log's database: one transaction over both schemas, so every case holds as with one schema.
const lite = pgliteDatabase()
const inPglite = pairOpener(lite)
runAdapterConformance({
  name: "postgres (pglite, keys in another schema)",
  makeStore: inPglite.fresh,
  reopen: inPglite.reopen,
})

if (serverUrl === undefined) {
  describe("Lethe adapter conformance: postgres (server, keys apart)", () => {
    it.skip(`every case [skipped: ${noServerReason}]`, () => {})
  })
} else {
  const server = serverDatabase(serverUrl)
  const keysPool = new pg.Pool({ connectionString: serverUrl, max: 10 })
  afterAll(async () => {
    for (const schema of schemasToDrop) await keysPool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await keysPool.end()
  })
  const sameDatabase = pairOpener(server)
  runAdapterConformance({
    name: "postgres (server, keys in another schema)",
    makeStore: sameDatabase.fresh,
    reopen: sameDatabase.reopen,
    properties: { numRuns: 8 },
  })
  // Its own pool, as for another database: two transactions, the keys' first.
  const ownPool = pairOpener(server, keysPool)
  runAdapterConformance({
    name: "postgres (server, keys on their own connections)",
    makeStore: ownPool.fresh,
    reopen: ownPool.reopen,
    properties: { numRuns: 8 },
    skip: {
      "append/email-race":
        "keys apart in another database commit before the log: the appends that lose the race leave their keys as orphans (docs/design.md §3.4)",
    },
  })
}
