/**
 * The audit report as one self-contained HTML file (`--format html`): the
 * verdict, the summary, every check, every finding with its evidence, and a
 * timeline of requests and erasures drawn as an inline SVG chart. No script,
 * no external resource; every value from the log is escaped.
 *
 * @module
 */
import type { AuditReport, Finding, TimelineDay, TimelineKind } from "@lethe/core/audit"
import { emptyTimelineCounts, escapeHtml } from "@lethe/core/audit"
import { isAmountKey } from "./custody.js"
import type { ReportContext } from "./text.js"

const number = new Intl.NumberFormat("en-US")

/** Text made safe for HTML content and attribute values: core's one escaper, re-exported. */
export { escapeHtml }

const e = escapeHtml
const date = (d: Date | null) => (d === null ? "-" : d.toISOString())

/** The kinds of the timeline, in stacking order, with their colours. */
const series: ReadonlyArray<{
  readonly key: Exclude<TimelineKind, "findings">
  readonly label: string
  readonly colour: string
}> = [
  { key: "erasureRequested", label: "erasure requests", colour: "#2b6cb0" },
  { key: "accessRequested", label: "access requests", colour: "#63b3ed" },
  { key: "forgotten", label: "forgotten", colour: "#d69e2e" },
  { key: "restored", label: "restored", colour: "#38a169" },
  { key: "purged", label: "purged", colour: "#744210" },
  { key: "anonymized", label: "anonymized", colour: "#6b46c1" },
]

interface Bucket {
  readonly label: string
  readonly counts: Record<TimelineKind, number>
}

const dayMs = 86_400_000

/** Groups days into days, weeks or months, so the chart keeps a readable number of bars. */
export const bucketTimeline = (timeline: ReadonlyArray<TimelineDay>): ReadonlyArray<Bucket> => {
  const first = timeline[0]
  const last = timeline.at(-1)
  if (first === undefined || last === undefined) return []
  const start = Date.parse(first.day)
  const span = Math.round((Date.parse(last.day) - start) / dayMs) + 1
  const unit = span <= 62 ? "day" : span <= 730 ? "week" : "month"
  const keyOf = (day: string): string => {
    if (unit === "day") return day
    if (unit === "month") return day.slice(0, 7)
    const week = Math.floor((Date.parse(day) - start) / (7 * dayMs))
    return `week of ${new Date(start + week * 7 * dayMs).toISOString().slice(0, 10)}`
  }
  const buckets = new Map<string, Bucket>()
  // Every bucket of the span, empty ones too, so time runs evenly along the axis.
  for (let t = start; t <= Date.parse(last.day); t += dayMs) {
    const key = keyOf(new Date(t).toISOString().slice(0, 10))
    if (!buckets.has(key)) buckets.set(key, { label: key, counts: emptyTimelineCounts() })
  }
  for (const day of timeline) {
    const bucket = buckets.get(keyOf(day.day))
    if (bucket === undefined) continue
    for (const k of Object.keys(bucket.counts) as Array<keyof Bucket["counts"]>) bucket.counts[k] += day[k]
  }
  return [...buckets.values()]
}

/** The timeline as an SVG bar chart: stacked requests and erasures per bucket, findings marked above. */
export const timelineSvg = (timeline: ReadonlyArray<TimelineDay>): string => {
  const buckets = bucketTimeline(timeline)
  const width = 960
  const height = 280
  const margin = { top: 24, right: 16, bottom: 48, left: 48 }
  const plotW = width - margin.left - margin.right
  const plotH = height - margin.top - margin.bottom
  if (buckets.length === 0)
    return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Timeline: no events" viewBox="0 0 ${width} 60" width="100%"><text x="${width / 2}" y="34" text-anchor="middle" class="axis">No requests or erasures in the log</text></svg>`
  const total = (b: Bucket) => series.reduce((n, s) => n + b.counts[s.key], 0)
  const max = Math.max(1, ...buckets.map(total))
  const step = plotW / buckets.length
  const barW = Math.max(1, Math.min(40, step * 0.8))
  const y = (value: number) => margin.top + plotH - (value / max) * plotH
  const parts: Array<string> = []
  parts.push(
    `<line x1="${margin.left}" y1="${margin.top + plotH}" x2="${margin.left + plotW}" y2="${margin.top + plotH}" class="axis-line"/>`,
    `<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${margin.top + plotH}" class="axis-line"/>`,
    `<text x="${margin.left - 6}" y="${margin.top + 4}" text-anchor="end" class="axis">${max}</text>`,
    `<text x="${margin.left - 6}" y="${margin.top + plotH}" text-anchor="end" class="axis">0</text>`,
  )
  buckets.forEach((bucket, i) => {
    const x = margin.left + i * step + (step - barW) / 2
    let base = 0
    for (const s of series) {
      const value = bucket.counts[s.key]
      if (value === 0) continue
      const top = y(base + value)
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${barW.toFixed(1)}" height="${(y(base) - top).toFixed(1)}" fill="${s.colour}" data-series="${s.key}"><title>${e(`${bucket.label}: ${value} ${s.label}`)}</title></rect>`,
      )
      base += value
    }
    if (bucket.counts.findings > 0)
      parts.push(
        `<circle cx="${(x + barW / 2).toFixed(1)}" cy="${(y(base) - 8).toFixed(1)}" r="5" class="finding-mark"><title>${e(`${bucket.label}: ${bucket.counts.findings} finding(s)`)}</title></circle>`,
      )
  })
  const first = buckets[0]?.label ?? ""
  const last = buckets.at(-1)?.label ?? ""
  // Dated ticks along the axis: the first and last bucket and up to four between, evenly spaced.
  const tickCount = Math.min(buckets.length, 6)
  const ticks = [
    ...new Set(
      Array.from({ length: tickCount }, (_, k) =>
        tickCount === 1 ? 0 : Math.round((k * (buckets.length - 1)) / (tickCount - 1)),
      ),
    ),
  ]
  for (const i of ticks) {
    const x = margin.left + i * step + step / 2
    const anchor = i === 0 ? "start" : i === buckets.length - 1 ? "end" : "middle"
    parts.push(
      `<line x1="${x.toFixed(1)}" y1="${margin.top + plotH}" x2="${x.toFixed(1)}" y2="${margin.top + plotH + 5}" class="axis-line tick"/>`,
      `<text x="${x.toFixed(1)}" y="${height - 28}" text-anchor="${anchor}" class="axis tick-label">${e(buckets[i]?.label ?? "")}</text>`,
    )
  }
  const legend = [
    ...series.map((s) => ({ label: s.label, colour: s.colour })),
    { label: "findings", colour: "#c53030" },
  ]
  legend.forEach((item, i) => {
    const x = margin.left + i * 140
    parts.push(
      `<rect x="${x}" y="${height - 14}" width="10" height="10" fill="${item.colour}"/>`,
      `<text x="${x + 14}" y="${height - 5}" class="axis">${e(item.label)}</text>`,
    )
  })
  const label = `Timeline of requests and erasures from ${first} to ${last}`
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${e(label)}" viewBox="0 0 ${width} ${height}" width="100%">${parts.join("")}</svg>`
}

const evidenceHtml = (evidence: Finding["evidence"], amounts: string | undefined): string =>
  Object.keys(evidence).length === 0
    ? ""
    : `<dl class="evidence">${Object.entries(evidence)
        .map(
          ([key, value]) =>
            `<dt>${e(key)}</dt><dd><code>${e(typeof value === "string" ? value : JSON.stringify(value, null, 1))}</code>${amounts !== undefined && typeof value === "number" && isAmountKey(key) ? ` <span class="unit">${e(amounts)}</span>` : ""}</dd>`,
        )
        .join("")}</dl>`

const findingHtml = (finding: Finding, index: number, amounts: string | undefined): string =>
  `<article class="finding" id="finding-${index + 1}" data-rule="${e(finding.rule)}" data-stream="${e(finding.streamId)}" data-version="${finding.version}" data-position="${finding.position}">
<h3><span class="rule">${e(finding.rule)}</span> <span class="requirements">${e(finding.requirements.join(" "))}</span></h3>
<p class="place"><span class="stream">${e(finding.streamId)}</span> version <span class="version">${finding.version}</span>, position ${finding.position}, ${e(date(finding.at))}</p>
<p class="message">${e(finding.message)}</p>
${evidenceHtml(finding.evidence, amounts)}
</article>`

/** The chain of custody: tool, time of the audit, the input and the hashes of its files, the unit of amounts. */
const custodyHtml = (custody: NonNullable<ReportContext["custody"]>): string => {
  const rows: ReadonlyArray<readonly [string, string]> = [
    ["Tool", `${custody.tool.name} ${custody.tool.version}`],
    ["Audited at", custody.auditedAt],
    ["Input", `${custody.input.kind} ${custody.input.name}`],
    ...custody.input.files.map((f): readonly [string, string] => [
      f.path,
      `${number.format(f.bytes)} bytes, SHA-256 ${f.sha256}`,
    ]),
    ...(custody.input.note === null ? [] : [["Note", custody.input.note] as const]),
    ["Amounts", `in ${custody.amounts}`],
  ]
  return `<section id="custody"><h2>Chain of custody</h2><dl class="summary">${rows.map(([k, v]) => `<dt>${e(k)}</dt><dd><code>${e(v)}</code></dd>`).join("")}</dl></section>`
}

const style = `
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1040px;padding:0 1rem;color:#1a202c}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #e2e8f0}
.verdict{font-size:1.2rem;padding:.6rem 1rem;border-radius:6px}.verdict.clean{background:#f0fff4;color:#22543d}.verdict.findings{background:#fff5f5;color:#822727}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #edf2f7;vertical-align:top}
.status-ok{color:#22543d}.status-fail{color:#822727;font-weight:600}.status-skip{color:#744210}
.finding{border:1px solid #feb2b2;border-left:6px solid #c53030;border-radius:4px;padding:.4rem 1rem;margin:.8rem 0}
.finding h3{margin:.2rem 0;font-size:1rem}.rule{font-family:ui-monospace,monospace}.requirements{color:#4a5568}
.place,.stream{font-family:ui-monospace,monospace;font-size:.9rem}.evidence{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .8rem;font-size:.85rem}
.evidence dt{color:#4a5568}.evidence dd{margin:0;white-space:pre-wrap;word-break:break-all}
.axis{font-size:11px;fill:#4a5568}.axis-line{stroke:#a0aec0}.finding-mark{fill:#c53030}
dl.summary{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dl.summary dt{color:#4a5568}dl.summary dd{margin:0}
`

/**
 * The report as a complete HTML document.
 *
 * @example
 * ```ts
 * writeFileSync("audit.html", renderHtml(report, { source: "sqlite:lethe.db" }))
 * ```
 */
export const renderHtml = (report: AuditReport, context: ReportContext): string => {
  const { summary, settings } = report
  const { custody } = context
  /** The first listed finding of each rule, which the checks table links to. */
  const firstOf = new Map<string, number>()
  report.findings.forEach((finding, i) => {
    if (!firstOf.has(finding.rule)) firstOf.set(finding.rule, i + 1)
  })
  const signed = report.checkpoints
  const m = summary.members
  const requests = (r: AuditReport["summary"]["erasureRequests"]) =>
    `${number.format(r.total)} (${number.format(r.fulfilled)} fulfilled, ${number.format(r.open)} open)`
  const rows: ReadonlyArray<readonly [string, string]> = [
    ["Source", context.source],
    ["As of", date(report.asOf)],
    ["Events", `${number.format(summary.events)} in ${number.format(summary.streams)} streams`],
    ["Period", `${date(summary.firstEventAt)} to ${date(summary.lastEventAt)}`],
    [
      "Members",
      `${number.format(m.active)} active, ${number.format(m.forgotten)} forgotten, ${number.format(m.purged)} purged, ${number.format(m.anonymized)} anonymized; ${number.format(summary.restricted)} restricted`,
    ],
    ["Erasure requests", requests(summary.erasureRequests)],
    ["Access requests", requests(summary.accessRequests)],
    ["Messages", number.format(summary.messages)],
    [
      "Signed checkpoints",
      signed.keySource === null
        ? "none in the log"
        : `${number.format(signed.verified)} of ${number.format(signed.count)} verified against ${signed.keySource === "given" ? "the public key given" : "the key recorded in the log (consistency only)"}; ${signed.lastPosition === null ? "none covers the log" : `the last covers up to position ${number.format(signed.lastPosition)}, ${number.format(signed.uncoveredEvents)} event(s) after it`}`,
    ],
    [
      "Settings",
      `restore window ${settings.restoreWindowDays} days + ${settings.purgeGraceDays} days grace; erasure deadline ${settings.erasureDeadlineDays} days; access deadline ${settings.accessDeadlineDays} days`,
    ],
  ]
  const checks = report.checks
    .map((check) => {
      const count = summary.findingsByRule[check.rule] ?? 0
      const status = !check.checked ? "skip" : count > 0 ? "fail" : "ok"
      const first = firstOf.get(check.rule)
      const findings = first === undefined ? `${count}` : `<a href="#finding-${first}">${count}</a>`
      return `<tr data-rule="${e(check.rule)}"><td class="status-${status}">${status.toUpperCase()}</td><td><code>${first === undefined ? e(check.rule) : `<a href="#finding-${first}">${e(check.rule)}</a>`}</code></td><td>${e(check.requirements.join(" "))}</td><td>${findings}</td><td>${e(check.description)}${check.note === null ? "" : `<br><em>${e(check.note)}</em>`}</td></tr>`
    })
    .join("\n")
  const verdict = report.clean
    ? `<p id="verdict" class="verdict clean">Clean: every rule held (exit code 0).</p>`
    : `<p id="verdict" class="verdict findings">${number.format(summary.findings)} finding(s) (exit code 1).</p>`
  const more =
    summary.findings > report.findings.length
      ? `<p>${number.format(summary.findings - report.findings.length)} more finding(s) are counted above but not listed.</p>`
      : ""
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(`Lethe audit of ${context.source}`)}</title>
<style>${style}</style>
</head>
<body>
<header><h1>Lethe audit</h1><p>${e(context.source)}, as of ${e(date(report.asOf))}</p></header>
${verdict}
<section id="summary"><h2>Summary</h2><dl class="summary">${rows.map(([k, v]) => `<dt>${e(k)}</dt><dd>${e(v)}</dd>`).join("")}</dl></section>
${custody === undefined ? "" : custodyHtml(custody)}
<section id="timeline"><h2>Timeline of requests and erasures</h2>${timelineSvg(report.timeline)}</section>
<section id="checks"><h2>Checks</h2><table><thead><tr><th>Status</th><th>Rule</th><th>Requirements</th><th>Findings</th><th>What it checks</th></tr></thead><tbody>
${checks}
</tbody></table></section>
<section id="findings"><h2>Findings</h2>
${report.findings.length === 0 ? "<p>None.</p>" : report.findings.map((f, i) => findingHtml(f, i, custody?.amounts)).join("\n")}
${more}
</section>
<footer><p>Format ${e(report.format)}. Generated by the lethe CLI; this file holds no personal value.</p></footer>
</body>
</html>
`
}
