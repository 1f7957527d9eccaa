/**
 * Issue 19, item 4 (R10): the HTML rendering of an erasure receipt, the
 * message an application sends the person, parsed: well-formed (no parse
 * error), every value escaped, nothing that runs or loads, the dates and the
 * signature in its text. Here because parse5 is this package's test
 * dependency; the text rendering is tested in core (erasure-receipts.test.ts).
 */
import type { Actor } from "@lethe/core"
import { createLethe, keyringFromSecret } from "@lethe/core"
import { renderReceipt } from "@lethe/core/audit"
import { memoryStore } from "@lethe/store-memory"
import type { DefaultTreeAdapterMap, ParserError } from "parse5"
import { parse } from "parse5"
import { describe, expect, it } from "vitest"

type Node = DefaultTreeAdapterMap["node"]
type Element = DefaultTreeAdapterMap["element"]

const elements = (node: Node): Array<Element> => {
  const children = "childNodes" in node ? node.childNodes : []
  const own = "tagName" in node ? [node as Element] : []
  return [...own, ...children.flatMap(elements)]
}

const textOf = (node: Node): string =>
  "value" in node && node.nodeName === "#text"
    ? node.value
    : ("childNodes" in node ? node.childNodes : []).map(textOf).join("")

const day = 86_400_000
const admin: Actor = { id: "staff:admin", roles: ["admin"] }

describe("R10: the erasure receipt as an HTML message", () => {
  it("R10: the HTML renderings are well-formed, escaped, and name the dates and the signature, no personal data", async () => {
    let now = Date.UTC(2026, 2, 2, 9)
    const lethe = await createLethe({
      store: memoryStore(),
      keyring: keyringFromSecret("receipt html test secret, 32 bytes+"),
      clock: () => new Date(now),
    })
    const { memberId } = await lethe.register({
      tenantId: "club",
      personal: { name: "Ola Nordmann", email: "ola@example.org" },
      source: "form",
    })
    const { receipt: scheduled } = await lethe.forget(memberId, { actor: admin })
    now += 8 * day
    await lethe.purge(memberId, { actor: admin })
    const final = await lethe.erasureReceipt(memberId)
    const controller = `Gym <script>alert("x")</script> & Spa`
    for (const [receipt, dates] of [
      [scheduled, ["2 March 2026", "9 March 2026", "10 March 2026"]],
      [final, ["10 March 2026"]],
    ] as const) {
      const html = renderReceipt(receipt, { format: "html", controller })
      const errors: Array<ParserError> = []
      const document = parse(html, { onParseError: (error) => errors.push(error) })
      expect(errors).toEqual([])
      const all = elements(document)
      expect(all.filter((e) => ["script", "img", "iframe", "link", "object"].includes(e.tagName))).toEqual([])
      expect(all.filter((e) => e.attrs.some((a) => a.name.startsWith("on") || a.name === "src"))).toEqual([])
      const body = all.find((e) => e.tagName === "body")
      if (body === undefined) throw new Error("no body")
      const text = textOf(body)
      for (const date of dates) expect(text).toContain(date)
      expect(text).toContain(receipt.signature)
      expect(text).toContain(controller)
      expect(all.find((e) => e.tagName === "h1") && textOf(all.find((e) => e.tagName === "h1") as Node)).toBe(
        receipt.status === "scheduled"
          ? "Your personal data is scheduled for erasure"
          : "Your personal data has been erased",
      )
      expect(html).not.toMatch(/Ola|Nordmann|ola@example\.org/)
    }
    await lethe.close()
  })
})
