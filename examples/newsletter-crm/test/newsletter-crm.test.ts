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

describe("examples/newsletter-crm (npm start -w @lethe-examples/newsletter-crm)", () => {
  let lines: ReadonlyArray<string> = []
  beforeAll(async () => {
    lines = await runStart()
  }, 150_000)
  const line = (pattern: string) =>
    lines.find((l) => l.includes(pattern)) ?? `(no line containing "${pattern}")`

  it("R33: double opt-in records nothing until the link is clicked, then the consent with its wording", () => {
    expect(line("sign up: pending")).toContain("in Lethe so far: nothing")
    expect(line("Anna clicks her link")).toContain(": created member ")
    expect(line("R33 Anna's consent")).toBe(
      "R33 Anna's consent: given 2025-03-11 by double-opt-in, wording nl-2025-03, source form:footer-form, in force true",
    )
    expect(line("R33 Carla's consent")).toContain("wording nl-2024-01, source form:cached-landing-page")
    expect(line("nl-2023-beta")).toContain("refused, UnknownWordingVersion")
    expect(line("Bartek never clicked")).toContain("findByEmail -> nothing")
  })

  it("R4: the unsubscribe link stops the newsletter, keeps the profile, and subscribing again re-enables it", () => {
    expect(line('clicks "unsubscribe"')).toContain("refused, MessageRefused: Unsubscribed")
    expect(line("R4 her profile stays")).toContain('active, name "Anna Kowalska"')
    expect(line("account page")).toContain("subscribed, same member true; the summer newsletter goes out")
  })

  it("R1, R2, R8, R11: forget hides the member from every look-up and stops every message", () => {
    expect(line("R11 Anna e-mails an erasure request")).toContain("(due by 2025-04-28)")
    expect(line("R1 findByEmail")).toBe('R1 findByEmail -> nothing, search "kowalska" -> 0 hits')
    expect(line("R2 a test newsletter")).toContain("refused, MemberErased")
  })

  it("R5: subscribing again within 7 days restores the profile; after the window it starts afresh", () => {
    expect(line("R5 3 days later")).toContain(
      'restored, same member true, name "Anna Kowalska", e-mail anna@example.org',
    )
    expect(line("R29 the daily retention run")).toContain("purges 1 member (Anna)")
    expect(line("R5 after the window")).toContain("created a new member, linked to the old one: false")
  })

  it("R3, R10: a year after the purge the spring newsletter is still proven, without personal data", () => {
    const sent = /spring newsletter sent to Anna: message (\S+)$/.exec(line("spring newsletter sent"))?.[1]
    expect(sent).toBeDefined()
    expect(line("R3 proof of message")).toBe(
      `2026-04-11 R3 proof of message ${sent}: sent 2025-03-12 by campaign:spring-2025 for "newsletter" via email, ` +
        "basis consent (consent given 2025-03-11 by double-opt-in, wording nl-2025-03); member purged, log version 5",
    )
    expect(line("R3 the recipient is the pseudonym")).toContain(": 0 personal fields left")
    expect(line("R10 erasure receipt")).toContain("purged 2025-04-11 by lethe:retention")
    expect(line("R10 erasure receipt")).toContain("signature valid: true")
  })

  it("never reports an accepted command that the rules forbid", () => {
    expect(lines.filter((l) => l.includes("unexpected"))).toEqual([])
  })
})
