/**
 * The raw driver writing Lethe's own rows of a registration, with no Lethe
 * code: the floor of Lethe's data model (issue 21). Lethe first registers a
 * few members in the database, so the schema, its indexes and one
 * registration's rows are Lethe's own (today 3 events, 2 wrapped keys and
 * the directory row; any other row of the member too, such as a personal
 * row kept apart from the directory's); then each `register` reads the new
 * stream's version and writes a copy of those rows under a new member id,
 * stream and e-mail key, in one transaction: better-sqlite3 in
 * `BEGIN IMMEDIATE`, `pg` in one statement (data-modifying CTEs), one round
 * trip as Lethe's own append.
 *
 * @module
 */
import { createHash, randomUUID } from "node:crypto"
import { memberStream } from "@lethe/core/spi"
import Database from "better-sqlite3"
import type pg from "pg"
import { person, tenantId } from "../fixtures.js"
import type { OpenedLethe } from "./lethe.js"
import { letheOnPostgres, letheOnSqlite } from "./lethe.js"

/** Writes copies of one Lethe registration's rows. */
export interface RegistrationRows {
  /** The rows of one more registration, in one transaction. */
  register(): Promise<void>
  close(): Promise<void>
}

type Row = Readonly<Record<string, unknown>>

/** The rows of one registration, per table: `events` (in version order) first, then the member's other rows. */
interface Sample {
  readonly memberId: string
  readonly tables: ReadonlyArray<{ readonly table: string; readonly rows: ReadonlyArray<Row> }>
}

/** Registrations Lethe makes before the sample is taken (the first ones also set up the key ring). */
const registrations = 10

/** Lets Lethe register `registrations` members, then reads the last one's rows. */
const takeSample = async (
  opened: OpenedLethe,
  memberTables: () => Promise<ReadonlyArray<string>>,
  rowsOf: (table: string, column: "stream_id" | "member_id", value: string) => Promise<ReadonlyArray<Row>>,
): Promise<Sample> => {
  let memberId = ""
  try {
    for (let i = 0; i < registrations; i++)
      ({ memberId } = await opened.lethe.register({
        tenantId,
        personal: person(`rows-sample-${i}`),
        source: "import",
      }))
  } finally {
    await opened.close()
  }
  const events = [...(await rowsOf("events", "stream_id", memberStream(memberId)))].sort(
    (a, b) => Number(a.version) - Number(b.version),
  )
  const tables: Array<Sample["tables"][number]> = [{ table: "events", rows: events }]
  for (const table of await memberTables())
    tables.push({ table, rows: await rowsOf(table, "member_id", memberId) })
  return { memberId, tables: tables.filter(({ rows }) => rows.length > 0) }
}

/** Columns whose value must differ from every other member's: a fresh one per copy. */
const uniqueKeys = new Set(["email_key", "restore_key"])

/** Columns the database fills in itself, left out of the copies (versions are read, not copied). */
const generated = new Set(["position", "transaction_id"])

/** The columns a copy of `rows` writes. */
const columnsOf = (rows: ReadonlyArray<Row>): ReadonlyArray<string> =>
  Object.keys(rows[0] ?? {}).filter((column) => !generated.has(column))

/** `value` with the sample member's id replaced by `to` (in ids, key ids and JSON payloads alike). */
const renamed = (value: unknown, from: string, to: string): unknown =>
  typeof value === "string"
    ? value.replaceAll(from, to)
    : Array.isArray(value)
      ? value.map((item) => renamed(item, from, to))
      : value !== null && typeof value === "object"
        ? JSON.stringify(value).replaceAll(from, to)
        : value

/** A copy of `row` for the new member `to`, without the columns the database fills in. */
const copyOf = (row: Row, from: string, to: string): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(row)
      .filter(([column]) => !generated.has(column))
      .map(([column, value]) => [
        column,
        uniqueKeys.has(column) && value !== null
          ? createHash("sha256").update(`${column}:${to}`).digest("hex")
          : renamed(value, from, to),
      ]),
  )

/** Lethe's rows of a registration written by better-sqlite3 on the SQLite file `filename`. */
export const registrationRowsOnSqlite = async (
  filename: string,
  synchronous: "full" | "normal",
): Promise<RegistrationRows> => {
  const opened = await letheOnSqlite(filename, synchronous)
  const db = new Database(filename)
  try {
    // The pragmas the store sets.
    db.pragma("journal_mode = WAL")
    db.pragma(`synchronous = ${synchronous.toUpperCase()}`)
    db.pragma("secure_delete = ON")
    db.pragma("foreign_keys = ON")
    const sample = await takeSample(
      opened,
      async () =>
        db
          .prepare<[], { name: string }>(
            `SELECT name FROM sqlite_schema AS t WHERE type = 'table'
               AND EXISTS (SELECT 1 FROM pragma_table_info(t.name) WHERE name = 'member_id') ORDER BY name`,
          )
          .all()
          .map(({ name }) => name),
      async (table, column, value) =>
        db.prepare<[string], Row>(`SELECT * FROM ${table} WHERE ${column} = ?`).all(value),
    )
    const inserts = sample.tables.map(({ table, rows }) => {
      const columns = columnsOf(rows)
      return {
        table,
        rows,
        insert: db.prepare(
          `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map((c) => `@${c}`).join(", ")})`,
        ),
      }
    })
    const currentVersion = db.prepare<[string], { version: number }>(
      "SELECT coalesce(max(version), 0) AS version FROM events WHERE stream_id = ?",
    )
    const write = db.transaction((to: string) => {
      const { version } = currentVersion.get(memberStream(to)) ?? { version: 0 }
      for (const { table, rows, insert } of inserts)
        rows.forEach((row, i) => {
          const copy = copyOf(row, sample.memberId, to)
          insert.run(table === "events" ? { ...copy, version: version + i + 1 } : copy)
        })
    })
    return {
      register: async () => {
        write.immediate(randomUUID())
      },
      close: async () => {
        db.close()
      },
    }
  } catch (error) {
    db.close()
    throw error
  }
}

/** Lethe's rows of a registration written by `pg` in `schema`, whose tables Lethe makes there. */
export const registrationRowsOnPostgres = async (
  pool: pg.Pool,
  schema: string,
): Promise<RegistrationRows> => {
  const s = `"${schema}"`
  const sample = await takeSample(
    await letheOnPostgres(pool, schema),
    async () =>
      (
        await pool.query<{ table_name: string }>(
          `SELECT table_name FROM information_schema.columns
             WHERE table_schema = $1 AND column_name = 'member_id' ORDER BY table_name`,
          [schema],
        )
      ).rows.map((row) => row.table_name),
    async (table, column, value) =>
      (await pool.query<Row>(`SELECT * FROM ${s}."${table}" WHERE ${column} = $1`, [value])).rows,
  )
  // One statement: each table's rows in a data-modifying CTE but the last table's, which is the
  // main statement. $1 is the new stream; the copies' values follow, table by table, row by row,
  // column by column (an event's version is read from the stream, not copied).
  const copied = (table: string, column: string) => !(table === "events" && column === "version")
  let parameter = 1
  const inserts = sample.tables.map(({ table, rows }) => {
    const columns = columnsOf(rows)
    const isEvents = table === "events"
    const values = rows.map((_, i) => {
      const cells = columns.map((column) =>
        copied(table, column)
          ? `$${++parameter}`
          : `(SELECT coalesce(max(version), 0) FROM ${s}.events WHERE stream_id = $1) + ${i + 1}`,
      )
      return `(${[...(isEvents ? [`nextval('${s}.positions')`] : []), ...cells].join(", ")})`
    })
    const names = [...(isEvents ? ["position"] : []), ...columns]
    return `INSERT INTO ${s}."${table}" (${names.join(", ")}) VALUES ${values.join(", ")}`
  })
  const ctes = inserts.slice(0, -1).map((insert, i) => `w${i} AS (${insert})`)
  const text = `${ctes.length === 0 ? "" : `WITH ${ctes.join(", ")} `}${inserts.at(-1) ?? "SELECT 1"}`
  const values = (to: string): ReadonlyArray<unknown> => [
    memberStream(to),
    ...sample.tables.flatMap(({ table, rows }) =>
      rows.flatMap((row) => {
        const copy = copyOf(row, sample.memberId, to)
        return columnsOf(rows)
          .filter((column) => copied(table, column))
          .map((column) => copy[column])
      }),
    ),
  ]
  return {
    register: async () => {
      await pool.query(text, [...values(randomUUID())])
    },
    close: async () => {},
  }
}
