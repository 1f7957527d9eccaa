/**
 * A newsletter CRM on the memory store: a consent catalogue with wording
 * versions, double opt-in, the unsubscribe link, forget, a resubscription
 * within the 7-day window that restores the profile, purge, and a message
 * proven a year after the person was purged.
 *
 * Double opt-in is not a Lethe feature: Lethe records consents, not pending
 * sign-ups. The application keeps each pending sign-up (a token, the e-mail,
 * the wording the form showed) and sends the confirmation e-mail itself;
 * Lethe records nothing until the link is clicked, and then `subscribe` with
 * method "double-opt-in" creates the member, adds the consent to an existing
 * one, or restores a member forgotten within the window. See README.md.
 *
 * Run it with `npm start -w @lethe-examples/newsletter-crm`.
 */
import { randomUUID } from "node:crypto"
import type { Actor, MessageProof } from "@lethe/core"
import { createLethe, keyringFromSecret, verifyReceipt } from "@lethe/core"
import type { ConsentCatalogue } from "@lethe/core/domain"
import { memoryStore } from "@lethe/store-memory"

/** For the example only: a real deployment reads 32+ random bytes from its secret store. */
const secret = "newsletter example secret, never use it for real data"
const tenantId = "shop"
const day = 86_400_000

/**
 * The shop's consent catalogue (R33): each purpose, its lawful basis and the
 * wordings people were shown. A consent must cite one of them.
 */
const consentCatalogue: ConsentCatalogue = {
  newsletter: {
    purpose: "newsletter",
    description: "Weekly newsletter by e-mail",
    bases: ["consent"],
    // The form shows the last version; older ones stay listed because consents cite them.
    wordingVersions: ["nl-2024-01", "nl-2025-03"],
    explicit: false,
    covers: [],
    profiling: false,
  },
}

const privacyOfficer: Actor = { id: "staff:dpo", roles: ["privacy-officer"] }
/** How long a confirmation link works. */
const pendingDays = 7

/** The tagged error's name and reasons, or rethrows what is not a Lethe error. */
const refusal = (error: unknown): string => {
  if (typeof error !== "object" || error === null || !("_tag" in error)) throw error
  const reasons = "reasons" in error && Array.isArray(error.reasons) ? `: ${error.reasons.join(", ")}` : ""
  return `${String(error._tag)}${reasons}`
}

const date = (at: Date | null): string => (at === null ? "-" : at.toISOString().slice(0, 10))

const describeProof = (proof: MessageProof): string => {
  const basis = proof.lawfulBasis
  const consent =
    basis.consentGivenAt === null
      ? "no consent needed"
      : `consent given ${date(basis.consentGivenAt)} by ${basis.method}, wording ${basis.wordingVersion}`
  return (
    `sent ${date(proof.sentAt)} by ${proof.sentBy} for "${proof.purpose}" via ${proof.channel}, ` +
    `basis ${basis.basis} (${consent}); member ${proof.memberStatus}, log version ${proof.event.version}`
  )
}

const main = async (say: (line: string) => void): Promise<void> => {
  let now = new Date("2025-03-10T08:00:00Z").getTime()
  const clock = () => new Date(now)
  const today = () => date(clock())
  const lethe = await createLethe({
    store: memoryStore(),
    keyring: keyringFromSecret(secret),
    clock,
    config: {
      consentCatalogue,
      restoreWindowDays: 7,
      permissions: { "privacy-officer": ["member:forget", "member:restore", "member:export"] },
    },
  })
  const attempt = async (what: string, operation: Promise<unknown>): Promise<void> =>
    operation.then(
      () => say(`${what}: accepted (unexpected!)`),
      (error) => say(`${what}: refused, ${refusal(error)}`),
    )
  const newsletter = (sentBy: string, test = false) =>
    ({ purpose: "newsletter", channel: "email", sentBy, test }) as const

  // -- Double opt-in, kept by the application: a pending sign-up is a token, the e-mail and the wording shown.
  interface Pending {
    readonly email: string
    readonly name: string
    readonly wordingVersion: string
    readonly tag: string
    readonly at: number
  }
  const pending = new Map<string, Pending>()
  const signUp = (email: string, name: string, wordingVersion: string, tag = "footer-form"): string => {
    const token = randomUUID()
    pending.set(token, { email, name, wordingVersion, tag, at: now })
    // ... and the application e-mails a link carrying the token.
    return token
  }
  /** The confirmation link: only now does Lethe record anything (R33). */
  const confirm = async (token: string) => {
    const signup = pending.get(token)
    if (signup === undefined || now - signup.at > pendingDays * day) throw new Error("link expired")
    pending.delete(token)
    return lethe.subscribe({
      tenantId,
      email: signup.email,
      name: signup.name,
      purpose: "newsletter",
      method: "double-opt-in",
      wordingVersion: signup.wordingVersion,
      source: { kind: "form", tag: signup.tag },
    })
  }
  const newsletterConsent = async (memberId: string) => {
    const consent = (await lethe.get(memberId)).consents.find((c) => c.purpose === "newsletter")
    return consent === undefined
      ? "no consent"
      : `given ${date(consent.givenAt)} by ${consent.method}, wording ${consent.wordingVersion}, ` +
          `source ${consent.source.kind}:${consent.source.tag}, in force ${consent.inForce}`
  }

  try {
    const definition = lethe.config.consentCatalogue.newsletter
    say(
      `R33 catalogue: "newsletter" (${definition?.description}), basis ${definition?.bases.join("/")}, ` +
        `wordings ${definition?.wordingVersions.join(", ")}`,
    )

    const annaToken = signUp("anna@example.org", "Anna Kowalska", "nl-2025-03")
    const bartekToken = signUp("bartek@example.org", "Bartek Lis", "nl-2025-03")
    // A page cached before the wording changed still showed the older text.
    const carlaToken = signUp("carla@example.org", "Carla Mazur", "nl-2024-01", "cached-landing-page")
    const beforeClick = await lethe.findByEmail(tenantId, "anna@example.org")
    say(
      `${today()} Anna, Bartek and Carla sign up: pending in the application, confirmation e-mails sent; ` +
        `in Lethe so far: ${beforeClick === null ? "nothing" : beforeClick.memberId}`,
    )

    now += day
    const anna = await confirm(annaToken)
    say(`${today()} Anna clicks her link: ${anna.outcome} member ${anna.memberId}`)
    say(`R33 Anna's consent: ${await newsletterConsent(anna.memberId)}`)
    const carla = await confirm(carlaToken)
    say(`R33 Carla's consent cites the wording she saw: ${await newsletterConsent(carla.memberId)}`)
    await attempt(
      "R33 a sign-up citing wording nl-2023-beta, not in the catalogue",
      confirm(signUp("dawid@example.org", "Dawid Wójcik", "nl-2023-beta")),
    )

    now += day
    const spring = await lethe.sendMessage(anna.memberId, newsletter("campaign:spring-2025"))
    say(`${today()} spring newsletter sent to Anna: message ${spring.messageId}`)

    now += 7 * day
    for (const [token, signup] of pending) if (now - signup.at > pendingDays * day) pending.delete(token)
    const bartek = await lethe.findByEmail(tenantId, "bartek@example.org")
    say(
      `${today()} Bartek never clicked: his link expired (${pending.has(bartekToken) ? "still pending" : "dropped"}), ` +
        `and Lethe never held his data: findByEmail -> ${bartek === null ? "nothing" : bartek.memberId}`,
    )

    // -- Unsubscribe is not forget (R4).
    await lethe.unsubscribe(anna.memberId, { purpose: "newsletter", via: "link" })
    await attempt(
      `${today()} R4 Anna clicks "unsubscribe" in the newsletter; the summer newsletter to her`,
      lethe.sendMessage(anna.memberId, newsletter("campaign:summer-2025")),
    )
    const unsubscribed = await lethe.get(anna.memberId)
    say(
      `R4 her profile stays: ${unsubscribed.status}, name "${unsubscribed.personal.name}", ` +
        `unsubscribed from ${unsubscribed.unsubscribed.join(", ")}, consent record kept`,
    )
    now += 2 * day
    // Signed in on her account page: no confirmation e-mail needed.
    const again = await lethe.subscribe({
      tenantId,
      email: "anna@example.org",
      purpose: "newsletter",
      method: "checkbox",
      source: { kind: "form", tag: "account-page" },
    })
    await lethe.sendMessage(anna.memberId, newsletter("campaign:summer-2025"))
    say(
      `${today()} R4 she ticks the box on her account page: ${again.outcome}, same member ${again.memberId === anna.memberId}; ` +
        "the summer newsletter goes out",
    )

    // -- The right to erasure (R1, R2, R8, R11).
    now += 8 * day
    const request = await lethe.requestErasure(anna.memberId, { via: "email" })
    await lethe.forget(anna.memberId, { actor: privacyOfficer, requestId: request.requestId })
    say(
      `${today()} R11 Anna e-mails an erasure request (due by ${date(request.dueBy)}); ` +
        `R8 the privacy officer (${privacyOfficer.id}) forgets her the same day`,
    )
    const byEmail = await lethe.findByEmail(tenantId, "anna@example.org")
    const byName = await lethe.search(tenantId, "kowalska")
    say(
      `R1 findByEmail -> ${byEmail === null ? "nothing" : byEmail.memberId}, search "kowalska" -> ${byName.length} hits`,
    )
    await attempt(
      "R2 a test newsletter to the forgotten member",
      lethe.sendMessage(anna.memberId, newsletter("staff:marketing", true)),
    )

    // -- Back within the window (R5): she signs up again and confirms.
    now += 3 * day
    const back = await confirm(signUp("anna@example.org", "Anna K.", "nl-2025-03"))
    const restored = await lethe.get(back.memberId)
    say(
      `${today()} R5 3 days later Anna signs up and confirms again: ${back.outcome}, same member ${back.memberId === anna.memberId}, ` +
        `name "${restored.personal.name}", e-mail ${restored.personal.email}, ${restored.counts.messages} newsletters in her history`,
    )

    // -- For good this time: forget, the window ends, the retention run purges (R29).
    now += 2 * day
    await lethe.forget(anna.memberId, { actor: privacyOfficer })
    const forgotten = await lethe.get(anna.memberId)
    say(`${today()} Anna asks again: forgotten, restorable until ${date(forgotten.restorableUntil)}`)
    now += 8 * day
    const retention = await lethe.runRetention()
    const purged = retention.executed.filter((e) => e.rule === "purge-forgotten")
    say(
      `${today()} R29 the daily retention run purges ${purged.length} member (${purged[0]?.memberId === anna.memberId ? "Anna" : "?"}): ` +
        `${purged[0]?.erasure?.keyIdsDestroyed.length ?? 0} data keys destroyed`,
    )
    const fresh = await confirm(signUp("anna@example.org", "Anna Kowalska", "nl-2025-03"))
    say(
      `R5 after the window the same e-mail signs up: ${fresh.outcome} a new member, linked to the old one: ${fresh.memberId === anna.memberId}`,
    )

    // -- A year later: a complaint about the spring newsletter (R3, R10).
    now += 365 * day
    const proof = await lethe.proveMessage(spring.messageId)
    say(`${today()} R3 proof of message ${proof.messageId}: ${describeProof(proof)}`)
    const residue = await lethe.get(proof.memberId)
    say(
      `R3 the recipient is the pseudonym ${proof.memberId}: ${Object.keys(residue.personal).length} personal fields left`,
    )
    const receipt = await lethe.erasureReceipt(anna.memberId)
    const valid = verifyReceipt(receipt, await keyringFromSecret(secret).receiptPublicKey())
    say(
      receipt.status === "scheduled"
        ? `R10 erasure receipt: scheduled, data destroyed by ${receipt.destroyBy.slice(0, 10)}; signature valid: ${valid}`
        : `R10 erasure receipt: ${receipt.status} ${receipt.erasedAt.slice(0, 10)} by ${receipt.erasedBy}, ` +
            `${receipt.keys.length} keys destroyed; signature valid: ${valid}`,
    )
  } finally {
    await lethe.close()
  }
}

main((line) => process.stdout.write(`${line}\n`)).catch((error: unknown) => {
  process.stderr.write(
    `newsletter-crm failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  )
  process.exitCode = 1
})
