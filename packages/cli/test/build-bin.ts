/**
 * Vitest global setup of the CLI tests: bundles `src/bin.ts` with esbuild,
 * once per run, so each test starts the binary in half a second instead of
 * compiling its sources through tsx every time. better-sqlite3 (native)
 * stays external and resolves from the workspace.
 */
import { fileURLToPath } from "node:url"
import { build } from "esbuild"

/** Where the bundled binary is written (ignored by git). */
export const bundledBin = fileURLToPath(new URL("../.tsbuild/test-bin/lethe.mjs", import.meta.url))

export default async function setup(): Promise<void> {
  await build({
    entryPoints: [fileURLToPath(new URL("../src/bin.ts", import.meta.url))],
    outfile: bundledBin,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    conditions: ["@lethe/source"],
    external: ["better-sqlite3"],
    // Bundled CommonJS dependencies call require(); ESM has none until given one.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    logLevel: "warning",
  })
}
