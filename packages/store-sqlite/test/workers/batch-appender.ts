/**
 * A separate process for the crash test: opens the store on `<filename>`
 * (which earlier, killed processes may have left behind) and appends batches
 * of `<size>` events, one append each, to the streams "batch-0".."batch-2" in
 * turn, until it is killed. Each event is chained to the one before it in its
 * stream (`hash` "<stream>:<version>", `prevHash` the previous one's), and
 * carries its process, batch and place in the batch.
 * Prints "start <batch>" just before each append and "done <batch> <ms>" after
 * it, one line each (pipes are written synchronously, so a line printed is a
 * line the parent can read even if the process dies right after).
 *
 * Usage: node --conditions=@lethe/source --import tsx batch-appender.ts <filename> <round> <size>
 */
import type { NewEvent } from "@lethe/core/spi"
import { sqliteStore } from "@lethe/store-sqlite"

const [filename, round, size] = process.argv.slice(2)
if (filename === undefined || round === undefined || size === undefined)
  throw new Error("usage: batch-appender.ts <filename> <round> <size>")

const streams = ["batch-0", "batch-1", "batch-2"] as const
const pad = "ż".repeat(100)
const store = sqliteStore({ filename })
const versions = new Map<string, number>()
for (const stream of streams) versions.set(stream, (await store.events.readStream(stream)).length)

for (let batch = 0; ; batch++) {
  const streamId = streams[batch % streams.length] as string
  const version = versions.get(streamId) ?? 0
  const events = Array.from(
    { length: Number(size) },
    (_, i): NewEvent => ({
      type: "Batched",
      data: { round, batch, i, pad },
      metadata: {
        actor: `process:${round}`,
        source: "test",
        tenantId: "t1",
        correlationId: `${round}-${batch}`,
      },
      recordedAt: Date.now(),
      prevHash: version + i === 0 ? "" : `${streamId}:${version + i}`,
      hash: `${streamId}:${version + i + 1}`,
    }),
  )
  process.stdout.write(`start ${batch}\n`)
  const started = Date.now()
  const result = await store.events.append({
    streamId,
    expectedVersion: version === 0 ? "no_stream" : version,
    events,
  })
  versions.set(streamId, result.version)
  process.stdout.write(`done ${batch} ${Date.now() - started}\n`)
}
