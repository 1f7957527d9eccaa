/**
 * The one command of the README: `npm start` starts the server (here on a
 * free port, over a file in a temporary folder) and prints the e-mailed link
 * of an access request to the console (R13); the link works; SIGTERM stops it.
 */
import { type ChildProcess, spawn } from "node:child_process"
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, expect, it } from "vitest"

const example = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lethe-self-service-main-"))
let child: ChildProcess | undefined

afterAll(() => {
  child?.kill("SIGTERM")
  fs.rmSync(dir, { recursive: true, force: true })
})

/** Resolves with the first match of `pattern` in what the process printed so far or prints next. */
const printed = (output: { text: string }, pattern: RegExp): Promise<RegExpMatchArray> =>
  new Promise((resolve, reject) => {
    const started = Date.now()
    const poll = () => {
      const match = output.text.match(pattern)
      if (match !== null) return resolve(match)
      if (Date.now() - started > 60_000) return reject(new Error(`not printed: ${pattern}\n${output.text}`))
      setTimeout(poll, 50)
    }
    poll()
  })

it("R11, R13: npm start serves the staff pages and prints the e-mailed link", async () => {
  const { scripts } = JSON.parse(fs.readFileSync(path.join(example, "package.json"), "utf8"))
  const [command, ...args] = String(scripts.start).split(" ")
  expect(command).toBe("node")
  const filename = path.join(dir, "self-service.db")
  const started = spawn(process.execPath, args, {
    cwd: example,
    env: { ...process.env, PORT: "0", SELF_SERVICE_DB: filename },
    stdio: ["ignore", "pipe", "pipe"],
  })
  child = started
  const output = { text: "" }
  started.stdout?.on("data", (chunk: Buffer) => {
    output.text += chunk.toString("utf8")
  })
  started.stderr?.on("data", (chunk: Buffer) => {
    output.text += chunk.toString("utf8")
  })
  const [, origin] = await printed(output, /Lethe self-service on (http:\/\/localhost:\d+)\/staff/)

  const registered = await fetch(`${origin}/staff/members`, {
    method: "POST",
    body: new URLSearchParams({ name: "Ewa Nowak", email: "ewa@example.org" }),
    redirect: "manual",
  })
  expect(registered.status).toBe(303)
  const member = registered.headers.get("location") ?? ""
  const access = await fetch(`${origin}${member}/access`, { method: "POST" })
  expect(access.status, output.text).toBe(200)
  const [, link] = await printed(
    output,
    /--- e-mail to ewa@example\.org: .*\n.*\n(http:\/\/localhost:\d+\/me\/\S+)\n---/,
  )
  const page = await fetch(link ?? "")
  expect(page.status).toBe(200)
  expect(await page.text()).toContain("Ewa Nowak")
  expect(fs.existsSync(filename)).toBe(true)

  const exited = new Promise<number | null>((resolve) => started.on("exit", (code) => resolve(code)))
  started.kill("SIGTERM")
  expect(await exited).toBe(0)
  child = undefined
})
