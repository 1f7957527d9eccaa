/**
 * A separate process for the multi-process tests: waits until the file
 * `<go>` exists (so every process starts at once), opens the store on
 * `<filename>` (a new file: the processes race to migrate it), then
 * - appends one event to the shared stream "first" expecting "no_stream", and
 * - appends `<rounds>` events to the shared stream "counter", one at a time,
 *   each at the version it just read, retrying on ConcurrencyConflict.
 * Prints one JSON line: whether its "first" append won, and how many
 * conflicts it met.
 *
 * Usage: node --conditions=@lethe/source --import tsx appender.ts <filename> <go> <ready> <id> <rounds>
 */
import fs from "node:fs"
import type { NewEvent } from "@lethe/core/spi"
import { sqliteStore } from "@lethe/store-sqlite"

const [filename, go, ready, id, rounds] = process.argv.slice(2)
if (
  filename === undefined ||
  go === undefined ||
  ready === undefined ||
  id === undefined ||
  rounds === undefined
)
  throw new Error("usage: appender.ts <filename> <go> <ready> <id> <rounds>")

const event = (data: unknown): NewEvent => ({
  type: "Tested",
  data,
  metadata: { actor: `process:${id}`, source: "test", tenantId: "t1", correlationId: id },
  recordedAt: Date.now(),
  prevHash: "",
  hash: "not-chained",
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

fs.writeFileSync(ready, id)
while (!fs.existsSync(go)) await sleep(2)

const store = sqliteStore({ filename })
const first = await store.events
  .append({ streamId: "first", expectedVersion: "no_stream", events: [event({ id })] })
  .then(
    () => "won",
    (error: { _tag?: string }) => error._tag ?? String(error),
  )
let conflicts = 0
for (let round = 0; round < Number(rounds); ) {
  const version = (await store.events.readStream("counter")).length
  try {
    await store.events.append({
      streamId: "counter",
      expectedVersion: version,
      events: [event({ id, round })],
    })
    round++
  } catch (error) {
    if ((error as { _tag?: string })._tag !== "ConcurrencyConflict") throw error
    conflicts++
  }
}
await store.close()
process.stdout.write(`${JSON.stringify({ id, first, conflicts })}\n`)
