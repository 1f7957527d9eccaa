import { execFile } from "node:child_process"
import fs from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { beforeAll, describe, expect, it } from "vitest"

const example = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

/**
 * Runs the example exactly as `npm start` does (its `start` script) and
 * returns what it printed; a failure rejects with its exit code and stderr.
 */
const runStart = async (): Promise<ReadonlyArray<string>> => {
  const { scripts } = JSON.parse(fs.readFileSync(path.join(example, "package.json"), "utf8"))
  const [command, ...args] = String(scripts.start).split(" ")
  expect(command).toBe("node")
  const { stdout, stderr } = await promisify(execFile)(process.execPath, args, {
    cwd: example,
    encoding: "utf8",
    timeout: 120_000,
  })
  expect(stderr).toBe("")
  return stdout.trimEnd().split("\n")
}

describe("examples/gym-club (npm start -w @lethe-examples/gym-club)", () => {
  let lines: ReadonlyArray<string> = []
  beforeAll(async () => {
    lines = await runStart()
  }, 150_000)
  const line = (prefix: string) => lines.find((l) => l.startsWith(prefix)) ?? `(no line starting "${prefix}")`

  it("R26: the front desk's role lacks the permission to anonymize", () => {
    expect(line("R26 front desk")).toContain("refused, NotPermitted")
  })

  it("R25: the refusal lists the active contract, the other club's debt case and the wallet at once", () => {
    expect(line("R25 manager anonymizes Marta")).toContain(
      "refused with every reason at once, AnonymizationBlocked: ActiveContract, OpenDebtCase, WalletNotEmpty",
    )
  })

  it("R20, R23: the monthly policy anonymizes 24 months after the contract ended, never a restricted member", () => {
    expect(line("2024-02-01 run:")).toBe(
      "2024-02-01 run: anonymized Ewa; Tomasz blocked (ProcessingRestricted, R23)",
    )
    expect(line("2024-03-01 .. 2026-01-01:")).toContain("23 runs, nobody anonymized")
    expect(line("2026-02-01 run:")).toContain("anonymized Marta")
  })

  it("R27: unpaid purchases and arrears in a club without debt collection come back as reminders", () => {
    expect(line("2026-02-01 run:")).toContain(
      "reminders for Marta, not blockers (R27): UnpaidPurchases, ArrearsWithoutDebtCollection",
    )
  })

  it("R19, R24: the anonymized member keeps statistics and invoices keep name and address", () => {
    expect(line("R19 Marta now shows")).toBe(
      'R19 Marta now shows as "Anonymized member", status anonymized, name, e-mail and phone gone; kept for statistics: 1 visit, 1 class',
    )
    expect(line("R24 her invoices")).toContain('"Marta Wiśniewska, ul. Marszałkowska 1, 00-001 Warszawa"')
    expect(line("R24 her invoices")).toContain('invoice lists show "Anonymized member"')
    expect(line("R24 erased with their keys")).toBe(
      "R24 erased with their keys: activity, address, contact, identity, photo; readable now: invoice",
    )
  })

  it("R36: the monthly statistics, a projection in the file, still count Marta after her anonymization", () => {
    expect(line("R36 monthly statistics")).toBe(
      "R36 monthly statistics (a projection in the file), after Marta's anonymization: 2024-01 1 active member(s), visits krakow-old-town 1, warsaw-centre 1",
    )
  })

  it("R10, R22: a verifiable receipt, and no way back", () => {
    expect(line("R10 signed erasure receipt")).toContain("kept invoice; signature valid: true")
    expect(line("R22 restoring Marta")).toContain("refused, RestoreWindowExpired")
  })

  it("R24, R29: the invoice retention ends five years later and nothing of Marta is left in the file", () => {
    expect(line("2031-03-01 run:")).toContain("ended for Marta (invoice erased)")
    expect(line("R24 readable personal data of Marta now")).toContain("now: none")
    expect(line("R29")).toContain("street: nowhere")
  })

  it("never reports an accepted command that the rules forbid", () => {
    expect(lines.filter((l) => l.includes("unexpected"))).toEqual([])
  })
})
