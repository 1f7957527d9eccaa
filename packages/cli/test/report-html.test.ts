/**
 * The HTML report renders the findings: parsed as HTML (always), and opened
 * in headless Chromium when it is installed (skipped, with the reason, when
 * it is not). Everything from the log is escaped: a purpose name that is
 * markup stays text.
 */
import { execFileSync } from "node:child_process"
import { writeFileSync } from "node:fs"
import { pathToFileURL } from "node:url"
import { createLethe, keyringFromSecret } from "@lethe/core"
import type { AuditReport } from "@lethe/core/audit"
import { auditLog, hashEvent } from "@lethe/core/audit"
import type { StoredEvent } from "@lethe/core/spi"
import { readAllEvents } from "@lethe/core/spi"
import { memoryStore } from "@lethe/store-memory"
import type { DefaultTreeAdapterMap } from "parse5"
import { parse } from "parse5"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { renderHtml } from "../src/report/html.js"
import { renderText } from "../src/report/text.js"
import { workdir } from "./run-cli.js"

type Node = DefaultTreeAdapterMap["node"]
type Element = DefaultTreeAdapterMap["element"]

const isElement = (node: Node): node is Element => "tagName" in node
const children = (node: Node): ReadonlyArray<Node> => ("childNodes" in node ? node.childNodes : [])
const elements = (node: Node): ReadonlyArray<Element> => [
  ...(isElement(node) ? [node] : []),
  ...children(node).flatMap(elements),
]
const attr = (element: Element, name: string) => element.attrs.find((a) => a.name === name)?.value
const text = (node: Node): string =>
  "value" in node && node.nodeName === "#text" ? node.value : children(node).map(text).join("")

const hostile = '<img src=x onerror="alert(1)">'
const day = 86_400_000

/**
 * A log with two findings: a message (for a purpose named with markup) to a
 * forgotten member, and that member never purged.
 */
const reportWithFindings = async (): Promise<AuditReport> => {
  let now = Date.UTC(2026, 2, 1, 9)
  const store = memoryStore()
  const lethe = await createLethe({
    store,
    keyring: keyringFromSecret("report test secret, thirty-two bytes at least"),
    clock: () => new Date(now),
  })
  const admin = { id: "staff:ola", roles: ["admin"] }
  const { memberId } = await lethe.register({
    tenantId: "club",
    personal: { name: "Ewa Nowak", email: "ewa@example.org" },
    source: "form",
  })
  await lethe.requestErasure(memberId, { via: "email" })
  now += 3 * day
  await lethe.forget(memberId, { actor: admin })
  const other = await lethe.register({ tenantId: "club", personal: { name: "Olek" }, source: "staff" })
  await lethe.creditWallet(other.memberId, { amount: 700 })
  const events: Array<StoredEvent> = []
  for await (const event of readAllEvents(store.events)) events.push(event)
  await lethe.close()

  // An event slipped past the guards at the end of the first member's stream, properly chained.
  const last = events.findLast((e) => e.streamId === `member-${memberId}`) as StoredEvent
  const slipped = {
    position: events.length + 1,
    streamId: last.streamId,
    version: last.version + 1,
    type: "MessageSent",
    data: {
      at: now,
      messageId: "m-1",
      purpose: hostile,
      channel: "email",
      sentBy: "campaign:</section><script>alert(2)</script>",
      test: false,
      lawfulBasis: { basis: "consent", consentGivenAt: now, method: "checkbox", wordingVersion: "v1" },
    },
    metadata: last.metadata,
    recordedAt: now,
    prevHash: last.hash,
  }
  return auditLog([...events, { ...slipped, hash: hashEvent(last.hash, slipped) }], {
    asOf: new Date(now + 60 * day),
  })
}

const work = workdir()
let report: AuditReport
let html: string
beforeAll(async () => {
  report = await reportWithFindings()
  html = renderHtml(report, { source: `log:${hostile}.jsonl` })
})
afterAll(() => work.cleanup())

describe("the HTML report", () => {
  it("R35: the report under test has findings of two rules", () => {
    expect(report.findings.map((f) => f.rule)).toEqual(["message-guard", "purge-deadline"])
    expect(report.clean).toBe(false)
  })

  it("R35: parses as HTML with one article per finding, naming rule, stream and version", () => {
    const document = parse(html)
    const all = elements(document)
    const articles = all.filter((e) => e.tagName === "article" && attr(e, "class") === "finding")
    expect(
      articles.map((a) => [attr(a, "data-rule"), attr(a, "data-stream"), attr(a, "data-version")]),
    ).toEqual(report.findings.map((f) => [f.rule, f.streamId, String(f.version)]))
    const [article] = articles
    if (article === undefined) throw new Error("no finding rendered")
    expect(text(article)).toContain(report.findings[0]?.message)
    expect(text(article)).toContain(hostile)
    const verdict = all.find((e) => attr(e, "id") === "verdict")
    expect(verdict && attr(verdict, "class")).toBe("verdict findings")
  })

  it("escapes everything: markup from the log stays text, no script, no image, nothing external", () => {
    const all = elements(parse(html))
    expect(all.filter((e) => ["script", "img", "iframe", "link", "object"].includes(e.tagName))).toEqual([])
    expect(all.filter((e) => e.attrs.some((a) => a.name.startsWith("on") || a.name === "src"))).toEqual([])
    expect(html).not.toContain("<script")
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;")
  })

  it("R11: draws the timeline of requests and erasures as an inline SVG, findings marked", () => {
    const all = elements(parse(html))
    const timeline = all.find((e) => attr(e, "id") === "timeline")
    if (timeline === undefined) throw new Error("no timeline section")
    const svg = elements(timeline).find((e) => e.tagName === "svg")
    expect(svg && attr(svg, "role")).toBe("img")
    const series = elements(timeline).flatMap((e) => attr(e, "data-series") ?? [])
    expect(series).toEqual(expect.arrayContaining(["erasureRequested", "forgotten"]))
    expect(elements(timeline).filter((e) => attr(e, "class") === "finding-mark")).toHaveLength(2)
  })

  it("the text report names the same findings", () => {
    const textReport = renderText(report, { source: "log:test.jsonl" })
    const [message, purge] = report.findings
    expect(textReport).toContain(`[message-guard] R2  ${message?.streamId}@${message?.version}`)
    expect(textReport).toContain(`[purge-deadline] R29  ${purge?.streamId}@${purge?.version}`)
    expect(textReport).toMatch(/Result: 2 findings \(exit code 1\)/)
  })

  const chromium = ["chromium", "chromium-browser", "google-chrome"].find((name) => {
    try {
      execFileSync(name, ["--version"], { stdio: "ignore" })
      return true
    } catch {
      return false
    }
  })

  it.skipIf(chromium === undefined)(
    "R35: renders in headless Chromium with every finding in the DOM (skipped when Chromium is not installed: apt-get install chromium)",
    () => {
      const file = work.path("report.html")
      writeFileSync(file, html)
      const dom = execFileSync(
        chromium as string,
        ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", pathToFileURL(file).href],
        { encoding: "utf8", timeout: 60_000, stdio: ["ignore", "pipe", "ignore"] },
      )
      const all = elements(parse(dom))
      const articles = all.filter((e) => e.tagName === "article" && attr(e, "class") === "finding")
      expect(articles.map((a) => attr(a, "data-stream"))).toEqual(report.findings.map((f) => f.streamId))
      expect(articles.map((a) => text(a))).toEqual(
        report.findings.map((f) => expect.stringContaining(f.message) as unknown as string),
      )
      // The browser ran nothing: the markup in the log is text in the DOM, not elements.
      expect(all.filter((e) => e.tagName === "img" || e.tagName === "script")).toEqual([])
      expect(all.some((e) => e.tagName === "svg")).toBe(true)
    },
  )
})
