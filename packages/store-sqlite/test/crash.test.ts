import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import type { StoredEvent } from "@lethe/core/spi"
import { wholeLog } from "@lethe/testkit/fixtures"
import { afterEach, describe, expect, it } from "vitest"
import { freshFile, open } from "./fixtures.js"

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url))
const worker = fileURLToPath(new URL("./workers/batch-appender.ts", import.meta.url))
const batchSize = 5_000
const rounds = 4

/** Appenders still running: killed after each test, so a failed or timed-out test leaves none behind. */
const running = new Set<ChildProcess>()
afterEach(() => {
  for (const child of running) child.kill("SIGKILL")
  running.clear()
})

interface Round {
  /** Batches the process reported done before it was killed. */
  readonly done: number
  /** Whether it had reported starting a batch it had not reported done when it was killed. */
  readonly inFlight: boolean
  readonly delay: number
}

/**
 * Runs the batch appender on `filename` and kills it (SIGKILL) `delay(ms)` ms
 * after it reports starting its batch number `atBatch`, where `ms` is how long
 * its last batch took; resolves once it is dead.
 */
const killDuringBatch = (filename: string, round: number, atBatch: number, delay: (ms: number) => number) =>
  new Promise<Round>((resolve, reject) => {
    const child: ChildProcess = spawn(
      process.execPath,
      ["--conditions=@lethe/source", "--import", "tsx", worker, filename, String(round), String(batchSize)],
      { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] },
    )
    running.add(child)
    let out = ""
    let err = ""
    let done = 0
    let started = -1
    let lastMs = 50
    let killing: Round | undefined
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000)
    child.stderr?.on("data", (chunk: Buffer) => {
      err += chunk.toString()
    })
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      const lines = out.split("\n")
      out = lines.pop() ?? ""
      for (const line of lines) {
        const [what, batch, ms] = line.split(" ")
        if (what === "done") {
          done = Number(batch) + 1
          lastMs = Number(ms)
        } else if (what === "start") started = Number(batch)
        if (what === "start" && started === atBatch && killing === undefined) {
          const wait = delay(lastMs)
          killing = { done, inFlight: true, delay: wait }
          setTimeout(() => {
            killing = { done, inFlight: started >= done, delay: wait }
            child.kill("SIGKILL")
          }, wait)
        }
      }
    })
    child.on("error", reject)
    child.on("exit", (code, signal) => {
      running.delete(child)
      clearTimeout(timer)
      if (signal === "SIGKILL" && killing !== undefined) resolve(killing)
      else reject(new Error(`batch appender ended with ${code ?? signal} before the kill: ${err}`))
    })
  })

/** Checks that every stream is whole batches, each contiguous and chained; returns how many batches. */
const checkWholeBatches = (log: ReadonlyArray<StoredEvent>): number => {
  const gap = log.findIndex((e, i) => e.position !== i + 1)
  expect(gap, "positions 1..n, no gap").toBe(-1)
  const streams = new Map<string, Array<StoredEvent>>()
  for (const event of log) {
    const events = streams.get(event.streamId) ?? []
    events.push(event)
    streams.set(event.streamId, events)
  }
  let batches = 0
  for (const [streamId, events] of streams) {
    expect(events.length % batchSize, `${streamId}: ${events.length} events is whole batches`).toBe(0)
    for (const [index, event] of events.entries()) {
      const { version, hash, prevHash } = event
      const data = event.data as { round: string; batch: number; i: number }
      const first = events[index - (index % batchSize)]?.data as { round: string; batch: number }
      if (
        version !== index + 1 ||
        hash !== `${streamId}:${version}` ||
        prevHash !== (version === 1 ? "" : `${streamId}:${version - 1}`) ||
        data.i !== index % batchSize ||
        data.round !== first.round ||
        data.batch !== first.batch
      )
        expect.fail(`${streamId} v${version}: ${JSON.stringify({ hash, prevHash, data, first })}`)
    }
    batches += events.length / batchSize
  }
  return batches
}

describe("sqlite store: a process killed during a batch append", () => {
  it("SPI: a process killed (SIGKILL) in the middle of a 5,000-event batch append leaves no partial batch; versions, hash chain and positions stay contiguous, and every reported batch is there", async () => {
    const filename = freshFile()
    const report: Array<Round & { readonly onDisk: number }> = []
    let reported = 0
    for (let round = 0; round < rounds; round++) {
      // Batch 1 or 2 of this process (the one before it is committed), then a random moment
      // within about one batch's duration.
      const killed = await killDuringBatch(filename, round, 1 + (round % 2), (ms) =>
        Math.floor(Math.random() * ms * (round === 0 ? 0.5 : 1)),
      )
      reported += killed.done
      const store = open(filename)
      const onDisk = checkWholeBatches(await wholeLog(store))
      await store.close()
      // Durable (synchronous FULL): every batch reported done is there; at most the one in flight more.
      expect(onDisk, `round ${round}`).toBeGreaterThanOrEqual(reported)
      expect(onDisk, `round ${round}`).toBeLessThanOrEqual(reported + 1)
      reported = onDisk
      report.push({ ...killed, onDisk })
    }
    // The kills did land during appends: at least once, the batch in flight was lost whole.
    expect(
      report.some((r, i) => r.inFlight && r.onDisk === (report[i - 1]?.onDisk ?? 0) + r.done),
      JSON.stringify(report),
    ).toBe(true)
    // Four processes started and killed: generous, for a loaded machine; each is killed after 30 s anyway.
  }, 180_000)
})
