import type { LetheStore } from "@lethe/core"
import { postgresStore } from "@lethe/store-postgres"
import { memberRow, newEvent } from "@lethe/testkit/fixtures"
import { describe, expect, it } from "vitest"
import { noServerReason, serverDatabase, serverUrl } from "./fixtures.js"

const writers = 6
const appendsPerWriter = 60

/** Pages through `readAll` until `finished()` and a page reports the end; returns every position seen. */
const pageThrough = async (store: LetheStore, finished: () => boolean): Promise<Array<number>> => {
  const seen: Array<number> = []
  let after = 0
  for (;;) {
    const wasFinished = finished()
    const page = await store.events.readAll({ after, limit: 7 })
    seen.push(...page.events.map((e) => e.position))
    after = page.next
    if (page.done && wasFinished) return seen
  }
}

describe.skipIf(serverUrl === undefined)(
  `postgres store: global order under concurrent writers${serverUrl === undefined ? ` [skipped: ${noServerReason}]` : ""}`,
  () => {
    it("Item 2: a reader paging through readAll while writers commit out of position order sees every event exactly once, in order", async () => {
      const database = serverDatabase(serverUrl ?? "", writers + 4)
      const schema = database.freshSchema()
      const store = await postgresStore({ pool: database.pool, schema })
      // A random pause after the events are inserted and before commit (the directory write is the
      // append's last statement), so transactions commit positions out of order, as under real load.
      await database.query(`CREATE FUNCTION "${schema}".slow() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_sleep(random() * 0.01); RETURN NEW; END $$`)
      await database.query(
        `CREATE TRIGGER slow BEFORE INSERT OR UPDATE ON "${schema}".members FOR EACH ROW EXECUTE FUNCTION "${schema}".slow()`,
      )

      let running = writers
      const write = async (writer: number) => {
        for (let i = 0; i < appendsPerWriter; i++)
          await store.events.append({
            streamId: `stream-${writer}-${i % 3}`,
            expectedVersion: "any",
            events: Array.from({ length: 1 + (i % 3) }, () => newEvent({ writer, i })),
            directory: { member: memberRow(`m-${writer}`) },
          })
        running--
      }
      // A naive reader of the same table, without the transaction horizon: it shows the hazard is real.
      const naive = async (): Promise<Array<number>> => {
        const seen: Array<number> = []
        let after = 0
        for (let lastRound = false; ; ) {
          const rows = await database.query(
            `SELECT position::int AS position FROM "${schema}".events WHERE position > $1 ORDER BY position LIMIT 7`,
            [after],
          )
          seen.push(...rows.map((row) => Number(row.position)))
          after = seen.at(-1) ?? after
          if (rows.length === 0 && lastRound) return seen
          if (rows.length === 0 && running === 0) lastRound = true
        }
      }

      const [seen, naiveSeen] = await Promise.all([
        pageThrough(store, () => running === 0),
        naive(),
        ...Array.from({ length: writers }, (_, writer) => write(writer)),
      ])

      const full = (await store.events.readAll({ limit: 1_000_000 })).events.map((e) => e.position)
      const total = writers * appendsPerWriter * 2
      expect(full).toEqual(Array.from({ length: total }, (_, i) => i + 1))
      expect(seen).toEqual(full)
      // Without the horizon a reader skips events committed after a higher position was visible.
      expect(naiveSeen.length, "the naive reader skipped events").toBeLessThan(full.length)
      await store.close()
    }, 60_000)

    it("Item 2: batches (appendBatch) racing with single appends keep the global order: the reader sees every event exactly once, in order", async () => {
      const database = serverDatabase(serverUrl ?? "", writers + 4)
      const schema = database.freshSchema()
      const store = await postgresStore({ pool: database.pool, schema })
      const appendBatch = store.events.appendBatch?.bind(store.events)
      if (appendBatch === undefined) throw new Error("the postgres store has appendBatch")
      // A pause at every directory row, so a batch's requests (and single appends) interleave.
      await database.query(`CREATE FUNCTION "${schema}".slow() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_sleep(random() * 0.005); RETURN NEW; END $$`)
      await database.query(
        `CREATE TRIGGER slow BEFORE INSERT OR UPDATE ON "${schema}".members FOR EACH ROW EXECUTE FUNCTION "${schema}".slow()`,
      )
      const request = (writer: number, i: number, r: number) => ({
        streamId: `stream-${writer}-${(i + r) % 4}`,
        expectedVersion: "any" as const,
        events: Array.from({ length: 1 + ((i + r) % 2) }, () => newEvent({ writer, i, r })),
        directory: { member: memberRow(`m-${writer}-${r}`) },
      })

      let running = writers
      let total = 0
      const write = async (writer: number) => {
        for (let i = 0; i < 25; i++) {
          // Even writers send batches of three requests, odd ones single appends.
          const requests = Array.from({ length: writer % 2 === 0 ? 3 : 1 }, (_, r) => request(writer, i, r))
          if (requests.length > 1) await appendBatch(requests)
          else await store.events.append(requests[0] ?? request(writer, i, 0))
          total += requests.reduce((sum, one) => sum + one.events.length, 0)
        }
        running--
      }
      const [seen] = await Promise.all([
        pageThrough(store, () => running === 0),
        ...Array.from({ length: writers }, (_, writer) => write(writer)),
      ])

      const full = (await store.events.readAll({ limit: 1_000_000 })).events.map((e) => e.position)
      expect(full).toEqual(Array.from({ length: total }, (_, i) => i + 1))
      expect(seen).toEqual(full)
      await store.close()
    }, 60_000)
  },
)
