/**
 * `lethe import --map`, `--purpose`, `--date-format`, `--time-zone`, `--separator`, `--encoding` (R43):
 * other tools' exports as they come, on a SQLite file, with the counts and the ignored columns printed.
 * The fixtures are core's (packages/core/test/fixtures/imports/).
 */
import { copyFileSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { ExitCode } from "../src/errors.js"
import { lethe, workdir } from "./run-cli.js"

const work = workdir()
afterAll(() => work.cleanup())
const secret = "a CLI test secret of at least thirty-two bytes"
const env = { LETHE_SECRET: secret }

/** A fixture of core's, copied into the work folder under its own name. */
const fixture = (name: string): string => {
  const target = work.path(name)
  copyFileSync(fileURLToPath(new URL(`../../core/test/fixtures/imports/${name}`, import.meta.url)), target)
  return target
}

describe("lethe import --map (R43)", () => {
  it("R43: --map mailchimp: the unsubscribed export becomes 40 unsubscribes; counts and ignored columns printed", async () => {
    const run = await lethe(
      [
        "import",
        fixture("mailchimp-unsubscribed.csv"),
        "--db",
        work.path("mailchimp.db"),
        "--tenant",
        "shop",
        "--map",
        "mailchimp",
        "--purpose",
        "newsletter",
      ],
      { cwd: work.dir, env },
    )
    expect(run.stderr).toBe("")
    expect(run.code).toBe(ExitCode.clean)
    expect(run.stdout).toMatch(/^applied 40 rows \(unsubscribed: 40\); rejected 0$/m)
    expect(run.stdout).toMatch(/^ignored columns: .*MEMBER_RATING.*UNSUB_REASON/m)
  }, 60_000)

  it("R43: --map hubspot needs --time-zone; with it, opt-outs and consents are counted apart", async () => {
    const file = fixture("hubspot-contacts.csv")
    const args = ["import", file, "--db", work.path("hubspot.db"), "--tenant", "shop", "--map", "hubspot"]
    const refused = await lethe([...args, "--purpose", "marketing"], { cwd: work.dir, env })
    expect(refused.code).toBe(ExitCode.error)
    expect(refused.stderr).toMatch(/timeZone is needed/)
    const run = await lethe(
      [...args, "--purpose", "marketing", "--time-zone", "Europe/Stockholm", "--format", "json"],
      {
        cwd: work.dir,
        env,
      },
    )
    expect(run.code).toBe(ExitCode.partial)
    const report = JSON.parse(run.stdout) as { counts: Record<string, number>; ignoredColumns: Array<string> }
    expect(report.counts).toMatchObject({ created: 15, unsubscribed: 36, suppressed: 8, rejected: 1 })
    expect(report.ignoredColumns).toContain("Contact owner")
  }, 60_000)

  it("R43: a Windows-1250 file is refused without --encoding and read right with it", async () => {
    const file = fixture("native-windows-1250.csv")
    const args = ["import", file, "--db", work.path("cp1250.db"), "--tenant", "shop"]
    const refused = await lethe(args, { cwd: work.dir, env })
    expect(refused.code).toBe(ExitCode.error)
    expect(refused.stderr).toMatch(/not valid UTF-8.*windows-1250/)
    const run = await lethe([...args, "--encoding", "windows-1250"], { cwd: work.dir, env })
    expect(run.code).toBe(ExitCode.clean)
    expect(run.stdout).toMatch(/applied 3 rows \(created: 3\)/)
  }, 60_000)

  it("R43: --map file.json, --date-format, --separator: a shop's own export", async () => {
    const csv = work.path("sklep.csv")
    writeFileSync(
      csv,
      "E-mail;Imię;Nazwisko;Data zapisu;Wypisany\nola@example.org;Ola;Nowak;05.04.2023 10:11;\njan@example.org;Jan;Sęk;01.02.2022 08:00;03.03.2023 12:00\n",
    )
    const map = work.path("sklep.json")
    writeFileSync(
      map,
      JSON.stringify({
        columns: { email: "E-mail", firstName: "Imię", lastName: "Nazwisko", givenAt: "Data zapisu" },
        statusColumns: [{ column: "Wypisany", status: "unsubscribed", holds: "date" }],
      }),
    )
    const run = await lethe(
      [
        "import",
        csv,
        "--db",
        work.path("sklep.db"),
        "--tenant",
        "shop",
        "--map",
        map,
        "--purpose",
        "newsletter",
        "--date-format",
        "dd.MM.yyyy HH:mm",
        "--time-zone",
        "Europe/Warsaw",
        "--separator",
        ";",
      ],
      { cwd: work.dir, env },
    )
    expect(run.stderr).toBe("")
    expect(run.stdout).toMatch(/applied 2 rows \(created: 1, unsubscribed: 1\); rejected 0/)
  }, 60_000)
})
