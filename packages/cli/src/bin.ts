#!/usr/bin/env node
/**
 * The `lethe` binary. See `lethe --help`.
 *
 * @module
 */
import { runCli } from "./main.js"

// A reader that stops early (`lethe audit db | head -1`) closes the pipe: the output is no longer
// wanted, so the command ends there, quietly, with exit code 0, instead of a stack trace for EPIPE.
for (const stream of [process.stdout, process.stderr])
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error
    process.exit(0)
  })

runCli(process.argv).then((code) => {
  process.exitCode = code
})
