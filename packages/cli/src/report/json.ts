/**
 * The audit report for tools (`--format json`): the report as core returns
 * it, with the source, times in ISO 8601.
 *
 * @module
 */
import type { AuditReport } from "@lethe/core/audit"

/**
 * The report as one JSON document (`format: "lethe-audit/1"`).
 *
 * @example
 * ```ts
 * const parsed = JSON.parse(renderJson(report, { source: "log:log.jsonl" }))
 * parsed.findings[0].streamId
 * ```
 */
export const renderJson = (report: AuditReport, context: { readonly source: string }): string =>
  `${JSON.stringify({ ...report, source: context.source }, null, 2)}\n`
