/**
 * The tamper test of issue 7: a demo database audits clean (exit 0); one
 * byte flipped in one stored event, or one event deleted from the middle of
 * a stream, makes `lethe audit` exit 1 naming that stream and version. The
 * same holds for the log file `lethe export-log` writes.
 */
import { copyFileSync, readFileSync, writeFileSync } from "node:fs"
import Database from "better-sqlite3"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { lethe, workdir } from "./run-cli.js"

const work = workdir()
const db = work.path("demo.db")

interface Row {
  readonly position: number
  readonly stream_id: string
  readonly version: number
  readonly type: string
  readonly data: string
}

/** A copy of the demo database, changed by `change` through SQL (the file stays a valid database). */
const tampered = (name: string, change: (sql: Database.Database) => Row): { file: string; row: Row } => {
  const file = work.path(name)
  copyFileSync(db, file)
  const sql = new Database(file)
  try {
    return { file, row: change(sql) }
  } finally {
    sql.close()
  }
}

/** The row of the `index`-th event (by position) of `type`. */
const eventOf = (sql: Database.Database, type: string, index = 0): Row => {
  const rows = sql.prepare<[string], Row>("SELECT * FROM events WHERE type = ? ORDER BY position").all(type)
  const row = rows[index]
  if (row === undefined) throw new Error(`no ${type} event in the demo database`)
  return row
}

/** Flips the lowest bit of the byte at `offset` of the row's stored data. */
const flipByte = (sql: Database.Database, row: Row, offset: number): Row => {
  const bytes = Buffer.from(row.data, "utf8")
  bytes[offset] = (bytes[offset] ?? 0) ^ 0x01
  sql.prepare("UPDATE events SET data = ? WHERE position = ?").run(bytes.toString("utf8"), row.position)
  return row
}

/** `lethe audit file --format json`, expected to exit 1: its findings as `rule stream@version`, in order. */
const findingsOf = async (file: string): Promise<ReadonlyArray<string>> => {
  const run = await lethe(["audit", file, "--format", "json"], { cwd: work.dir })
  expect(run.code).toBe(1)
  const { findings } = JSON.parse(run.stdout) as {
    findings: ReadonlyArray<{ rule: string; streamId: string; version: number }>
  }
  return findings.map((f) => `${f.rule} ${f.streamId}@${f.version}`)
}

beforeAll(async () => {
  const demo = await lethe(["demo", "--db", db], { cwd: work.dir })
  expect(demo.stderr).toBe("")
  expect(demo.code).toBe(0)
}, 120_000)

afterAll(() => work.cleanup())

describe("lethe audit on a SQLite file", () => {
  it("R35: the demo database audits clean: exit code 0, nothing on stderr when piped", async () => {
    const run = await lethe(["audit", db], { cwd: work.dir })
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/Result: clean, no finding/)
    expect(run.stdout).toMatch(/ok {4}keys-destroyed/)
    expect(run.stderr).toBe("")
  })

  it("R35: one byte flipped in a stored event's amount: exit code 1, naming the stream and version", async () => {
    const { file, row } = tampered("flip-amount.db", (sql) => {
      const target = eventOf(sql, "WalletCredited")
      // The last digit of the amount: 5000 becomes 5001.
      const offset = Buffer.from(target.data).indexOf('"amount":') + '"amount":'.length + 3
      return flipByte(sql, target, offset)
    })
    const text = await lethe(["audit", file], { cwd: work.dir })
    expect(text.code).toBe(1)
    expect(text.stdout).toContain(
      `[hash-chain] R35  ${row.stream_id}@${row.version} (position ${row.position})`,
    )
    expect((await findingsOf(file))[0]).toBe(`hash-chain ${row.stream_id}@${row.version}`)
  })

  it("R35: one byte flipped in a sealed value's ciphertext: exit code 1, naming the stream and version", async () => {
    const { file, row } = tampered("flip-ciphertext.db", (sql) => {
      const target = eventOf(sql, "PersonalDataRecorded", 2)
      const offset = Buffer.from(target.data).indexOf('"ciphertext":"') + '"ciphertext":"'.length + 4
      return flipByte(sql, target, offset)
    })
    expect(await findingsOf(file)).toContain(`hash-chain ${row.stream_id}@${row.version}`)
  })

  it("R35: one event deleted from the middle of a stream: exit code 1, naming the stream and the missing version", async () => {
    const { file, row } = tampered("delete.db", (sql) => {
      const target = sql
        .prepare<[], Row>("SELECT * FROM events WHERE version = 6 ORDER BY position LIMIT 1")
        .get() as Row
      sql.prepare("DELETE FROM events WHERE position = ?").run(target.position)
      return target
    })
    const text = await lethe(["audit", file], { cwd: work.dir })
    expect(text.code).toBe(1)
    expect(text.stdout).toContain(`${row.stream_id}@${row.version}`)
    expect(text.stdout).toMatch(/version 6 missing: the next event stored is version 7/)
  })

  it("R35: the last event of a stream deleted: caught against the directory", async () => {
    const { file, row } = tampered("truncate.db", (sql) => {
      const target = sql
        .prepare<[], Row>("SELECT * FROM events WHERE type = 'Purged' ORDER BY position LIMIT 1")
        .get() as Row
      sql.prepare("DELETE FROM events WHERE position = ?").run(target.position)
      return target
    })
    expect(await findingsOf(file)).toContain(`hash-chain ${row.stream_id}@${row.version}`)
  })
})

describe("lethe export-log, then lethe audit on the log file", () => {
  it("R35: the exported log audits clean, and a changed line is named by stream and version", async () => {
    const log = work.path("demo.jsonl")
    const exported = await lethe(["export-log", db, "--out", log], { cwd: work.dir })
    expect(exported.code).toBe(0)
    expect(exported.stderr).toMatch(/exported \d+ events of 3 members/)
    const clean = await lethe(["audit", log], { cwd: work.dir })
    expect(clean.code).toBe(0)
    expect(clean.stdout).toMatch(/Lethe audit of log:.*demo\.jsonl/)

    const lines = readFileSync(log, "utf8").split("\n")
    const index = lines.findIndex((line) => line.includes('"type":"WalletDebited"'))
    const event = JSON.parse(lines[index] as string) as { streamId: string; version: number }
    lines[index] = (lines[index] as string).replace('"amount":5000', '"amount":500')
    const changed = work.path("changed.jsonl")
    writeFileSync(changed, lines.join("\n"))
    expect((await findingsOf(changed))[0]).toBe(`hash-chain ${event.streamId}@${event.version}`)
  })

  it("R35: a log file that is not one, or a line that is not JSON, exits 2 with the reason", async () => {
    const notLog = work.path("not-a-log.jsonl")
    writeFileSync(notLog, '{"hello":"world"}\n')
    const wrong = await lethe(["audit", notLog], { cwd: work.dir })
    expect(wrong.code).toBe(2)
    // One line saying what the file is (issue 20: a JSON file that is not a log says so).
    expect(wrong.stderr).toMatch(/^lethe: .*JSON, but not a Lethe log/)
    expect(wrong.stderr.trim().split("\n")).toHaveLength(1)
    const broken = work.path("broken.jsonl")
    const lines = readFileSync(work.path("demo.jsonl"), "utf8").split("\n")
    writeFileSync(broken, [...lines.slice(0, 3), "{oops", ...lines.slice(3)].join("\n"))
    const bad = await lethe(["audit", broken], { cwd: work.dir })
    expect(bad.code).toBe(2)
    expect(bad.stderr.trim().split("\n")).toHaveLength(1)
    expect(bad.stderr).toMatch(/line 4: not JSON/)
  })
})
