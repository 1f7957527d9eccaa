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
await run({ format: "esm", core, memoryStore, sqliteStore, postgresStore, PGlite, dbFile: "esm.db" })
