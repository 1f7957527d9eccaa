/**
 * The command line's contract: `--help` on every command, exit code 2 with a
 * one-line reason on stderr for usage and I/O errors, a progress line on a
 * terminal only, and the commands that write (demo, retention, import).
 */
import { execFileSync } from "node:child_process"
import { existsSync, writeFileSync } from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { bundledBin } from "./build-bin.js"
import { lethe, workdir } from "./run-cli.js"

const work = workdir()
const db = work.path("demo.db")
const secret = "a CLI test secret of at least thirty-two bytes"

beforeAll(async () => {
  expect((await lethe(["demo", "--db", db], { cwd: work.dir })).code).toBe(0)
}, 120_000)
afterAll(() => work.cleanup())

const oneLineReason = (stderr: string) => {
  const lines = stderr.trimEnd().split("\n")
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^lethe: /)
  return lines[0] ?? ""
}

describe("lethe: help and usage", () => {
  it.each(["audit", "export-log", "retention", "import", "demo"])(
    "--help on %s prints its usage and exits 0",
    async (command) => {
      const run = await lethe([command, "--help"], { cwd: work.dir })
      expect(run.code).toBe(0)
      expect(run.stdout).toContain("USAGE")
      expect(run.stdout).toContain(`$ lethe ${command}`)
      // Piped: no colour codes.
      expect(run.stdout).not.toContain("\u001b[")
    },
  )

  it("--help on lethe lists every command", async () => {
    const run = await lethe(["--help"], { cwd: work.dir })
    expect(run.code).toBe(0)
    for (const command of ["audit", "export-log", "retention", "import", "demo"])
      expect(run.stdout).toContain(command)
  })

  it.each([
    [[], /a command is required/],
    [["audit"], /Missing argument <source> \(see lethe audit --help\)/],
    [["audit", "demo.db", "--format", "pdf"], /text, json, html/],
    [["audit", "demo.db", "--as-of", "yesterday"], /--as-of yesterday: expected an ISO 8601 date/],
    [["audit", "demo.db", "--grace-days", "-1"], /--grace-days -1/],
    [["audit", "demo.db", "--bogus"], /unknown argument: '--bogus'/],
    [["frobnicate"], /Invalid subcommand.*\(see lethe --help\)/],
    [["export-log", "demo.db", "--out", "log.txt"], /ends in \.jsonl/],
    [["demo", "--db", "demo.db"], /demo\.db exists/],
  ])("usage error %j: exit code 2, one line on stderr", async (args, reason) => {
    const run = await lethe(args, { cwd: work.dir })
    expect(run.code).toBe(2)
    expect(oneLineReason(run.stderr)).toMatch(reason)
  })

  it.each([
    [["audit", "missing.db"], /missing\.db: no such SQLite file/],
    [["audit", "missing.jsonl"], /missing\.jsonl: no such log file/],
    [
      ["audit", "postgres://auditor:hunter2@db.example/lethe"],
      /cannot open postgres:\/\/auditor:\*\*\*@db\.example\/lethe \(schema lethe\): The postgres store is unavailable/,
    ],
    [["export-log", "postgresql://127.0.0.1:1/lethe", "--out", "x.jsonl"], /unavailable during open/],
  ])("I/O error %j: exit code 2, one line on stderr, no password echoed", async (args, reason) => {
    const run = await lethe(args, { cwd: work.dir })
    expect(run.code).toBe(2)
    expect(oneLineReason(run.stderr)).toMatch(reason)
    expect(run.stderr).not.toContain("hunter2")
    expect(existsSync(work.path("missing.db"))).toBe(false)
  })

  it("a file that is not a Lethe database: exit code 2", async () => {
    const notDb = work.path("notes.db")
    writeFileSync(notDb, "just some text, not SQLite")
    const run = await lethe(["audit", notDb], { cwd: work.dir })
    expect(run.code).toBe(2)
    expect(oneLineReason(run.stderr)).toMatch(/cannot open .*notes\.db/)
  })
})

describe("lethe: output", () => {
  it("writes the report to --out and says so on stderr", async () => {
    const out = work.path("report.html")
    const run = await lethe(["audit", db, "--format", "html", "--out", out], { cwd: work.dir })
    expect(run.code).toBe(0)
    expect(run.stdout).toBe("")
    expect(run.stderr).toMatch(/clean; html report written to/)
    expect(existsSync(out)).toBe(true)
  })

  it("R29: judges deadlines as of --as-of with --grace-days: the demo's purge came one day after the window", async () => {
    const lenient = await lethe(["audit", db, "--as-of", "2030-01-01"], { cwd: work.dir })
    expect(lenient.code).toBe(0)
    const strict = await lethe(
      ["audit", db, "--as-of", "2030-01-01", "--grace-days", "0", "--format", "json"],
      {
        cwd: work.dir,
      },
    )
    expect(strict.code).toBe(1)
    const report = JSON.parse(strict.stdout) as {
      findings: ReadonlyArray<{ rule: string; requirements: unknown; evidence: Record<string, unknown> }>
    }
    const receipts = report.findings.filter((f) => f.rule === "erasure-receipt")
    expect(
      report.findings.filter((f) => f.rule !== "erasure-receipt").map((f) => [f.rule, f.requirements]),
    ).toEqual([["purge-deadline", ["R29"]]])
    // With no grace, the scheduled receipts' promised destruction day (window end + the service's one day)
    // is past the deadline too (R10): each says so, and nothing else is wrong with them.
    expect(receipts.length).toBeGreaterThan(0)
    for (const receipt of receipts)
      expect(receipt.evidence).toMatchObject({ problem: "mismatch", fields: ["destroyBy"] })
  })

  it("R5: --config gives the tenant's configuration: under a 3-day window the demo's 7-day forgets are findings", async () => {
    const config = work.path("tenant.json")
    writeFileSync(config, JSON.stringify({ restoreWindowDays: 3 }))
    const run = await lethe(["audit", db, "--config", config, "--format", "json"], { cwd: work.dir })
    expect(run.code).toBe(1)
    const report = JSON.parse(run.stdout) as { findings: ReadonlyArray<{ rule: string; message: string }> }
    expect(report.findings.map((f) => f.rule)).toEqual(["restore-window", "restore-window"])
    expect(report.findings[0]?.message).toMatch(/restore window of 7 days; the configuration says 3/)
    const bad = work.path("bad-tenant.json")
    writeFileSync(bad, JSON.stringify({ restoreWindow: 3 }))
    const refused = await lethe(["audit", db, "--config", bad], { cwd: work.dir })
    expect(refused.code).toBe(2)
    expect(oneLineReason(refused.stderr)).toMatch(/unknown keys restoreWindow/)
  })

  const hasScript = (() => {
    try {
      execFileSync("script", ["--version"], { stdio: "ignore" })
      return true
    } catch {
      return false
    }
  })()

  it.skipIf(!hasScript)("draws a progress line on a terminal (stderr), none when piped", async () => {
    // `script` gives the command a terminal; the report goes to a file so only stderr reaches it.
    const out = work.path("tty.txt")
    const screen = execFileSync(
      "script",
      ["-qec", `"${process.execPath}" "${bundledBin}" audit "${db}" --out "${out}"`, "/dev/null"],
      { cwd: work.dir, encoding: "utf8" },
    )
    expect(screen).toMatch(/auditing \d+ events, [\d,]+ events\/s/)
    const piped = await lethe(["audit", db], { cwd: work.dir })
    expect(piped.stderr).toBe("")
  })
})

describe("lethe: commands that write", () => {
  it("retention --dry-run plans without the secret; a run without it is refused", async () => {
    const plan = await lethe(["retention", db, "--dry-run"], { cwd: work.dir })
    expect(plan.code).toBe(0)
    expect(plan.stdout).toMatch(/dry run: nothing changed/)
    const run = await lethe(["retention", db], { cwd: work.dir })
    expect(run.code).toBe(2)
    expect(oneLineReason(run.stderr)).toMatch(/LETHE_SECRET/)
  })

  it("R12: retention with a policies file, then the database still audits clean", async () => {
    const policies = work.path("policies.json")
    writeFileSync(policies, JSON.stringify([{ _tag: "AnonymizeInactive", id: "inactive-1m", months: 1 }]))
    const run = await lethe(["retention", db, "--policies", policies, "--format", "json"], {
      cwd: work.dir,
      env: { LETHE_SECRET: "demo secret: replace with 32+ random bytes in production" },
    })
    expect(run.stderr).toBe("")
    expect(run.code).toBe(0)
    const report = JSON.parse(run.stdout) as { dryRun: boolean; planned: ReadonlyArray<{ rule: string }> }
    expect(report.dryRun).toBe(false)
    const audit = await lethe(["audit", db], { cwd: work.dir })
    expect(audit.code).toBe(0)
  })

  it("a policies file that is not one: exit code 2 with the schema's reason", async () => {
    const policies = work.path("bad-policies.json")
    writeFileSync(policies, JSON.stringify([{ _tag: "DeleteEverything" }]))
    const run = await lethe(["retention", db, "--policies", policies, "--dry-run"], { cwd: work.dir })
    expect(run.code).toBe(2)
    expect(oneLineReason(run.stderr)).toMatch(/--policies .*bad-policies\.json/)
  })

  it("R6: import a CSV into a new database, which then audits clean", async () => {
    const csv = work.path("contacts.csv")
    writeFileSync(
      csv,
      [
        "email,name,purpose,given_at",
        "ada@example.org,Ada,newsletter,2026-01-05",
        "not-an-email,Bob,newsletter,2026-01-05",
      ].join("\n"),
    )
    const target = work.path("imported.db")
    const run = await lethe(["import", csv, "--db", target, "--tenant", "shop"], {
      cwd: work.dir,
      env: { LETHE_SECRET: secret },
    })
    expect(run.stdout).toMatch(/applied 1 rows \(created: 1\); rejected 1/)
    expect(run.stdout).toMatch(/row \d+ \(line 3\): InvalidEmail/)
    // Rows rejected: done in part, exit code 3 (it was 1, the audit's findings, until issue 20).
    expect(run.code).toBe(3)
    const audit = await lethe(["audit", target], { cwd: work.dir })
    expect(audit.code).toBe(0)
  })

  it("R39: import with another LETHE_SECRET into a database written with the first: exit 2, one line, nothing imported", async () => {
    const csv = work.path("again.csv")
    writeFileSync(
      csv,
      ["email,name,purpose,given_at", "ada@example.org,Ada,newsletter,2026-01-05"].join("\n"),
    )
    const target = work.path("keyed.db")
    const first = await lethe(["import", csv, "--db", target, "--tenant", "shop"], {
      cwd: work.dir,
      env: { LETHE_SECRET: secret },
    })
    expect(first.code).toBe(0)
    const wrong = await lethe(["import", csv, "--db", target, "--tenant", "shop"], {
      cwd: work.dir,
      env: { LETHE_SECRET: "another secret, also thirty-two bytes or more" },
    })
    expect(wrong.code).toBe(2)
    expect(oneLineReason(wrong.stderr)).toMatch(/LETHE_SECRET is not the secret this store was written with/)
    expect(wrong.stdout).toBe("")
    // Under the right secret the address is still held by its one member: nothing was duplicated.
    const again = await lethe(["import", csv, "--db", target, "--tenant", "shop"], {
      cwd: work.dir,
      env: { LETHE_SECRET: secret },
    })
    expect(again.stdout).toMatch(/applied 1 rows \(unchanged: 1\)/)
  })
})
