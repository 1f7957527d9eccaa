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

describe("examples/custom-adapter (npm start -w @lethe-examples/custom-adapter)", () => {
  let lines: ReadonlyArray<string> = []
  beforeAll(async () => {
    lines = await runStart()
  }, 150_000)
  const line = (prefix: string) => lines.find((l) => l.startsWith(prefix)) ?? `(no line starting "${prefix}")`

  it("stores events sealed, and refuses a second opener of the folder", () => {
    expect(line("her e-mail in clear")).toBe(
      "her e-mail in clear in the stored events: no, sealed; in her directory row: yes, for look-ups while she is active",
    )
    expect(line("a second store on the same folder")).toContain("refused, StoreError")
  })

  it("reads the same member back after the folder is opened again", () => {
    expect(line("after a restart")).toBe(
      'after a restart (folder opened again): findByEmail finds the same member true, name "Anna Example-Person", consent newsletter by double-opt-in',
    )
  })

  it("R1, R29: forget leaves no name or e-mail in clear; purge leaves none at all", () => {
    expect(line("R1 forgotten")).toContain("in clear in the files: nowhere")
    expect(line("R29 forgotten")).toContain("2 keys destroyed, 2 sealed values redacted")
    expect(line("R29 her name or e-mail anywhere")).toBe(
      "R29 her name or e-mail anywhere in the files: nowhere; the pseudonymous member id stays: true",
    )
  })

  it("R3: the message is proven from the files after the purge", () => {
    expect(line("R3 reopened once more")).toContain("consent given by double-opt-in, member purged")
  })

  it("never reports an accepted command that the rules forbid", () => {
    expect(lines.filter((l) => l.includes("unexpected"))).toEqual([])
  })
})
