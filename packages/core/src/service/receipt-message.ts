/**
 * The erasure receipt as a message for the person (R10): a short plain-text
 * or HTML text an application sends them, saying what was erased or will
 * be, when, what the law keeps and until when, and how to verify the
 * signature. It holds nothing but what the receipt holds (a pseudonymous
 * id, dates, categories, the signature) and what the caller gives
 * (`controller`): no personal data.
 *
 * @module
 */
import type { ErasureReceipt } from "../audit/receipt.js"
import { escapeHtml } from "../export/html.js"

/** How to render a receipt. */
export interface RenderReceiptOptions {
  /** `"text"` (default) or `"html"`: a complete, self-contained UTF-8 document. */
  readonly format?: "text" | "html"
  /** The BCP 47 locale of the dates (default `"en-GB"`); the wording is English. */
  readonly locale?: string
  /** The IANA time zone the dates are given in (default `"UTC"`), named after them. */
  readonly timeZone?: string
  /** Who signs the receipt, as the person knows them (default "the controller"). */
  readonly controller?: string
}

/** One paragraph of the message: plain text, with the parts HTML shows as code. */
type Part = string | { readonly code: string }
type Paragraph = ReadonlyArray<Part>

const list = (items: ReadonlyArray<string>): string => (items.length === 0 ? "none" : items.join(", "))

/** The title and the paragraphs of the message, shared by both formats. */
const message = (
  receipt: ErasureReceipt,
  options: RenderReceiptOptions,
): { readonly title: string; readonly paragraphs: ReadonlyArray<Paragraph> } => {
  const timeZone = options.timeZone ?? "UTC"
  const dates = new Intl.DateTimeFormat(options.locale ?? "en-GB", { dateStyle: "long", timeZone })
  const date = (iso: string) => `${dates.format(new Date(iso))} (${timeZone})`
  const controller = options.controller ?? "the controller"
  const reference: Paragraph = [
    "Your reference: ",
    { code: receipt.memberId },
    ` (${receipt.tenantId}). This reference is not personal data: it identifies the record that was kept about you.`,
  ]
  const fingerprint = receipt.format === "lethe-erasure-receipt/2" ? receipt.keyFingerprint : null
  const verification: Paragraph = [
    `This receipt is signed by ${controller} (Ed25519, format ${receipt.format}). Signature: `,
    { code: receipt.signature },
    ...(fingerprint === null ? [] : [". Public key fingerprint (SHA-256): ", { code: fingerprint }]),
    `. To check it, ask ${controller} for its public key${fingerprint === null ? "" : ", compare its fingerprint"} and verify the signature (e.g. with Lethe's verifyReceipt).`,
  ]
  if (receipt.format === "lethe-erasure-receipt/2" && receipt.status === "scheduled")
    return {
      title: "Your personal data is scheduled for erasure",
      paragraphs: [
        [
          `On ${date(receipt.forgottenAt)} your personal data was withdrawn from use: it can no longer be found, and nothing more is recorded about you or sent to you.`,
        ],
        [
          `Until ${date(receipt.restorableUntil)} it can still be restored at your request. After that it is destroyed, on ${date(receipt.destroyBy)} at the latest: its encryption keys are deleted, and nobody can read it any more.`,
        ],
        ["Nothing is kept once it is destroyed."],
        reference,
        verification,
      ],
    }
  const keys = "keys" in receipt ? receipt.keys : []
  const keptUntil = receipt.format === "lethe-erasure-receipt/2" ? receipt.keptUntil : null
  const categories = [...new Set(keys.map((k) => k.category))].sort()
  return {
    title: "Your personal data has been erased",
    paragraphs: [
      [
        `On ${date(receipt.erasedAt)} your personal data was ${receipt.status === "purged" ? "erased" : "anonymized"}: ${keys.length} encryption key(s) were destroyed (${list(categories)}), so nobody can read that data any more.`,
      ],
      [
        receipt.keptCategories.length === 0
          ? "Nothing is kept."
          : `Kept because the law requires it: ${list(receipt.keptCategories)}, ${keptUntil === null ? "until the legal retention period ends" : `until ${date(keptUntil)}`}.`,
      ],
      reference,
      verification,
    ],
  }
}

const textOf = (paragraph: Paragraph): string =>
  paragraph.map((part) => (typeof part === "string" ? part : part.code)).join("")

const htmlOf = (paragraph: Paragraph): string =>
  paragraph
    .map((part) => (typeof part === "string" ? escapeHtml(part) : `<code>${escapeHtml(part.code)}</code>`))
    .join("")

/**
 * The receipt as a short message for the person it is about: plain text,
 * or an HTML document (every value escaped, no script, no external
 * resource). Pure: the same receipt and options give the same text.
 *
 * @example
 * ```ts
 * const { receipt } = await lethe.forget(memberId, { actor })
 * await mailer.send({ to, subject: "Your data", text: renderReceipt(receipt), html: renderReceipt(receipt, { format: "html", controller: "Gym Club" }) })
 * ```
 */
export const renderReceipt = (receipt: ErasureReceipt, options: RenderReceiptOptions = {}): string => {
  const { title, paragraphs } = message(receipt, options)
  if (options.format !== "html") return `${title}\n\n${paragraphs.map(textOf).join("\n\n")}\n`
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:2em auto;line-height:1.5}code{word-break:break-all}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${paragraphs.map((p) => `<p>${htmlOf(p)}</p>`).join("\n")}
</body>
</html>
`
}
