#!/usr/bin/env node
/**
 * The `lethe` binary. See `lethe --help`.
 *
 * @module
 */
import { runCli } from "./main.js"

runCli(process.argv).then((code) => {
  process.exitCode = code
})
