// The ESM consumer: `import` from the installed tarballs (their "import" export condition).
import { fileURLToPath } from "node:url"
import { PGlite } from "@electric-sql/pglite"
import * as core from "@lethe/core"
import { memoryStore } from "@lethe/store-memory"
import { postgresStore } from "@lethe/store-postgres"
import { sqliteStore } from "@lethe/store-sqlite"
import run from "./scenario.cjs"

for (const name of ["@lethe/core", "@lethe/store-memory", "@lethe/store-sqlite", "@lethe/store-postgres"]) {
  const file = fileURLToPath(import.meta.resolve(name))
  process.stdout.write(`esm ${name} -> ${file.slice(file.lastIndexOf("dist/"))}\n`)
}
// Each user's entry loads, holds its users' names, and shares one copy of what the root entry also exports.
const entries = {
  spi: ["checkPageLimit", "ConcurrencyConflict"],
  audit: ["auditLog", "verifyReceipt"],
  domain: ["decide", "InvalidCommand"],
}
for (const [entry, [name, common]] of Object.entries(entries)) {
  const module = await import(`@lethe/core/${entry}`)
  const file = fileURLToPath(import.meta.resolve(`@lethe/core/${entry}`))
  // biome-ignore lint/performance/noDynamicNamespaceImportAccess: the check compares exports named by the table
  const shared = module[common] !== undefined && module[common] === core[common]
  process.stdout.write(
    `esm @lethe/core/${entry} -> ${file.slice(file.lastIndexOf("dist/"))}: ${typeof module[name]} ${name}, one copy of ${common}: ${shared}\n`,
  )
}
await run({ format: "esm", core, memoryStore, sqliteStore, postgresStore, PGlite, dbFile: "esm.db" })
