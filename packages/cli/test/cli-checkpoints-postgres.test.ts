/**
 * Issue 18, item 3 (R41) on PostgreSQL: `lethe audit postgres://...
 * --public-key` verifies the signed checkpoints; a writer who rewrites an
 * event and recomputes its stream's chain with `hashEvent`, or deletes a
 * member whole, is found; one byte flipped in a stored row is a finding
 * naming its stream, version and position (exit 1). PostgreSQL keeps events
 * as `jsonb`, so a flipped byte that breaks the JSON is refused by the
 * database itself: the byte flipped here keeps it JSON, and the chain shows
 * it. Needs a real server (PGlite cannot be reached by URL): runs only when
 * `LETHE_PG_URL` is set.
 */
import { writeFileSync } from "node:fs"
import { keyringFromSecret } from "@lethe/core"
import { hashEvent } from "@lethe/core/audit"
import { postgresStore } from "@lethe/store-postgres"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { demoSecret, runDemo } from "../src/demo.js"
import { lethe, workdir } from "./run-cli.js"

const serverUrl: string | undefined = process.env.LETHE_PG_URL || undefined
const skipped =
  serverUrl === undefined ? " [skipped: set LETHE_PG_URL to run against a real PostgreSQL server]" : ""

interface Row {
  readonly position: string
  readonly stream_id: string
  readonly version: string
  readonly type: string
  readonly data: unknown
  readonly metadata: { actor: string; source: string; tenantId: string; correlationId: string }
  readonly recorded_at: string
}

describe.skipIf(serverUrl === undefined)(`lethe audit on PostgreSQL: signed checkpoints${skipped}`, () => {
  const url = serverUrl ?? ""
  const work = workdir()
  const pool = new pg.Pool({ connectionString: url, max: 4 })
  const schemas: Array<string> = []
  const publicKey = work.path("controller.pub.pem")

  /** A fresh schema holding the demo, written through the facade. */
  const demo = async (): Promise<string> => {
    const schema = `lethe_cp_${Math.random().toString(36).slice(2, 10)}`
    schemas.push(schema)
    const result = await runDemo({ store: await postgresStore({ pool, schema }), say: () => undefined })
    expect(result.ok).toBe(true)
    return schema
  }

  const audit = async (schema: string, ...args: ReadonlyArray<string>) => {
    const run = await lethe(["audit", url, "--schema", schema, "--format", "json", ...args], {
      cwd: work.dir,
    })
    const findings =
      run.code === 2
        ? []
        : (
            JSON.parse(run.stdout) as {
              findings: ReadonlyArray<{ rule: string; streamId: string; version: number; position: number }>
            }
          ).findings
    return { ...run, findings, brief: findings.map((f) => `${f.rule} ${f.streamId}@${f.version}`) }
  }

  const first = async (schema: string, type: string): Promise<Row> => {
    const { rows } = await pool.query<Row>(
      `SELECT * FROM "${schema}".events WHERE type = $1 ORDER BY position LIMIT 1`,
      [type],
    )
    const row = rows[0]
    if (row === undefined) throw new Error(`no ${type} in the demo`)
    return row
  }

  beforeAll(async () => {
    writeFileSync(publicKey, await keyringFromSecret(demoSecret).receiptPublicKey())
  })

  afterAll(async () => {
    for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await pool.end()
    work.cleanup()
  })

  it("R41: the demo database audits clean against --public-key; another key is a finding", async () => {
    const schema = await demo()
    const given = await lethe(["audit", url, "--schema", schema, "--public-key", publicKey], {
      cwd: work.dir,
    })
    expect(given.code).toBe(0)
    expect(given.stdout).toMatch(/verified against the public key given/)
    const other = work.path("other.pub.pem")
    writeFileSync(
      other,
      await keyringFromSecret("someone else's secret, 32 bytes or more").receiptPublicKey(),
    )
    const run = await audit(schema, "--public-key", other)
    expect(run.code).toBe(1)
    // The checkpoints and the erasure receipts (R10), all signed by the controller's key, fail under another.
    expect(new Set(run.findings.map((f) => f.rule))).toEqual(new Set(["checkpoint", "erasure-receipt"]))
  }, 60_000)

  it("R41: a wallet amount rewritten and its stream re-chained with hashEvent: the checkpoint finds it", async () => {
    const schema = await demo()
    const target = await first(schema, "WalletCredited")
    await pool.query(
      `UPDATE "${schema}".events SET data = jsonb_set(data, '{amount}', to_jsonb((data->>'amount')::bigint + 1)) WHERE position = $1`,
      [target.position],
    )
    const { rows } = await pool.query<Row>(
      `SELECT * FROM "${schema}".events WHERE stream_id = $1 ORDER BY version`,
      [target.stream_id],
    )
    let prevHash = ""
    for (const row of rows) {
      const hash = hashEvent(prevHash, {
        streamId: row.stream_id,
        version: Number(row.version),
        type: row.type,
        data: row.data,
        metadata: row.metadata,
        recordedAt: Number(row.recorded_at),
      })
      await pool.query(`UPDATE "${schema}".events SET prev_hash = $1, hash = $2 WHERE position = $3`, [
        prevHash,
        hash,
        row.position,
      ])
      prevHash = hash
    }
    const run = await audit(schema, "--public-key", publicKey)
    expect(run.code).toBe(1)
    expect(run.brief.filter((f) => f.startsWith("hash-chain"))).toEqual([])
    expect(run.brief.some((f) => f.startsWith("checkpoint lethe:checkpoints@"))).toBe(true)
  }, 60_000)

  it("R41: a member deleted whole, events and directory row: exit code 1", async () => {
    const schema = await demo()
    const target = await first(schema, "Unsubscribed")
    await pool.query(`DELETE FROM "${schema}".events WHERE stream_id = $1`, [target.stream_id])
    await pool.query(`DELETE FROM "${schema}".members WHERE member_id = $1`, [
      target.stream_id.slice("member-".length),
    ])
    const run = await audit(schema)
    expect(run.code).toBe(1)
    expect(run.brief.some((f) => f.startsWith("checkpoint "))).toBe(true)
  }, 60_000)

  it("R35: one byte flipped in a stored row: exit code 1, a finding naming its stream, version and position", async () => {
    const schema = await demo()
    const target = await first(schema, "WalletCredited")
    // The last digit of the amount, one bit flipped ("0" becomes "1"): still JSON, so jsonb takes it.
    await pool.query(
      `UPDATE "${schema}".events SET data = regexp_replace(data::text, '("amount": [0-9]*)0', '\\11')::jsonb WHERE position = $1`,
      [target.position],
    )
    const run = await audit(schema, "--public-key", publicKey)
    expect(run.code).toBe(1)
    expect(run.findings[0]).toMatchObject({
      rule: "hash-chain",
      streamId: target.stream_id,
      version: Number(target.version),
      position: Number(target.position),
    })
  }, 60_000)
})
