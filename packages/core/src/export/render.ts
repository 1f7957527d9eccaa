/**
 * An export document rendered in the format asked for, ready to hand over.
 *
 * @module
 */
import { absurd } from "../member/state.js"
import { memberExportCsv } from "./csv.js"
import { memberExportHtml } from "./html.js"
import type { ExportFormat, MemberExport } from "./member-export.js"
import { memberExportPdf } from "./pdf.js"

/**
 * What `exportMember` returns: the rendered export, and the document it was
 * rendered from. JSON, HTML and PDF are one file each (the PDF as bytes); CSV
 * is one file per section, delivered together (zip them, or write them to one
 * folder).
 */
export type ExportResult =
  | {
      readonly format: "json"
      readonly mediaType: "application/json; charset=utf-8"
      readonly fileName: string
      readonly content: string
      readonly document: MemberExport
    }
  | {
      readonly format: "csv"
      readonly mediaType: "text/csv; charset=utf-8"
      /** File name -> CSV text, e.g. `personal-data.csv`. */
      readonly files: Readonly<Record<string, string>>
      readonly document: MemberExport
    }
  | {
      readonly format: "html"
      readonly mediaType: "text/html; charset=utf-8"
      readonly fileName: string
      readonly content: string
      readonly document: MemberExport
    }
  | {
      readonly format: "pdf"
      readonly mediaType: "application/pdf"
      readonly fileName: string
      /** The PDF file's bytes. */
      readonly content: Uint8Array
      readonly document: MemberExport
    }

/**
 * Renders the document in `format`; a promise because the PDF is laid out
 * with a library loaded on first use.
 *
 * @example
 * ```ts
 * const pdf = await renderExport(document, "pdf")
 * if (pdf.format === "pdf") await writeFile(pdf.fileName, pdf.content)
 * ```
 */
export const renderExport = async (document: MemberExport, format: ExportFormat): Promise<ExportResult> => {
  const stem = `member-${document.member.memberId}`
  switch (format) {
    case "json":
      return {
        format,
        mediaType: "application/json; charset=utf-8",
        fileName: `${stem}.json`,
        content: `${JSON.stringify(document, null, 2)}\n`,
        document,
      }
    case "csv":
      return { format, mediaType: "text/csv; charset=utf-8", files: memberExportCsv(document), document }
    case "html":
      return {
        format,
        mediaType: "text/html; charset=utf-8",
        fileName: `${stem}.html`,
        content: memberExportHtml(document),
        document,
      }
    case "pdf":
      return {
        format,
        mediaType: "application/pdf",
        fileName: `${stem}.pdf`,
        content: await memberExportPdf(document),
        document,
      }
    default:
      return absurd(format)
  }
}
