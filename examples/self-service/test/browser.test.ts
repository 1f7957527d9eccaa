/**
 * End to end in headless Chromium (the system's `chromium`, driven by
 * puppeteer-core, which never downloads a browser): staff register a member
 * and record an access request in the browser, the person opens the e-mailed
 * link, sees their name and every section, downloads the JSON, and the page
 * renders (a screenshot with real content). Skipped, with the reason, when
 * no Chromium is installed.
 */
import { execFileSync } from "node:child_process"
import fs from "node:fs"
import type { AddressInfo } from "node:net"
import os from "node:os"
import path from "node:path"
import { serve } from "@hono/node-server"
import type { LetheClient } from "@lethe/core"
import type { Browser } from "puppeteer-core"
import puppeteer from "puppeteer-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Mail, openLethe, selfServiceApp } from "../src/app.js"

/** The first Chromium on the PATH that answers `--version`, as an absolute path (puppeteer-core needs one). */
const chromium = ["chromium", "chromium-browser", "google-chrome"]
  .flatMap((name) => (process.env.PATH ?? "").split(path.delimiter).map((dir) => path.join(dir, name)))
  .find((file) => {
    try {
      fs.accessSync(file, fs.constants.X_OK)
      execFileSync(file, ["--version"], { stdio: "ignore" })
      return true
    } catch {
      return false
    }
  })

/** Width, height, bit depth and colour type from a PNG's IHDR chunk; throws if it is no PNG. */
const pngHeader = (png: Uint8Array) => {
  const bytes = Buffer.from(png)
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  if (!bytes.subarray(0, 8).equals(signature) || bytes.toString("ascii", 12, 16) !== "IHDR")
    throw new Error("not a PNG")
  return {
    width: bytes.readUInt32BE(16),
    height: bytes.readUInt32BE(20),
    depth: bytes[24],
    colour: bytes[25],
  }
}

describe.skipIf(chromium === undefined)(
  "in headless Chromium (skipped when Chromium is not installed: apt-get install chromium)",
  () => {
    let dir: string
    let lethe: LetheClient
    let server: ReturnType<typeof serve>
    let origin: string
    let browser: Browser
    const mails: Mail[] = []

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "lethe-self-service-browser-"))
      lethe = await openLethe({ filename: path.join(dir, "browser.db") })
      const app = selfServiceApp({ lethe, baseUrl: () => origin, mail: (m) => mails.push(m) })
      server = await new Promise<ReturnType<typeof serve>>((resolve) => {
        const started = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(started))
      })
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      browser = await puppeteer.launch({
        executablePath: chromium as string,
        headless: true,
        args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
      })
    })

    afterAll(async () => {
      await browser?.close()
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
      await lethe?.close()
      if (dir) fs.rmSync(dir, { recursive: true, force: true })
    })

    it("R11, R13: staff record an access request; the person's link shows their data, downloads JSON and renders", async () => {
      const page = await browser.newPage()
      await page.setViewport({ width: 1024, height: 900 })

      // Staff: register a member and record an access request, through the forms.
      await page.goto(`${origin}/staff`)
      await page.type('input[name="name"]', "Ewa Nowak")
      await page.type('input[name="email"]', "ewa@example.org")
      await Promise.all([page.waitForNavigation(), page.click("form[action='/staff/members'] button")])
      expect(await page.title()).toBe("Staff: Ewa Nowak")
      await Promise.all([page.waitForNavigation(), page.click("form[action$='/access'] button")])
      expect(await page.$eval("h1", (h) => h.textContent)).toBe("Access request recorded")
      const [mail] = mails
      expect(mail?.to).toBe("ewa@example.org")
      const link = mail?.link ?? ""
      expect(link.startsWith(`${origin}/me/`)).toBe(true)

      // The sections the export's page has, from the server's own HTML download.
      const exported = await (await fetch(`${link}/download`)).text()
      const sections = [...exported.matchAll(/<h2 id="[^"]+">([^<]+)<\/h2>/g)].map((m) => m[1])
      expect(sections).toEqual(expect.arrayContaining(["Personal data", "Requests", "Exports"]))

      // The person opens the link.
      const response = await page.goto(link)
      expect(response?.status()).toBe(200)
      const text = await page.$eval("body", (b) => b.textContent)
      expect(text).toContain("Ewa Nowak")
      const headings = await page.$$eval("h2", (hs) => hs.map((h) => h.textContent?.trim()))
      expect(headings).toEqual(["Download your data", ...sections])

      // A real download of the JSON, into a folder the browser is told to use.
      const downloads = path.join(dir, "downloads")
      fs.mkdirSync(downloads)
      const cdp = await page.createCDPSession()
      await cdp.send("Browser.setDownloadBehavior", { behavior: "allow", downloadPath: downloads })
      await page.click("#download-json")
      const fileName = await (async () => {
        for (let i = 0; i < 100; i++) {
          const done = fs.readdirSync(downloads).find((f) => f.endsWith(".json"))
          if (done !== undefined) return done
          await new Promise((r) => setTimeout(r, 100))
        }
        throw new Error(`no JSON downloaded: ${fs.readdirSync(downloads).join(", ")}`)
      })()
      const downloaded = JSON.parse(fs.readFileSync(path.join(downloads, fileName), "utf8")) as {
        format: string
        member: { memberId: string }
      }
      expect(downloaded.format).toBe("lethe-member-export/2")
      expect(fileName).toBe(`member-${downloaded.member.memberId}.json`)

      // The page renders: a PNG (decoded by the browser itself, in a blank page with no CSP) the size of the viewport, larger than a blank page's, with many colours.
      const shot = await page.screenshot({ type: "png" })
      expect(pngHeader(shot)).toMatchObject({ width: 1024, height: 900 })
      const blank = await browser.newPage()
      await blank.setViewport({ width: 1024, height: 900 })
      const blankShot = await blank.screenshot({ type: "png" })
      expect(shot.length).toBeGreaterThan(5_000)
      expect(shot.length).toBeGreaterThan(3 * blankShot.length)
      const colours = await blank.evaluate(
        async (dataUrl: string) => {
          const image = new Image()
          image.src = dataUrl
          await image.decode()
          const canvas = document.createElement("canvas")
          canvas.width = image.width
          canvas.height = image.height
          const context = canvas.getContext("2d")
          if (context === null) return { distinct: 0, dark: 0 }
          context.drawImage(image, 0, 0)
          const pixels = context.getImageData(0, 0, image.width, image.height).data
          const seen = new Set<number>()
          let dark = 0
          for (let i = 0; i < pixels.length; i += 4) {
            const [r = 0, g = 0, b = 0] = [pixels[i], pixels[i + 1], pixels[i + 2]]
            seen.add((r << 16) | (g << 8) | b)
            if (r + g + b < 200) dark++
          }
          return { distinct: seen.size, dark }
        },
        `data:image/png;base64,${Buffer.from(shot).toString("base64")}`,
      )
      expect(colours.distinct).toBeGreaterThan(10)
      expect(colours.dark).toBeGreaterThan(1_000)
      await blank.close()
      await page.close()
    })

    it("R13: on a narrow screen no word of the export's page is broken between lines", async () => {
      const email = "anna.kowalska-nowak.z.bardzo.dluga.nazwa@przykladowa-domena.example.pl"
      const registered = await fetch(`${origin}/staff/members`, {
        method: "POST",
        body: new URLSearchParams({ name: "Anna Kowalska-Nowak Åsa-Öberg", email }),
        redirect: "manual",
      })
      const memberPath = registered.headers.get("location") ?? ""
      await fetch(`${origin}${memberPath}/access`, { method: "POST" })
      const link = mails.at(-1)?.link ?? ""
      const page = await browser.newPage()
      await page.setViewport({ width: 480, height: 800 })
      expect((await page.goto(link))?.status()).toBe(200)
      const text = await page.$eval("body", (b) => b.textContent ?? "")
      expect(text).toContain(email)
      // Every word (text between spaces) of every text node lies on one line: one line box, one top.
      const broken = await page.evaluate(() => {
        const found: Array<string> = []
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT)
        for (let node = walker.nextNode(); node !== null; node = walker.nextNode()) {
          const value = node.nodeValue ?? ""
          for (const match of value.matchAll(/\S+/g)) {
            const range = document.createRange()
            range.setStart(node, match.index ?? 0)
            range.setEnd(node, (match.index ?? 0) + match[0].length)
            const tops = new Set(Array.from(range.getClientRects(), (r) => Math.round(r.top)))
            if (tops.size > 1) found.push(match[0])
          }
        }
        return found
      })
      expect(broken).toEqual([])
      await page.close()
    })

    it("R13: a tampered link shows the plain refusal page in the browser", async () => {
      const page = await browser.newPage()
      const link = mails[0]?.link ?? `${origin}/me/x`
      const token = link.slice(link.lastIndexOf("/") + 1)
      const response = await page.goto(`${origin}/me/${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`)
      expect(response?.status()).toBe(403)
      const text = await page.$eval("body", (b) => b.textContent)
      expect(text).toContain("This link is not valid.")
      expect(text).not.toContain("Ewa")
      await page.close()
    })
  },
)
