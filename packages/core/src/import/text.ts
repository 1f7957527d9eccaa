/**
 * The text of a contact file (R43): its bytes decoded (UTF-8, refused when not valid UTF-8, or a declared
 * encoding such as `windows-1250`), and the separator of its fields (`,` `;` or tab), detected from the
 * header row or declared.
 *
 * @module
 */

/** The separators a contact file may use. */
export const separators = [",", ";", "\t"] as const
export type Separator = (typeof separators)[number]

/** Why a file's text cannot be read: the message, and the option that would read it. */
export interface TextProblem {
  readonly path: "" | "encoding" | "separator"
  readonly message: string
}

/**
 * The text of a file: a string as given, bytes decoded from `encoding` (a WHATWG label: `utf-8`,
 * `windows-1250`, `iso-8859-2`...) or, without one, as UTF-8, refused when they are not valid UTF-8 rather
 * than read into garbled names. A text holding U+FFFD (a character some earlier decoding could not read) is
 * refused too.
 */
export const decodeContacts = (
  content: string | Uint8Array,
  encoding: string | undefined,
): { readonly text: string } | TextProblem => {
  if (typeof content === "string") {
    const bad = content.indexOf("\uFFFD")
    return bad < 0
      ? { text: content }
      : {
          path: "",
          message: `holds an unreadable character (U+FFFD) at character ${bad + 1}: the file was decoded with the wrong encoding; pass its bytes with the encoding option (e.g. windows-1250)`,
        }
  }
  let decoder: { decode(bytes: Uint8Array): string }
  try {
    decoder = new TextDecoder(encoding ?? "utf-8", { fatal: true })
  } catch {
    return {
      path: "encoding",
      message: `"${encoding}" is not an encoding (e.g. utf-8, windows-1250, iso-8859-2)`,
    }
  }
  try {
    return { text: decoder.decode(content) }
  } catch {
    return encoding === undefined
      ? {
          path: "encoding",
          message:
            "the file is not valid UTF-8: name its encoding with the encoding option (e.g. windows-1250 for a file saved by Excel in Polish or Czech)",
        }
      : { path: "encoding", message: `the file is not valid ${encoding}` }
  }
}

/**
 * The separator of the file's fields: the one of `,` `;` and tab found most often in its first line outside
 * quotes (a comma when none is), unless declared.
 */
export const detectSeparator = (text: string): Separator => {
  const counts = new Map<Separator, number>(separators.map((s) => [s, 0]))
  let quoted = false
  // The header row is all it reads: the rest of a large file is not copied nor walked.
  const end = text.search(/[\r\n]/)
  for (const char of end < 0 ? text : text.slice(0, end)) {
    if (char === '"') quoted = !quoted
    else if (!quoted && (char === "\n" || char === "\r")) break
    else if (!quoted && counts.has(char as Separator))
      counts.set(char as Separator, (counts.get(char as Separator) ?? 0) + 1)
  }
  let best: Separator = ","
  for (const s of separators) if ((counts.get(s) ?? 0) > (counts.get(best) ?? 0)) best = s
  return best
}

/** A declared separator: `,` `;` a tab (`\t`, `tab`), or undefined when it is none of them. */
export const separatorOf = (declared: string): Separator | undefined => {
  if (declared === "tab" || declared === "\\t") return "\t"
  return (separators as ReadonlyArray<string>).includes(declared) ? (declared as Separator) : undefined
}
