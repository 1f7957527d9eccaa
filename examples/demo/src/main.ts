/**
 * The README demo (`npm start`): the demo scenario of `@lethe/cli`, written
 * into a SQLite file (`./lethe-demo.db`, or the path in `LETHE_DEMO_DB`) that
 * starts empty on every run and stays afterwards, so it can be opened with
 * `sqlite3` or checked with `lethe audit`.
 */
import fs from "node:fs"
import path from "node:path"
import { runDemo } from "@lethe/cli"
import { sqliteStore } from "@lethe/store-sqlite"

const say = (line: string) => process.stdout.write(`${line}\n`)

/**
 * Removes the previous run's database. The file is opened first, so that a
 * path that names some other program's database is refused (with StoreError,
 * untouched) rather than deleted.
 */
const startAfresh = async (filename: string): Promise<void> => {
  if (!fs.existsSync(filename)) return
  await sqliteStore({ filename }).close()
  for (const file of [filename, `${filename}-wal`, `${filename}-shm`]) fs.rmSync(file, { force: true })
}

const main = async () => {
  const filename = path.resolve(process.env.LETHE_DEMO_DB ?? "lethe-demo.db")
  await startAfresh(filename)
  say(`Lethe demo (SQLite store: ${filename})`)
  const result = await runDemo({ store: sqliteStore({ filename }), say })
  if (!result.ok) {
    process.stderr.write(`demo: accepted although forbidden: ${result.unexpected.join(", ")}\n`)
    process.exitCode = 1
  }
  say("")
  say(`The demo's event log, keys and directory are in ${filename}`)
  const shown = path.relative(process.cwd(), filename)
  say(`(check it with: npx lethe audit ${shown.startsWith("..") ? filename : shown})`)
}

main().catch((error: unknown) => {
  // A tagged error (a StoreError for a file that is not a Lethe database, say) explains itself.
  const tagged = typeof error === "object" && error !== null && "_tag" in error
  const text =
    error instanceof Error ? (tagged ? error.message : (error.stack ?? error.message)) : String(error)
  process.stderr.write(`demo failed: ${text}\n`)
  process.exitCode = 1
})
