// The CommonJS consumer: `require` from the installed tarballs (their "require" export condition).
"use strict"
const { PGlite } = require("@electric-sql/pglite")
const core = require("@lethe/core")
const { memoryStore } = require("@lethe/store-memory")
const { postgresStore } = require("@lethe/store-postgres")
const { sqliteStore } = require("@lethe/store-sqlite")
const run = require("./scenario.cjs")

for (const name of ["@lethe/core", "@lethe/store-memory", "@lethe/store-sqlite", "@lethe/store-postgres"]) {
  const file = require.resolve(name)
  process.stdout.write(`cjs ${name} -> ${file.slice(file.lastIndexOf("dist/"))}\n`)
}
// Each user's entry loads and holds its users' names. (CommonJS bundles each entry alone: a class two
// entries export is two classes here, so errors are matched by `_tag`.)
const entries = { spi: "checkPageLimit", audit: "auditLog", domain: "decide" }
for (const [entry, name] of Object.entries(entries)) {
  const module = require(`@lethe/core/${entry}`)
  const file = require.resolve(`@lethe/core/${entry}`)
  process.stdout.write(
    `cjs @lethe/core/${entry} -> ${file.slice(file.lastIndexOf("dist/"))}: ${typeof module[name]} ${name}\n`,
  )
}
run({ format: "cjs", core, memoryStore, sqliteStore, postgresStore, PGlite, dbFile: "cjs.db" }).catch(
  (error) => {
    console.error(error)
    process.exitCode = 1
  },
)
