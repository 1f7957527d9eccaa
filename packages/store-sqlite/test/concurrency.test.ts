/**
 * Several connections on one file: two store instances in one process racing
 * appends; processes of their own (workers/appender.ts, workers/opener.ts)
 * opening one new file at once, migrating it once and racing appends; and an
 * open that meets another connection's write lock, which waits for it. An
 * open kept out past the busy timeout is in faults.test.ts.
 */
import { spawn } from "node:child_process"
import { once } from "node:events"
import fs from "node:fs"
import { createRequire } from "node:module"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { Worker } from "node:worker_threads"
import { ConcurrencyConflict } from "@lethe/core"
import { memberRow, newEvent, wholeLog } from "@lethe/testkit/fixtures"
import Database from "better-sqlite3"
import { describe, expect, it } from "vitest"
import { migrations } from "../src/migrations.js"
import { freshFile, open } from "./fixtures.js"

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url))
const appender = fileURLToPath(new URL("./workers/appender.ts", import.meta.url))
const opener = fileURLToPath(new URL("./workers/opener.ts", import.meta.url))

/** Runs a worker script in a process of its own; resolves with what it printed. */
const runWorker = (script: string, args: ReadonlyArray<string>): Promise<string> =>
  new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--conditions=@lethe/source", "--import", "tsx", script, ...args],
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
      code === 0 ? resolve(out) : reject(new Error(`${path.basename(script)} exited ${code}: ${err}`)),
    )
  })

const waitFor = async (check: () => boolean, what: string): Promise<void> => {
  for (const started = Date.now(); !check(); await new Promise((resolve) => setTimeout(resolve, 10)))
    if (Date.now() - started > 60_000) throw new Error(`timed out waiting for ${what}`)
}

/**
 * What a plain better-sqlite3 connection in a thread of its own does to hold
 * `filename` locked while this thread is stuck in a synchronous open: takes
 * the write lock (`BEGIN IMMEDIATE`; first `journal_mode = WAL` if `wal`),
 * says so, waits for the word to go on, holds the lock `holdMs` longer and
 * rolls back.
 */
const lockHolderSource = `
  const { parentPort, workerData } = require("node:worker_threads")
  const Database = require(workerData.driver)
  const go = new Int32Array(workerData.go)
  const db = new Database(workerData.filename)
  if (workerData.wal) db.pragma("journal_mode = WAL")
  db.exec("BEGIN IMMEDIATE")
  parentPort.postMessage("locked")
  Atomics.wait(go, 0, 0)
  Atomics.wait(go, 0, 1, workerData.holdMs)
  db.exec("ROLLBACK")
  db.close()
`

/**
 * Another connection, in a worker thread, holding the write lock on `filename`
 * until `holdMs` after `release()` is called, so a synchronous open in this
 * thread meets it. `done` settles once it has let go and closed.
 */
const holdLock = async (
  filename: string,
  options: { readonly wal: boolean; readonly holdMs: number },
): Promise<{ readonly release: () => void; readonly done: Promise<unknown> }> => {
  const go = new Int32Array(new SharedArrayBuffer(4))
  const worker = new Worker(lockHolderSource, {
    eval: true,
    workerData: {
      driver: createRequire(import.meta.url).resolve("better-sqlite3"),
      filename,
      go: go.buffer,
      ...options,
    },
  })
  const done = once(worker, "exit")
  await once(worker, "message")
  return {
    release: () => {
      Atomics.store(go, 0, 1)
      Atomics.notify(go, 0)
    },
    done,
  }
}

/** The journal mode of `filename`, the migrations and events it holds, read on a connection of its own. */
const fileState = (filename: string) => {
  const db = new Database(filename, { readonly: true })
  try {
    return {
      journal: db.pragma("journal_mode", { simple: true }),
      ledger: db.prepare("SELECT version FROM lethe_migrations ORDER BY version").all(),
      events: db
        .prepare<[], { stream_id: string; position: number }>(
          "SELECT stream_id, position FROM events ORDER BY position",
        )
        .all(),
    }
  } finally {
    db.close()
  }
}

const everyMigration = migrations.map(({ version }) => ({ version }))

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
      runWorker(appender, [filename, go, path.join(dir, `ready-${id}`), String(id), String(rounds)]),
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

  it("C2: six processes opening the same new file at once all open it, it is migrated once, and each appends (50 new files, all six at once on each)", async () => {
    const dir = path.dirname(freshFile())
    const processes = 6
    const files = 50
    const reports = (
      await Promise.all(
        Array.from({ length: processes }, (_, id) =>
          runWorker(opener, [dir, String(id), String(processes), String(files)]),
        ),
      )
    ).map((out) => JSON.parse(out) as { id: string; opened: number; failures: ReadonlyArray<string> })

    expect(reports.flatMap((r) => r.failures)).toEqual([])
    expect(reports.map((r) => r.opened)).toEqual(reports.map(() => files))
    for (let file = 0; file < files; file++) {
      const state = fileState(path.join(dir, `lethe-${file}.db`))
      expect(state.journal).toBe("wal")
      expect(state.ledger).toEqual(everyMigration)
      expect(state.events.map((e) => e.position)).toEqual([1, 2, 3, 4, 5, 6])
      expect(state.events.map((e) => e.stream_id).sort()).toEqual(reports.map((r) => `opener-${r.id}`).sort())
    }
  }, 120_000)

  it.each([
    { moment: "switches the new file to WAL", wal: false },
    { moment: "migrates the new file", wal: true },
  ])(
    "C2: another connection holds the write lock while an open $moment: the open waits for it, then succeeds",
    async ({ wal }) => {
      const filename = freshFile()
      const holdMs = 500
      const holder = await holdLock(filename, { wal, holdMs })
      const started = Date.now()
      holder.release()
      const store = open(filename)
      const waited = Date.now() - started
      await holder.done
      // It could not have opened before the lock was let go.
      expect(waited).toBeGreaterThanOrEqual(holdMs - 50)
      expect(
        await store.events.append({ streamId: "s", expectedVersion: "no_stream", events: [newEvent()] }),
      ).toEqual({ version: 1, position: 1 })
      expect(fileState(filename)).toMatchObject({ journal: "wal", ledger: everyMigration })
    },
  )
})
