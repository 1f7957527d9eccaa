/**
 * One measured pass over a log file, in a process of its own so that its
 * peak memory is the pass's own; prints what it measured as one JSON line.
 *
 * - `audit <file> <asOf>`: `auditLog` over the file, as `lethe audit log.jsonl` does.
 * - `parse <file>`: reads and parses every line, nothing more: the floor of any replay.
 *
 * @module
 */
import { createReadStream } from "node:fs"
import { createInterface } from "node:readline"
import { openLogFile } from "@lethe/cli"
import { auditLog } from "@lethe/core/audit"

/** What a pass prints. */
export interface PassResult {
  readonly events: number
  readonly seconds: number
  readonly cpuSeconds: number
  readonly peakRssMiB: number
  /** Whether the audit found nothing wrong (always true for `parse`). */
  readonly clean: boolean
  readonly firstFindings: ReadonlyArray<unknown>
}

const measured = async (
  pass: () => Promise<{ events: number; clean: boolean; firstFindings: ReadonlyArray<unknown> }>,
): Promise<PassResult> => {
  const startedAt = process.hrtime.bigint()
  const cpuBefore = process.cpuUsage()
  const result = await pass()
  const cpu = process.cpuUsage(cpuBefore)
  return {
    ...result,
    seconds: Number(process.hrtime.bigint() - startedAt) / 1e9,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  }
}

const audit = (file: string, asOf: number) =>
  measured(async () => {
    const log = await openLogFile(file)
    const report = await auditLog(log.events, { ...log.sources, asOf: new Date(asOf) })
    return { events: report.summary.events, clean: report.clean, firstFindings: report.findings.slice(0, 3) }
  })

const parse = (file: string) =>
  measured(async () => {
    let events = 0
    for await (const line of createInterface({
      input: createReadStream(file),
      crlfDelay: Number.POSITIVE_INFINITY,
    }))
      if (line !== "" && "streamId" in JSON.parse(line)) events++
    return { events, clean: true, firstFindings: [] }
  })

const [mode, file, asOf] = process.argv.slice(2)
if (file === undefined || (mode !== "audit" && mode !== "parse"))
  throw new Error("usage: child.ts audit <file> <asOf> | parse <file>")
const result = mode === "audit" ? await audit(file, Number(asOf)) : await parse(file)
process.stdout.write(`${JSON.stringify(result)}\n`)
