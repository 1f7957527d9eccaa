/**
 * `@lethe/cli`: the `lethe` command (audit, export-log, retention, import,
 * demo), and the pieces it is made of for programs that want them: the demo
 * scenario, the log file format, and the report renderers.
 *
 * @module
 */

export type { DemoOptions, DemoResult } from "./demo.js"
export { demoSecret, demoStart, runDemo } from "./demo.js"
export { CliError, ExitCode } from "./errors.js"
export type { Io } from "./io.js"
export type { ExportSummary, KeyStatus, LogFile, LogHeader, MemberRecord } from "./log-file.js"
export { exportLog, LogFileError, logFormat, openLogFile } from "./log-file.js"
export { runCli, version } from "./main.js"
export type { Custody, CustodyFile } from "./report/custody.js"
export { custodyOf } from "./report/custody.js"
export { escapeHtml, renderHtml, timelineSvg } from "./report/html.js"
export { renderJson } from "./report/json.js"
export type { ReportContext } from "./report/text.js"
export { renderText } from "./report/text.js"
export type { LogSource, OpenOptions, SourceKind } from "./source.js"
export { openLogSource, sourceKind } from "./source.js"
