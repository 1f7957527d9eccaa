/**
 * Lethe for Effect users: the `Lethe` service tag, built by
 * `Lethe.layerFromStore` over a store's layer (`MemoryStore.layer()` here;
 * `SqliteStore.layer({ filename })` or `PostgresStore.layer({ pool })` in an
 * application), used inside `Effect.gen`; every refusal is a tagged error in
 * the error channel, each operation's own union (`LetheService.Errors`),
 * handled with `Effect.catchTag` / `Effect.catchTags`, so the compiler knows
 * which refusals are left.
 *
 * Time: without a `clock` option, Lethe reads Effect's `Clock`. The example
 * provides `TestContext` and moves time with `TestClock`, so a restore window
 * and a year pass at once; an application simply runs on the live clock.
 *
 * Run it with `npm start -w @lethe-examples/effect-app`.
 */
import type { Actor, AnonymizationBlocked, LetheService, NotPermitted } from "@lethe/core"
import { keyringFromSecret, Lethe } from "@lethe/core"
import { MemoryStore } from "@lethe/store-memory"
import { Clock, Console, Effect, Layer, TestClock, TestContext } from "effect"

/** For the example only: a real deployment reads 32+ random bytes from its secret store. */
const secret = "effect example secret, never use it for real data"
const tenantId = "studio"

const manager: Actor = { id: "staff:ola", roles: ["manager"] }
const trainee: Actor = { id: "staff:trainee", roles: ["trainee"] }

/**
 * The service, built once over the store's layer, which opens the store and
 * closes it when the program's scope ends. Its type,
 * `Layer<Lethe, LetheError>`, says what starting can fail with.
 */
const LetheLive = Lethe.layerFromStore({
  keyring: keyringFromSecret(secret),
  config: {
    permissions: { manager: ["member:anonymize", "member:forget", "member:restore"], trainee: [] },
  },
}).pipe(Layer.provide(MemoryStore.layer()))

const say = (line: string) => Console.log(line)
const today = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString().slice(0, 10))

/**
 * Anonymization as a step whose refusals become a line of text. `anonymize`
 * fails with `LetheService.Errors["anonymize"]`, only what it can fail with;
 * `catchTags` removes `AnonymizationBlocked` and `NotPermitted` from it: what
 * is left (store failures, a member that does not exist...) still fails.
 */
const anonymizeOrExplain = (
  memberId: string,
  actor: Actor,
  confirmEmail: string,
): Effect.Effect<
  string,
  Exclude<LetheService.Errors["anonymize"], AnonymizationBlocked | NotPermitted>,
  Lethe
> =>
  Effect.gen(function* () {
    const lethe = yield* Lethe
    const done = yield* lethe.anonymize(memberId, { actor, confirmEmail })
    return `anonymized; erased ${done.erasedCategories.join(", ")}; reminders: ${done.warnings.join(", ") || "none"}`
  }).pipe(
    Effect.catchTags({
      AnonymizationBlocked: (e) => Effect.succeed(`refused, AnonymizationBlocked: ${e.reasons.join(", ")}`),
      NotPermitted: (e) => Effect.succeed(`refused, NotPermitted: ${e.actorId} lacks ${e.permission}`),
    }),
  )

/** A club member: guarded anonymization (R9, R25, R26, R27). */
const clubMember = Effect.gen(function* () {
  const lethe = yield* Lethe
  const email = "zofia@example.pl"
  const { memberId } = yield* lethe.register({
    tenantId,
    personal: { name: "Zofia Dąbrowska", email },
    source: { kind: "staff", tag: "reception" },
  })
  const startsAt = new Date((yield* Clock.currentTimeMillis) - 30 * 86_400_000)
  yield* lethe.signContract(memberId, { contractId: "yoga-2026", clubId: "studio-mokotow", startsAt })
  yield* lethe.creditWallet(memberId, { amount: 2_000 })
  yield* say(`${yield* today} registered Zofia: a running contract, 20.00 PLN in the wallet`)

  yield* say(`R26 the trainee anonymizes Zofia: ${yield* anonymizeOrExplain(memberId, trainee, email)}`)
  yield* say(`R25 the manager anonymizes Zofia: ${yield* anonymizeOrExplain(memberId, manager, email)}`)

  // Bad input never reaches the log: the command fails its Schema, with a one-line message
  // naming the operation and the field (e.issues has the same, structured: [{ path, message }]).
  const invalid = yield* lethe.debitWallet(memberId, { amount: -5 }).pipe(
    Effect.as("accepted (unexpected!)"),
    Effect.catchTag("InvalidCommand", (e) =>
      Effect.succeed(`refused, InvalidCommand (${e.message}), nothing written`),
    ),
  )
  yield* say(`a wallet debit of -5: ${invalid}`)
  const overdrawn = yield* lethe.debitWallet(memberId, { amount: 5_000 }).pipe(
    Effect.as("accepted (unexpected!)"),
    Effect.catchTag("InsufficientFunds", (e) =>
      Effect.succeed(`refused, InsufficientFunds (balance ${e.balance})`),
    ),
  )
  yield* say(`a wallet debit of 50.00 PLN: ${overdrawn}`)

  yield* lethe.endContract(memberId, { contractId: "yoga-2026" })
  yield* lethe.debitWallet(memberId, { amount: 2_000 })
  yield* lethe.recordPurchase(memberId, { purchaseId: "mat-01", amount: 9_900, paid: false })
  yield* say("contract ended, wallet paid out; a yoga mat bought and not yet paid")
  yield* say(
    `R9 with a mistyped e-mail: ${yield* anonymizeOrExplain(memberId, manager, "zofia@example.com")}`,
  )
  yield* say(`R27 the manager anonymizes Zofia: ${yield* anonymizeOrExplain(memberId, manager, email)}`)
  const view = yield* lethe.get(memberId)
  yield* say(`R19 Zofia now shows as "${view.displayName}" (${view.status})`)
})

/** Newsletter subscribers: unsubscribe, forget, restore within the window, purge, proof (R1-R5). */
const subscribers = Effect.gen(function* () {
  const lethe = yield* Lethe
  const people = ["jan@example.org", "ola@example.org", "piotr@example.org"]
  // Different members, so the appends run side by side.
  const subscribed = yield* Effect.forEach(
    people,
    (email) =>
      lethe.subscribe({ tenantId, email, purpose: "newsletter", method: "double-opt-in", source: "form" }),
    { concurrency: "unbounded" },
  )
  yield* say(
    `${yield* today} ${subscribed.length} subscribers, concurrently: ${subscribed.map((s) => s.outcome).join(", ")}`,
  )
  const jan = subscribed[0]?.memberId ?? ""
  const newsletter = { purpose: "newsletter", channel: "email", sentBy: "campaign:march" } as const
  const { messageId } = yield* lethe.sendMessage(jan, newsletter)
  yield* say(`the March newsletter goes to Jan: message ${messageId}`)

  yield* lethe.unsubscribe(jan, { purpose: "newsletter", via: "link" })
  const afterUnsubscribe = yield* lethe.sendMessage(jan, { ...newsletter, sentBy: "campaign:april" }).pipe(
    Effect.as("sent (unexpected!)"),
    Effect.catchTag("MessageRefused", (e) =>
      Effect.succeed(`refused, MessageRefused: ${e.reasons.join(", ")}`),
    ),
  )
  yield* say(`R4 Jan unsubscribes by the link; the April newsletter: ${afterUnsubscribe}`)

  yield* lethe.forget(jan, { actor: manager })
  const found = yield* lethe.findByEmail(tenantId, "jan@example.org")
  const test = yield* lethe.sendMessage(jan, { ...newsletter, sentBy: "staff:ola", test: true }).pipe(
    Effect.as("sent (unexpected!)"),
    Effect.catchTag("MemberErased", (e) => Effect.succeed(`refused, MemberErased (${e.status})`)),
  )
  yield* say(
    `R1 R2 Jan is forgotten: findByEmail -> ${found === null ? "nothing" : found.memberId}; a test message: ${test}`,
  )

  yield* TestClock.adjust("3 days")
  const back = yield* lethe.subscribe({
    tenantId,
    email: "jan@example.org",
    purpose: "newsletter",
    source: "form",
  })
  yield* say(
    `${yield* today} R5 Jan subscribes again after 3 days: ${back.outcome}, same member ${back.memberId === jan}`,
  )

  yield* lethe.forget(jan, { actor: manager })
  yield* TestClock.adjust("8 days")
  const report = yield* lethe.runRetention()
  const purged = report.executed.filter((e) => e.rule === "purge-forgotten").map((e) => e.memberId)
  yield* say(
    `${yield* today} R29 forgotten again, 8 days later the retention run purges Jan: ${purged.includes(jan)}`,
  )
  const restore = yield* lethe.restore(jan, { actor: manager }).pipe(
    Effect.as("restored (unexpected!)"),
    Effect.catchTag("RestoreWindowExpired", (e) =>
      Effect.succeed(`refused, RestoreWindowExpired (${e.status})`),
    ),
  )
  yield* say(`R5 restoring Jan now: ${restore}`)

  yield* TestClock.adjust("365 days")
  const proof = yield* lethe.proveMessage(messageId)
  yield* say(
    `${yield* today} R3 proof of the March newsletter: sent by ${proof.sentBy} for "${proof.purpose}" under ` +
      `${proof.lawfulBasis.basis} given by ${proof.lawfulBasis.method}; member ${proof.memberStatus}`,
  )
})

const program = Effect.gen(function* () {
  yield* TestClock.setTime(Date.parse("2026-03-02T09:00:00Z"))
  yield* say("Lethe through Effect: Lethe.layer provides the Lethe service; refusals are typed errors")
  yield* clubMember
  yield* subscribers
})

// The whole program needs `Lethe`; the layer provides it (and closes the store at the end).
const runnable = program.pipe(Effect.provide(Layer.merge(LetheLive, TestContext.TestContext)))

Effect.runPromise(runnable).catch((error: unknown) => {
  process.stderr.write(
    `effect-app failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  )
  process.exitCode = 1
})
