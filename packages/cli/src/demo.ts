/**
 * The demo scenario, shared by `npm start` (examples/demo, memory store) and
 * `lethe demo` (a SQLite file an auditor can then audit): a gym member whose
 * anonymization is refused with every reason at once, then succeeds with a
 * reminder once the blockers are cleared; a newsletter subscriber who
 * unsubscribes, subscribes again, is forgotten, comes back within the restore
 * window, is forgotten again and purged by the retention run once the window
 * is over.
 *
 * @module
 */
import type { Actor, LetheClient, LetheStore } from "@lethe/core"
import { createLethe, keyringFromSecret } from "@lethe/core"

const day = 86_400_000

/** The demo's secret: for the demo only, never for real data. */
export const demoSecret = "demo secret: replace with 32+ random bytes in production"

/** Where the demo starts: the clock it moves forward so the restore window passes in seconds. */
export const demoStart = new Date("2026-03-01T09:00:00Z")

/** How to run the demo. */
export interface DemoOptions {
  /** The store to write into; the demo closes it. */
  readonly store: LetheStore
  /** Receives the narration, one line at a time. */
  readonly say: (line: string) => void
  /** Default `demoSecret`. */
  readonly secret?: string
}

/** How the demo went: `ok` unless a command the rules forbid was accepted. */
export interface DemoResult {
  readonly ok: boolean
  /** Commands accepted although they should have been refused. */
  readonly unexpected: ReadonlyArray<string>
  /** The demo clock's time when it ended. */
  readonly endedAt: Date
}

const describeError = (error: unknown): string => {
  if (typeof error === "object" && error !== null && "_tag" in error) {
    const reasons = "reasons" in error && Array.isArray(error.reasons) ? ` [${error.reasons.join(", ")}]` : ""
    return `${String(error._tag)}${reasons}`
  }
  return String(error)
}

interface Stage {
  readonly lethe: LetheClient
  readonly clock: { now: () => Date; advance: (days: number) => void }
  readonly staff: Actor
  readonly say: (line: string) => void
  refused(what: string, attempt: Promise<unknown>): Promise<void>
}

const gym = async ({ lethe, clock, staff, say, refused }: Stage) => {
  say("")
  say("== Gym club: anonymizing a member (R25, R27)")
  const { memberId } = await lethe.register({
    tenantId: "fitnet",
    personal: { name: "Marta Wiśniewska", email: "marta@example.pl", phone: "+48 600 700 800" },
    source: { kind: "staff", tag: "front-desk" },
    actor: staff,
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

  await refused("anonymize", lethe.anonymize(memberId, { actor: staff, confirmEmail: "wrong@example.pl" }))

  await lethe.endContract(memberId, { contractId: "c-2026" })
  await lethe.debitWallet(memberId, { amount: 5_000 })
  await lethe.closeDebtCase(memberId, { caseId: "debt-17" })
  say("  contract ended, wallet paid out, debt case closed")

  const done = await lethe.anonymize(memberId, { actor: staff, confirmEmail: "  MARTA@example.pl " })
  say(`  anonymize: done; erased ${done.erasedCategories.join(", ")}; reminders: ${done.warnings.join(", ")}`)
  const after = await lethe.get(memberId)
  say(
    `  the member now shows as "${after.displayName}", status ${after.status}, visits kept for statistics: ${after.counts.visit}`,
  )
}

const newsletter = async ({ lethe, clock, staff, say, refused }: Stage) => {
  say("")
  say("== Newsletter: unsubscribe is not forget (R4); forget and restore within 7 days (R1, R5)")
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

  await lethe.forget(memberId, { actor: staff })
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

  await lethe.forget(memberId, { actor: staff })
  clock.advance(8)
  await refused("restore 8 days after forget", lethe.restore(memberId, { actor: staff }))
  const fresh = await lethe.subscribe({ tenantId: "shop", email, purpose: "newsletter", source: "form" })
  say(
    `  subscribing after the window: ${fresh.outcome} a new member, linked to the old one: ${fresh.memberId === memberId}`,
  )

  say("")
  say("== Retention: the window is over, the forgotten member is purged (R29)")
  const retention = await lethe.runRetention()
  const purged = retention.executed.filter((e) => e.rule === "purge-forgotten")
  for (const { memberId: id, erasure } of purged)
    say(
      `  purged ${id}: ${erasure?.keyIdsDestroyed.length ?? 0} data keys destroyed, ${erasure?.sealedValuesRemoved ?? 0} sealed values removed from the log`,
    )
  const receipt = await lethe.erasureReceipt(memberId)
  const destroyed = "keys" in receipt ? receipt.keys.map((k) => k.category).join(", ") : "none yet"
  say(`  erasure receipt (${receipt.status}) signed for ${receipt.memberId}: ${destroyed}`)
}

/**
 * Runs the demo on `store` and closes it.
 *
 * @example
 * ```ts
 * const result = await runDemo({ store: memoryStore(), say: (line) => console.log(line) })
 * if (!result.ok) process.exitCode = 1
 * ```
 */
export const runDemo = async (options: DemoOptions): Promise<DemoResult> => {
  let now = demoStart.getTime()
  const clock = {
    now: () => new Date(now),
    advance: (days: number) => {
      now += days * day
    },
  }
  const lethe = await createLethe({
    store: options.store,
    keyring: keyringFromSecret(options.secret ?? demoSecret),
    clock: clock.now,
    config: { clubs: { "warsaw-centre": { debtCollection: true } } },
  })
  const unexpected: Array<string> = []
  const say = options.say
  const stage: Stage = {
    lethe,
    clock,
    staff: { id: "staff:ola", roles: ["admin"] },
    say,
    refused: async (what, attempt) => {
      try {
        await attempt
        say(`  ${what}: accepted (unexpected!)`)
        unexpected.push(what)
      } catch (error) {
        say(`  ${what}: refused with ${describeError(error)}`)
      }
    },
  }
  try {
    await gym(stage)
    await newsletter(stage)
  } finally {
    await lethe.close()
  }
  return { ok: unexpected.length === 0, unexpected, endedAt: clock.now() }
}

/** A one-line description of a failure of the demo. */
export const describeDemoError = describeError
