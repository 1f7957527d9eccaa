/**
 * The command line's conventions (issue 20): help that describes every
 * option and shows examples, NO_COLOR, `--out -` for stdout, `import
 * --format json`, a log file with a byte-order mark, one line saying what
 * a file is when it is not a log, output cut short by `| head` ending
 * quietly, a failed import leaving no database behind, and exit codes that
 * each mean one thing.
 */
import { spawn } from "node:child_process"
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { PassThrough } from "node:stream"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ExitCode } from "../src/errors.js"
import { commandNames, examples, exitCodes } from "../src/help.js"
import { runCli } from "../src/main.js"
import { bundledBin } from "./build-bin.js"
import { lethe, workdir } from "./run-cli.js"

const work = workdir()
const db = work.path("demo.db")
const secret = "a CLI test secret of at least thirty-two bytes"

beforeAll(async () => {
  expect((await lethe(["demo", "--db", db], { cwd: work.dir })).code).toBe(0)
}, 120_000)
afterAll(() => work.cleanup())

const oneLineReason = (stderr: string): string => {
  const lines = stderr.trimEnd().split("\n")
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^lethe: /)
  return lines[0] ?? ""
}

/** The text of the help section `title` (up to the next upper-case title). */
const section = (help: string, title: string): string => {
  const start = help.indexOf(`\n${title}\n`)
  expect(start, `section ${title}`).toBeGreaterThanOrEqual(0)
  const rest = help.slice(start + title.length + 2)
  const end = rest.search(/\n[A-Z][A-Z ]+\n/)
  return end === -1 ? rest : rest.slice(0, end)
}

describe("lethe --help", () => {
  it.each(commandNames)(
    "%s --help: every option described, the usage names lethe, examples and exit codes",
    async (command) => {
      const run = await lethe([command, "--help"], { cwd: work.dir })
      expect(run.code).toBe(0)
      expect(run.stdout).toContain(`$ lethe ${command}`)
      // The framework's boilerplate is gone: no type line, no built-in option listed.
      for (const noise of [
        "A user-defined piece of text.",
        "A true or false value.",
        "One of the following",
        "--wizard",
        "--completions",
        "--log-level",
      ])
        expect(run.stdout).not.toContain(noise)
      // Every option is followed by its own description.
      const options = section(run.stdout, "OPTIONS")
        .trim()
        .split(/\n\n(?=--)/)
      expect(options.length).toBeGreaterThan(0)
      for (const option of options) {
        const [name, description] = option.split("\n\n")
        expect(name, option).toMatch(/^--[a-z-]+/)
        expect(description?.trim().length ?? 0, `${name} is described`).toBeGreaterThan(10)
      }
      const shown = section(run.stdout, "EXAMPLES")
      expect(examples[command].length).toBeGreaterThanOrEqual(2)
      for (const [line, what] of examples[command]) {
        expect(shown).toContain(`$ ${line}`)
        expect(shown).toContain(what)
      }
      for (const [code] of exitCodes)
        expect(section(run.stdout, "EXIT CODES")).toMatch(new RegExp(`^${code}$`, "m"))
    },
  )

  it("lethe --help: the commands, an example of each, the conventions and the exit codes", async () => {
    const run = await lethe(["--help"], { cwd: work.dir })
    expect(run.code).toBe(0)
    for (const command of commandNames) expect(run.stdout).toContain(`more: lethe ${command} --help`)
    expect(run.stdout).toMatch(/NO_COLOR/)
    expect(run.stdout).toMatch(/--out - means stdout/)
    const codes = section(run.stdout, "EXIT CODES")
    for (const [code, meaning] of exitCodes) {
      expect(codes).toMatch(new RegExp(`^${code}$`, "m"))
      expect(codes).toContain(meaning)
    }
  })

  it("the exit codes are distinct, and docs/audit.md lists each", () => {
    const codes = Object.values(ExitCode)
    expect(new Set(codes).size).toBe(codes.length)
    expect(exitCodes.map(([code]) => code).sort()).toEqual([...codes].sort())
    const doc = readFileSync(new URL("../../../docs/audit.md", import.meta.url), "utf8")
    for (const code of codes) expect(doc).toMatch(new RegExp(`^\\| ${code} +\\|`, "m"))
  })
})

describe("NO_COLOR", () => {
  /** `lethe --help` in this process, with a stdout that says it is a terminal. */
  const helpOnTerminal = async (noColor: string | undefined): Promise<string> => {
    const stdout = Object.assign(new PassThrough(), { isTTY: true })
    const stderr = Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.WriteStream
    let text = ""
    stdout.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8")
    })
    const before = process.env.NO_COLOR
    if (noColor === undefined) delete process.env.NO_COLOR
    else process.env.NO_COLOR = noColor
    try {
      expect(await runCli(["node", "lethe", "audit", "--help"], { stdout, stderr })).toBe(0)
    } finally {
      if (before === undefined) delete process.env.NO_COLOR
      else process.env.NO_COLOR = before
    }
    return text
  }

  it("a terminal gets colours, unless NO_COLOR is set", async () => {
    expect(await helpOnTerminal(undefined)).toContain("\u001b[")
    expect(await helpOnTerminal("")).toContain("\u001b[")
    const plain = await helpOnTerminal("1")
    expect(plain).not.toContain("\u001b[")
    expect(plain).toContain("$ lethe audit")
  })
})

describe("--out -", () => {
  it("audit --out - writes the report to stdout, and no status line", async () => {
    const run = await lethe(["audit", db, "--format", "json", "--out", "-"], { cwd: work.dir })
    const plain = await lethe(["audit", db, "--format", "json"], { cwd: work.dir })
    expect(run.code).toBe(plain.code)
    expect([0, 1]).toContain(run.code)
    expect((JSON.parse(run.stdout) as { format: string }).format).toBe("lethe-audit/1")
    expect(run.stderr).toBe("")
    expect(existsSync(work.path("-"))).toBe(false)
  })

  it("export-log --out - writes the log to stdout, the status line on stderr; it audits as the file does", async () => {
    const run = await lethe(["export-log", db, "--out", "-"], { cwd: work.dir })
    expect(run.code).toBe(0)
    expect(run.stdout.split("\n")[0]).toMatch(/"format":"lethe-log\/1"/)
    expect(oneLineStatus(run.stderr)).toMatch(/^exported \d+ events of \d+ members to stdout$/)
    const log = work.path("from-stdout.jsonl")
    writeFileSync(log, run.stdout)
    const file = work.path("from-file.jsonl")
    expect((await lethe(["export-log", db, "--out", file], { cwd: work.dir })).code).toBe(0)
    const [fromStdout, fromFile] = await Promise.all([
      lethe(["audit", log, "--format", "json"], { cwd: work.dir }),
      lethe(["audit", file, "--format", "json"], { cwd: work.dir }),
    ])
    expect(fromStdout.code).toBe(fromFile.code)
    expect((JSON.parse(fromStdout.stdout) as { summary: unknown }).summary).toEqual(
      (JSON.parse(fromFile.stdout) as { summary: unknown }).summary,
    )
  })
})

const oneLineStatus = (stderr: string): string => {
  const lines = stderr.trimEnd().split("\n")
  expect(lines).toHaveLength(1)
  return lines[0] ?? ""
}

describe("files that are not what lethe reads", () => {
  it("a log starting with a UTF-8 byte-order mark audits as without one", async () => {
    const exported = await lethe(["export-log", db, "--out", "-"], { cwd: work.dir })
    const log = work.path("bom.jsonl")
    writeFileSync(log, `\uFEFF${exported.stdout}`)
    const plain = work.path("no-bom.jsonl")
    writeFileSync(plain, exported.stdout)
    const [withBom, without] = await Promise.all([
      lethe(["audit", log, "--format", "json"], { cwd: work.dir }),
      lethe(["audit", plain, "--format", "json"], { cwd: work.dir }),
    ])
    expect(withBom.stderr).toBe("")
    expect([0, 1]).toContain(withBom.code)
    expect(withBom.code).toBe(without.code)
    expect((JSON.parse(withBom.stdout) as { summary: unknown }).summary).toEqual(
      (JSON.parse(without.stdout) as { summary: unknown }).summary,
    )
  })

  it.each([
    ["empty.jsonl", "", /empty\.jsonl: an empty file, not a Lethe log/],
    ["blank.jsonl", "\n", /blank\.jsonl: an empty file, not a Lethe log/],
    ["report.jsonl", '{"clean":true}\n', /report\.jsonl: JSON, but not a Lethe log/],
    ["pretty.jsonl", '{\n  "clean": true\n}\n', /pretty\.jsonl: a JSON document, not a Lethe log/],
    ["empty.db", "", /empty\.db: an empty file, not a SQLite database nor a Lethe log/],
    [
      "report.json",
      '\uFEFF{"clean":true}',
      /report\.json: a JSON file, not a SQLite database nor a Lethe log/,
    ],
    ["list.db", "[1, 2]", /list\.db: a JSON file, not a SQLite database/],
  ])("audit %s: exit code 2, one line saying what it is", async (name, content, reason) => {
    writeFileSync(work.path(name), content)
    const run = await lethe(["audit", work.path(name)], { cwd: work.dir })
    expect(run.code).toBe(2)
    expect(oneLineReason(run.stderr)).toMatch(reason)
  })
})

describe("output cut short", () => {
  /** Runs `lethe ...args`, reads the first chunk of stdout, then closes the pipe as `head -1` does. */
  const headOne = (args: ReadonlyArray<string>) =>
    new Promise<{ code: number | null; signal: string | null; stderr: string; first: string }>(
      (resolve, reject) => {
        const child = spawn(process.execPath, [bundledBin, ...args], {
          cwd: work.dir,
          stdio: ["ignore", "pipe", "pipe"],
        })
        let stderr = ""
        let first = ""
        child.stderr.on("data", (chunk: Buffer) => {
          stderr += chunk.toString("utf8")
        })
        child.stdout.once("data", (chunk: Buffer) => {
          first = chunk.toString("utf8").split("\n")[0] ?? ""
          child.stdout.destroy()
        })
        child.on("error", reject)
        child.on("close", (code, signal) => resolve({ code, signal, stderr, first }))
      },
    )

  it("export-log --out - | head -1: ends quietly, exit code 0, no EPIPE trace", async () => {
    // A log of 4 MB, so the pipe closes while it is still written (the demo's, 23 kB, fits in the pipe's buffer).
    const csv = work.path("many.csv")
    const rows = Array.from({ length: 1500 }, (_, i) => `p${i}@example.org,P${i},newsletter,2026-01-05`)
    writeFileSync(csv, ["email,name,purpose,given_at", ...rows].join("\n"))
    const big = work.path("many.db")
    const imported = await lethe(["import", csv, "--db", big, "--tenant", "shop"], {
      cwd: work.dir,
      env: { LETHE_SECRET: secret },
    })
    expect(imported.code).toBe(0)
    const run = await headOne(["export-log", big, "--out", "-"])
    expect(run.first).toMatch(/"format":"lethe-log\/1"/)
    expect(run.stderr).not.toMatch(/EPIPE|Error|\bat /)
    expect(run.code).toBe(0)
  }, 60_000)
})

describe("import", () => {
  const contacts = (name: string, lines: ReadonlyArray<string>): string => {
    const file = work.path(name)
    writeFileSync(file, lines.join("\n"))
    return file
  }

  it("--format json: the applied and rejected rows as JSON; rejected rows give exit code 3", async () => {
    const csv = contacts("json.csv", [
      "email,name,purpose,given_at",
      "ada@example.org,Ada,newsletter,2026-01-05",
      "not-an-email,Bob,newsletter,2026-01-05",
    ])
    const run = await lethe(
      ["import", csv, "--db", work.path("json.db"), "--tenant", "shop", "--format", "json"],
      {
        cwd: work.dir,
        env: { LETHE_SECRET: secret },
      },
    )
    expect(run.code).toBe(ExitCode.partial)
    expect(run.stderr).toBe("")
    const report = JSON.parse(run.stdout) as {
      applied: ReadonlyArray<{ outcome: string }>
      rejected: ReadonlyArray<{ line: number; reason: string }>
    }
    expect(report.applied.map((a) => a.outcome)).toEqual(["created"])
    expect(report.rejected.map((r) => [r.line, r.reason])).toEqual([[3, "InvalidEmail"]])
  })

  it("an import that fails as a whole leaves no new database file behind", async () => {
    const csv = contacts("no-email-column.csv", ["name,purpose,given_at", "Ada,newsletter,2026-01-05"])
    const before = readdirSync(work.dir)
    const run = await lethe(
      [
        "import",
        csv,
        "--db",
        work.path("never.db"),
        "--keys",
        work.path("never-keys.db"),
        "--tenant",
        "shop",
      ],
      { cwd: work.dir, env: { LETHE_SECRET: secret } },
    )
    expect(run.code).toBe(ExitCode.error)
    expect(oneLineReason(run.stderr)).toMatch(/import into .*never\.db failed/)
    expect(readdirSync(work.dir).sort()).toEqual(before.sort())
  })

  it("a failed import into an existing database keeps that database", async () => {
    const csv = contacts("first.csv", [
      "email,name,purpose,given_at",
      "ada@example.org,Ada,newsletter,2026-01-05",
    ])
    const target = work.path("kept.db")
    expect(
      (
        await lethe(["import", csv, "--db", target, "--tenant", "shop"], {
          cwd: work.dir,
          env: { LETHE_SECRET: secret },
        })
      ).code,
    ).toBe(0)
    const bad = contacts("bad.csv", ["name,given_at", "Ada,2026-01-05"])
    const run = await lethe(["import", bad, "--db", target, "--tenant", "shop"], {
      cwd: work.dir,
      env: { LETHE_SECRET: secret },
    })
    expect(run.code).toBe(ExitCode.error)
    expect(existsSync(target)).toBe(true)
    const again = await lethe(["import", csv, "--db", target, "--tenant", "shop"], {
      cwd: work.dir,
      env: { LETHE_SECRET: secret },
    })
    expect(again.stdout).toMatch(/applied 1 rows \(unchanged: 1\)/)
  })
})
