/**
 * Runs the `lethe` binary as a child process, the way a user runs it:
 * arguments in, exit code, stdout and stderr out. The binary is the bundle
 * `build-bin.ts` makes of the sources before the tests.
 */
import { execFile } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { bundledBin } from "./build-bin.js"

export interface CliRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs `lethe ...args` in `cwd`; never rejects for a non-zero exit. */
export const lethe = (
  args: ReadonlyArray<string>,
  options: { readonly cwd: string; readonly env?: Record<string, string> },
): Promise<CliRun> =>
  new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [bundledBin, ...args],
      {
        cwd: options.cwd,
        env: { ...process.env, LETHE_SECRET: "", ...options.env },
        timeout: 60_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== "number") reject(error)
        else resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr })
      },
    )
  })

/** A fresh directory for one test file, removed by `cleanup`. */
export const workdir = (): {
  readonly dir: string
  readonly path: (name: string) => string
  cleanup(): void
} => {
  const dir = mkdtempSync(join(tmpdir(), "lethe-cli-"))
  return {
    dir,
    path: (name) => join(dir, name),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  }
}
