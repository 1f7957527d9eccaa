/**
 * The audit report for a terminal (`--format text`, the default): the
 * summary, every check with its outcome, then each finding with its evidence.
 *
 * @module
 */
import type { AuditReport, Finding } from "@lethe/core/audit"
import type { Custody } from "./custody.js"
import { custodyLines, isAmountKey } from "./custody.js"

/** What a report says besides the audit's result: the source's label and, from the CLI, the custody. */
export interface ReportContext {
  readonly source: string
  readonly custody?: Custody
}

const number = new Intl.NumberFormat("en-US")
const plural = (n: number, one: string, many = `${one}s`) => `${number.format(n)} ${n === 1 ? one : many}`
const date = (d: Date | null) => (d === null ? "-" : d.toISOString())
const dayOf = (d: Date | null) => (d === null ? "-" : d.toISOString().slice(0, 10))

/** Evidence as `key=value` pairs on one line; nested values as compact JSON. */
export const evidenceLine = (evidence: Finding["evidence"], amounts?: string): string =>
  Object.entries(evidence)
    .map(
      ([key, value]) =>
        `${key}=${typeof value === "string" ? value : JSON.stringify(value)}${amounts !== undefined && typeof value === "number" && isAmountKey(key) ? ` (${amounts})` : ""}`,
    )
    .join(" ")

/** Where a finding sits: `stream@version (position p)`. */
export const findingPlace = (finding: Finding): string =>
  `${finding.streamId}@${finding.version} (position ${finding.position})`

/**
 * The report as plain text, one line per fact, ending with the verdict.
 *
 * @example
 * ```ts
 * process.stdout.write(renderText(report, { source: "sqlite:lethe.db" }))
 * ```
 */
export const renderText = (report: AuditReport, context: ReportContext): string => {
  const { summary, settings } = report
  const lines: Array<string> = []
  const say = (line = "") => lines.push(line)
  say(`Lethe audit of ${context.source}`)
  say(
    `as of ${date(report.asOf)}; restore window ${plural(settings.restoreWindowDays, "day")} + ${plural(settings.purgeGraceDays, "day")} grace; erasure deadline ${plural(settings.erasureDeadlineDays, "day")}`,
  )
  say()
  say(
    `Log:      ${plural(summary.events, "event")} in ${plural(summary.streams, "stream")}, ${dayOf(summary.firstEventAt)} to ${dayOf(summary.lastEventAt)}`,
  )
  const m = summary.members
  say(
    `Members:  ${number.format(m.active)} active, ${number.format(m.forgotten)} forgotten, ${number.format(m.purged)} purged, ${number.format(m.anonymized)} anonymized; ${number.format(summary.restricted)} restricted`,
  )
  const requests = (r: AuditReport["summary"]["erasureRequests"]) =>
    `${number.format(r.total)} (${number.format(r.fulfilled)} fulfilled, ${number.format(r.open)} open)`
  say(`Requests: erasure ${requests(summary.erasureRequests)}; access ${requests(summary.accessRequests)}`)
  say(`Messages: ${number.format(summary.messages)}`)
  const signed = report.checkpoints
  // R41: what the checkpoints prove depends on where the key came from; the checkpoint check's note says all of it.
  say(
    signed.keySource === null
      ? "Signed:   no checkpoint in the log"
      : `Signed:   ${number.format(signed.verified)} of ${plural(signed.count, "checkpoint")} verified against ${signed.keySource === "given" ? "the public key given" : "the key recorded in the log (consistency only, not who signed)"}${signed.keyFingerprints.length > 0 ? ` (fingerprint ${signed.keyFingerprints.map((f) => f.slice(0, 16)).join(", ")})` : ""}; ${signed.lastPosition === null ? "none covers the log" : `the last covers up to position ${number.format(signed.lastPosition)}, ${plural(signed.uncoveredEvents, "event")} after it`}`,
  )
  if (context.custody !== undefined) for (const line of custodyLines(context.custody)) say(line)
  say()
  say("Checks:")
  const width = Math.max(...report.checks.map((c) => c.rule.length))
  for (const check of report.checks) {
    const count = summary.findingsByRule[check.rule] ?? 0
    const status = !check.checked ? "skip" : count > 0 ? "FAIL" : "ok"
    const outcome = count > 0 ? `  ${plural(count, "finding")}` : ""
    const note = check.note === null ? "" : `  (${check.note})`
    say(
      `  ${status.padEnd(4)}  ${check.rule.padEnd(width)}  ${check.requirements.join(" ")}${outcome}${note}`,
    )
  }
  if (report.findings.length > 0) {
    say()
    say(`Findings (${number.format(summary.findings)}):`)
    report.findings.forEach((finding, i) => {
      say(
        `  ${i + 1}. [${finding.rule}] ${finding.requirements.join(" ")}  ${findingPlace(finding)}  ${date(finding.at)}`,
      )
      say(`     ${finding.message}`)
      const evidence = evidenceLine(finding.evidence, context.custody?.amounts)
      if (evidence !== "") say(`     evidence: ${evidence}`)
    })
    if (summary.findings > report.findings.length)
      say(
        `  ... and ${plural(summary.findings - report.findings.length, "more finding")} (counted above, not listed)`,
      )
  }
  say()
  say(
    report.clean
      ? "Result: clean, no finding (exit code 0)"
      : `Result: ${plural(summary.findings, "finding")} (exit code 1)`,
  )
  return `${lines.join("\n")}\n`
}
