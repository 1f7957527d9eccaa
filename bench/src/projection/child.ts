/**
 * One measured pass of the projection case over a seeded SQLite file, in a
 * process of its own so that its peak memory is the pass's own; prints what
 * it measured as one JSON line.
 *
 * - `catch-up <file> <name>`: `catchUpProjection` of a new projection
 *   `name` (visits per club per month, in the file) from the log's start.
 * - `read <file>`: `readAllEvents` over the log, nothing decoded or applied:
 *   the floor of any catch-up.
 *
 * @module
 */
import type { Projection } from "@lethe/core"
import { createLethe, keyringFromSecret } from "@lethe/core"
import { readAllEvents } from "@lethe/core/spi"
import { sqliteStore } from "@lethe/store-sqlite"
import type Database from "better-sqlite3"
import { benchSecret } from "../subjects/lethe.js"

/** What a pass prints. */
export interface ProjectionPass {
  readonly events: number
  readonly seconds: number
  readonly cpuSeconds: number
  readonly peakRssMiB: number
}

/** Events read, decoded and applied per transaction. */
export const passBatch = 1_000

const measured = async (pass: () => Promise<number>): Promise<ProjectionPass> => {
  const startedAt = process.hrtime.bigint()
  const cpuBefore = process.cpuUsage()
  const events = await pass()
  const cpu = process.cpuUsage(cpuBefore)
  return {
    events,
    seconds: Number(process.hrtime.bigint() - startedAt) / 1e9,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  }
}

/** Visits per club per month, with its statements prepared once per database. */
const visitsPerClub = (name: string): Projection<Database.Database> => {
  const table = `bench_${name.replace(/[^a-z0-9]/gi, "_")}`
  const statements = new WeakMap<Database.Database, Database.Statement>()
  const upsert = (db: Database.Database) => {
    let statement = statements.get(db)
    if (statement === undefined) {
      statement = db.prepare(
        `INSERT INTO ${table} (month, club_id, visits) VALUES (?, ?, 1)
         ON CONFLICT (month, club_id) DO UPDATE SET visits = visits + 1`,
      )
      statements.set(db, statement)
    }
    return statement
  }
  return {
    name,
    setup: (db) => {
      db.exec(
        `CREATE TABLE IF NOT EXISTS ${table} (month TEXT, club_id TEXT, visits INTEGER, PRIMARY KEY (month, club_id))`,
      )
    },
    apply: ({ event }, db) => {
      if (event._tag === "ActivityRecorded" && event.clubId !== null)
        upsert(db).run(new Date(event.at).toISOString().slice(0, 7), event.clubId)
    },
    reset: (db) => {
      db.exec(`DELETE FROM ${table}`)
    },
  }
}

const catchUp = (file: string, name: string) =>
  measured(async () => {
    const lethe = await createLethe({
      store: sqliteStore({ filename: file }),
      keyring: keyringFromSecret(benchSecret),
      projections: [visitsPerClub(name)],
    })
    try {
      const status = await lethe.catchUpProjection(name, { batchSize: passBatch })
      if (status.lag !== 0) throw new Error(`the projection stopped ${status.lag} events short`)
      return status.checkpoint
    } finally {
      await lethe.close()
    }
  })

const read = (file: string) =>
  measured(async () => {
    const store = sqliteStore({ filename: file })
    try {
      let events = 0
      for await (const _ of readAllEvents(store.events, { pageSize: passBatch })) events++
      return events
    } finally {
      await store.close()
    }
  })

const [mode, file, name] = process.argv.slice(2)
if (
  file === undefined ||
  (mode !== "catch-up" && mode !== "read") ||
  (mode === "catch-up" && name === undefined)
)
  throw new Error("usage: child.ts catch-up <file> <name> | read <file>")
const result = await (mode === "catch-up" ? catchUp(file, name as string) : read(file))
process.stdout.write(`${JSON.stringify(result)}\n`)
