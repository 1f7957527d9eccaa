/**
 * Lethe as the cases use it: `createLethe` over the SQLite or PostgreSQL
 * store, with a key ring from a secret, and reopened on the same database for
 * cold measurements.
 *
 * @module
 */
import type { LetheClient, LetheStore } from "@lethe/core"
import { createLethe, keyringFromSecret } from "@lethe/core"
import { postgresStore } from "@lethe/store-postgres"
import { sqliteStore } from "@lethe/store-sqlite"
import Database from "better-sqlite3"
import type pg from "pg"

/** The bench's secret (never use it elsewhere); child processes open the same stores with it. */
export const benchSecret = "lethe bench secret: thirty-two bytes or more"

const keyring = keyringFromSecret(benchSecret)

/** A Lethe instance and its store (the store is for seeding through the SPI). */
export interface OpenedLethe {
  readonly lethe: LetheClient
  readonly store: LetheStore
  /** A new instance on a newly opened store over the same database (cold: nothing cached); close it after use. */
  reopen(): Promise<LetheClient>
  /**
   * Lets the database settle after seeding, as it would have by the time a
   * member has a long history: on SQLite, the WAL checkpointed into the file,
   * so that a measured erasure (which checkpoints, R29) does not also copy
   * the seeding's pages; on PostgreSQL, the tables analyzed, as autovacuum
   * does once a table has grown (without statistics the planner takes
   * `sealed_keys IS NOT NULL` to hold for nearly every event, and an erasure
   * would walk the member's whole stream instead of its sealed events).
   * And the log's head signed: seeded copies bypass Lethe, which would
   * have signed a checkpoint every `checkpointEvery` events on the way (R41),
   * so a measured erasure's checkpoint digests only what came after.
   */
  settle(): Promise<void>
  close(): Promise<void>
}

const opened = async (
  openStore: () => Promise<LetheStore>,
  clock: (() => Date) | undefined,
  settle: () => Promise<void> = async () => {},
): Promise<OpenedLethe> => {
  const instance = async () => {
    const store = await openStore()
    return { store, lethe: await createLethe({ store, keyring, ...(clock === undefined ? {} : { clock }) }) }
  }
  const { store, lethe } = await instance()
  return {
    lethe,
    store,
    reopen: async () => (await instance()).lethe,
    settle: async () => {
      await lethe.checkpoint()
      await settle()
    },
    close: () => lethe.close(),
  }
}

/** Lethe on the SQLite file `filename`. */
export const letheOnSqlite = (
  filename: string,
  synchronous: "full" | "normal",
  clock?: () => Date,
): Promise<OpenedLethe> =>
  opened(
    async () => sqliteStore({ filename, synchronous }),
    clock,
    async () => {
      const side = new Database(filename)
      try {
        side.pragma("wal_checkpoint(TRUNCATE)")
      } finally {
        side.close()
      }
    },
  )

/** Lethe on PostgreSQL, its tables in `schema`; `pool` stays the caller's. */
export const letheOnPostgres = (pool: pg.Pool, schema: string, clock?: () => Date): Promise<OpenedLethe> =>
  opened(
    () => postgresStore({ pool, schema }),
    clock,
    async () => {
      await pool.query(`ANALYZE "${schema}".events, "${schema}".keys, "${schema}".members`)
    },
  )
