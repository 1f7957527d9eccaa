/**
 * Model-based conformance through the facade: random command sequences run
 * on `createLethe` instances side by side, over the adapter under test
 * (three instances, one of them reading member snapshots) and over the
 * memory reference (which keeps no state and takes no snapshot), with the
 * same clock, the same id sequence and the same secret. Every outcome, and at the end every view,
 * look-up, search, retention query, directory row, key list and event of the
 * log, must be equal.
 *
 * @module
 */

import type { LetheClient, LetheStore, PersonalCategory, SourceInput } from "@lethe/core"
import { keyringFromSecret } from "@lethe/core"
import { auditLog, verifyStream } from "@lethe/core/audit"
import type { ActivityKind, ConsentMethod } from "@lethe/core/domain"
import type { MemberRow } from "@lethe/core/spi"
import { checkpointStream, memberStream, readAllEvents } from "@lethe/core/spi"
import { memoryStore } from "@lethe/store-memory"
import fc from "fast-check"
import { expect } from "vitest"
import { wholeLog } from "../fixtures.js"
import { adminActor, days, hours, staff } from "../given-when-then.js"
import type { CaseGroup } from "./case.js"
import { retentionQueries } from "./directory.js"
import { allPages, pageThrough } from "./helpers.js"
import type { TestClock } from "./world.js"
import {
  comparableEvent,
  comparableKeys,
  conformanceSecret,
  counterIds,
  openLethe,
  outcomeOf,
  testClock,
  worldStart,
} from "./world.js"

/** The public key of the keyring every instance of the suite runs with: the one its checkpoints verify under. */
const conformancePublicKey = () => keyringFromSecret(conformanceSecret).receiptPublicKey()

const actors = { admin: adminActor, guest: staff("staff-guest") } as const
/** The other systems every request of a run records, each to confirm it (R14). */
const otherSystems = ["Accounting", "Mailchimp"] as const
/** The configuration of every instance of a run, the reference's and the adapter's. */
const config = { otherSystems }
type ActorName = keyof typeof actors

const tenants = ["t1", "t1", "t2"] as const
type Tenant = (typeof tenants)[number]
const names = ["Anna Nowak", "Łucja Żak", "Bob O'Neil", "anna-maria 50%_off", "Zoë Berg"] as const
const emails = [
  "anna@example.org",
  "ANNA@Example.org",
  "lucja@example.net",
  "o'neil@example.com",
  "zoe+news@example.org",
] as const
const phones = ["+48 600 100 200", "+44 20 7946 0000"] as const
/** What staff type into search: name parts, e-mail parts, SQL wildcards, case variants. */
const fragments = ["anna", "ŁUCJA", "o'n", "%", "_", "@example", "berg", "a", "zz"] as const
/** Every purpose of the default catalogue, and one it does not know. */
const purposes = [
  "newsletter",
  "marketing",
  "sms",
  "profiling",
  "service",
  "health-data",
  "unknown-purpose",
] as const
const contractIds = ["contract-1", "contract-2"] as const
const clubIds = ["club-a", "club-b"] as const
const caseIds = ["case-1", "case-2"] as const
const purchaseIds = ["purchase-1", "purchase-2"] as const
const channels = ["email", "letter", "phone", "form", "link", "staff", "api"] as const

/** What one generated command does to a member (the member is picked when it runs). */
type Action =
  | {
      readonly op: "giveConsent"
      readonly purpose: string
      readonly explicit: boolean
      readonly method: ConsentMethod
      readonly source: SourceInput
    }
  | { readonly op: "withdrawConsent"; readonly purpose: string }
  | { readonly op: "unsubscribe"; readonly purpose: string; readonly via: "link" | "staff" }
  | {
      readonly op: "recordPersonalData"
      readonly category: PersonalCategory
      readonly fields: Readonly<Record<string, string>>
    }
  | {
      readonly op: "signContract"
      readonly contractId: string
      readonly clubId: string
      readonly startsInDays: number
      readonly lastsDays: number | null
    }
  | { readonly op: "endContract"; readonly contractId: string }
  | { readonly op: "creditWallet" | "debitWallet"; readonly amount: number }
  | { readonly op: "openDebtCase"; readonly caseId: string; readonly clubId: string }
  | { readonly op: "closeDebtCase"; readonly caseId: string }
  | {
      readonly op: "recordPurchase"
      readonly purchaseId: string
      readonly amount: number
      readonly paid: boolean
    }
  | { readonly op: "markPurchasePaid"; readonly purchaseId: string }
  | {
      readonly op: "recordActivity"
      readonly kind: ActivityKind
      readonly clubId: string | null
      readonly details: Readonly<Record<string, string>>
    }
  | { readonly op: "sendMessage"; readonly purpose: string; readonly channel: string; readonly test: boolean }
  | { readonly op: "restrictProcessing"; readonly reason: string }
  | { readonly op: "liftRestriction" | "disableProfiling" | "enableProfiling" }
  | { readonly op: "requestErasure" | "requestAccess"; readonly via: (typeof channels)[number] }
  | { readonly op: "confirmSystem"; readonly actor: ActorName; readonly system: number }
  | { readonly op: "forget" | "restore" | "purge" | "erasureReceipt"; readonly actor: ActorName }
  | {
      readonly op: "erasePersonalData"
      readonly actor: ActorName
      readonly categories: readonly [PersonalCategory, ...Array<PersonalCategory>]
    }
  | { readonly op: "anonymize"; readonly actor: ActorName; readonly confirmEmail: string | null }
  | { readonly op: "get" }

/** One generated step. `member` picks among the members created so far (modulo their number). */
type Step =
  | {
      readonly kind: "register"
      readonly tenant: Tenant
      readonly name: string | null
      readonly email: string | null
      readonly phone: string | null
      readonly source: "form" | "staff"
    }
  | {
      readonly kind: "subscribe"
      readonly tenant: Tenant
      readonly email: string
      readonly purpose: string
      readonly name: string | null
    }
  | { readonly kind: "act"; readonly member: number; readonly action: Action }
  | { readonly kind: "advance"; readonly ms: number }
  | { readonly kind: "retention"; readonly dryRun: boolean }
  | { readonly kind: "proveMessage"; readonly message: number }
  | { readonly kind: "findByEmail"; readonly tenant: Tenant; readonly email: string }
  | { readonly kind: "search"; readonly tenant: Tenant; readonly text: string }

const pick = <A>(values: ReadonlyArray<A>) => fc.constantFrom(...values)

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant("giveConsent" as const),
      purpose: fc.oneof(fc.constant("newsletter"), pick(purposes)),
      explicit: fc.boolean(),
      method: pick<ConsentMethod>(["checkbox", "double-opt-in", "paper"]),
      source: pick<SourceInput>(["form", "staff", { kind: "form", tag: "footer" }]),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant("withdrawConsent" as const), purpose: pick(purposes) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("unsubscribe" as const),
      purpose: pick(purposes),
      via: pick(["link", "staff"] as const),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.oneof(
      fc.record({
        op: fc.constant("recordPersonalData" as const),
        category: fc.constant<PersonalCategory>("identity"),
        fields: fc.record({ name: pick(names) }),
      }),
      fc.record({
        op: fc.constant("recordPersonalData" as const),
        category: fc.constant<PersonalCategory>("contact"),
        fields: fc.oneof(fc.record({ email: pick(emails) }), fc.record({ phone: pick(phones) })),
      }),
      fc.record({
        op: fc.constant("recordPersonalData" as const),
        category: pick<PersonalCategory>(["address", "notes", "health", "invoice"]),
        fields: fc.record({ value: pick(["Main Street 1", "likes yoga", "height 180", "  "]) }),
      }),
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("signContract" as const),
      contractId: pick(contractIds),
      clubId: pick(clubIds),
      startsInDays: fc.integer({ min: -60, max: 30 }),
      lastsDays: fc.option(fc.integer({ min: 1, max: 400 }), { nil: null }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant("endContract" as const), contractId: pick(contractIds) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: pick(["creditWallet", "debitWallet"] as const),
      amount: fc.oneof(fc.integer({ min: 1, max: 5_000 }), fc.constantFrom(0, -5)),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("openDebtCase" as const),
      caseId: pick(caseIds),
      clubId: pick(clubIds),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("closeDebtCase" as const), caseId: pick(caseIds) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("recordPurchase" as const),
      purchaseId: pick(purchaseIds),
      amount: fc.integer({ min: 1, max: 10_000 }),
      paid: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant("markPurchasePaid" as const), purchaseId: pick(purchaseIds) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("recordActivity" as const),
      kind: pick<ActivityKind>(["visit", "class", "transaction", "page-view"]),
      clubId: fc.option(pick(clubIds), { nil: null }),
      details: fc.oneof(fc.constant({}), fc.record({ page: pick(["/offers", "/account?id=1"]) })),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("sendMessage" as const),
      purpose: fc.oneof(fc.constant("newsletter"), pick(purposes)),
      channel: pick(["email", "sms"]),
      test: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("restrictProcessing" as const),
      reason: pick(["accuracy contested", " "]),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: pick(["liftRestriction", "disableProfiling", "enableProfiling"] as const) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: pick(["requestErasure", "requestAccess"] as const), via: pick(channels) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("confirmSystem" as const),
      actor: pick<ActorName>(["admin", "admin", "guest"]),
      // One past the systems configured: a system the request does not list, refused alike on both sides.
      system: fc.nat(otherSystems.length),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      op: pick(["forget", "restore"] as const),
      actor: pick<ActorName>(["admin", "admin", "guest"]),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: pick(["purge", "erasureReceipt"] as const),
      actor: pick<ActorName>(["admin", "admin", "guest"]),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("erasePersonalData" as const),
      actor: pick<ActorName>(["admin", "guest"]),
      categories: fc
        .tuple(
          pick<PersonalCategory>(["contact", "notes", "health", "invoice", "identity"]),
          fc.array(pick<PersonalCategory>(["address", "activity"]), { maxLength: 1 }),
        )
        .map(([first, rest]): readonly [PersonalCategory, ...Array<PersonalCategory>] => [first, ...rest]),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("anonymize" as const),
      actor: pick<ActorName>(["admin", "admin", "guest"]),
      confirmEmail: fc.option(pick(emails), { nil: null }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("get" as const) }) },
)

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("register" as const),
      tenant: pick(tenants),
      name: fc.option(pick(names), { nil: null }),
      email: fc.option(pick(emails), { nil: null }),
      phone: fc.option(pick(phones), { nil: null }),
      source: pick(["form", "staff"] as const),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("subscribe" as const),
      tenant: pick(tenants),
      email: pick(emails),
      purpose: pick(["newsletter", "newsletter", "sms", "unknown-purpose"]),
      name: fc.option(pick(names), { nil: null }),
    }),
  },
  {
    weight: 16,
    arbitrary: fc.record({
      kind: fc.constant("act" as const),
      // Often the first member, so commands pile up on one history (forget then restore, consent then send).
      member: fc.oneof(fc.constant(0), fc.nat({ max: 7 })),
      action: actionArb,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("advance" as const),
      ms: fc.oneof(
        { weight: 5, arbitrary: fc.integer({ min: 1, max: 48 }).map(hours) },
        { weight: 5, arbitrary: fc.integer({ min: 1, max: 21 }).map(days) },
        // Rarely, years: contracts run out, invoices pass their retention (R24).
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 6 }).map((y) => days(365 * y)) },
      ),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("retention" as const), dryRun: fc.boolean() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("proveMessage" as const), message: fc.nat({ max: 7 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("findByEmail" as const),
      tenant: pick(tenants),
      email: pick(emails),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("search" as const),
      tenant: pick(tenants),
      text: pick(fragments),
    }),
  },
)

/**
 * R14: a system's confirmation of the member's first open request, as `openRequests` lists it (so the
 * directory and the member's stream are read back), or of a request the member never had.
 */
const confirmFirstRequest = async (
  lethe: LetheClient,
  memberId: string,
  action: Extract<Action, { readonly op: "confirmSystem" }>,
): Promise<unknown> => {
  const request = (await lethe.openRequests()).find((r) => r.memberId === memberId)
  return lethe.confirmSystem(memberId, {
    actor: actors[action.actor],
    requestId: request?.requestId ?? "request-never-made",
    system: otherSystems[action.system] ?? "Slack",
  })
}

/** Runs one action of a member on an instance. */
const act = (lethe: LetheClient, memberId: string, action: Action, now: number): Promise<unknown> => {
  switch (action.op) {
    case "giveConsent":
      return lethe.giveConsent(memberId, {
        purpose: action.purpose,
        explicit: action.explicit,
        method: action.method,
        source: action.source,
        actor: adminActor,
      })
    case "withdrawConsent":
      return lethe.withdrawConsent(memberId, { purpose: action.purpose })
    case "unsubscribe":
      return lethe.unsubscribe(memberId, { purpose: action.purpose, via: action.via })
    case "recordPersonalData":
      return lethe.recordPersonalData(memberId, {
        category: action.category,
        fields: action.fields,
        source: "staff",
        actor: adminActor,
      })
    case "signContract": {
      const startsAt = now + days(action.startsInDays)
      return lethe.signContract(memberId, {
        contractId: action.contractId,
        clubId: action.clubId,
        startsAt: new Date(startsAt),
        endsAt: action.lastsDays === null ? null : new Date(startsAt + days(action.lastsDays)),
      })
    }
    case "endContract":
      return lethe.endContract(memberId, { contractId: action.contractId })
    case "creditWallet":
      return lethe.creditWallet(memberId, { amount: action.amount })
    case "debitWallet":
      return lethe.debitWallet(memberId, { amount: action.amount })
    case "openDebtCase":
      return lethe.openDebtCase(memberId, { caseId: action.caseId, clubId: action.clubId })
    case "closeDebtCase":
      return lethe.closeDebtCase(memberId, { caseId: action.caseId })
    case "recordPurchase":
      return lethe.recordPurchase(memberId, {
        purchaseId: action.purchaseId,
        amount: action.amount,
        paid: action.paid,
      })
    case "markPurchasePaid":
      return lethe.markPurchasePaid(memberId, { purchaseId: action.purchaseId })
    case "recordActivity":
      return lethe.recordActivity(memberId, {
        kind: action.kind,
        clubId: action.clubId,
        details: action.details,
      })
    case "sendMessage":
      return lethe.sendMessage(memberId, {
        purpose: action.purpose,
        channel: action.channel,
        sentBy: "campaign-1",
        test: action.test,
      })
    case "restrictProcessing":
      return lethe.restrictProcessing(memberId, { reason: action.reason, actor: adminActor })
    case "liftRestriction":
      return lethe.liftRestriction(memberId, { actor: adminActor })
    case "disableProfiling":
      return lethe.disableProfiling(memberId, { actor: adminActor })
    case "enableProfiling":
      return lethe.enableProfiling(memberId, { actor: adminActor })
    case "requestErasure":
      return lethe.requestErasure(memberId, { via: action.via })
    case "requestAccess":
      return lethe.requestAccess(memberId, { via: action.via })
    case "confirmSystem":
      return confirmFirstRequest(lethe, memberId, action)
    case "forget":
      return lethe.forget(memberId, { actor: actors[action.actor] })
    case "restore":
      return lethe.restore(memberId, { actor: actors[action.actor] })
    case "purge":
      return lethe.purge(memberId, { actor: actors[action.actor] })
    case "erasureReceipt":
      return lethe.erasureReceipt(memberId)
    case "erasePersonalData":
      return lethe.erasePersonalData(memberId, {
        categories: action.categories,
        reason: "asked by the subject",
        actor: actors[action.actor],
      })
    case "anonymize":
      return lethe.anonymize(memberId, {
        actor: actors[action.actor],
        ...(action.confirmEmail === null ? {} : { confirmEmail: action.confirmEmail }),
      })
    case "get":
      return lethe.get(memberId)
    default: {
      const unhandled: never = action
      throw new Error(`unhandled action ${JSON.stringify(unhandled)}`)
    }
  }
}

/** One instance of Lethe and the store under it. */
interface Side {
  readonly lethe: LetheClient
  readonly store: LetheStore
  /**
   * Every instance over `store`, `lethe` first; steps take turns on them, as
   * processes sharing one database would, so each instance's kept member
   * states must follow what the others append.
   */
  readonly instances: ReadonlyArray<LetheClient>
}

/** The reference side, and what the run has created so far. */
interface Model {
  readonly reference: Side
  readonly clock: TestClock
  /** Member ids in the order they were created (on the reference). */
  readonly members: Array<string>
  readonly messages: Array<string>
  /** Steps run so far: the next runs on the adapter side's instance `turn % instances.length`. */
  turn: number
}

/** A member id that no instance ever mints. */
const missingMember = "00000000-0000-7000-8000-ffffffffffff"

const memberOf = (model: Model, index: number): string =>
  model.members.length === 0 ? missingMember : (model.members[index % model.members.length] ?? missingMember)

/** Runs a step on one instance. */
const perform = (lethe: LetheClient, step: Step, model: Model): Promise<unknown> => {
  switch (step.kind) {
    case "register":
      return lethe.register({
        tenantId: step.tenant,
        personal: {
          ...(step.name === null ? {} : { name: step.name }),
          ...(step.email === null ? {} : { email: step.email }),
          ...(step.phone === null ? {} : { phone: step.phone }),
        },
        source: step.source,
      })
    case "subscribe":
      return lethe.subscribe({
        tenantId: step.tenant,
        email: step.email,
        purpose: step.purpose,
        source: "form",
        ...(step.name === null ? {} : { name: step.name }),
      })
    case "act":
      return act(lethe, memberOf(model, step.member), step.action, model.clock.millis())
    case "advance":
      return Promise.resolve()
    case "retention":
      return lethe.runRetention({ dryRun: step.dryRun, batchSize: 2 })
    case "proveMessage":
      return lethe.proveMessage(
        model.messages.length === 0
          ? "no-such-message"
          : (model.messages[step.message % model.messages.length] ?? ""),
      )
    case "findByEmail":
      return lethe.findByEmail(step.tenant, step.email)
    case "search":
      return lethe.search(step.tenant, step.text, { limit: 50 })
    default: {
      const unhandled: never = step
      throw new Error(`unhandled step ${JSON.stringify(unhandled)}`)
    }
  }
}

const describeStep = (step: Step): string => {
  switch (step.kind) {
    case "act":
      return `${step.action.op}(member#${step.member}, ${JSON.stringify(step.action)})`
    case "advance":
      return `advance(${step.ms % days(1) === 0 ? `${step.ms / days(1)}d` : `${step.ms / hours(1)}h`})`
    default: {
      const { kind, ...fields } = step
      return `${kind}(${JSON.stringify(fields)})`
    }
  }
}

/**
 * An outcome as two instances agree on it: without hashes and signatures,
 * which commit to ciphertexts sealed under random nonces.
 */
const comparable = (value: unknown): unknown => {
  if (value === null || typeof value !== "object" || value instanceof Date) return value
  if (Array.isArray(value)) return value.map(comparable)
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== "hash" && key !== "signature")
      .map(([key, inner]) => [key, comparable(inner)]),
  )
}

/** A step as a fast-check command: run on both sides, compare the outcomes. */
class StepCommand implements fc.AsyncCommand<Model, Side> {
  constructor(readonly step: Step) {}

  check(): boolean {
    return true
  }

  async run(model: Model, real: Side): Promise<void> {
    if (this.step.kind === "advance") {
      model.clock.advance(this.step.ms)
      return
    }
    const expected = await outcomeOf(() => perform(model.reference.lethe, this.step, model))
    const instance = real.instances[model.turn++ % real.instances.length] ?? real.lethe
    const actual = await outcomeOf(() => perform(instance, this.step, model))
    expect(comparable(actual), `${describeStep(this.step)} on the adapter vs the memory reference`).toEqual(
      comparable(expected),
    )
    if (!expected.ok) return
    const value = expected.value as { readonly memberId?: string; readonly messageId?: string } | null
    if (
      (this.step.kind === "register" || this.step.kind === "subscribe") &&
      typeof value?.memberId === "string" &&
      !model.members.includes(value.memberId)
    )
      model.members.push(value.memberId)
    if (typeof value?.messageId === "string") model.messages.push(value.messageId)
  }

  toString(): string {
    return describeStep(this.step)
  }
}

/** Every run starts with these members (the first with a newsletter consent), so most commands meet one. */
const prelude: ReadonlyArray<Step> = [
  {
    kind: "register",
    tenant: "t1",
    name: "Anna Nowak",
    email: "anna@example.org",
    phone: "+48 600 100 200",
    source: "form",
  },
  { kind: "register", tenant: "t1", name: null, email: "lucja@example.net", phone: null, source: "staff" },
  { kind: "register", tenant: "t2", name: "Zoë Berg", email: null, phone: null, source: "form" },
  {
    kind: "act",
    member: 0,
    action: { op: "giveConsent", purpose: "newsletter", explicit: false, method: "checkbox", source: "form" },
  },
]

/** Cut-offs for the retention queries, around the end of a run. */
const cutOffs = (now: number): ReadonlyArray<number> => [
  worldStart,
  now - days(30),
  now - hours(1),
  now,
  now + days(1),
  now + days(400),
  Number.MAX_SAFE_INTEGER,
]

/** Everything one side answers at the end of a run, as plain data keyed by the question. */
const observe = async (side: Side, model: Model): Promise<Record<string, unknown>> => {
  const { lethe, store } = side
  const seen: Record<string, unknown> = {}
  const members = [...model.members, missingMember]
  for (const memberId of members) {
    seen[`get ${memberId}`] = await outcomeOf(() => lethe.get(memberId))
    seen[`directory.get ${memberId}`] = await store.directory.get(memberId)
    seen[`keys ${memberId}`] = await comparableKeys(store, memberId)
  }
  for (const tenant of ["t1", "t2"]) {
    for (const email of emails)
      seen[`findByEmail ${tenant} ${email}`] = await outcomeOf(() => lethe.findByEmail(tenant, email))
    for (const text of fragments) {
      seen[`search ${tenant} ${text}`] = await outcomeOf(() =>
        pageThrough((page) => lethe.search(tenant, text, page), 2),
      )
    }
  }
  for (const messageId of model.messages)
    seen[`proveMessage ${messageId}`] = comparable(await outcomeOf(() => lethe.proveMessage(messageId)))
  seen.openRequests = await outcomeOf(() => lethe.openRequests())
  seen.overdueErasureRequests = await outcomeOf(() => lethe.overdueErasureRequests())
  for (const name of retentionQueries)
    for (const before of cutOffs(model.clock.millis()))
      for (const tenantId of [undefined, "t1", "t2"])
        seen[`${name} before ${before} in ${tenantId ?? "all tenants"}`] = (
          await allPages(
            (page): Promise<ReadonlyArray<MemberRow>> =>
              store.directory[name]({ ...page, before, ...(tenantId === undefined ? {} : { tenantId }) }),
            3,
          )
        ).map((row) => row.memberId)
  for (const messageId of model.messages)
    seen[`messageOwner ${messageId}`] = await store.directory.messageOwner(messageId)
  seen.log = (await wholeLog(store)).map(comparableEvent)
  return seen
}

/**
 * The adapter's own log is sound: every member's stream verifies, and so do
 * the log's signed checkpoints, against the keyring's public key (R41).
 */
const expectChainsVerify = async (store: LetheStore, members: ReadonlyArray<string>): Promise<void> => {
  for (const memberId of members) {
    const stream = memberStream(memberId)
    const events = await store.events.readStream(stream)
    expect(verifyStream(stream, events), `hash chain of ${stream}`).toMatchObject({ ok: true })
  }
  const checkpoints = await store.events.readStream(checkpointStream)
  expect(verifyStream(checkpointStream, checkpoints), "hash chain of the checkpoints").toMatchObject({
    ok: true,
  })
  const report = await auditLog(readAllEvents(store.events), { publicKeys: [await conformancePublicKey()] })
  expect(
    report.findings.filter((f) => f.rule === "checkpoint" || f.rule === "unreadable-row"),
    "the adapter's log against its signed checkpoints",
  ).toEqual([])
  expect(report.checkpoints.count).toBe(checkpoints.length)
}

/** Model-based cases, by stable name. */
export const modelCases = {
  "model/facade-equivalence": {
    title:
      "random command sequences through the facade give the same outcomes, views, look-ups, queries and log as the memory reference",
    run: async ({ open, check, properties }) =>
      check(
        fc.asyncProperty(
          fc.commands([stepArb.map((step) => new StepCommand(step))], {
            maxCommands: 30,
            size: "max",
            ...(properties.replayPath === undefined ? {} : { replayPath: properties.replayPath }),
          }),
          async (commands) => {
            const clock = testClock()
            const referenceStore = memoryStore()
            // The reference keeps no member state between operations: it reads every stream whole.
            const referenceLethe = await openLethe(referenceStore, clock, {
              memberCache: 0,
              snapshotEvery: 0,
              config,
            })
            const reference: Side = {
              lethe: referenceLethe,
              store: referenceStore,
              instances: [referenceLethe],
            }
            const store = await open()
            // Three instances on the adapter, minting from one id sequence as the reference does: two
            // keep member states; the third keeps none and snapshots every event, so each of its
            // operations starts from the member's snapshot when the adapter keeps them.
            const newId = counterIds()
            const instances = [
              await openLethe(store, clock, { newId, config }),
              await openLethe(store, clock, { newId, config }),
              await openLethe(store, clock, { newId, memberCache: 0, snapshotEvery: 1, config }),
            ] as const
            const real: Side = { lethe: instances[0], store, instances }
            try {
              const model: Model = { reference, clock, members: [], messages: [], turn: 0 }
              for (const step of prelude) await new StepCommand(step).run(model, real)
              await fc.asyncModelRun(() => ({ model, real }), commands)
              // The log's head signed on both sides (R41), so every run ends with a checkpoint to verify.
              const signed = async (side: Side) => {
                const checkpoint = await side.lethe.checkpoint()
                return checkpoint === null
                  ? null
                  : { position: checkpoint.position, reason: checkpoint.reason }
              }
              expect(await signed(real), "checkpoint()").toEqual(await signed(reference))
              expect(await observe(real, model), "the adapter's answers at the end of the run").toEqual(
                await observe(reference, model),
              )
              await expectChainsVerify(store, model.members)
            } finally {
              // One store under both instances: closing the first closes it.
              await Promise.allSettled([reference.lethe.close(), real.lethe.close()])
            }
          },
        ),
        25,
      ),
  },

  "model/concurrent-commands": {
    title: "parallel commands on one member all land through the core's retries, with contiguous versions",
    run: async ({ open }) => {
      const store = await open()
      const lethe = await openLethe(store, testClock(), { retries: 50 })
      try {
        const { memberId } = await lethe.register({
          tenantId: "t1",
          personal: { name: "Anna" },
          source: "form",
        })
        const credits = await Promise.allSettled(
          Array.from({ length: 10 }, () => lethe.creditWallet(memberId, { amount: 100 })),
        )
        expect(credits.filter((c) => c.status === "rejected")).toEqual([])
        const view = await lethe.get(memberId)
        expect(view.walletBalance).toBe(1_000)
        const stream = await store.events.readStream(memberStream(memberId))
        expect(stream.map((e) => e.version)).toEqual(stream.map((_, i) => i + 1))
        expect(stream.filter((e) => e.type === "WalletCredited")).toHaveLength(10)
        expect(verifyStream(memberStream(memberId), stream)).toMatchObject({ ok: true })
        expect(await store.directory.get(memberId)).toMatchObject({ version: stream.length })
      } finally {
        await lethe.close()
      }
    },
  },
} satisfies CaseGroup
