/**
 * fast-check generators of whole member histories: sequences of commands of
 * every type, with time moving forward, each run by some actor, naming ids
 * that exist sometimes and not other times (small pools make both likely).
 */
import type { Actor, Permission, PersonalCategory } from "@lethe/core"
import type {
  CommandOf,
  ConsentCatalogue,
  DomainConfig,
  LawfulBasis,
  MemberCommand,
  PurposeDefinition,
} from "@lethe/core/domain"
import { allPermissions, dayMs, defaultConsentCatalogue, systemRole } from "@lethe/core/domain"
import fc from "fast-check"

const hourMs = 3_600_000

/** Where every generated history starts: 2024-01-01T00:00:00Z. */
export const historyStart = Date.UTC(2024, 0, 1)

export const memberId = "member-1"
export const contractIds = ["contract-1", "contract-2", "contract-3"] as const
/** Three cases over three clubs, so that one can be open while another, elsewhere, is closed (R25). */
export const caseIds = ["case-1", "case-2", "case-3"] as const
export const purchaseIds = ["purchase-1", "purchase-2", "purchase-3"] as const
export const instalmentIds = ["instalment-1", "instalment-2"] as const
export const requestIds = ["request-1", "request-2", "request-3"] as const
/** `club-b` does not use debt collection (see `arbConfig`); `club-c` is not configured (uses it). */
export const clubIds = ["club-a", "club-b", "club-c"] as const
/**
 * A purpose a tenant added that covers a special category without asking for an explicit consent:
 * consents to it are recorded, and none of them, explicit or not, is waved through by its purpose (R17).
 */
export const wellness: PurposeDefinition = {
  purpose: "wellness",
  description: "Wellness tips from training data",
  bases: ["consent"],
  wordingVersions: ["v1"],
  explicit: false,
  covers: ["health"],
  profiling: false,
}
/** The catalogue of generated tenants: the default one and `wellness`. */
export const consentCatalogue: ConsentCatalogue = { ...defaultConsentCatalogue, wellness }
/** Every purpose of the catalogue, and one it does not know. */
export const purposes = [...Object.keys(consentCatalogue), "unknown-purpose"] as const
export const emails = ["anna@example.org", "bob@example.com"] as const
export const categories: ReadonlyArray<PersonalCategory> = [
  "identity",
  "contact",
  "address",
  "photo",
  "documents",
  "notes",
  "training",
  "activity",
  "invoice",
  "health",
  "ethnicOrigin",
  "politicalOpinions",
  "religiousBeliefs",
]
const bases: ReadonlyArray<LawfulBasis> = [
  "consent",
  "legitimate-interest",
  "contract",
  "legal-obligation",
  "vital-interest",
  "public-task",
]

/** The actors histories are played by: permissions come from `arbConfig`'s roles. */
export const actors = {
  admin: { id: "staff-admin", roles: ["admin"] },
  system: { id: "lethe-system", roles: [systemRole] },
  receptionist: { id: "staff-reception", roles: ["receptionist"] },
  manager: { id: "staff-manager", roles: ["manager"] },
  guest: { id: "staff-guest", roles: [] },
} as const satisfies Record<string, Actor>

/**
 * A tenant configuration: a restore window and deadlines that vary, the
 * `consentCatalogue` above, `club-b` without debt collection, admins with
 * every permission, receptionists with export only, managers with a random
 * subset.
 */
export const arbConfig: fc.Arbitrary<DomainConfig> = fc
  .record({
    restoreWindowDays: fc.integer({ min: 1, max: 14 }),
    erasureDeadlineDays: fc.integer({ min: 1, max: 60 }),
    accessDeadlineDays: fc.integer({ min: 1, max: 60 }),
    manager: fc.subarray([...allPermissions]),
  })
  .map(({ manager, ...deadlines }) => {
    const config: DomainConfig = {
      ...deadlines,
      consentCatalogue,
      permissions: {
        admin: allPermissions,
        receptionist: ["member:export"] satisfies ReadonlyArray<Permission>,
        manager,
      },
      clubs: { "club-a": { debtCollection: true }, "club-b": { debtCollection: false } },
    }
    // A counterexample prints only what varies, not the whole default catalogue.
    const summary = JSON.stringify({ ...deadlines, manager })
    return Object.defineProperty(config, fc.toStringMethod, { value: () => `config(${summary})` })
  })

/** An e-mail as staff might type it: any case, stray spaces. */
export const arbEmailVariant: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(...emails), fc.constantFrom("same", "upper", "spaces", "mixed"))
  .map(([email, how]) => {
    switch (how) {
      case "same":
        return email
      case "upper":
        return email.toUpperCase()
      case "spaces":
        return `  ${email} `
      default:
        return ` ${email.charAt(0).toUpperCase()}${email.slice(1)}`
    }
  })

/**
 * A purpose, weighted towards the few whose rules interact most (consent or
 * standing basis, profiling, the two that cover health data, one of them
 * without asking for an explicit consent), so that consent, withdrawal,
 * unsubscribe, sending and recording special-category data meet on the same
 * purpose often.
 */
export const arbPurpose: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constant("marketing") },
  { weight: 3, arbitrary: fc.constant("newsletter") },
  { weight: 2, arbitrary: fc.constant("profiling") },
  { weight: 1, arbitrary: fc.constantFrom("health-data", "wellness") },
  { weight: 2, arbitrary: fc.constantFrom(...purposes) },
)

const source = fc.constantFrom(
  { kind: "staff" as const },
  { kind: "form" as const, tag: "footer" },
  { kind: "import" as const },
  { kind: "subject" as const },
)
const amount = fc.integer({ min: 1, max: 5_000 })
/** Debits are mostly small, so that some fit the balance and some do not. */
const debitAmount = fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 300 }) }, amount)
/** Mostly null: a command that names an id which must exist is the exception. */
const rarely = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb })
const ofIds = <T extends string>(ids: ReadonlyArray<T>) => fc.constantFrom(...ids)

/**
 * A command whose times are relative to the moment it runs, or whose amount is
 * relative to the wallet's balance then; `atTime` makes it absolute. Keeping
 * the offsets out of the public command lets the printed counterexample show
 * real commands.
 */
type Draft =
  | { readonly kind: "ready"; readonly command: MemberCommand }
  | {
      readonly kind: "contract"
      readonly contractId: string
      readonly clubId: string
      readonly startOffset: number
      readonly duration: number | null
    }
  | {
      readonly kind: "request"
      readonly tag: "RequestErasure" | "RequestAccess"
      readonly requestId: string
      readonly receivedAgo: number
    }
  | { readonly kind: "consentImport"; readonly command: CommandOf<"GiveConsent">; readonly givenAgo: number }
  /** A debit of the balance, or one unit less or more: the edge of InsufficientFunds. */
  | { readonly kind: "debitAtBalance"; readonly offset: -1 | 0 | 1 }
  /** The previous command once more (a double click, a retried request): duplicates and no-ops. */
  | { readonly kind: "again" }

const ready = (arb: fc.Arbitrary<MemberCommand>): fc.Arbitrary<Draft> =>
  arb.map((command) => ({ kind: "ready", command }))

const personalFields = (category: PersonalCategory): fc.Arbitrary<Readonly<Record<string, string>>> =>
  category === "contact"
    ? fc.oneof(
        arbEmailVariant.map((email) => ({ email })),
        fc.constant({ phone: "+48 600 000 000" }),
      )
    : fc.constantFrom({ note: "something personal" }, { value: "42" })

const draft: fc.Arbitrary<Draft> = fc.oneof(
  {
    weight: 1,
    arbitrary: ready(
      fc.record({ email: fc.option(fc.constantFrom(...emails)), source }).map(
        ({ email, source }): MemberCommand => ({
          _tag: "Register",
          memberId,
          tenantId: "tenant-1",
          personal: email === null ? { name: "Anna" } : { name: "Anna", email },
          source,
        }),
      ),
    ),
  },
  {
    weight: 3,
    arbitrary: ready(
      fc
        .constantFrom(...categories)
        .chain((category) =>
          fc.record({ category: fc.constant(category), fields: personalFields(category), source }),
        )
        .map(
          ({ category, fields, source }): MemberCommand => ({
            _tag: "RecordPersonalData",
            category,
            fields,
            source,
          }),
        ),
    ),
  },
  {
    weight: 1,
    arbitrary: ready(
      fc.subarray([...categories], { minLength: 1 }).map((picked): MemberCommand => {
        const [first, ...rest] = picked as [PersonalCategory, ...Array<PersonalCategory>]
        return { _tag: "ErasePersonalData", categories: [first, ...rest], reason: "no longer needed" }
      }),
    ),
  },
  {
    weight: 4,
    arbitrary: fc
      .record({
        purpose: arbPurpose,
        basis: rarely(fc.constantFrom(...bases)),
        explicit: fc.boolean(),
        method: fc.constantFrom("checkbox", "double-opt-in", "paper", "import" as const),
        wordingVersion: fc.constantFrom("v1", "v1", "v1", "v2"),
        source,
        // When the person gave it, as an import says: long ago, or (a clock ahead) a little after now.
        givenAgo: fc.option(fc.oneof(fc.integer({ min: 0, max: 400 * dayMs }), fc.constantFrom(-1, -hourMs))),
      })
      .map(({ basis, givenAgo, ...fields }): Draft => {
        const command: CommandOf<"GiveConsent"> = {
          _tag: "GiveConsent",
          ...fields,
          ...(basis === null ? {} : { basis }),
        }
        return givenAgo === null ? { kind: "ready", command } : { kind: "consentImport", command, givenAgo }
      }),
  },
  {
    weight: 2,
    arbitrary: ready(
      fc
        .record({ purpose: arbPurpose, source })
        .map(({ purpose, source }): MemberCommand => ({ _tag: "WithdrawConsent", purpose, source })),
    ),
  },
  {
    weight: 2,
    arbitrary: ready(
      fc
        .record({
          purpose: arbPurpose,
          via: fc.constantFrom("link" as const, "staff" as const),
        })
        .map(({ purpose, via }): MemberCommand => ({ _tag: "Unsubscribe", purpose, via })),
    ),
  },
  {
    weight: 1,
    arbitrary: ready(
      fc
        .constantFrom("bounced" as const, "cleaned" as const, "blocklisted" as const, "complained" as const)
        .map((reason): MemberCommand => ({ _tag: "Suppress", reason, source: { kind: "import" } })),
    ),
  },
  { weight: 1, arbitrary: ready(fc.constant({ _tag: "DisableProfiling" })) },
  { weight: 1, arbitrary: ready(fc.constant({ _tag: "EnableProfiling" })) },
  {
    weight: 3,
    arbitrary: fc
      .record({
        contractId: ofIds(contractIds),
        clubId: ofIds(clubIds),
        startOffset: fc.oneof(
          fc.constantFrom(0, -dayMs, dayMs, 30 * dayMs),
          fc.integer({ min: -60 * dayMs, max: 60 * dayMs }),
        ),
        duration: fc.option(
          fc.oneof(fc.constantFrom(hourMs, dayMs, 30 * dayMs), fc.integer({ min: 1, max: 365 * dayMs })),
          { freq: 3 },
        ),
      })
      .map((fields): Draft => ({ kind: "contract", ...fields })),
  },
  {
    weight: 2,
    arbitrary: ready(
      ofIds(contractIds).map((contractId): MemberCommand => ({ _tag: "EndContract", contractId })),
    ),
  },
  { weight: 3, arbitrary: ready(amount.map((amount): MemberCommand => ({ _tag: "CreditWallet", amount }))) },
  {
    weight: 3,
    arbitrary: fc.oneof(
      {
        weight: 2,
        arbitrary: fc
          .constantFrom(-1 as const, 0 as const, 1 as const)
          .map((offset): Draft => ({ kind: "debitAtBalance", offset })),
      },
      {
        weight: 1,
        arbitrary: ready(debitAmount.map((amount): MemberCommand => ({ _tag: "DebitWallet", amount }))),
      },
    ),
  },
  {
    weight: 3,
    arbitrary: ready(
      fc
        .record({ caseId: ofIds(caseIds), clubId: ofIds(clubIds) })
        .map(({ caseId, clubId }): MemberCommand => ({ _tag: "OpenDebtCase", caseId, clubId })),
    ),
  },
  {
    weight: 3,
    arbitrary: ready(ofIds(caseIds).map((caseId): MemberCommand => ({ _tag: "CloseDebtCase", caseId }))),
  },
  {
    weight: 2,
    arbitrary: ready(
      fc
        .record({ purchaseId: ofIds(purchaseIds), amount, paid: fc.boolean() })
        .map((fields): MemberCommand => ({ _tag: "RecordPurchase", ...fields })),
    ),
  },
  {
    weight: 2,
    arbitrary: ready(
      ofIds(purchaseIds).map((purchaseId): MemberCommand => ({ _tag: "MarkPurchasePaid", purchaseId })),
    ),
  },
  {
    weight: 2,
    arbitrary: ready(
      fc
        .record({ instalmentId: ofIds(instalmentIds), clubId: ofIds(clubIds), amount })
        .map((fields): MemberCommand => ({ _tag: "RecordMissedInstalment", ...fields })),
    ),
  },
  {
    weight: 2,
    arbitrary: ready(
      ofIds(instalmentIds).map(
        (instalmentId): MemberCommand => ({ _tag: "MarkInstalmentPaid", instalmentId }),
      ),
    ),
  },
  {
    weight: 2,
    arbitrary: ready(
      fc
        .record({
          kind: fc.constantFrom("visit", "class", "transaction", "page-view" as const),
          clubId: fc.option(ofIds(clubIds)),
        })
        .map(
          ({ kind, clubId }): MemberCommand => ({
            _tag: "RecordActivity",
            kind,
            clubId,
            details: { page: "/" },
          }),
        ),
    ),
  },
  {
    weight: 5,
    arbitrary: ready(
      fc
        .record({
          messageId: fc.constantFrom("message-1", "message-2", "message-3"),
          purpose: arbPurpose,
          channel: fc.constantFrom("email", "sms"),
          test: fc.boolean(),
        })
        .map((fields): MemberCommand => ({ _tag: "SendMessage", sentBy: "staff-admin", ...fields })),
    ),
  },
  {
    weight: 2,
    arbitrary: ready(fc.constant({ _tag: "RestrictProcessing", reason: "accuracy contested" })),
  },
  { weight: 2, arbitrary: ready(fc.constant({ _tag: "LiftRestriction" })) },
  {
    weight: 2,
    arbitrary: fc
      .record({
        tag: fc.constantFrom("RequestErasure" as const, "RequestAccess" as const),
        requestId: ofIds(requestIds),
        receivedAgo: fc.integer({ min: 0, max: 10 * dayMs }),
      })
      .map((fields): Draft => ({ kind: "request", ...fields })),
  },
  {
    weight: 1,
    arbitrary: ready(
      fc
        .record({ format: fc.constantFrom("json", "csv"), requestId: rarely(ofIds(requestIds)) })
        .map(({ format, requestId }): MemberCommand => ({ _tag: "RecordExport", format, requestId })),
    ),
  },
  {
    weight: 2,
    arbitrary: ready(
      rarely(ofIds(requestIds)).map((requestId): MemberCommand => ({ _tag: "Forget", requestId })),
    ),
  },
  {
    weight: 2,
    arbitrary: ready(
      fc
        .constantFrom("staff" as const, "subject" as const)
        .map((by): MemberCommand => ({ _tag: "Restore", by })),
    ),
  },
  { weight: 1, arbitrary: ready(fc.constant({ _tag: "Purge" })) },
  { weight: 4, arbitrary: fc.constant<Draft>({ kind: "again" }) },
  {
    weight: 4,
    arbitrary: ready(
      fc
        .record({
          confirmEmail: fc.option(fc.oneof(arbEmailVariant, fc.constant("someone@else.org")), { freq: 4 }),
          policyId: fc.option(fc.constant("policy-inactive"), { freq: 2 }),
          requestId: rarely(ofIds(requestIds)),
        })
        .map((fields): MemberCommand => ({ _tag: "Anonymize", ...fields })),
    ),
  },
)

/** How far the clock moves before a command: often to round boundaries (a window's end), sometimes anywhere. */
export const arbAdvance: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, hourMs, 12 * hourMs, dayMs, 3 * dayMs, 7 * dayMs),
  fc.integer({ min: 0, max: 10 * dayMs }),
)

/** A hypothetical anonymization tried against the state a step leaves (not applied). */
export interface AnonymizeProbe {
  readonly confirmEmail: string | null
  readonly policyId: string | null
  /** Tried this long after the step's time. */
  readonly after: number
}

/** One step of a history: at `now`, `actor` runs `command`. */
export interface Step {
  readonly now: number
  readonly actor: Actor
  readonly command: MemberCommand
  readonly probe: AnonymizeProbe
}

const arbActor: fc.Arbitrary<Actor> = fc.oneof(
  { weight: 12, arbitrary: fc.constant(actors.admin) },
  { weight: 2, arbitrary: fc.constant(actors.system) },
  { weight: 1, arbitrary: fc.constant(actors.receptionist) },
  { weight: 1, arbitrary: fc.constant(actors.manager) },
  { weight: 1, arbitrary: fc.constant(actors.guest) },
)

const arbProbe: fc.Arbitrary<AnonymizeProbe> = fc.record({
  confirmEmail: fc.option(fc.oneof(arbEmailVariant, fc.constant("someone@else.org")), { freq: 5 }),
  policyId: fc.option(fc.constant("policy-inactive"), { freq: 3 }),
  after: fc.constantFrom(0, 0, hourMs, dayMs, 30 * dayMs),
})

const arbRawStep = fc.record({ advance: arbAdvance, actor: arbActor, draft, probe: arbProbe })
type RawStep = typeof arbRawStep extends fc.Arbitrary<infer T> ? T : never

const registerFirst: fc.Arbitrary<RawStep> = fc.record({
  advance: fc.constant(0),
  actor: fc.constant<Actor>(actors.admin),
  draft: fc.record({ email: fc.option(fc.constantFrom(...emails), { freq: 5 }) }).map(
    ({ email }): Draft => ({
      kind: "ready",
      command: {
        _tag: "Register",
        memberId,
        tenantId: "tenant-1",
        personal: email === null ? { name: "Anna" } : { name: "Anna", email },
        source: { kind: "form" },
      },
    }),
  ),
  probe: arbProbe,
})

const atTime = (draft: Draft, now: number, balance: number, previous: MemberCommand): MemberCommand => {
  switch (draft.kind) {
    case "ready":
      return draft.command
    case "contract": {
      const startsAt = Math.max(0, now + draft.startOffset)
      return {
        _tag: "SignContract",
        contractId: draft.contractId,
        clubId: draft.clubId,
        startsAt,
        endsAt: draft.duration === null ? null : startsAt + draft.duration,
      }
    }
    case "request":
      return {
        _tag: draft.tag,
        requestId: draft.requestId,
        receivedAt: Math.max(0, now - draft.receivedAgo),
        via: "email",
      }
    case "consentImport":
      return { ...draft.command, givenAt: Math.max(0, now - draft.givenAgo) }
    case "debitAtBalance":
      return { _tag: "DebitWallet", amount: Math.max(1, balance + draft.offset) }
    case "again":
      return previous
  }
}

const toSteps = (raw: ReadonlyArray<RawStep>): ReadonlyArray<Step> => {
  let now = historyStart
  // The balance if every credit after a registration, and every debit that fits, is accepted: a
  // guess (a command can be refused), close enough to put most drafted debits on the edge.
  let registered = false
  let balance = 0
  // Before any command, "again" registers the member.
  let previous: MemberCommand = {
    _tag: "Register",
    memberId,
    tenantId: "tenant-1",
    personal: { name: "Anna" },
    source: { kind: "form" },
  }
  return raw.map(({ advance, actor, draft, probe }) => {
    now += advance
    const command = atTime(draft, now, balance, previous)
    previous = command
    if (command._tag === "Register") registered = true
    else if (command._tag === "CreditWallet" && registered) balance += command.amount
    else if (command._tag === "DebitWallet" && command.amount <= balance) balance -= command.amount
    return { now, actor, command, probe }
  })
}

/**
 * A whole history: usually starts by registering the member (sometimes it
 * never does, and sometimes registers again later), then up to `maxLength`
 * commands of every type, time never going back.
 */
export const arbHistory = (maxLength = 40): fc.Arbitrary<ReadonlyArray<Step>> =>
  fc
    .oneof(
      {
        weight: 9,
        arbitrary: fc.tuple(registerFirst, fc.array(arbRawStep, { maxLength: maxLength - 1, size: "max" })),
      },
      {
        weight: 1,
        arbitrary: fc.tuple(arbRawStep, fc.array(arbRawStep, { maxLength: maxLength - 1, size: "max" })),
      },
    )
    .map(([first, rest]) => toSteps([first, ...rest]))
