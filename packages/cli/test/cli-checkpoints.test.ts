/**
 * Issue 18, item 3 (R41): `lethe audit` verifies the log's signed
 * checkpoints, against `--public-key` or the key the log records, and says
 * which; a writer to the SQLite file who recomputes the hash chains with
 * `hashEvent`, or deletes a whole stream, is found; a row whose stored JSON
 * no longer parses is a finding naming its stream and position (exit 1),
 * not a failure of the tool (exit 2).
 */
import { copyFileSync, readFileSync, writeFileSync } from "node:fs"
import { createLethe, keyringFromSecret } from "@lethe/core"
import { hashEvent } from "@lethe/core/audit"
import { sqliteStore } from "@lethe/store-sqlite"
import Database from "better-sqlite3"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { demoSecret } from "../src/demo.js"
import { lethe, workdir } from "./run-cli.js"

const work = workdir()
const db = work.path("demo.db")
const publicKey = work.path("controller.pub.pem")
const otherKey = work.path("other.pub.pem")

interface Row {
  readonly position: number
  readonly stream_id: string
  readonly version: number
  readonly type: string
  readonly data: string
  readonly metadata: string
  readonly recorded_at: number
}

/** A copy of the demo database, changed by `change` through SQL. */
const tampered = <A>(name: string, change: (sql: Database.Database) => A): { file: string; result: A } => {
  const file = work.path(name)
  copyFileSync(db, file)
  const sql = new Database(file)
  try {
    return { file, result: change(sql) }
  } finally {
    sql.close()
  }
}

/** What a writer with `hashEvent` and no key does after changing a row: recompute its stream's chain. */
const rechainStream = (sql: Database.Database, streamId: string): void => {
  const rows = sql
    .prepare<[string], Row>("SELECT * FROM events WHERE stream_id = ? ORDER BY version")
    .all(streamId)
  let prevHash = ""
  for (const row of rows) {
    const hash = hashEvent(prevHash, {
      streamId: row.stream_id,
      version: row.version,
      type: row.type,
      data: JSON.parse(row.data),
      metadata: JSON.parse(row.metadata),
      recordedAt: row.recorded_at,
    })
    sql
      .prepare("UPDATE events SET prev_hash = ?, hash = ? WHERE position = ?")
      .run(prevHash, hash, row.position)
    prevHash = hash
  }
}

/** `lethe audit file --format json ...args`: exit code and findings as `rule stream@version`. */
const audit = async (file: string, ...args: ReadonlyArray<string>) => {
  const run = await lethe(["audit", file, "--format", "json", ...args], { cwd: work.dir })
  const report =
    run.code === 2
      ? undefined
      : (JSON.parse(run.stdout) as {
          findings: ReadonlyArray<{
            rule: string
            streamId: string
            version: number
            position: number
            evidence: Record<string, unknown>
          }>
          checkpoints: { count: number; verified: number; keySource: string | null }
        })
  return {
    ...run,
    report,
    findings: (report?.findings ?? []).map((f) => `${f.rule} ${f.streamId}@${f.version}`),
  }
}

beforeAll(async () => {
  const demo = await lethe(["demo", "--db", db], { cwd: work.dir })
  expect(demo.code).toBe(0)
  writeFileSync(publicKey, await keyringFromSecret(demoSecret).receiptPublicKey())
  writeFileSync(
    otherKey,
    await keyringFromSecret("another controller's secret, 32 bytes+").receiptPublicKey(),
  )
}, 120_000)

afterAll(() => work.cleanup())

describe("lethe audit: erasure receipts (R10)", () => {
  it("R10: the checks table shows the erasure-receipt check, every receipt the demo recorded verified", async () => {
    const given = await lethe(["audit", db, "--public-key", publicKey], { cwd: work.dir })
    expect(given.code).toBe(0)
    expect(given.stdout).toMatch(
      /ok {4}erasure-receipt +R10 .*(\d+) of \1 recorded receipt\(s\) verified, under the public key given/,
    )
    const other = await audit(db, "--public-key", otherKey)
    expect(other.findings.some((f) => f.startsWith("erasure-receipt lethe:receipts:"))).toBe(true)
  })

  it("R10: a recorded receipt's destruction date changed in the SQLite file, its stream re-chained: a finding", async () => {
    const { file } = tampered("receipt.db", (sql) => {
      const row = sql
        .prepare<[], Row>(
          "SELECT * FROM events WHERE type = 'ErasureReceiptIssued' ORDER BY position LIMIT 1",
        )
        .get() as Row
      const data = JSON.parse(row.data) as Record<string, unknown>
      sql
        .prepare("UPDATE events SET data = ? WHERE position = ?")
        .run(JSON.stringify({ ...data, memberId: `${data.memberId}0` }), row.position)
      rechainStream(sql, row.stream_id)
    })
    const run = await audit(file, "--public-key", publicKey)
    expect(run.code).toBe(1)
    expect(run.findings.some((f) => f.startsWith("erasure-receipt lethe:receipts:"))).toBe(true)
  })
})

describe("lethe audit: signed checkpoints (R41)", () => {
  it("R41: the demo database holds checkpoints; it audits clean against --public-key, and the report says which key", async () => {
    const given = await lethe(["audit", db, "--public-key", publicKey], { cwd: work.dir })
    expect(given.code).toBe(0)
    expect(given.stdout).toMatch(/Signed: {3}\d+ of \d+ checkpoints? verified against the public key given/)
    const inStore = await lethe(["audit", db], { cwd: work.dir })
    expect(inStore.code).toBe(0)
    expect(inStore.stdout).toMatch(
      /verified against the key recorded in the log \(consistency only, not who signed\)/,
    )
    expect(inStore.stdout).toMatch(/ok {4}checkpoint +R41 R35 .*not who signed them/)
    const json = await audit(db, "--public-key", publicKey)
    expect(json.report?.checkpoints.keySource).toBe("given")
    expect(json.report?.checkpoints.count).toBeGreaterThan(0)
    expect(json.report?.checkpoints.verified).toBe(json.report?.checkpoints.count)
  })

  it("R41: a public key other than the controller's: exit code 1, every checkpoint a finding", async () => {
    const run = await audit(db, "--public-key", otherKey)
    expect(run.code).toBe(1)
    // Every checkpoint, and every erasure receipt the demo recorded (R10), signed by a key not the one given.
    expect(run.findings.filter((f) => f.startsWith("checkpoint ")).length).toBe(run.report?.checkpoints.count)
    expect(new Set(run.findings.map((f) => f.split(" ")[0]))).toEqual(
      new Set(["checkpoint", "erasure-receipt"]),
    )
    const bad = await lethe(["audit", db, "--public-key", work.path("no-such.pem")], { cwd: work.dir })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/cannot read --public-key/)
  })

  it("R41: a wallet amount rewritten in the SQLite file and its stream re-chained with hashEvent: no chain breaks, the checkpoint does", async () => {
    const { file, result: streamId } = tampered("rewrite.db", (sql) => {
      const row = sql
        .prepare<[], Row>("SELECT * FROM events WHERE type = 'WalletCredited' ORDER BY position LIMIT 1")
        .get() as Row
      const data = JSON.parse(row.data) as { amount: number }
      sql
        .prepare("UPDATE events SET data = ? WHERE position = ?")
        .run(JSON.stringify({ ...data, amount: data.amount + 1 }), row.position)
      rechainStream(sql, row.stream_id)
      return row.stream_id
    })
    const run = await audit(file, "--public-key", publicKey)
    expect(run.code).toBe(1)
    expect(run.findings.filter((f) => f.startsWith("hash-chain"))).toEqual([])
    expect(run.findings.some((f) => f.startsWith("checkpoint lethe:checkpoints@"))).toBe(true)
    expect(streamId).toMatch(/^member-/)
  })

  it("R41: a whole member deleted, events and directory row: exit code 1", async () => {
    const { file } = tampered("delete-stream.db", (sql) => {
      const row = sql
        .prepare<[], Row>("SELECT * FROM events WHERE type = 'Unsubscribed' ORDER BY position LIMIT 1")
        .get() as Row
      sql.prepare("DELETE FROM events WHERE stream_id = ?").run(row.stream_id)
      sql.prepare("DELETE FROM members WHERE member_id = ?").run(row.stream_id.slice("member-".length))
    })
    const run = await audit(file)
    expect(run.code).toBe(1)
    expect(run.findings.filter((f) => f.startsWith("hash-chain"))).toEqual([])
    expect(run.findings.some((f) => f.startsWith("checkpoint "))).toBe(true)
  })

  it("R35: one byte flipped so a stored row is no longer JSON: exit code 1, a finding naming its stream, version and position", async () => {
    const { file, result: row } = tampered("unreadable.db", (sql) => {
      const target = sql
        .prepare<[], Row>("SELECT * FROM events WHERE type = 'WalletCredited' ORDER BY position LIMIT 1")
        .get() as Row
      const bytes = Buffer.from(target.data, "utf8")
      bytes[0] = (bytes[0] ?? 0) ^ 0x01 // "{" becomes "z"
      sql
        .prepare("UPDATE events SET data = ? WHERE position = ?")
        .run(bytes.toString("utf8"), target.position)
      return target
    })
    const text = await lethe(["audit", file, "--public-key", publicKey], { cwd: work.dir })
    expect(text.stderr).toBe("")
    expect(text.code).toBe(1)
    expect(text.stdout).toContain(
      `[unreadable-row] R35  ${row.stream_id}@${row.version} (position ${row.position})`,
    )
    expect(text.stdout).toMatch(/does not read back: data is not JSON/)
    const run = await audit(file, "--public-key", publicKey)
    expect(run.findings).toEqual([`unreadable-row ${row.stream_id}@${row.version}`])
    expect(run.report?.findings[0]?.position).toBe(row.position)

    // The adapter returns the row instead of failing the read; the service refuses to decide on it.
    const store = sqliteStore({ filename: file })
    const page = await store.events.readAll({ after: row.position - 1, limit: 1 })
    expect(page.events[0]).toMatchObject({ position: row.position, data: null })
    expect(page.events[0]?.unreadable).toMatch(/^data is not JSON/)
    const service = await createLethe({ store, keyring: keyringFromSecret(demoSecret) })
    try {
      await expect(
        service.creditWallet(row.stream_id.slice("member-".length), { amount: 1 }),
      ).rejects.toMatchObject({ _tag: "IntegrityError", streamId: row.stream_id, version: row.version })
    } finally {
      await service.close()
    }
  })

  it("R41: export-log carries the checkpoints; the log file audits clean against --public-key, and an unreadable row exported is named", async () => {
    const log = work.path("signed.jsonl")
    expect((await lethe(["export-log", db, "--out", log], { cwd: work.dir })).code).toBe(0)
    const lines = readFileSync(log, "utf8").split("\n")
    expect(lines.some((line) => line.includes('"streamId":"lethe:checkpoints"'))).toBe(true)
    expect((await audit(log, "--public-key", publicKey)).code).toBe(0)

    // The unreadable row of the SQLite file exports as it reads: the log file names it too.
    const { file } = tampered("unreadable-export.db", (sql) => {
      sql.prepare("UPDATE events SET metadata = 'not json' WHERE type = 'Unsubscribed'").run()
    })
    const unreadableLog = work.path("unreadable.jsonl")
    expect((await lethe(["export-log", file, "--out", unreadableLog], { cwd: work.dir })).code).toBe(0)
    const run = await audit(unreadableLog, "--public-key", publicKey)
    expect(run.code).toBe(1)
    expect(run.findings).toEqual([expect.stringMatching(/^unreadable-row member-/)])
  })
})
