/**
 * The HTML export (R13, R21): one self-contained, printable page a person can
 * read, with every section of the export document that holds something. No
 * script, no external resource; every value is escaped.
 *
 * @module
 */
import type { MemberExport } from "./member-export.js"
import type { ReadableSection } from "./tables.js"
import { readableExport } from "./tables.js"

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

// Break lines only at spaces: a word with a hyphen, a slash, an @ or a dot inside (an e-mail, a URL, an id,
// a double name), where a browser may otherwise break a line, is kept on one line.
const cellHtml = (text: string): string =>
  text
    .split("\n")
    .map((line) =>
      line
        .split(/( +)/)
        .map((part) =>
          /[\p{L}\p{N}][^\p{L}\p{N}\s]+[\p{L}\p{N}]/u.test(part)
            ? `<span class="nw">${escapeHtml(part)}</span>`
            : escapeHtml(part),
        )
        .join(""),
    )
    .join("<br>")

const sectionHtml = (section: ReadableSection): string => {
  const heading = `<h2 id="${escapeHtml(section.name)}">${escapeHtml(section.title)}</h2>`
  const note = section.note === null ? "" : `\n<p class="note">${cellHtml(section.note)}</p>`
  const [only = []] = section.rows
  if (section.single)
    return `${heading}\n<table class="pairs">\n${section.labels
      .map(
        (label, i) => `<tr><th scope="row">${escapeHtml(label)}</th><td>${cellHtml(only[i] ?? "")}</td></tr>`,
      )
      .join("\n")}\n</table>${note}`
  const head = section.labels.map((label) => `<th scope="col">${escapeHtml(label)}</th>`).join("")
  const body = section.rows
    .map((row) => `<tr>${row.map((cell) => `<td>${cellHtml(cell)}</td>`).join("")}</tr>`)
    .join("\n")
  return `${heading}\n<table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>${note}`
}

// No word is broken between lines: no hyphenation, no break inside a word (`overflow-wrap: normal`).
const style = `
body { font: 14px/1.45 system-ui, "DejaVu Sans", sans-serif; margin: 2rem; color: #111;
  hyphens: none; overflow-wrap: normal; word-break: normal; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #bbb; padding: .3rem .5rem; text-align: left; vertical-align: top;
  hyphens: none; overflow-wrap: normal; word-break: normal; }
thead th, .pairs th { background: #f1f1f1; }
.pairs th { width: 30%; }
.nw { white-space: nowrap; }
.none, .note { color: #555; }
@media print { body { margin: 0; } h2 { break-after: avoid; } tr { break-inside: avoid; } }
`

/**
 * The HTML export: a complete UTF-8 document with its own style sheet,
 * readable on screen and on paper: dates in the person's locale and time
 * zone, empty sections collapsed into one line, no word broken between lines.
 *
 * @example
 * ```ts
 * await writeFile("export.html", memberExportHtml(document))
 * ```
 */
export const memberExportHtml = (document: MemberExport): string => {
  const readable = readableExport(document)
  const empty =
    readable.empty.length === 0
      ? ""
      : `\n<p class="none" id="empty">Nothing recorded about you in: ${cellHtml(readable.empty.join(", "))}.</p>`
  return `<!doctype html>
<html lang="${escapeHtml(document.locale)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(readable.title)}</title>
<style>${style}</style>
</head>
<body>
<h1>${escapeHtml(readable.title)}</h1>
${readable.intro.map((p) => `<p>${cellHtml(p)}</p>`).join("\n")}
${readable.sections.map(sectionHtml).join("\n")}${empty}
</body>
</html>
`
}
