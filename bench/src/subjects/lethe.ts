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
import type pg from "pg"

const keyring = keyringFromSecret("lethe bench secret: thirty-two bytes or more")

/** A Lethe instance and its store (the store is for seeding through the SPI). */
export interface OpenedLethe {
  readonly lethe: LetheClient
  readonly store: LetheStore
  /** A new instance on a newly opened store over the same database (cold: nothing cached); close it after use. */
  reopen(): Promise<LetheClient>
  close(): Promise<void>
}

const opened = async (
  openStore: () => Promise<LetheStore>,
  clock: (() => Date) | undefined,
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
    close: () => lethe.close(),
  }
}

/** Lethe on the SQLite file `filename`. */
export const letheOnSqlite = (
  filename: string,
  synchronous: "full" | "normal",
  clock?: () => Date,
): Promise<OpenedLethe> => opened(async () => sqliteStore({ filename, synchronous }), clock)

/** Lethe on PostgreSQL, its tables in `schema`; `pool` stays the caller's. */
export const letheOnPostgres = (pool: pg.Pool, schema: string, clock?: () => Date): Promise<OpenedLethe> =>
  opened(() => postgresStore({ pool, schema }), clock)
