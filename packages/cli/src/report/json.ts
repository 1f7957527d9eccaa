/**
 * The audit report for tools (`--format json`): the report as core returns
 * it, with the source and its custody (tool, time, input hashes), times in ISO 8601.
 *
 * @module
 */
import type { AuditReport } from "@lethe/core/audit"
import type { ReportContext } from "./text.js"

/**
 * The report as one JSON document (`format: "lethe-audit/1"`).
 *
 * @example
 * ```ts
 * const parsed = JSON.parse(renderJson(report, { source: "log:log.jsonl" }))
 * parsed.findings[0].streamId
 * ```
 */
export const renderJson = (report: AuditReport, context: ReportContext): string =>
  `${JSON.stringify({ ...report, source: context.source, ...(context.custody === undefined ? {} : { custody: context.custody }) }, null, 2)}\n`
