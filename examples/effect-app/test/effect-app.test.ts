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

describe("examples/effect-app (npm start -w @lethe-examples/effect-app)", () => {
  let lines: ReadonlyArray<string> = []
  beforeAll(async () => {
    lines = await runStart()
  }, 150_000)
  const line = (prefix: string) => lines.find((l) => l.startsWith(prefix)) ?? `(no line starting "${prefix}")`

  it("R25, R26, R9: refusals arrive as tagged errors that catchTag turns into lines", () => {
    expect(line("R26 the trainee")).toBe(
      "R26 the trainee anonymizes Zofia: refused, NotPermitted: staff:trainee lacks member:anonymize",
    )
    expect(line("R25 the manager")).toBe(
      "R25 the manager anonymizes Zofia: refused, AnonymizationBlocked: ActiveContract, WalletNotEmpty",
    )
    expect(line("a wallet debit of -5")).toBe(
      "a wallet debit of -5: refused, InvalidCommand (debitWallet: amount must be a positive number (got -5)), nothing written",
    )
    expect(line("a wallet debit of 50.00")).toContain("refused, InsufficientFunds (balance 2000)")
    expect(line("R9 with a mistyped e-mail")).toContain("refused, AnonymizationBlocked: SubjectNotConfirmed")
  })

  it("R27, R19: anonymization succeeds with a reminder once the blockers are cleared", () => {
    expect(line("R27 the manager")).toContain(
      "anonymized; erased contact, identity; reminders: UnpaidPurchases",
    )
    expect(line("R19 Zofia now shows")).toBe('R19 Zofia now shows as "Anonymized member" (anonymized)')
  })

  it("R1-R5, R29: unsubscribe, forget, restore within the window, purge after it", () => {
    expect(line("2026-03-02 3 subscribers")).toContain("created, created, created")
    expect(line("R4 Jan unsubscribes")).toContain("refused, MessageRefused: Unsubscribed")
    expect(line("R1 R2 Jan is forgotten")).toBe(
      "R1 R2 Jan is forgotten: findByEmail -> nothing; a test message: refused, MemberErased (forgotten)",
    )
    expect(line("2026-03-05 R5")).toContain("restored, same member true")
    expect(line("2026-03-13 R29")).toContain("purges Jan: true")
    expect(line("R5 restoring Jan now")).toContain("refused, RestoreWindowExpired (purged)")
  })

  it("R3: a year later the message is proven with the consent it was sent under", () => {
    expect(line("2027-03-13 R3")).toBe(
      '2027-03-13 R3 proof of the March newsletter: sent by campaign:march for "newsletter" under consent given by double-opt-in; member purged',
    )
  })

  it("never reports an accepted command that the rules forbid", () => {
    expect(lines.filter((l) => l.includes("unexpected"))).toEqual([])
  })
})
