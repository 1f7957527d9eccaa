/**
 * The HTML export (R13, R21): one self-contained, printable page a person can
 * read, with every section of the export document. No script, no external
 * resource; every value is escaped.
 *
 * @module
 */
import type { MemberExport } from "./member-export.js"
import type { ExportCell, ExportTable } from "./tables.js"
import { exportTables } from "./tables.js"

const entities: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
}

/**
 * Text safe to place in HTML content or a quoted attribute.
 *
 * @example
 * ```ts
 * escapeHtml('<script>alert("x")</script>') // "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
 * ```
 */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => entities[c] ?? c)

const cellHtml = (cell: ExportCell): string => {
  if (cell === null) return '<span class="none">—</span>'
  if (typeof cell === "boolean") return cell ? "yes" : "no"
  if (typeof cell === "object")
    return Object.entries(cell)
      .map(([k, v]) => `${escapeHtml(k)}: ${escapeHtml(v)}`)
      .join("<br>")
  return escapeHtml(String(cell))
}

const sectionHtml = (table: ExportTable): string => {
  const heading = `<h2 id="${escapeHtml(table.name)}">${escapeHtml(table.title)}</h2>`
  const [only] = table.rows
  if (table.single && only !== undefined && table.rows.length === 1)
    return `${heading}\n<table class="pairs">\n${table.columns
      .map(
        (c, i) => `<tr><th scope="row">${escapeHtml(c.label)}</th><td>${cellHtml(only[i] ?? null)}</td></tr>`,
      )
      .join("\n")}\n</table>`
  if (table.rows.length === 0) return `${heading}\n<p class="none">None.</p>`
  const head = table.columns.map((c) => `<th scope="col">${escapeHtml(c.label)}</th>`).join("")
  const body = table.rows
    .map((row) => `<tr>${row.map((cell) => `<td>${cellHtml(cell)}</td>`).join("")}</tr>`)
    .join("\n")
  return `${heading}\n<table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`
}

const style = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem; color: #111; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #bbb; padding: .3rem .5rem; text-align: left; vertical-align: top;
  white-space: pre-wrap; overflow-wrap: anywhere; }
thead th, .pairs th { background: #f1f1f1; }
.pairs th { width: 30%; }
.none { color: #777; }
@media print { body { margin: 0; } h2 { break-after: avoid; } tr { break-inside: avoid; } }
`

/**
 * The HTML export: a complete UTF-8 document with its own style sheet,
 * readable on screen and on paper.
 *
 * @example
 * ```ts
 * await writeFile("export.html", memberExportHtml(document))
 * ```
 */
export const memberExportHtml = (document: MemberExport): string => {
  const title = `Your data held by ${document.member.tenantId}`
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${style}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p>Everything recorded about member <code>${escapeHtml(document.member.memberId)}</code>, exported at ${escapeHtml(document.exportedAt)} (document format ${escapeHtml(document.format)}). Times are in UTC; amounts are in minor units (cents).</p>
${exportTables(document).map(sectionHtml).join("\n")}
</body>
</html>
`
}
