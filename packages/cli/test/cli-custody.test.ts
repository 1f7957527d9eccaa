/**
 * Issue 20: an audit report that survives a courtroom. Every format names its
 * chain of custody: the tool and its version, when the audit ran, the input
 * (the file's path, or the masked URL) with the SHA-256 and size of every file
 * it read, the checkpoint signatures' status, and the unit of amounts; the
 * HTML report links each rule of its checks table to its findings and dates
 * its timeline's axis.
 */
import { createHash } from "node:crypto"
import { readFileSync, statSync, writeFileSync } from "node:fs"
import { parse } from "parse5"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { version } from "../src/version.js"
import { lethe, workdir } from "./run-cli.js"

const work = workdir()
const db = work.path("demo.db")
const log = work.path("demo.jsonl")
const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex")

beforeAll(async () => {
  expect((await lethe(["demo", "--db", db], { cwd: work.dir })).code).toBe(0)
  expect((await lethe(["export-log", db, "--out", log], { cwd: work.dir })).code).toBe(0)
}, 120_000)
afterAll(() => work.cleanup())

interface CustodyJson {
  readonly tool: { readonly name: string; readonly version: string }
  readonly auditedAt: string
  readonly input: {
    readonly kind: string
    readonly name: string
    readonly files: ReadonlyArray<{ readonly path: string; readonly bytes: number; readonly sha256: string }>
    readonly note: string | null
  }
  readonly amounts: string
}

describe("the audit report's chain of custody", () => {
  it("R35: the JSON report names the tool, the time, the log file with its size and SHA-256, and the unit of amounts", async () => {
    const before = Date.now()
    const config = work.path("config.json")
    writeFileSync(config, JSON.stringify({ currency: "PLN" }))
    const run = await lethe(["audit", log, "--format", "json", "--config", config], { cwd: work.dir })
    expect(run.code).toBe(0)
    const { custody, checkpoints } = JSON.parse(run.stdout) as {
      custody: CustodyJson
      checkpoints: { count: number; verified: number }
    }
    expect(custody.tool).toEqual({ name: "lethe", version })
    expect(Date.parse(custody.auditedAt)).toBeGreaterThanOrEqual(before - 1000)
    expect(Date.parse(custody.auditedAt)).toBeLessThanOrEqual(Date.now())
    expect(custody.input).toMatchObject({ kind: "log", name: log, note: null })
    expect(custody.input.files).toEqual([{ path: log, bytes: statSync(log).size, sha256: sha256(log) }])
    expect(custody.amounts).toBe("minor units of PLN")
    expect(checkpoints.count).toBeGreaterThan(0)
    expect(checkpoints.verified).toBe(checkpoints.count)
  })

  it("R35: a SQLite database's file is hashed as it was when the audit began; the text report says it all", async () => {
    const expected = sha256(db)
    const run = await lethe(["audit", db], { cwd: work.dir })
    expect(run.code).toBe(0)
    expect(run.stdout).toContain(`Tool:     lethe ${version}; audited at `)
    expect(run.stdout).toContain(`Input:    sqlite ${db}`)
    expect(run.stdout).toContain(`${db}: ${statSync(db).size} bytes, sha256 ${expected}`)
    expect(run.stdout).toMatch(/Signed: {3}\d+ of \d+ checkpoints? verified/)
    expect(run.stdout).toContain("Amounts:  in minor units")
    // The audit opened it read-only: the bytes named are still the file's.
    expect(sha256(db)).toBe(expected)
  })

  it("R35: the HTML report shows the custody, links each failing rule to its findings, and dates its timeline's axis", async () => {
    const run = await lethe(["audit", db, "--format", "html", "--grace-days", "0", "--as-of", "2030-01-01"], {
      cwd: work.dir,
    })
    expect(run.code).toBe(1)
    const html = run.stdout
    const document = parse(html)
    expect(document).toBeDefined()
    const custody = /<section id="custody">(.*?)<\/section>/s.exec(html)?.[1] ?? ""
    expect(custody).toContain(`lethe ${version}`)
    expect(custody).toContain(sha256(db))
    expect(custody).toContain("Audited at")
    expect(html).toMatch(/Signed checkpoints<\/dt><dd>\d+ of \d+ verified/)
    // Each rule with findings links to the first of them, and that finding is of that rule.
    const links = [...html.matchAll(/<tr data-rule="([^"]+)">.*?<a href="#finding-(\d+)">/g)]
    expect(links.length).toBeGreaterThan(0)
    for (const [, rule, index] of links)
      expect(html).toMatch(new RegExp(`<article class="finding" id="finding-${index}" data-rule="${rule}"`))
    // The timeline's axis carries dated ticks, the first and last buckets among them.
    const ticks = [...html.matchAll(/class="axis tick-label">([^<]+)</g)].map((m) => m[1] ?? "")
    expect(ticks.length).toBeGreaterThanOrEqual(2)
    for (const tick of ticks) expect(tick).toMatch(/\d{4}-\d{2}(-\d{2})?/)
  })
})
