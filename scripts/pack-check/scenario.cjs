// The scenario the pack check runs against the installed tarballs, once from
// an ESM program (esm.mjs, `import`) and once from a CommonJS one (cjs.cjs,
// `require`). It receives the packages' exports, so the same steps run on
// whichever build the program loaded. Each store: register a member, forget
// them, check nothing finds or records them, let the restore window pass,
// purge them with the retention run, and verify the signed erasure receipt.
"use strict"

const day = 24 * 60 * 60 * 1000

/** One line per store, the same whatever the store: what the check compares. */
const lifecycle = async (core, label, store) => {
  let now = Date.parse("2026-01-05T10:00:00.000Z")
  const keyring = core.keyringFromSecret("pack-check: a secret of at least 32 bytes")
  const lethe = await core.createLethe({ store, keyring, clock: () => new Date(now) })
  const staff = { id: "staff:pack-check", roles: ["admin"] }
  try {
    const { memberId } = await lethe.register({
      tenantId: "club",
      personal: { name: "Ada Lovelace", email: "ada@example.org" },
      source: "staff",
    })
    const statuses = [(await lethe.get(memberId)).status]
    await lethe.forget(memberId, { actor: staff })
    statuses.push((await lethe.get(memberId)).status)
    const found = await lethe.findByEmail("club", "ada@example.org")
    const refusal = await lethe.recordActivity(memberId, { kind: "visit" }).then(
      () => "accepted",
      (error) => error._tag,
    )
    now += 8 * day
    const report = await lethe.runRetention()
    statuses.push((await lethe.get(memberId)).status)
    const receipt = await lethe.erasureReceipt(memberId)
    const verified = core.verifyReceipt(receipt, await keyring.receiptPublicKey())
    return [
      `${label}: ${statuses.join(" -> ")}`,
      `findByEmail after forget: ${found === null ? "nobody" : "FOUND"}`,
      `recordActivity after forget: ${refusal}`,
      `purged by runRetention: ${report.executed.length}`,
      `erasure receipt verified: ${verified}`,
    ].join("; ")
  } finally {
    await lethe.close()
  }
}

/**
 * Runs the scenario on every store and prints one line each, prefixed with
 * the program's format.
 */
module.exports = async function run({
  format,
  core,
  memoryStore,
  sqliteStore,
  postgresStore,
  PGlite,
  dbFile,
}) {
  const say = (line) => process.stdout.write(`${format} ${line}\n`)
  say(await lifecycle(core, "memory", memoryStore()))
  say(await lifecycle(core, "sqlite", sqliteStore({ filename: dbFile })))
  const pglite = new PGlite()
  try {
    say(await lifecycle(core, "postgres (PGlite)", await postgresStore({ pool: pglite })))
  } finally {
    await pglite.close()
  }
}
