/**
 * The databases a case runs its contenders on: SQLite (WAL, synchronous FULL
 * or NORMAL) or PostgreSQL. Each `open` gives a fresh, empty database (a new
 * file, or a new schema) that its `close` removes.
 *
 * @module
 */
import { rmSync } from "node:fs"
import { join } from "node:path"
import type { BenchContext } from "./context.js"
import type { BenchSchema } from "./postgres.js"
import { emmettPostgres, emmettSqlite } from "./subjects/emmett.js"
import type { EventLog, RawLog } from "./subjects/event-log.js"
import type { OpenedLethe } from "./subjects/lethe.js"
import { letheOnPostgres, letheOnSqlite } from "./subjects/lethe.js"
import { rawPostgres } from "./subjects/raw-postgres.js"
import type { RegistrationRows } from "./subjects/raw-rows.js"
import { registrationRowsOnPostgres, registrationRowsOnSqlite } from "./subjects/raw-rows.js"
import { rawSqlite } from "./subjects/raw-sqlite.js"

export type Synchronous = "full" | "normal"

/** One database setup, and its three contenders on it. */
export interface Backend {
  /** How figures on this backend are named, e.g. "SQLite WAL FULL". */
  readonly variant: string
  /** Why this backend cannot be measured (no PostgreSQL server), if so. */
  readonly unavailable?: string
  readonly labels: { readonly raw: string; readonly emmett: string; readonly lethe: string }
  openRaw(): Promise<RawLog>
  /** The raw driver writing Lethe's own rows of a registration, in a database whose schema Lethe made. */
  openRawRows(): Promise<RegistrationRows>
  openEmmett(): Promise<EventLog>
  openLethe(clock?: () => Date): Promise<OpenedLethe>
}

/** `opened` whose `close` also runs `cleanup` (remove its file, drop its schema). */
const closing = <A extends { close(): Promise<void> }>(opened: A, cleanup: () => Promise<void>): A => ({
  ...opened,
  close: async () => {
    try {
      await opened.close()
    } finally {
      await cleanup()
    }
  },
})

let files = 0

/** SQLite in WAL mode with `synchronous` FULL or NORMAL, a new file in the scratch folder per `open`. */
export const sqliteBackend = (context: BenchContext, synchronous: Synchronous): Backend => {
  const fresh = (label: string) => {
    const filename = join(context.dir, `${label}-${++files}.db`)
    const remove = async () => {
      for (const suffix of ["", "-wal", "-shm"]) rmSync(`${filename}${suffix}`, { force: true })
    }
    return { filename, remove }
  }
  return {
    variant: `SQLite WAL ${synchronous.toUpperCase()}`,
    labels: { raw: "raw better-sqlite3", emmett: "Emmett SQLite", lethe: "Lethe on SQLite" },
    openRaw: async () => {
      const { filename, remove } = fresh("raw")
      return closing(rawSqlite(filename, synchronous), remove)
    },
    openRawRows: async () => {
      const { filename, remove } = fresh("rows")
      return closing(await registrationRowsOnSqlite(filename, synchronous), remove)
    },
    openEmmett: async () => {
      const { filename, remove } = fresh("emmett")
      return closing(await emmettSqlite(filename, synchronous), remove)
    },
    openLethe: async (clock) => {
      const { filename, remove } = fresh("lethe")
      return closing(await letheOnSqlite(filename, synchronous, clock), remove)
    },
  }
}

/** PostgreSQL, a new schema and pool of `poolSize` connections per `open`; unavailable without a server. */
export const postgresBackend = (context: BenchContext, poolSize = 8): Backend => {
  const labels = { raw: "raw pg", emmett: "Emmett PostgreSQL", lethe: "Lethe on PostgreSQL" }
  const availability = context.postgres
  if (!availability.available) {
    const refuse = () => Promise.reject(new Error(availability.reason))
    return {
      variant: "PostgreSQL",
      unavailable: availability.reason,
      labels,
      openRaw: refuse,
      openRawRows: refuse,
      openEmmett: refuse,
      openLethe: refuse,
    }
  }
  const { server } = availability
  const on = async <A extends { close(): Promise<void> }>(
    label: string,
    open: (schema: BenchSchema) => Promise<A>,
  ): Promise<A> => {
    const schema = await server.openSchema(label, poolSize)
    try {
      return closing(await open(schema), () => schema.close())
    } catch (error) {
      await schema.close()
      throw error
    }
  }
  return {
    variant: "PostgreSQL",
    labels,
    openRaw: () => on("raw", ({ pool }) => rawPostgres(pool)),
    openRawRows: () => on("rows", ({ pool, schema }) => registrationRowsOnPostgres(pool, schema)),
    openEmmett: () => on("emmett", async ({ pool }) => emmettPostgres(server.url, pool)),
    openLethe: (clock) => on("lethe", ({ pool, schema }) => letheOnPostgres(pool, schema, clock)),
  }
}
