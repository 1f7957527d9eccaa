import { spawn } from "node:child_process"
import fs from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { ConcurrencyConflict } from "@lethe/core"
import { memberRow, newEvent, wholeLog } from "@lethe/testkit/fixtures"
import Database from "better-sqlite3"
import { describe, expect, it } from "vitest"
import { migrations } from "../src/migrations.js"
import { freshFile, open } from "./fixtures.js"

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url))
const appender = fileURLToPath(new URL("./workers/appender.ts", import.meta.url))

/** Runs the appender in a process of its own; resolves with what it printed. */
const runAppender = (args: ReadonlyArray<string>): Promise<string> =>
  new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--conditions=@lethe/source", "--import", "tsx", appender, ...args],
      {
        cwd: repoRoot,
        stdio: ["ignore", "pipe", "pipe"],
      },
    )
    let out = ""
    let err = ""
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString()
    })
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString()
    })
    child.on("error", reject)
    child.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`appender exited ${code}: ${err}`)),
    )
  })

const waitFor = async (check: () => boolean, what: string): Promise<void> => {
  for (const started = Date.now(); !check(); await new Promise((resolve) => setTimeout(resolve, 10)))
    if (Date.now() - started > 60_000) throw new Error(`timed out waiting for ${what}`)
}

describe("sqlite store: several connections on one file", () => {
  it("SPI: two store instances on one file: of two appends at the same expected version exactly one wins, with no gap in positions", async () => {
    const filename = freshFile()
    const a = open(filename)
    const b = open(filename)
    await a.events.append({ streamId: "s", expectedVersion: "no_stream", events: [newEvent()] })
    const outcomes = await Promise.allSettled([
      a.events.append({ streamId: "s", expectedVersion: 1, events: [newEvent({ writer: "a" }), newEvent()] }),
      b.events.append({ streamId: "s", expectedVersion: 1, events: [newEvent({ writer: "b" }), newEvent()] }),
    ])
    expect(outcomes.map((o) => o.status).sort()).toEqual(["fulfilled", "rejected"])
    const failure = outcomes.find((o) => o.status === "rejected")
    expect(failure?.reason).toBeInstanceOf(ConcurrencyConflict)
    expect(failure?.reason).toMatchObject({ streamId: "s", expected: 1, actual: 3 })
    await b.events.append({ streamId: "other", expectedVersion: "no_stream", events: [newEvent()] })
    for (const store of [a, b]) {
      const log = await wholeLog(store)
      expect(log.map((e) => [e.streamId, e.version, e.position])).toEqual([
        ["s", 1, 1],
        ["s", 2, 2],
        ["s", 3, 3],
        ["other", 1, 4],
      ])
    }
  })

  it("SPI: 20 appends with no_stream to one new stream through two instances: exactly one wins", async () => {
    const filename = freshFile()
    const stores = [open(filename), open(filename)]
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, writer) =>
        stores[writer % 2]?.events.append({
          streamId: "new",
          expectedVersion: "no_stream",
          events: [newEvent({ writer })],
          directory: { member: memberRow("m1", { name: `writer ${writer}` }) },
        }),
      ),
    )
    const won = outcomes.flatMap((o, writer) => (o.status === "fulfilled" ? [writer] : []))
    expect(won).toHaveLength(1)
    for (const o of outcomes.filter((o) => o.status === "rejected"))
      expect(o.reason).toMatchObject({ _tag: "ConcurrencyConflict", expected: "no_stream", actual: 1 })
    // The directory row is the winner's: a losing append wrote nothing.
    expect(await stores[1]?.directory.get("m1")).toMatchObject({ name: `writer ${won[0]}` })
  })

  it("SPI: processes opening one new file at once migrate it once; racing appends lose nothing and leave no gap", async () => {
    const filename = freshFile()
    const dir = path.dirname(filename)
    const go = path.join(dir, "go")
    const processes = 3
    const rounds = 20
    const running = Array.from({ length: processes }, (_, id) =>
      runAppender([filename, go, path.join(dir, `ready-${id}`), String(id), String(rounds)]),
    )
    await waitFor(
      () =>
        Array.from({ length: processes }, (_, id) => fs.existsSync(path.join(dir, `ready-${id}`))).every(
          Boolean,
        ),
      "the processes to start",
    )
    fs.writeFileSync(go, "")
    const reports = (await Promise.all(running)).map(
      (out) => JSON.parse(out) as { id: string; first: string; conflicts: number },
    )

    expect(reports.filter((r) => r.first === "won")).toHaveLength(1)
    expect(reports.filter((r) => r.first === "ConcurrencyConflict")).toHaveLength(processes - 1)

    const db = new Database(filename, { readonly: true })
    try {
      expect(db.prepare("SELECT version FROM lethe_migrations ORDER BY version").all()).toEqual(
        migrations.map(({ version }) => ({ version })),
      )
    } finally {
      db.close()
    }
    const store = open(filename)
    const counter = await store.events.readStream("counter")
    expect(counter.map((e) => e.version)).toEqual(Array.from({ length: processes * rounds }, (_, i) => i + 1))
    for (let id = 0; id < processes; id++)
      expect(counter.filter((e) => (e.data as { id: string }).id === String(id))).toHaveLength(rounds)
    const log = await wholeLog(store)
    expect(log.map((e) => e.position)).toEqual(log.map((_, i) => i + 1))
    expect(log).toHaveLength(processes * rounds + 1)
  })
})
