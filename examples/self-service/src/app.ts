/**
 * A self-service web application over Lethe (Hono, SQLite): staff record
 * access and erasure requests and see the open ones with their deadlines
 * (R11); the person opens the signed link e-mailed to them (valid 24 hours,
 * R13), sees everything held about them as a page and downloads it as PDF,
 * HTML, JSON or CSV. An expired or tampered link gets a plain refusal page.
 *
 * The staff pages have no authentication: every staff action is taken as one
 * fixed demo actor. A real deployment puts them behind its own login and
 * passes the signed-in person as the actor.
 *
 * @module
 */
import type { Actor, ExportFormat, ExportResult, LetheClient } from "@lethe/core"
import { createLethe, keyringFromSecret } from "@lethe/core"
import { escapeHtml } from "@lethe/core/audit"
import { sqliteStore } from "@lethe/store-sqlite"
import type { Context } from "hono"
import { Hono } from "hono"

/** For the example only: a real deployment reads 32+ random bytes from its secret store. */
const demoSecret = "self-service example secret, never use it for real data"

/** The one staff actor of the demo (no login): `admin` holds every permission by default. */
export const demoStaff: Actor = { id: "staff:demo", roles: ["admin"] }

/** The tenant the demo registers its members in. */
export const demoTenant = "demo-club"

/** How long the download links minted when the person opens their page work: one hour from then. */
const downloadValidity = 60 * 60 * 1000

/** An e-mail the application sends; the demo prints it to the console. */
export interface Mail {
  readonly to: string
  readonly subject: string
  readonly text: string
  /** The link the e-mail carries. */
  readonly link: string
}

/** Opens Lethe over a SQLite file, with a clock the tests can move. */
export const openLethe = (options: {
  readonly filename: string
  readonly clock?: () => Date
}): Promise<LetheClient> =>
  createLethe({
    store: sqliteStore({ filename: options.filename }),
    keyring: keyringFromSecret(demoSecret),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  })

export interface SelfServiceOptions {
  readonly lethe: LetheClient
  /** Sends an e-mail; `main.ts` prints it. */
  readonly mail: (mail: Mail) => void
  /**
   * The application's public address, e.g. `https://shop.example`, that e-mailed links start with: configured,
   * never taken from the request's `Host` header, which a client chooses (a link sent to the person must not
   * point to another site). A function when it is known only once the server listens.
   */
  readonly baseUrl: string | (() => string)
  /** Who acts on the staff pages (default `demoStaff`). */
  readonly staff?: Actor
  /** The time the staff pages compare deadlines with: the clock Lethe was given (default the system's). */
  readonly clock?: () => Date
  /** Where failed requests are logged, one line each, never a token or personal data (default `console.error`). */
  readonly log?: (line: string) => void
}

const day = (date: Date): string => date.toISOString().slice(0, 10)

const page = (title: string, body: string): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem; color: #111; max-width: 60rem; }
table { border-collapse: collapse; } th, td { border: 1px solid #bbb; padding: .3rem .6rem; text-align: left; }
form { margin: .5rem 0; } .overdue { color: #a00; font-weight: bold; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>
`

/** A plain refusal: a short message, no stack trace, no personal data. */
const refusal = (c: Context, status: 403 | 404 | 410 | 500, message: string) =>
  c.html(page("Not available", `<p>${escapeHtml(message)}</p>`), status)

const refusalFor = (c: Context, error: unknown) => {
  const tag = typeof error === "object" && error !== null && "_tag" in error ? error._tag : undefined
  if (tag === "ExportLinkInvalid") {
    const reason = (error as { readonly reason: string }).reason
    return reason === "expired"
      ? refusal(c, 410, "This link has expired. Ask us for a new one.")
      : refusal(c, 403, "This link is not valid. Check that you copied it whole, or ask us for a new one.")
  }
  if (tag === "MemberErased" || tag === "MemberNotFound")
    return refusal(c, 410, "There is no data left to show: it has been erased.")
  return refusal(c, 500, "Something went wrong. Please try again later.")
}

const attachment = (c: Context, fileName: string, mediaType: string, content: string | Uint8Array) =>
  c.body(typeof content === "string" ? content : new Uint8Array(content), 200, {
    "Content-Type": mediaType,
    "Content-Disposition": `attachment; filename="${fileName.replace(/[^A-Za-z0-9._-]/g, "_")}"`,
  })

/** The Hono application: staff pages under `/staff`, the person's pages under `/me` and `/download`. */
export const selfServiceApp = (options: SelfServiceOptions): Hono => {
  const { lethe, mail } = options
  const baseUrl = () => (typeof options.baseUrl === "string" ? options.baseUrl : options.baseUrl())
  const staff = options.staff ?? demoStaff
  const clock = options.clock ?? (() => new Date())
  const log = options.log ?? ((line: string) => console.error(line))
  const app = new Hono()

  // Links carry tokens: never sent on to another site, never cached. Pages run no script.
  app.use(async (c, next) => {
    await next()
    c.header("Referrer-Policy", "no-referrer")
    c.header("Cache-Control", "no-store")
    c.header("X-Content-Type-Options", "nosniff")
    c.header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
  })

  app.get("/", (c) => c.redirect("/staff", 303))

  /** Staff: register a member, and the open requests with their deadlines (R11). */
  app.get("/staff", async (c) => {
    const now = clock().getTime()
    const open = await lethe.openRequests()
    const rows = open
      .map((r) => {
        const overdue = r.dueBy.getTime() < now
        return `<tr data-request="${escapeHtml(r.requestId)}"><td>${escapeHtml(r.kind)}</td><td><a href="/staff/members/${encodeURIComponent(r.memberId)}">${escapeHtml(r.memberId)}</a></td><td>${day(r.receivedAt)}</td><td${overdue ? ' class="overdue"' : ""}>${day(r.dueBy)}${overdue ? " (overdue)" : ""}</td></tr>`
      })
      .join("\n")
    return c.html(
      page(
        "Staff: requests",
        `<p>Demo without login: every action here is taken as <code>${escapeHtml(staff.id)}</code>.</p>
<h2>Open requests</h2>
${open.length === 0 ? "<p>No open request.</p>" : `<table><thead><tr><th>kind</th><th>member</th><th>received</th><th>due by</th></tr></thead><tbody>\n${rows}\n</tbody></table>`}
<h2>Register a demo member</h2>
<form method="post" action="/staff/members">
<label>Name <input name="name" required></label>
<label>E-mail <input name="email" type="email" required></label>
<button>Register</button>
</form>`,
      ),
    )
  })

  app.post("/staff/members", async (c) => {
    const form = await c.req.parseBody()
    const name = typeof form.name === "string" ? form.name : ""
    const email = typeof form.email === "string" ? form.email : ""
    const { memberId } = await lethe.register({
      tenantId: demoTenant,
      personal: { name, email },
      source: "staff",
      actor: staff,
    })
    return c.redirect(`/staff/members/${encodeURIComponent(memberId)}`, 303)
  })

  app.get("/staff/members/:id", async (c) => {
    const memberId = c.req.param("id")
    const member = await lethe.get(memberId)
    const action = (path: string, label: string) =>
      `<form method="post" action="/staff/members/${encodeURIComponent(memberId)}/${path}"><button>${escapeHtml(label)}</button></form>`
    return c.html(
      page(
        `Staff: ${member.displayName}`,
        `<p><a href="/staff">Open requests</a></p>
<table><tbody>
<tr><th>member</th><td>${escapeHtml(member.memberId)}</td></tr>
<tr><th>status</th><td>${escapeHtml(member.status)}</td></tr>
<tr><th>e-mail</th><td>${escapeHtml(member.personal.email ?? "")}</td></tr>
</tbody></table>
${action("access", "Record an access request and e-mail the link")}
${action("erasure", "Record an erasure request")}
${action("forget", "Forget the member (fulfils the open requests)")}`,
      ),
    )
  })

  /** An access request (R11), answered with a signed link valid 24 hours (R13) e-mailed to the person. */
  app.post("/staff/members/:id/access", async (c) => {
    const memberId = c.req.param("id")
    const member = await lethe.get(memberId)
    const request = await lethe.requestAccess(memberId, { via: "staff", actor: staff })
    const link = await lethe.createExportLink(memberId, {
      format: "html",
      requestId: request.requestId,
      actor: staff,
    })
    const url = new URL(`/me/${link.token}`, baseUrl()).href
    mail({
      to: member.personal.email ?? "",
      subject: "Your data: your download link",
      text: `You asked for a copy of your data. Open this link before ${link.expiresAt.toISOString()} to see it and download it:\n${url}\n`,
      link: url,
    })
    return c.html(
      page(
        "Access request recorded",
        `<p>Request <code>${escapeHtml(request.requestId)}</code>, due by ${day(request.dueBy)}. The link was e-mailed to the person (printed on the server's console); it works until ${escapeHtml(link.expiresAt.toISOString())}.</p>
<p><a href="/staff">Open requests</a></p>`,
      ),
    )
  })

  app.post("/staff/members/:id/erasure", async (c) => {
    const memberId = c.req.param("id")
    await lethe.requestErasure(memberId, { via: "staff", actor: staff })
    return c.redirect("/staff", 303)
  })

  app.post("/staff/members/:id/forget", async (c) => {
    const memberId = c.req.param("id")
    await lethe.forget(memberId, { actor: staff })
    return c.redirect("/staff", 303)
  })

  /** The person's page: the export's own HTML, with the downloads above it. */
  app.get("/me/:token", async (c) => {
    const token = c.req.param("token")
    let result: ExportResult
    try {
      result = await lethe.redeemExportLink(token)
    } catch (error) {
      return refusalFor(c, error)
    }
    if (result.format !== "html") return refusal(c, 403, "This link is a download link, not a page.")
    const { memberId } = result.document.member
    const requestId = result.document.requestId ?? undefined
    const mint = (format: ExportFormat) =>
      lethe.createExportLink(memberId, {
        format,
        actor: staff,
        validFor: downloadValidity,
        ...(requestId === undefined ? {} : { requestId }),
      })
    const [pdf, json, csv] = await Promise.all([mint("pdf"), mint("json"), mint("csv")])
    const nav = `<nav aria-label="Downloads">
<h2 id="downloads">Download your data</h2>
<ul>
<li><a id="download-pdf" href="/download/${encodeURIComponent(pdf.token)}" download>PDF (to read and print)</a></li>
<li><a href="/me/${encodeURIComponent(token)}/download" download>HTML (this page)</a></li>
<li><a id="download-json" href="/download/${encodeURIComponent(json.token)}" download>JSON (machine-readable)</a></li>
<li><a id="download-csv" href="/download/${encodeURIComponent(csv.token)}">CSV (one file per section)</a></li>
</ul>
<p>These download links work for one hour.</p>
</nav>`
    // The export's page is complete and escaped already; the downloads go right after its <body>.
    return c.html(result.content.replace("<body>", `<body>\n${nav}`))
  })

  app.get("/me/:token/download", async (c) => {
    try {
      const result = await lethe.redeemExportLink(c.req.param("token"))
      if (result.format !== "html") return refusal(c, 403, "This link is not valid.")
      return attachment(c, result.fileName, result.mediaType, result.content)
    } catch (error) {
      return refusalFor(c, error)
    }
  })

  /** A download link: PDF, JSON or HTML as one file, CSV as a list of files (`?file=` one of them). */
  app.get("/download/:token", async (c) => {
    const token = c.req.param("token")
    let result: ExportResult
    try {
      result = await lethe.redeemExportLink(token)
    } catch (error) {
      return refusalFor(c, error)
    }
    if (result.format !== "csv") return attachment(c, result.fileName, result.mediaType, result.content)
    const file = c.req.query("file")
    if (file === undefined) {
      const items = Object.keys(result.files)
        .map(
          (name) =>
            `<li><a href="/download/${encodeURIComponent(token)}?file=${encodeURIComponent(name)}" download>${escapeHtml(name)}</a></li>`,
        )
        .join("\n")
      return c.html(page("Your data as CSV", `<p>One file per section.</p>\n<ul>\n${items}\n</ul>`))
    }
    const content = Object.hasOwn(result.files, file) ? result.files[file] : undefined
    if (content === undefined) return refusal(c, 404, "There is no such file.")
    return attachment(c, file, result.mediaType, content)
  })

  app.notFound((c) => refusal(c, 404, "There is no such page."))
  // Never a stack trace, never personal data: the error is logged, the page is plain.
  app.onError((error, c) => {
    const tag =
      typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : error.name
    log(`self-service: ${c.req.method} ${c.req.path.startsWith("/staff") ? c.req.path : "(link)"}: ${tag}`)
    if (tag === "MemberNotFound") return refusal(c, 404, "There is no such member.")
    return refusalFor(c, error)
  })
  return app
}
