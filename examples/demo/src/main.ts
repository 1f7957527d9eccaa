/**
 * The README demo (`npm start`): a gym member whose anonymization is refused
 * with every reason at once, then succeeds with a reminder once the blockers
 * are cleared; and a newsletter subscriber who unsubscribes, subscribes again,
 * is forgotten and comes back within the restore window.
 */
import type { Actor, LetheClient } from "@lethe/core"
import { createLethe, keyringFromSecret } from "@lethe/core"
import { memoryStore } from "@lethe/store-memory"

const day = 86_400_000

/** A clock the demo moves forward, so the restore window can be shown in seconds. */
const makeClock = (start: Date) => {
  let now = start.getTime()
  return {
    now: () => new Date(now),
    advance: (days: number) => {
      now += days * day
    },
  }
}

const say = (line = "") => process.stdout.write(`${line}\n`)
const step = (title: string) => say(`\n== ${title}`)

const describeError = (error: unknown): string => {
  if (typeof error === "object" && error !== null && "_tag" in error) {
    const reasons = "reasons" in error && Array.isArray(error.reasons) ? ` [${error.reasons.join(", ")}]` : ""
    return `${String(error._tag)}${reasons}`
  }
  return String(error)
}

const refused = async (what: string, attempt: Promise<unknown>) => {
  try {
    await attempt
    say(`  ${what}: accepted (unexpected!)`)
    process.exitCode = 1
  } catch (error) {
    say(`  ${what}: refused with ${describeError(error)}`)
  }
}

const gym = async (lethe: LetheClient, clock: ReturnType<typeof makeClock>, manager: Actor) => {
  step("Gym club: anonymizing a member (R25, R27)")
  const { memberId } = await lethe.register({
    tenantId: "fitnet",
    personal: { name: "Marta Wiśniewska", email: "marta@example.pl", phone: "+48 600 700 800" },
    source: { kind: "staff", tag: "front-desk" },
    actor: manager,
  })
  await lethe.signContract(memberId, {
    contractId: "c-2026",
    clubId: "warsaw-centre",
    startsAt: new Date(clock.now().getTime() - 30 * day),
    endsAt: null,
  })
  await lethe.creditWallet(memberId, { amount: 5_000 })
  await lethe.openDebtCase(memberId, { caseId: "debt-17", clubId: "krakow-old-town" })
  await lethe.recordPurchase(memberId, { purchaseId: "p-shake", amount: 1_200, paid: false })
  await lethe.recordActivity(memberId, { kind: "visit", clubId: "warsaw-centre" })
  say(
    `  registered ${memberId}: active contract, 50.00 in the wallet, a debt case in another club, an unpaid shake`,
  )

  await refused("anonymize", lethe.anonymize(memberId, { actor: manager, confirmEmail: "wrong@example.pl" }))

  await lethe.endContract(memberId, { contractId: "c-2026" })
  await lethe.debitWallet(memberId, { amount: 5_000 })
  await lethe.closeDebtCase(memberId, { caseId: "debt-17" })
  say("  contract ended, wallet paid out, debt case closed")

  const done = await lethe.anonymize(memberId, { actor: manager, confirmEmail: "  MARTA@example.pl " })
  say(`  anonymize: done; erased ${done.erasedCategories.join(", ")}; reminders: ${done.warnings.join(", ")}`)
  const after = await lethe.get(memberId)
  say(
    `  the member now shows as "${after.displayName}", status ${after.status}, visits kept for statistics: ${after.counts.visit}`,
  )
}

const newsletter = async (lethe: LetheClient, clock: ReturnType<typeof makeClock>, admin: Actor) => {
  step("Newsletter: unsubscribe is not forget (R4); forget and restore within 7 days (R1, R5)")
  const email = "jan.kowalski@example.org"
  const first = await lethe.subscribe({
    tenantId: "shop",
    email,
    name: "Jan Kowalski",
    purpose: "newsletter",
    source: { kind: "form", tag: "footer" },
    method: "double-opt-in",
  })
  const memberId = first.memberId
  say(`  subscribed: ${first.outcome} ${memberId}`)
  await lethe.sendMessage(memberId, { purpose: "newsletter", channel: "email", sentBy: "campaign:spring" })
  say("  spring newsletter sent")

  await lethe.unsubscribe(memberId, { purpose: "newsletter", via: "link" })
  await refused(
    "summer newsletter after unsubscribe",
    lethe.sendMessage(memberId, { purpose: "newsletter", channel: "email", sentBy: "campaign:summer" }),
  )
  const again = await lethe.subscribe({ tenantId: "shop", email, purpose: "newsletter", source: "form" })
  say(`  subscribed again: ${again.outcome}; profile and history kept`)

  await lethe.forget(memberId, { actor: admin })
  const found = await lethe.findByEmail("shop", email)
  const hits = await lethe.search("shop", "kowalski")
  say(
    `  forgotten: findByEmail -> ${found === null ? "nothing" : found.memberId}, search -> ${hits.length} hits`,
  )
  await refused(
    "test message to a forgotten member",
    lethe.sendMessage(memberId, { purpose: "newsletter", channel: "email", sentBy: "staff:ola", test: true }),
  )

  clock.advance(3)
  const back = await lethe.subscribe({ tenantId: "shop", email, purpose: "newsletter", source: "form" })
  const restored = await lethe.get(back.memberId)
  say(
    `  3 days later the person subscribes again: ${back.outcome} the same member (${back.memberId === memberId}), name "${restored.personal.name}"`,
  )

  await lethe.forget(memberId, { actor: admin })
  clock.advance(8)
  await refused("restore 8 days after forget", lethe.restore(memberId, { actor: admin }))
  const fresh = await lethe.subscribe({ tenantId: "shop", email, purpose: "newsletter", source: "form" })
  say(
    `  subscribing after the window: ${fresh.outcome} a new member, linked to the old one: ${fresh.memberId === memberId}`,
  )
}

const main = async () => {
  const clock = makeClock(new Date("2026-03-01T09:00:00Z"))
  const lethe = await createLethe({
    store: memoryStore(),
    keyring: keyringFromSecret("demo secret: replace with 32+ random bytes in production"),
    clock: clock.now,
    config: { clubs: { "warsaw-centre": { debtCollection: true } } },
  })
  const admin: Actor = { id: "staff:ola", roles: ["admin"] }
  try {
    say("Lethe demo (in-memory store)")
    await gym(lethe, clock, admin)
    await newsletter(lethe, clock, admin)
  } finally {
    await lethe.close()
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `demo failed: ${describeError(error)}\n${error instanceof Error ? (error.stack ?? "") : ""}\n`,
  )
  process.exitCode = 1
})
