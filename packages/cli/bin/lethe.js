#!/usr/bin/env node
// The `lethe` command: the built CLI (dist/bin.js), as installed from the package. In a clone of the
// repository before `npm run build`, the same CLI from its sources, through tsx (a dev dependency there).
import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"

const built = new URL("../dist/bin.js", import.meta.url)
if (existsSync(fileURLToPath(built))) await import(built.href)
else {
  const source = fileURLToPath(new URL("../src/bin.ts", import.meta.url))
  const run = spawnSync(
    process.execPath,
    ["--conditions=@lethe/source", "--import", "tsx", source, ...process.argv.slice(2)],
    { stdio: "inherit" },
  )
  if (run.error !== undefined) {
    process.stderr.write(
      `lethe: not built yet, and tsx is not installed: run npm run build (${run.error.message})\n`,
    )
    process.exitCode = 2
  } else process.exitCode = run.status ?? 2
}
