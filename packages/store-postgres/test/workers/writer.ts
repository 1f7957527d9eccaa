/**
 * One application process of the multi-process test (multi-process.test.ts):
 * opens the store on its own `pg` Pool (racing the other processes' first
 * open and migration), then, through `createLethe`, registers members of its
 * own, tries to register the e-mails every process tries, and records
 * visits on the members all processes share. Prints what it did as one line
 * of JSON.
 *
 * Usage: writer.ts <url> <schema> <process number> <shared e-mails> <own members> <visits> <shared member ids, comma separated>
 */
import { createLethe, keyringFromSecret } from "@lethe/core"
import { postgresStore } from "@lethe/store-postgres"
import pg from "pg"

const [url = "", schema = "", n = "0", sharedEmails = "0", ownMembers = "0", visits = "0", shared = ""] =
  process.argv.slice(2)
const pool = new pg.Pool({ connectionString: url, max: 4 })
const keyring = keyringFromSecret("store-postgres multi-process test secret, long enough")
const admin = { id: "staff:admin", roles: ["admin"] } as const
const sharedIds = shared.split(",").filter((id) => id.length > 0)

const lethe = await createLethe({ store: await postgresStore({ pool, schema }), keyring, retries: 200 })
const outcome = {
  process: Number(n),
  own: [] as Array<string>,
  emailsWon: [] as Array<string>,
  emailsTaken: 0,
  visits: [] as Array<string>,
  failures: [] as Array<string>,
}
try {
  // Interleaved, so the processes' appends to the shared e-mails, their own members and the shared
  // members overlap in time.
  for (let i = 0; i < Math.max(Number(sharedEmails), Number(ownMembers), Number(visits)); i++) {
    if (i < Number(sharedEmails)) {
      const email = `shared-${i}@example.org`
      await lethe
        .register({ tenantId: "gym", personal: { name: `Shared ${i}`, email }, source: "import" })
        .then(
          () => outcome.emailsWon.push(email),
          (e: { readonly _tag?: string }) =>
            e._tag === "EmailTaken" ? outcome.emailsTaken++ : outcome.failures.push(String(e._tag)),
        )
    }
    if (i < Number(ownMembers)) {
      const { memberId } = await lethe.register({
        tenantId: "gym",
        personal: { name: `P${n} member ${i}`, email: `p${n}-${i}@example.org` },
        source: "import",
      })
      outcome.own.push(memberId)
    }
    if (i < Number(visits) && sharedIds.length > 0) {
      const memberId = sharedIds[i % sharedIds.length] as string
      const clubId = `p${n}-club-${i}`
      await lethe.recordActivity(memberId, { kind: "visit", clubId, actor: admin }).then(
        () => outcome.visits.push(clubId),
        (e: { readonly _tag?: string }) => outcome.failures.push(String(e._tag)),
      )
    }
  }
} finally {
  await lethe.close()
  await pool.end()
}
process.stdout.write(`${JSON.stringify(outcome)}\n`)
