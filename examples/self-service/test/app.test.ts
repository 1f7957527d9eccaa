/**
 * Every route of the self-service application, through `app.request` (no
 * port): staff record requests and see them with their deadlines (R11), the
 * person's link shows and downloads their data, and an expired or tampered
 * link is refused with a plain page (R13).
 */
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import type { LetheClient } from "@lethe/core"
import type { Hono } from "hono"
import { extractText, getDocumentProxy } from "unpdf"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { type Mail, openLethe, selfServiceApp } from "../src/app.js"

const hour = 60 * 60 * 1000
const day = 24 * hour

let now = Date.UTC(2026, 2, 2, 9)
let dir: string
let lethe: LetheClient
let app: Hono
let mails: Mail[]
let logged: string[]

beforeEach(async () => {
  now = Date.UTC(2026, 2, 2, 9)
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "lethe-self-service-"))
  lethe = await openLethe({ filename: path.join(dir, "test.db"), clock: () => new Date(now) })
  mails = []
  logged = []
  app = selfServiceApp({
    lethe,
    baseUrl: "http://shop.test",
    mail: (m) => mails.push(m),
    clock: () => new Date(now),
    log: (l) => logged.push(l),
  })
})

afterEach(async () => {
  await lethe.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

const form = (fields: Record<string, string>) => ({ method: "POST", body: new URLSearchParams(fields) })

/** Registers through the staff form; the member's id from the redirect. */
const register = async (name: string, email: string): Promise<string> => {
  const res = await app.request("/staff/members", form({ name, email }))
  expect(res.status).toBe(303)
  const location = res.headers.get("location") ?? ""
  expect(location).toMatch(/^\/staff\/members\//)
  return decodeURIComponent(location.slice("/staff/members/".length))
}

/** Records an access request through the staff page; the path of the e-mailed link. */
const requestAccess = async (memberId: string): Promise<string> => {
  const res = await app.request(`http://attacker.test/staff/members/${memberId}/access`, { method: "POST" })
  expect(res.status).toBe(200)
  const mail = mails.at(-1)
  if (mail === undefined) throw new Error("no e-mail sent")
  // The link starts with the configured address, never the request's Host.
  const url = new URL(mail.link)
  expect(url.origin).toBe("http://shop.test")
  return url.pathname
}

const hrefs = (html: string, pattern: RegExp): string[] =>
  [...html.matchAll(/href="([^"]+)"/g)]
    .map((m) => (m[1] ?? "").replaceAll("&amp;", "&"))
    .filter((h) => pattern.test(h))

describe("staff pages", () => {
  it("R11: the start page redirects to the staff page, which has the register form", async () => {
    const root = await app.request("/")
    expect(root.status).toBe(303)
    expect(root.headers.get("location")).toBe("/staff")
    const res = await app.request("/staff")
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).toContain('action="/staff/members"')
    expect(html).toContain("No open request.")
  })

  it("R11: registering a member leads to their staff page", async () => {
    const memberId = await register("Ewa Nowak", "ewa@example.org")
    const res = await app.request(`/staff/members/${memberId}`)
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).toContain("Staff: Ewa Nowak")
    expect(html).toContain("ewa@example.org")
    expect(html).toContain(`/staff/members/${memberId}/access`)
    expect(html).toContain(`/staff/members/${memberId}/erasure`)
  })

  it("R11: an unknown member is a plain 404", async () => {
    const res = await app.request("/staff/members/nobody")
    expect(res.status).toBe(404)
    expect(await res.text()).toContain("There is no such member.")
    expect(logged).toEqual(["self-service: GET /staff/members/nobody: MemberNotFound"])
  })

  it("R11, R13: an access request e-mails a link valid 24 hours and is listed with its deadline", async () => {
    const memberId = await register("Ewa Nowak", "ewa@example.org")
    await requestAccess(memberId)
    const [mail] = mails
    expect(mail?.to).toBe("ewa@example.org")
    expect(mail?.text).toContain(new Date(now + day).toISOString())
    const html = await (await app.request("/staff")).text()
    expect(html).toContain(`<td>access</td><td><a href="/staff/members/${memberId}">`)
    // Received 2 March, due 30 days later (accessDeadlineDays).
    expect(html).toContain("<td>2026-03-02</td><td>2026-04-01</td>")
  })

  it("R11: an erasure request is listed with its deadline, marked overdue after it, and forget fulfils it", async () => {
    const memberId = await register("Jan Kowalski", "jan@example.org")
    const recorded = await app.request(`/staff/members/${memberId}/erasure`, { method: "POST" })
    expect(recorded.status).toBe(303)
    expect(recorded.headers.get("location")).toBe("/staff")
    const [open] = await lethe.openRequests()
    expect(open).toMatchObject({ memberId, kind: "erasure", dueBy: new Date(now + 30 * day) })
    let html = await (await app.request("/staff")).text()
    expect(html).toContain(`<tr data-request="${open?.requestId}"><td>erasure</td>`)
    expect(html).toContain("<td>2026-04-01</td>")
    expect(html).not.toContain("(overdue)")

    now += 31 * day
    html = await (await app.request("/staff")).text()
    expect(html).toContain('<td class="overdue">2026-04-01 (overdue)</td>')

    const forgotten = await app.request(`/staff/members/${memberId}/forget`, { method: "POST" })
    expect(forgotten.status).toBe(303)
    expect(await lethe.openRequests()).toEqual([])
    expect(await (await app.request("/staff")).text()).toContain("No open request.")
  })

  it("R11: the staff pages escape what they show", async () => {
    const memberId = await register('<img src=x onerror="alert(1)">', "x@example.org")
    const html = await (await app.request(`/staff/members/${memberId}`)).text()
    expect(html).not.toContain("<img")
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;")
  })
})

describe("the person's link", () => {
  it("R13: shows the person's data as the export's page, with the downloads", async () => {
    const memberId = await register("Ewa Nowak", "ewa@example.org")
    const link = await requestAccess(memberId)
    const res = await app.request(link)
    expect(res.status).toBe(200)
    expect(res.headers.get("content-type")).toMatch(/^text\/html/)
    expect(res.headers.get("referrer-policy")).toBe("no-referrer")
    expect(res.headers.get("cache-control")).toBe("no-store")
    const html = await res.text()
    expect(html).toContain("Your data held by demo-club")
    expect(html).toContain("Ewa Nowak")
    expect(html).toContain("Download your data")
    expect(hrefs(html, /^\/download\//)).toHaveLength(3)
    // Opening it fulfilled the access request (R11).
    expect(await lethe.openRequests()).toEqual([])
  })

  it("R13: downloads the page as HTML, the document as JSON and each section as CSV", async () => {
    const memberId = await register("Ewa Nowak", "ewa@example.org")
    const link = await requestAccess(memberId)
    const html = await (await app.request(link)).text()

    const asHtml = await app.request(`${link}/download`)
    expect(asHtml.status).toBe(200)
    expect(asHtml.headers.get("content-disposition")).toBe(`attachment; filename="member-${memberId}.html"`)
    expect(await asHtml.text()).toContain("Ewa Nowak")

    const [, jsonHref, csvHref] = hrefs(html, /^\/download\//)
    const json = await app.request(jsonHref ?? "")
    expect(json.status).toBe(200)
    expect(json.headers.get("content-type")).toBe("application/json; charset=utf-8")
    expect(json.headers.get("content-disposition")).toBe(`attachment; filename="member-${memberId}.json"`)
    const document = (await json.json()) as { format: string; member: { memberId: string } }
    expect(document.format).toBe("lethe-member-export/2")
    expect(document.member.memberId).toBe(memberId)

    const list = await app.request(csvHref ?? "")
    expect(list.status).toBe(200)
    const files = hrefs(await list.text(), /\?file=/)
    expect(files.length).toBeGreaterThan(1)
    const personal = files.find((f) => f.endsWith("personal-data.csv"))
    const csv = await app.request(personal ?? "")
    expect(csv.status).toBe(200)
    expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8")
    expect(await csv.text()).toContain("Ewa Nowak")
    const missing = await app.request(`${csvHref}?file=nothing.csv`)
    expect(missing.status).toBe(404)
  })

  it("R13: downloads the data as a PDF with the person's name and every section", async () => {
    const memberId = await register("Łukasz Żółć", "lukasz@example.pl")
    const html = await (await app.request(await requestAccess(memberId))).text()
    const [pdfHref] = hrefs(html, /^\/download\//)
    expect(html).toContain('id="download-pdf"')
    const res = await app.request(pdfHref ?? "")
    expect(res.status).toBe(200)
    expect(res.headers.get("content-type")).toBe("application/pdf")
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="member-${memberId}.pdf"`)
    const bytes = new Uint8Array(await res.arrayBuffer())
    const { text } = await extractText(await getDocumentProxy(bytes), { mergePages: true })
    for (const expected of [
      "Łukasz Żółć",
      "lukasz@example.pl",
      "Personal data",
      "Who is responsible for your data",
      "What we hold, why, on which basis and for how long",
      "History",
      "Your rights",
      "Requests",
    ])
      expect(text).toContain(expected)
  })

  it("R13: a link past its 24 hours is refused with a plain 410 page", async () => {
    const memberId = await register("Ewa Nowak", "ewa@example.org")
    const link = await requestAccess(memberId)
    now += day - 1
    expect((await app.request(link)).status).toBe(200)
    now += 1
    for (const path of [link, `${link}/download`]) {
      const res = await app.request(path)
      expect(res.status).toBe(410)
      const html = await res.text()
      expect(html).toContain("This link has expired.")
      expect(html).not.toContain("Ewa")
      expect(html).not.toContain(memberId)
      expect(html).not.toMatch(/at .*\.ts:\d+/)
    }
  })

  it("R13: the page's download links expire after an hour", async () => {
    const memberId = await register("Ewa Nowak", "ewa@example.org")
    const html = await (await app.request(await requestAccess(memberId))).text()
    const [jsonHref] = hrefs(html, /^\/download\//)
    now += hour
    expect((await app.request(jsonHref ?? "")).status).toBe(410)
  })

  it("R13: a tampered link is refused with a plain 403 page", async () => {
    const memberId = await register("Ewa Nowak", "ewa@example.org")
    const link = await requestAccess(memberId)
    const token = link.slice("/me/".length)
    // Flip one character of the payload: the signature no longer matches.
    const flipped = `${token[0] === "A" ? "B" : "A"}${token.slice(1)}`
    const html = await (await app.request(link)).text()
    const [jsonHref] = hrefs(html, /^\/download\//)
    const jsonToken = (jsonHref ?? "").slice("/download/".length)
    const lastFlipped = `${jsonToken.slice(0, -1)}${jsonToken.endsWith("A") ? "B" : "A"}`
    for (const path of [
      `/me/${flipped}`,
      `/me/${flipped}/download`,
      `/download/${lastFlipped}`,
      "/me/not-a-token",
    ]) {
      const res = await app.request(path)
      expect(res.status).toBe(403)
      const body = await res.text()
      expect(body).toContain("This link is not valid.")
      expect(body).not.toContain("Ewa")
      expect(body).not.toContain(memberId)
    }
  })

  it("R13: once the member is forgotten, the link shows no data", async () => {
    const memberId = await register("Ewa Nowak", "ewa@example.org")
    const link = await requestAccess(memberId)
    await app.request(`/staff/members/${memberId}/forget`, { method: "POST" })
    const res = await app.request(link)
    expect(res.status).toBe(410)
    const body = await res.text()
    expect(body).toContain("it has been erased")
    expect(body).not.toContain("Ewa")
  })

  it("R13: a download link is not a page, and an unknown path is a plain 404", async () => {
    const memberId = await register("Ewa Nowak", "ewa@example.org")
    const html = await (await app.request(await requestAccess(memberId))).text()
    const [jsonHref] = hrefs(html, /^\/download\//)
    const asPage = await app.request(`/me/${(jsonHref ?? "").slice("/download/".length)}`)
    expect(asPage.status).toBe(403)
    const unknown = await app.request("/nowhere")
    expect(unknown.status).toBe(404)
    expect(await unknown.text()).toContain("There is no such page.")
  })
})
