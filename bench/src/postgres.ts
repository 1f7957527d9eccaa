/**
 * The PostgreSQL server of the PostgreSQL cases (`LETHE_PG_URL`): reachable
 * or skipped with the reason. Each contender of each case gets a schema of
 * its own (`bench_<pid>_<n>_<label>`), created here and dropped when closed;
 * the bench never drops a schema it did not create, so tests running on the
 * same server are safe.
 *
 * @module
 */
import pg from "pg"

/** A schema of the bench's own and a pool on it; `close` ends the pool and drops the schema. */
export interface BenchSchema {
  readonly schema: string
  readonly pool: pg.Pool
  close(): Promise<void>
}

/** A reachable server. */
export interface Postgres {
  /** The URL, for drivers that want one (Emmett). */
  readonly url: string
  /** The URL, without its password. */
  readonly where: string
  /** `SHOW server_version`. */
  readonly version: string
  /** A new schema, with a pool of `max` connections whose search_path is that schema. */
  openSchema(label: string, max: number): Promise<BenchSchema>
  /** Drops the schemas still there (after an error) and closes the admin connection. */
  close(): Promise<void>
}

export type PostgresAvailability =
  | { readonly available: true; readonly server: Postgres }
  | { readonly available: false; readonly reason: string }

const withoutPassword = (url: string): string => {
  try {
    const parsed = new URL(url)
    if (parsed.password !== "") parsed.password = "***"
    return parsed.toString()
  } catch {
    return "(an unparsable URL)"
  }
}

const serverVersion = async (admin: pg.Pool): Promise<string> => {
  try {
    return String((await admin.query("SHOW server_version")).rows[0]?.server_version)
  } catch (error) {
    await admin.end()
    throw error
  }
}

const open = async (url: string): Promise<Postgres> => {
  const admin = new pg.Pool({ connectionString: url, max: 1 })
  const version = await serverVersion(admin)
  const created = new Set<string>()
  let next = 0
  const drop = async (schema: string) => {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    created.delete(schema)
  }
  return {
    url,
    where: withoutPassword(url),
    version,
    openSchema: async (label, max) => {
      const schema = `bench_${process.pid}_${++next}_${label.toLowerCase().replace(/[^a-z0-9]+/g, "_")}`
      await admin.query(`CREATE SCHEMA ${schema}`)
      created.add(schema)
      const pool = new pg.Pool({ connectionString: url, max, options: `-c search_path=${schema}` })
      return {
        schema,
        pool,
        close: async () => {
          await pool.end()
          await drop(schema)
        },
      }
    },
    close: async () => {
      for (const schema of [...created]) await drop(schema)
      await admin.end()
    },
  }
}

/** The server at `LETHE_PG_URL`, or why the PostgreSQL cases are skipped. */
export const connectPostgres = async (
  env: NodeJS.ProcessEnv = process.env,
): Promise<PostgresAvailability> => {
  const url = env.LETHE_PG_URL
  if (url === undefined || url === "")
    return { available: false, reason: "LETHE_PG_URL is not set, so no PostgreSQL server to measure" }
  try {
    return { available: true, server: await open(url) }
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error)
    return {
      available: false,
      reason: `no PostgreSQL server reachable at ${withoutPassword(url)}: ${detail}`,
    }
  }
}
