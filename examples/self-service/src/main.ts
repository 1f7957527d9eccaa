/**
 * Starts the self-service example on `PORT` (default 3000) over
 * `./self-service.db` (or `SELF_SERVICE_DB`), and prints every e-mail it
 * would send, with its link, to the console.
 *
 * Run it with `npm start -w @lethe-examples/self-service`.
 */
import { serve } from "@hono/node-server"
import { openLethe, selfServiceApp } from "./app.js"

const port = Number(process.env.PORT ?? 3000)
const filename = process.env.SELF_SERVICE_DB ?? "./self-service.db"
const lethe = await openLethe({ filename })
// The address e-mailed links start with: SELF_SERVICE_URL, else this machine once the port is known.
let baseUrl = process.env.SELF_SERVICE_URL ?? `http://localhost:${port}`
const app = selfServiceApp({
  lethe,
  baseUrl: () => baseUrl,
  mail: (mail) => {
    console.log(`\n--- e-mail to ${mail.to}: ${mail.subject}\n${mail.text}---`)
  },
})

const server = serve({ fetch: app.fetch, port }, (info) => {
  baseUrl = process.env.SELF_SERVICE_URL ?? `http://localhost:${info.port}`
  console.log(`Lethe self-service on http://localhost:${info.port}/staff (data in ${filename})`)
})

// Ctrl-C: stop taking requests, close the database, exit (open browser connections do not hold it up).
const stop = async () => {
  server.close()
  await lethe.close()
  process.exit(0)
}
process.on("SIGINT", () => void stop())
process.on("SIGTERM", () => void stop())
