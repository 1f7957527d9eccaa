/**
 * `appendBatch` on PostgreSQL, beyond the conformance suite: positions a
 * batch drew before it failed are handed back (no gap), also when it fails
 * after the draw (a racing writer's unique row, a failing trigger), where a
 * single append does leave a gap; and the position mutex the batch holds is
 * released whatever happens.
 */

import type { LetheStore } from "@lethe/core"
import type { AppendRequest } from "@lethe/core/spi"
import { eventsOf, memberRow, rejection } from "@lethe/testkit/fixtures"
import { describe, expect, it } from "vitest"
import { toSchema } from "../src/migrations.js"
import type { TestDatabase } from "./fixtures.js"
import { storeOpener, testDatabases } from "./fixtures.js"

/** A store on a fresh schema of `database`, and the schema's name. */
const open = async (database: TestDatabase) => {
  const stores = storeOpener(database)
  const store = await stores.fresh()
  return { store, schema: stores.schemaOf(store) ?? "" }
}

const batchOf = (store: LetheStore) => {
  const appendBatch = store.events.appendBatch
  if (appendBatch === undefined) throw new Error("the postgres store has appendBatch")
  return appendBatch.bind(store.events)
}

/** `count` events of `streamId`, no directory row. */
const eventsTo = (streamId: string, count: number): AppendRequest => ({
  streamId,
  expectedVersion: "any",
  events: eventsOf(streamId, count),
})

const positions = async (store: LetheStore) =>
  (await store.events.readAll({ limit: 10_000 })).events.map((e) => e.position)

/** Session advisory locks still held on the position mutex of `schema` (class, key 2). */
const mutexHolders = async (database: TestDatabase, schema: string): Promise<number> => {
  const rows = await database.query(
    `SELECT count(*)::int AS n FROM pg_locks
      WHERE locktype = 'advisory' AND classid = ($1::int)::oid AND objid = 2 AND objsubid = 2 AND granted`,
    [toSchema(schema).lockClass],
  )
  return Number(rows[0]?.n)
}

for (const database of testDatabases()) {
  describe(`postgres appendBatch on ${database.name}`, () => {
    it("a failure after positions were drawn (a trigger refusing the last request's events) hands them back; a single append failing there leaves a gap", async () => {
      const { store, schema } = await open(database)
      await database.query(`CREATE FUNCTION "${schema}".refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.stream_id = 'refused' THEN RAISE EXCEPTION 'refused by a trigger'; END IF; RETURN NEW; END $$`)
      await database.query(
        `CREATE TRIGGER refuse BEFORE INSERT ON "${schema}".events FOR EACH ROW EXECUTE FUNCTION "${schema}".refuse()`,
      )
      await store.events.append(eventsTo("s", 1))
      const error = await rejection(
        batchOf(store)([eventsTo("a", 3), eventsTo("b", 2), eventsTo("refused", 2)]),
      )
      expect(error._tag).toBe("StoreError")
      expect(await store.events.append(eventsTo("a", 1))).toEqual({ version: 1, position: 2 })
      // The single append draws its positions, then the trigger refuses the insert: they are lost.
      expect((await rejection(store.events.append(eventsTo("refused", 2))))._tag).toBe("StoreError")
      expect(await store.events.append(eventsTo("a", 1))).toEqual({ version: 2, position: 5 })
      expect(await positions(store)).toEqual([1, 2, 5])
      expect(await mutexHolders(database, schema)).toBe(0)
    })

    it("batches racing for one e-mail key: exactly one lands, the others are EmailTaken naming its member, and no position is lost", async () => {
      const { store, schema } = await open(database)
      const appendBatch = batchOf(store)
      const batches = Array.from({ length: 6 }, (_, b) => [
        {
          ...eventsTo(`member-own-${b}`, 2),
          directory: { member: memberRow(`own-${b}`) },
        },
        {
          ...eventsTo(`member-shared-${b}`, 1),
          directory: { member: memberRow(`shared-${b}`, { emailKey: "same" }) },
        },
      ])
      const outcomes = await Promise.allSettled(batches.map((batch) => appendBatch(batch)))
      const won = outcomes.flatMap((outcome, b) => (outcome.status === "fulfilled" ? [b] : []))
      expect(won).toHaveLength(1)
      for (const outcome of outcomes)
        if (outcome.status === "rejected")
          expect(outcome.reason).toMatchObject({ _tag: "EmailTaken", memberId: `shared-${won[0]}` })
      expect(await positions(store)).toEqual([1, 2, 3])
      expect(await store.events.append(eventsTo("after", 1))).toEqual({ version: 1, position: 4 })
      expect(await mutexHolders(database, schema)).toBe(0)
    })

    it("the position mutex is released after a batch that lands and after one that is refused", async () => {
      const { store, schema } = await open(database)
      await batchOf(store)([eventsTo("a", 1), eventsTo("b", 1)])
      expect(await mutexHolders(database, schema)).toBe(0)
      await rejection(
        batchOf(store)([eventsTo("c", 1), { ...eventsTo("a", 1), expectedVersion: "no_stream" }]),
      )
      expect(await mutexHolders(database, schema)).toBe(0)
      expect(await positions(store)).toEqual([1, 2])
    })
  })
}
