/**
 * A separate process for the open-race test: opens the new files
 * `<dir>/lethe-0.db`, `<dir>/lethe-1.db`... (`<files>` of them) in turn, each
 * at the same moment as the other processes (`<processes>` in all) open it,
 * appends one event to its own stream "opener-<id>" in it, and closes it.
 * Before each file, every process announces itself (`<dir>/ready-<file>-<id>`)
 * and spins until all have: the processes then run into the file's first
 * open (switch to WAL, migrations) together.
 * Prints one JSON line: the files it opened and appended to, and the errors
 * it met (`_tag: detail`, none expected).
 *
 * Usage: node --conditions=@lethe/source --import tsx opener.ts <dir> <id> <processes> <files>
 */
import fs from "node:fs"
import path from "node:path"
import type { NewEvent } from "@lethe/core/spi"
import { sqliteStore } from "@lethe/store-sqlite"

const [dir, id, processes, files] = process.argv.slice(2)
if (dir === undefined || id === undefined || processes === undefined || files === undefined)
  throw new Error("usage: opener.ts <dir> <id> <processes> <files>")

const event: NewEvent = {
  type: "Opened",
  data: { id },
  metadata: { actor: `process:${id}`, source: "test", tenantId: "t1", correlationId: id },
  recordedAt: Date.now(),
  prevHash: "",
  hash: "not-chained",
}

const sleepSync = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/** Announces this process for `file` and waits until every process has (at most a minute: a dead sibling ends the run). */
const barrier = (file: number): void => {
  fs.writeFileSync(path.join(dir, `ready-${file}-${id}`), "")
  const all = Array.from({ length: Number(processes) }, (_, other) =>
    path.join(dir, `ready-${file}-${other}`),
  )
  const started = Date.now()
  // Spins for the first few thousand looks (the processes leave together), then naps, so a slow starter gets the CPU.
  for (let looks = 0; !all.every((ready) => fs.existsSync(ready)); looks++) {
    if (Date.now() - started > 60_000) throw new Error(`process ${id}: the others never reached file ${file}`)
    if (looks > 5_000) sleepSync(1)
  }
}

let opened = 0
const failures: Array<string> = []
for (let file = 0; file < Number(files); file++) {
  barrier(file)
  try {
    const store = sqliteStore({ filename: path.join(dir, `lethe-${file}.db`) })
    try {
      await store.events.append({ streamId: `opener-${id}`, expectedVersion: "no_stream", events: [event] })
      opened++
    } finally {
      await store.close()
    }
  } catch (error) {
    const { _tag, detail, message } = error as { _tag?: string; detail?: string; message?: string }
    failures.push(`file ${file}: ${_tag ?? "Error"}: ${detail ?? message}`)
  }
}
process.stdout.write(`${JSON.stringify({ id, opened, failures })}\n`)
