/**
 * The peer: Emmett's SQLite and PostgreSQL event stores
 * (`@event-driven-io/emmett-sqlite`, `@event-driven-io/emmett-postgresql`),
 * used as their documentation shows: `appendToStream` with an expected
 * version, `readStream`. Each append is one transaction.
 *
 * @module
 */
import { readFileSync } from "node:fs"
import { type Event, STREAM_DOES_NOT_EXIST } from "@event-driven-io/emmett"
import { getPostgreSQLEventStore } from "@event-driven-io/emmett-postgresql"
import { getSQLiteEventStore, sqliteConnection } from "@event-driven-io/emmett-sqlite"
import type pg from "pg"
import type { EventLog, PlainEvent } from "./event-log.js"
import { plainMetadata } from "./event-log.js"

type EmmettEvent = Event<string, Record<string, unknown>, Record<string, unknown>>

/** What the bench uses of an Emmett event store. */
interface EmmettStore {
  appendToStream(
    streamName: string,
    events: Array<EmmettEvent>,
    options: { expectedStreamVersion: bigint | typeof STREAM_DOES_NOT_EXIST },
  ): Promise<unknown>
  readStream(
    streamName: string,
  ): Promise<{ readonly events: ReadonlyArray<{ readonly type: string; readonly data: unknown }> }>
}

const emmettLog = (store: EmmettStore, close: () => Promise<void>): EventLog => ({
  append: async (streamId, expectedVersion, events) => {
    await store.appendToStream(
      streamId,
      events.map((event) => ({ type: event.type, data: { ...event.data }, metadata: { ...plainMetadata } })),
      { expectedStreamVersion: expectedVersion === 0 ? STREAM_DOES_NOT_EXIST : BigInt(expectedVersion) },
    )
  },
  read: async (streamId) =>
    (await store.readStream(streamId)).events.map(
      (event): PlainEvent => ({ type: event.type, data: event.data as PlainEvent["data"] }),
    ),
  close,
})

/**
 * Emmett's SQLite store on the file `filename`, over one long-lived
 * connection (Emmett's default opens a connection per operation, which only
 * makes it slower) with its WAL journal and `synchronous` FULL or NORMAL.
 */
export const emmettSqlite = async (filename: string, synchronous: "full" | "normal"): Promise<EventLog> => {
  const connection = sqliteConnection({ fileName: filename })
  await connection.command(`PRAGMA synchronous = ${synchronous}`)
  const store = getSQLiteEventStore({
    fileName: filename,
    schema: { autoMigration: "CreateOrUpdate" },
    connectionOptions: { singleton: true, connection },
  })
  return emmettLog(store, async () => connection.close())
}

/** Emmett's PostgreSQL store on `pool` (its tables in the pool's search_path schema). */
export const emmettPostgres = (url: string, pool: pg.Pool): EventLog => {
  const store = getPostgreSQLEventStore(url, {
    schema: { autoMigration: "CreateOrUpdate" },
    connectionOptions: { pooled: true, pool },
  })
  return emmettLog(store, () => store.close())
}

/** The SQLite library node-sqlite3 (Emmett's driver) bundles. */
export const emmettSqliteVersion = async (): Promise<string> => {
  const connection = sqliteConnection({ fileName: ":memory:" })
  try {
    const row = await connection.querySingle<{ v: string }>("SELECT sqlite_version() AS v")
    return row?.v ?? "unknown"
  } finally {
    connection.close()
  }
}

/** The Emmett packages the bench runs, as pinned in its package.json. */
export const emmettVersions = (): Readonly<Record<string, string>> => {
  const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    devDependencies: Record<string, string>
  }
  return Object.fromEntries(
    Object.entries(manifest.devDependencies).filter(([name]) => name.startsWith("@event-driven-io/")),
  )
}
