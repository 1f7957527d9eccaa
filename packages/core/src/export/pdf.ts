/**
 * The PDF export (R13): the readable view of the export document
 * (`readableExport`) laid out on A4 pages with pdf-lib, in DejaVu Sans (its
 * subset embedded, so Polish and Swedish letters print and the text can be
 * searched and copied). Lines break only between words; every page carries
 * its number. pdf-lib and the fonts are loaded on the first PDF, not when
 * Lethe starts.
 *
 * @module
 */
import { readFile } from "node:fs/promises"
import { createRequire } from "node:module"
import type { PDFFont, PDFPage, PDFDocument as Pdf } from "pdf-lib"
import type { MemberExport } from "./member-export.js"
import { readableExport } from "./tables.js"

/** One line of laid-out text, and the size to draw it at (smaller for a word wider than the line). */
export interface PdfLine {
  readonly text: string
  readonly size: number
}

/** The smallest size a word too long for its line is shrunk to before it is cut (a last resort). */
const minimumSize = 5

/**
 * Lays `text` out in lines no wider than `width`, breaking only at spaces and
 * line breaks, never inside a word. A word wider than a whole line gets a
 * line of its own at a smaller size (down to 5 pt); only a word that does
 * not fit even then is cut.
 *
 * @example
 * ```ts
 * wrapText("Łukasz Żółć, ul. Długa 1", (t, size) => font.widthOfTextAtSize(t, size), 9, 120)
 * ```
 */
export const wrapText = (
  text: string,
  measure: (text: string, size: number) => number,
  size: number,
  width: number,
): ReadonlyArray<PdfLine> => {
  const lines: Array<PdfLine> = []
  for (const paragraph of printable(text).split("\n")) {
    let line = ""
    for (const word of paragraph.split(" ").filter((w) => w.length > 0)) {
      const candidate = line === "" ? word : `${line} ${word}`
      if (measure(candidate, size) <= width) {
        line = candidate
        continue
      }
      if (line !== "") lines.push({ text: line, size })
      line = ""
      const wide = measure(word, size)
      if (wide <= width) line = word
      else if ((size * width) / wide >= minimumSize) lines.push({ text: word, size: (size * width) / wide })
      else lines.push(...cut(word, measure, width))
    }
    lines.push({ text: line, size })
  }
  return lines
}

/** A word too wide even at the smallest size, cut where it must be: nothing else can show it whole. */
const cut = (
  word: string,
  measure: (text: string, size: number) => number,
  width: number,
): ReadonlyArray<PdfLine> => {
  const lines: Array<PdfLine> = []
  let line = ""
  for (const char of word) {
    if (line !== "" && measure(line + char, minimumSize) > width) {
      lines.push({ text: line, size: minimumSize })
      line = ""
    }
    line += char
  }
  if (line !== "") lines.push({ text: line, size: minimumSize })
  return lines
}

/** Tabs and carriage returns as spaces, other control characters dropped: a font has no glyph for them. */
const printable = (text: string): string =>
  text
    .replace(/\r\n?/g, "\n")
    .replace(/\t/g, " ")
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
    .replace(/[\u0000-\u0009\u000b-\u001f\u007f]/g, "")

// A4 in points, and the layout's measures.
const pageWidth = 595.28
const pageHeight = 841.89
const margin = 50
const bottom = 60
const contentWidth = pageWidth - 2 * margin
const labelWidth = 150
const gap = 10
const valueWidth = contentWidth - labelWidth - gap
const body = 9
const leading = 1.3

/**
 * A font's text widths from its characters' widths, each measured once: laying a whole text out in the
 * font for each measure (pdf-lib's `widthOfTextAtSize`) costs about a millisecond a call.
 */
const measurer = (font: PDFFont): ((text: string, size: number) => number) => {
  const widths = new Map<string, number>()
  return (text, size) => {
    let width = 0
    for (const char of text) {
      let w = widths.get(char)
      if (w === undefined) {
        w = font.widthOfTextAtSize(char, 1)
        widths.set(char, w)
      }
      width += w
    }
    return width * size
  }
}

// The CommonJS build shims `import.meta.url` (tsup's `shims`).
const fontPath = (file: string): string =>
  createRequire(import.meta.url).resolve(`dejavu-fonts-ttf/ttf/${file}`)

let fonts: Promise<{ readonly regular: Uint8Array; readonly bold: Uint8Array }> | undefined
const fontBytes = () => {
  fonts ??= Promise.all([
    readFile(fontPath("DejaVuSans.ttf")),
    readFile(fontPath("DejaVuSans-Bold.ttf")),
  ]).then(
    ([regular, bold]) => ({ regular, bold }),
    (error: unknown) => {
      // Not kept: the next PDF tries again (the fonts may have been missing only for a moment).
      fonts = undefined
      throw error
    },
  )
  return fonts
}

/**
 * The PDF export: the export document as an A4 document a person can read
 * and print, with the same sections as the HTML (dates in the person's
 * locale and time zone, empty sections collapsed into one line), page
 * numbers, and metadata (title, the controller as author, the export's time
 * as creation date, producer "Lethe"). The same document gives the same
 * bytes.
 *
 * @example
 * ```ts
 * await writeFile("export.pdf", await memberExportPdf(document))
 * ```
 */
export const memberExportPdf = async (document: MemberExport): Promise<Uint8Array> => {
  const [{ PDFDocument, rgb }, fontkitModule, bytes] = await Promise.all([
    import("pdf-lib"),
    import("@pdf-lib/fontkit"),
    fontBytes(),
  ])
  const readable = readableExport(document)
  const pdf = await PDFDocument.create({ updateMetadata: false })
  // A CommonJS module: its exports are the default export when Node imports it, the namespace elsewhere.
  const loaded: unknown = fontkitModule
  pdf.registerFontkit(
    ((loaded as { readonly default?: unknown }).default ?? loaded) as Parameters<Pdf["registerFontkit"]>[0],
  )
  const regular = await pdf.embedFont(bytes.regular, { subset: true })
  const bold = await pdf.embedFont(bytes.bold, { subset: true })
  const at = new Date(document.exportedAt)
  pdf.setTitle(readable.title, { showInWindowTitleBar: true })
  pdf.setAuthor(document.controller.name)
  pdf.setSubject(`Access export (art. 15 GDPR) of member ${document.member.memberId}`)
  pdf.setProducer("Lethe")
  pdf.setCreator("Lethe")
  pdf.setLanguage(document.locale)
  pdf.setCreationDate(at)
  pdf.setModificationDate(at)

  const grey = rgb(0.35, 0.35, 0.35)
  const rule = rgb(0.75, 0.75, 0.75)
  let page: PDFPage = pdf.addPage([pageWidth, pageHeight])
  let y = pageHeight - margin
  const newPage = () => {
    page = pdf.addPage([pageWidth, pageHeight])
    y = pageHeight - margin
  }
  const room = (height: number) => {
    if (y - height < bottom) newPage()
  }
  const measures = new Map([regular, bold].map((font) => [font, measurer(font)]))
  const lines = (text: string, font: PDFFont, size: number, width: number) =>
    wrapText(text, measures.get(font) ?? measurer(font), size, width)
  const draw = (line: PdfLine, x: number, font: PDFFont, color = rgb(0, 0, 0)) =>
    page.drawText(line.text, { x, y: y - line.size, size: line.size, font, color })
  const paragraph = (text: string, font: PDFFont, size: number, color = rgb(0, 0, 0)) => {
    for (const line of lines(text, font, size, contentWidth)) {
      room(size * leading)
      draw(line, margin, font, color)
      y -= size * leading
    }
  }
  /** Label and value side by side, kept on one page unless longer than a page. */
  const pair = (label: string, value: string) => {
    const left = lines(label, bold, body, labelWidth)
    const right = lines(value, regular, body, valueWidth)
    const height = Math.max(left.length, right.length) * body * leading
    if (height < pageHeight - margin - bottom) room(height)
    for (let i = 0; i < Math.max(left.length, right.length); i++) {
      room(body * leading)
      const l = left[i]
      const r = right[i]
      if (l !== undefined) draw(l, margin, bold, grey)
      if (r !== undefined) draw(r, margin + labelWidth + gap, regular)
      y -= body * leading
    }
  }
  const separator = () => {
    room(8)
    page.drawLine({
      start: { x: margin, y: y - 3 },
      end: { x: pageWidth - margin, y: y - 3 },
      thickness: 0.5,
      color: rule,
    })
    y -= 8
  }

  paragraph(readable.title, bold, 16)
  y -= 6
  for (const text of readable.intro) paragraph(text, regular, body, grey)
  for (const section of readable.sections) {
    y -= 12
    // A heading never ends a page: it stays with the first lines of its section.
    room(12 * leading + 3 * body * leading)
    paragraph(section.title, bold, 12)
    y -= 3
    section.rows.forEach((row, i) => {
      if (i > 0) separator()
      row.forEach((value, j) => {
        // A record leaves out what it does not have; a one-row section has left it out already.
        if (value !== "—" || section.single) pair(section.labels[j] ?? "", value)
      })
    })
    if (section.note !== null) {
      y -= 4
      paragraph(section.note, regular, body, grey)
    }
  }
  if (readable.empty.length > 0) {
    y -= 12
    paragraph(`Nothing recorded about you in: ${readable.empty.join(", ")}.`, regular, body, grey)
  }

  const pages = pdf.getPages()
  pages.forEach((p, i) => {
    const footer = `${readable.title} · page ${i + 1} of ${pages.length}`
    p.drawText(footer, {
      x: pageWidth - margin - regular.widthOfTextAtSize(footer, 8),
      y: 30,
      size: 8,
      font: regular,
      color: grey,
    })
  })
  return pdf.save()
}
