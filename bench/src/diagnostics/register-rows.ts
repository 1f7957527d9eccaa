/**
 * `npm run rows -w @lethe/bench`: what the rows of one Lethe registration
 * cost SQLite alone, without Lethe. A file is filled by 2,000 real
 * registrations; then raw better-sqlite3 inserts copies of one
 * registration's rows (3 events, 2 wrapped keys, 1 directory row, with
 * Lethe's schema and indexes) in one `BEGIN IMMEDIATE` transaction each,
 * and the same parts alone, so the floor of Lethe's data model can be read
 * beside the floor of the bench's raw append (one row of one table). The
 * bench's append case measures the whole registration this way, on SQLite
 * and PostgreSQL, as a contestant of its own (`subjects/raw-rows.ts`); this
 * diagnostic splits it into its parts.
 *
 * Usage: `npm run rows -w @lethe/bench [-- normal|full]` (default normal).
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createLethe, keyringFromSecret } from "@lethe/core"
import { sqliteStore } from "@lethe/store-sqlite"
import Database from "better-sqlite3"

const synchronous = process.argv[2] === "full" ? "full" : "normal"
const dir = mkdtempSync(join(tmpdir(), "lethe-rows-"))
const filename = join(dir, "rows.db")
const rounds = 3_000

try {
  const lethe = await createLethe({
    store: sqliteStore({ filename, synchronous }),
    keyring: keyringFromSecret("lethe bench secret: thirty-two bytes or more"),
  })
  for (let i = 0; i < 2_000; i++)
    await lethe.register({
      tenantId: "club",
      personal: { name: `Person ${i}`, email: `person${i}@example.org` },
      source: "import",
    })
  await lethe.close()

  const db = new Database(filename)
  // The pragmas the store sets.
  db.pragma("journal_mode = WAL")
  db.pragma(`synchronous = ${synchronous.toUpperCase()}`)
  db.pragma("secure_delete = ON")
  db.pragma("foreign_keys = ON")
  type Row = Record<string, unknown>
  const events = db.prepare("SELECT * FROM events ORDER BY position LIMIT 3").all() as Array<Row>
  const keys = db.prepare("SELECT * FROM keys LIMIT 2").all() as Array<Row>
  const member = db.prepare("SELECT * FROM members LIMIT 1").get() as Row
  const insert = (table: string, row: Row, skip: ReadonlyArray<string>) => {
    const columns = Object.keys(row).filter((column) => !skip.includes(column))
    return db.prepare(
      `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map((c) => `@${c}`).join(", ")})`,
    )
  }
  const insertEvent = insert("events", events[0] ?? {}, ["position"])
  const insertKey = insert("keys", keys[0] ?? {}, [])
  const insertMember = insert("members", member, [])
  const currentVersion = db.prepare(
    "SELECT coalesce(max(version), 0) AS version FROM events WHERE stream_id = ?",
  )
  let n = 0
  const fresh = () => `copy-${++n}`
  const parts: Record<string, () => void> = {
    "nothing (BEGIN IMMEDIATE, COMMIT)": () => {},
    "3 events": () => {
      const streamId = fresh()
      currentVersion.get(streamId)
      events.forEach((event, i) => {
        insertEvent.run({ ...event, stream_id: streamId, version: i + 1 })
      })
    },
    "2 keys": () => {
      const id = fresh()
      keys.forEach((key, i) => {
        insertKey.run({ ...key, key_id: `${id}-${i}` })
      })
    },
    "1 directory row": () => {
      const id = fresh()
      insertMember.run({ ...member, member_id: id, email_key: id })
    },
  }
  const rows = Object.values(parts).slice(1)
  parts["all of a registration"] = () => {
    for (const part of rows) part()
  }
  process.stdout.write(
    `SQLite WAL ${synchronous.toUpperCase()}, ${rounds} transactions each, on ${filename}\n`,
  )
  for (const [name, part] of Object.entries(parts)) {
    const transaction = db.transaction(part)
    for (let i = 0; i < 300; i++) transaction.immediate()
    const cpu = process.cpuUsage()
    const started = performance.now()
    for (let i = 0; i < rounds; i++) transaction.immediate()
    const used = process.cpuUsage(cpu)
    const wallUs = ((performance.now() - started) * 1000) / rounds
    const cpuUs = (used.user + used.system) / rounds
    process.stdout.write(
      `${name.padEnd(34)} ${wallUs.toFixed(0).padStart(5)} µs wall ${cpuUs.toFixed(0).padStart(5)} µs CPU\n`,
    )
  }
  db.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
