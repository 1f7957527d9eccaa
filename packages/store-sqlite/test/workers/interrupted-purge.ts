/**
 * A separate process for the interrupted-erasure test: on `<filename>`,
 * registers a member with a name and an e-mail, forgets it, and purges it
 * after the restore window, killing itself (SIGKILL) when the purge starts
 * destroying keys: the `Purged` event is committed, no key is destroyed.
 * Prints the member's id first.
 *
 * Usage: node --conditions=@lethe/source --import tsx interrupted-purge.ts <filename> <secret>
 */
import { createLethe, keyringFromSecret } from "@lethe/core"
import { sqliteStore } from "@lethe/store-sqlite"

const [filename, secret] = process.argv.slice(2)
if (filename === undefined || secret === undefined)
  throw new Error("usage: interrupted-purge.ts <filename> <secret>")

let now = Date.parse("2026-03-01T00:00:00Z")
const store = sqliteStore({ filename })
store.keys.destroy = () => {
  process.kill(process.pid, "SIGKILL")
  return new Promise(() => {})
}
const lethe = await createLethe({ store, keyring: keyringFromSecret(secret), clock: () => new Date(now) })
const actor = { id: "staff:admin", roles: ["admin"] }
const { memberId } = await lethe.register({
  tenantId: "gym",
  personal: { name: "Zofia Wójcik", email: "zofia@example.org" },
  source: "staff",
})
process.stdout.write(`${memberId}\n`)
await lethe.forget(memberId, { actor })
now += 8 * 86_400_000
await lethe.purge(memberId, { actor })
process.stdout.write("the purge was not interrupted\n")
