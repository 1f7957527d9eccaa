/**
 * Given/When/Then specifications for a decider (`decide`, `evolve`,
 * `initialState`), in the style of Emmett's `DeciderSpecification`, so a
 * domain test reads like the business rule it proves:
 *
 * ```ts
 * given([registered(), emailRecorded("anna@example.org"), contractSigned()])
 *   .when(anonymize({ confirmEmail: "anna@example.org" }))
 *   .thenRejects("AnonymizationBlocked", { reasons: ["ActiveContract"] })
 * ```
 *
 * Assertions use vitest's `expect`, so a failure shows a diff of what the
 * command produced (its events, or the refusal with its data).
 *
 * @module
 */
import type { Actor, AnonymizationWarning, DomainError } from "@lethe/core"
import type {
  CommandOf,
  DecideContext,
  Decision,
  DomainConfig,
  EventOf,
  MemberCommand,
  MemberEvent,
  MemberState,
} from "@lethe/core/domain"
import { dayMs, decide, defaultDomainConfig, evolve, initialState, systemRole } from "@lethe/core/domain"
import { Either } from "effect"
import { expect } from "vitest"

// ---------------------------------------------------------------------------
// The generic specification
// ---------------------------------------------------------------------------

/** What an accepted command produces: events to append and warnings for the caller. */
export interface DecisionOf<Event, Warning> {
  readonly events: ReadonlyArray<Event>
  readonly warnings: ReadonlyArray<Warning>
}

/**
 * A decider in Emmett's sense: a pure `decide` that accepts a command with
 * events (and warnings) or refuses it with a tagged error, and an `evolve`
 * that folds events into state from `initialState`.
 */
export interface Decider<State, Command, Event, Context, Failure extends { readonly _tag: string }, Warning> {
  /** Accepts the command with its events and warnings, or refuses it with a tagged error. Pure. */
  readonly decide: (
    state: State,
    command: Command,
    context: Context,
  ) => Either.Either<DecisionOf<Event, Warning>, Failure>
  /** Folds one event into the state. */
  readonly evolve: (state: State, event: Event) => State
  /** The state before any event. */
  readonly initialState: State
}

/** The data a refusal with this `_tag` carries, any of which a `thenRejects` may check. */
export type RejectionFields<Failure, Tag> = Partial<
  Omit<Extract<Failure, { readonly _tag: Tag }>, "_tag" | "name" | "stack" | "cause" | "message">
> & { readonly message?: string }

/** The outcome of `given(...).when(...)`: chain `then*` assertions on it. */
export interface Outcome<State, Event, Failure extends { readonly _tag: string }, Warning> {
  /** The state the command met (the `given` history, folded). */
  readonly state: State
  /** What `decide` returned. */
  readonly result: Either.Either<DecisionOf<Event, Warning>, Failure>
  /** The command was accepted and produced exactly these events, in order. */
  thenEvents(expected: ReadonlyArray<Event>): this
  /** The command was accepted with exactly these warnings (R27: reminders, not blockers). */
  thenWarnings(expected: ReadonlyArray<Warning>): this
  /** The command was accepted and had nothing to record (no events, no warnings). */
  thenNothing(): this
  /**
   * The command was refused with this error `_tag`; `fields` (optional) are
   * matched against the error's data, e.g. `{ reasons: ["WalletNotEmpty"] }`.
   * Array fields must match exactly, element by element.
   */
  thenRejects<Tag extends Failure["_tag"]>(tag: Tag, fields?: RejectionFields<Failure, Tag>): this
  /**
   * The command was accepted and the state after its events matches `expected`
   * (a partial object, compared with `toMatchObject`), or passes the callback.
   */
  thenState(expected: Partial<State> | ((state: State) => void)): this
}

/** The `when` step: decide one command against the given history. */
export interface Given<
  State,
  Command,
  Event,
  Failure extends { readonly _tag: string },
  Warning,
  ContextInput,
> {
  /** The state the history folds to. */
  readonly state: State
  /** Decides the command in the given context (built by the specification's context function). */
  when(command: Command, context?: ContextInput): Outcome<State, Event, Failure, Warning>
}

/** Something an assertion can diff: an accepted decision, or a refusal as plain data. */
type Observed<Event, Warning> =
  | { readonly accepted: DecisionOf<Event, Warning> }
  | { readonly rejected: Readonly<Record<string, unknown>> }

/** A refusal as a plain object (`_tag`, its data and message), so `expect` diffs it by value. */
const plainRejection = (failure: { readonly _tag: string }): Readonly<Record<string, unknown>> => {
  const message = failure instanceof Error ? { message: failure.message } : {}
  return { ...failure, _tag: failure._tag, ...message }
}

const observe = <Event, Failure extends { readonly _tag: string }, Warning>(
  result: Either.Either<DecisionOf<Event, Warning>, Failure>,
): Observed<Event, Warning> =>
  Either.isRight(result) ? { accepted: result.right } : { rejected: plainRejection(result.left) }

class OutcomeImpl<State, Event, Failure extends { readonly _tag: string }, Warning>
  implements Outcome<State, Event, Failure, Warning>
{
  constructor(
    readonly state: State,
    readonly result: Either.Either<DecisionOf<Event, Warning>, Failure>,
    private readonly evolveState: (state: State, event: Event) => State,
  ) {}

  thenEvents(expected: ReadonlyArray<Event>): this {
    const observed = observe(this.result)
    expect(
      "accepted" in observed ? { events: observed.accepted.events } : observed,
      "expected the command to be accepted with these events",
    ).toEqual({ events: expected })
    return this
  }

  thenWarnings(expected: ReadonlyArray<Warning>): this {
    const observed = observe(this.result)
    expect(
      "accepted" in observed ? { warnings: observed.accepted.warnings } : observed,
      "expected the command to be accepted with these warnings",
    ).toEqual({ warnings: expected })
    return this
  }

  thenNothing(): this {
    expect(observe(this.result), "expected the command to be accepted with nothing to record").toEqual({
      accepted: { events: [], warnings: [] },
    })
    return this
  }

  thenRejects<Tag extends Failure["_tag"]>(tag: Tag, fields?: RejectionFields<Failure, Tag>): this {
    const observed = observe(this.result)
    expect(observed, `expected the command to be refused with ${tag}`).toMatchObject({
      rejected: { ...fields, _tag: tag },
    })
    return this
  }

  thenState(expected: Partial<State> | ((state: State) => void)): this {
    const observed = observe(this.result)
    if (!("accepted" in observed)) {
      expect(observed, "expected the command to be accepted").toHaveProperty("accepted")
      return this
    }
    const after = observed.accepted.events.reduce(this.evolveState, this.state)
    if (typeof expected === "function") expected(after)
    else if (typeof expected === "object" && expected !== null) expect(after).toMatchObject(expected)
    else expect(after).toEqual(expected)
    return this
  }
}

/**
 * Builds Given/When/Then specifications for any decider, Emmett style.
 *
 * @example
 * ```ts
 * const given = DeciderSpecification.for({ decide, evolve, initialState }, context)
 * given([registered()]).when({ _tag: "Forget", requestId: null }).thenEvents([forgotten()])
 * ```
 */
export const DeciderSpecification = {
  /**
   * Binds a decider and the function that turns `when`'s optional second
   * argument into the decider's context (called with `undefined` when omitted).
   */
  for:
    <State, Command, Event, Context, Failure extends { readonly _tag: string }, Warning, ContextInput>(
      decider: Decider<State, Command, Event, Context, Failure, Warning>,
      toContext: (input: ContextInput | undefined) => Context,
    ) =>
    (history: ReadonlyArray<Event>): Given<State, Command, Event, Failure, Warning, ContextInput> => {
      const state = history.reduce(decider.evolve, decider.initialState)
      return {
        state,
        when: (command, input) =>
          new OutcomeImpl(state, decider.decide(state, command, toContext(input)), decider.evolve),
      }
    },
}

// ---------------------------------------------------------------------------
// Time, actors and context for the member decider
// ---------------------------------------------------------------------------

/** The instant every helper defaults to: 2025-01-01T00:00:00Z, in epoch milliseconds. */
export const defaultNow: number = Date.UTC(2025, 0, 1)

/** `n` days in milliseconds (may be fractional or negative): `context({ now: defaultNow + days(8) })`. */
export const days = (n: number): number => n * dayMs

/** `n` hours in milliseconds. */
export const hours = (n: number): number => n * 3_600_000

/** A staff member with the `admin` role, which `defaultDomainConfig` grants every permission. */
export const adminActor: Actor = { id: "staff-admin", roles: ["admin"] }

/** Lethe's own jobs (retention runs): the system role holds every permission. */
export const systemActor: Actor = { id: "lethe-system", roles: [systemRole] }

/** A staff actor with the given roles (none: an identified user without any permission). */
export const staff = (id: string, ...roles: ReadonlyArray<string>): Actor => ({ id, roles })

/** What `context` and `when` accept; everything defaults. */
export interface ContextOptions {
  /** Epoch milliseconds or a Date; default `defaultNow`. */
  readonly now?: number | Date
  /** Default `adminActor`. */
  readonly actor?: Actor
  /** Merged over `defaultDomainConfig` (top-level keys replace the defaults). */
  readonly config?: Partial<DomainConfig>
}

/**
 * A `DecideContext` with sensible defaults: `defaultNow`, an admin actor,
 * `defaultDomainConfig`.
 *
 * @example
 * ```ts
 * context({ now: defaultNow + days(8), actor: staff("kasia", "receptionist"), config: { restoreWindowDays: 14 } })
 * ```
 */
export const context = (options: ContextOptions = {}): DecideContext => ({
  now:
    options.now === undefined
      ? defaultNow
      : typeof options.now === "number"
        ? options.now
        : options.now.getTime(),
  actor: options.actor ?? adminActor,
  config: { ...defaultDomainConfig, ...options.config },
})

/** Lethe's member decider, as `DeciderSpecification.for` takes it. */
export const memberDecider: Decider<
  MemberState,
  MemberCommand,
  MemberEvent,
  DecideContext,
  DomainError,
  AnonymizationWarning
> = {
  decide: (state, command, ctx): Either.Either<Decision, DomainError> => decide(state, command, ctx),
  evolve,
  initialState,
}

/**
 * Starts a member specification from a history of events (folded with
 * `evolve`); `when(command, options?)` decides in `context(options)`.
 *
 * @example
 * ```ts
 * given([registered(), walletCredited({ amount: 500 })])
 *   .when(anonymize(), { actor: systemActor })
 *   .thenRejects("AnonymizationBlocked", { reasons: ["WalletNotEmpty"] })
 * ```
 */
export const given: (
  history: ReadonlyArray<MemberEvent>,
) => Given<MemberState, MemberCommand, MemberEvent, DomainError, AnonymizationWarning, ContextOptions> =
  DeciderSpecification.for(memberDecider, (options: ContextOptions | undefined) => context(options))

// ---------------------------------------------------------------------------
// Event builders: the facts of a history, with defaults (at = defaultNow)
// ---------------------------------------------------------------------------

/** A member event's `_tag`. */
type Tag = MemberEvent["_tag"]
/**
 * Overrides of an event's fields (everything but `_tag`).
 *
 * @typeParam T - The event's `_tag`, e.g. `"Forgotten"`.
 */
export type EventFields<T extends Tag> = Partial<Omit<EventOf<T>, "_tag">>

// Curried so that `T` is fixed by the tag before the defaults are checked (keeps their literal types).
const builder =
  <T extends Tag>(tag: T) =>
  (defaults: (at: number) => Omit<EventOf<T>, "_tag" | "at">) =>
  (fields: EventFields<T> = {}): EventOf<T> => {
    const at = fields.at ?? defaultNow
    return { _tag: tag, at, ...defaults(at), ...fields } as EventOf<T>
  }

const staffSource = { kind: "staff" } as const

/** `MemberRegistered` of `member-1` in `tenant-1`. */
export const registered = builder("MemberRegistered")(() => ({
  memberId: "member-1",
  tenantId: "tenant-1",
  source: staffSource,
}))

/** `PersonalDataRecorded`; defaults to an identity name. */
export const personalDataRecorded = builder("PersonalDataRecorded")(() => ({
  category: "identity",
  fields: { name: "Anna Nowak" },
  source: staffSource,
}))

/** `PersonalDataRecorded` of the contact e-mail the subject confirms (R9). */
export const emailRecorded = (email = "anna@example.org", at = defaultNow): EventOf<"PersonalDataRecorded"> =>
  personalDataRecorded({ at, category: "contact", fields: { email } })

/** `PersonalDataErased`; defaults to the contact category. */
export const personalDataErased = builder("PersonalDataErased")(() => ({
  categories: ["contact"],
  reason: "requested by the subject",
}))

/** `ConsentGiven`, by default for the newsletter, by checkbox, wording v1, given at `at`. */
export const consentGiven = builder("ConsentGiven")((at) => ({
  purpose: "newsletter",
  basis: "consent",
  explicit: false,
  method: "checkbox",
  wordingVersion: "v1",
  source: { kind: "form" },
  givenAt: at,
}))

/** `ConsentWithdrawn` for the newsletter. */
export const consentWithdrawn = builder("ConsentWithdrawn")(() => ({
  purpose: "newsletter",
  source: { kind: "subject" },
}))

/** `Unsubscribed` from the newsletter, by the link in a message. */
export const unsubscribed = builder("Unsubscribed")(() => ({ purpose: "newsletter", via: "link" }))

/** `ProfilingDisabled` (R31). */
export const profilingDisabled = builder("ProfilingDisabled")(() => ({}))

/** `ProfilingEnabled` (R31). */
export const profilingEnabled = builder("ProfilingEnabled")(() => ({}))

/** `ContractSigned`: `contract-1` at `club-1`, starting at `at`, open-ended. */
export const contractSigned = builder("ContractSigned")((at) => ({
  contractId: "contract-1",
  clubId: "club-1",
  startsAt: at,
  endsAt: null,
}))

/** `ContractEnded` of `contract-1`. */
export const contractEnded = builder("ContractEnded")(() => ({ contractId: "contract-1" }))

/** `WalletCredited` with 1000 minor units. */
export const walletCredited = builder("WalletCredited")(() => ({ amount: 1000 }))

/** `WalletDebited` of 1000 minor units. */
export const walletDebited = builder("WalletDebited")(() => ({ amount: 1000 }))

/** `DebtCaseOpened`: `case-1` at `club-1`. */
export const debtCaseOpened = builder("DebtCaseOpened")(() => ({ caseId: "case-1", clubId: "club-1" }))

/** `DebtCaseClosed` of `case-1`. */
export const debtCaseClosed = builder("DebtCaseClosed")(() => ({ caseId: "case-1" }))

/** `PurchaseRecorded`: `purchase-1`, 4900 minor units, unpaid. */
export const purchaseRecorded = builder("PurchaseRecorded")(() => ({
  purchaseId: "purchase-1",
  amount: 4900,
  paid: false,
}))

/** `PurchasePaid` of `purchase-1`. */
export const purchasePaid = builder("PurchasePaid")(() => ({ purchaseId: "purchase-1" }))

/** `InstalmentMissed`: `instalment-1` at `club-1`, 9900 minor units. */
export const instalmentMissed = builder("InstalmentMissed")(() => ({
  instalmentId: "instalment-1",
  clubId: "club-1",
  amount: 9900,
}))

/** `InstalmentPaid` of `instalment-1`. */
export const instalmentPaid = builder("InstalmentPaid")(() => ({ instalmentId: "instalment-1" }))

/** `ActivityRecorded`: a visit at `club-1`. */
export const activityRecorded = builder("ActivityRecorded")(() => ({
  kind: "visit",
  clubId: "club-1",
  details: {},
}))

/** `MessageSent`: `message-1`, a newsletter by e-mail, on a consent given at `at`. */
export const messageSent = builder("MessageSent")((at) => ({
  messageId: "message-1",
  purpose: "newsletter",
  channel: "email",
  sentBy: "staff-admin",
  test: false,
  lawfulBasis: { basis: "consent", consentGivenAt: at, method: "checkbox", wordingVersion: "v1" },
}))

/** `ErasureRequested`: `request-1`, received at `at`, due 30 days later, by e-mail. */
export const erasureRequested = builder("ErasureRequested")((at) => ({
  requestId: "request-1",
  receivedAt: at,
  dueBy: at + days(30),
  via: "email",
}))

/** `AccessRequested`: `request-1`, received at `at`, due 30 days later, by e-mail. */
export const accessRequested = builder("AccessRequested")((at) => ({
  requestId: "request-1",
  receivedAt: at,
  dueBy: at + days(30),
  via: "email",
}))

/** `DataExported` as JSON, for no request. */
export const dataExported = builder("DataExported")(() => ({ format: "json", requestId: null }))

/** `SystemConfirmed`: `Accounting` confirmed its part of `request-1` (R14). */
export const systemConfirmed = builder("SystemConfirmed")(() => ({
  requestId: "request-1",
  system: "Accounting",
}))

/** `ProcessingRestricted` (art. 18, R23). */
export const processingRestricted = builder("ProcessingRestricted")(() => ({ reason: "accuracy contested" }))

/** `ProcessingRestrictionLifted`. */
export const processingRestrictionLifted = builder("ProcessingRestrictionLifted")(() => ({}))

/** `Forgotten`, restorable for the default 7 days from `at`. */
export const forgotten = builder("Forgotten")((at) => ({
  restorableUntil: at + days(defaultDomainConfig.restoreWindowDays),
  requestId: null,
}))

/** `Restored` by staff. */
export const restored = builder("Restored")(() => ({ by: "staff" }))

/** `Purged`. */
export const purged = builder("Purged")(() => ({}))

/** `Anonymized` by staff, nothing erased or kept, for no policy or request. */
export const anonymized = builder("Anonymized")(() => ({
  erasedCategories: [],
  keptCategories: [],
  policyId: null,
  requestId: null,
}))

// ---------------------------------------------------------------------------
// Command builders for the commands whose literals are noisiest
// ---------------------------------------------------------------------------

/** Overrides of a command's fields (everything but `_tag`). */
export type CommandFields<T extends MemberCommand["_tag"]> = Partial<Omit<CommandOf<T>, "_tag">>

/** `Anonymize` by staff with no confirmation, policy or request unless given. */
export const anonymize = (fields: CommandFields<"Anonymize"> = {}): CommandOf<"Anonymize"> => ({
  _tag: "Anonymize",
  confirmEmail: null,
  policyId: null,
  requestId: null,
  ...fields,
})

/** `Forget`, for no request unless given. */
export const forget = (fields: CommandFields<"Forget"> = {}): CommandOf<"Forget"> => ({
  _tag: "Forget",
  requestId: null,
  ...fields,
})

/** `Restore` by staff unless given. */
export const restore = (fields: CommandFields<"Restore"> = {}): CommandOf<"Restore"> => ({
  _tag: "Restore",
  by: "staff",
  ...fields,
})

/** `SendMessage`: `message-1`, a newsletter by e-mail from `staff-admin`, not a test. */
export const sendMessage = (fields: CommandFields<"SendMessage"> = {}): CommandOf<"SendMessage"> => ({
  _tag: "SendMessage",
  messageId: "message-1",
  purpose: "newsletter",
  channel: "email",
  sentBy: "staff-admin",
  test: false,
  ...fields,
})

/** `GiveConsent` for the newsletter, by checkbox on a form, wording v1, not explicit. */
export const giveConsent = (fields: CommandFields<"GiveConsent"> = {}): CommandOf<"GiveConsent"> => ({
  _tag: "GiveConsent",
  purpose: "newsletter",
  explicit: false,
  method: "checkbox",
  wordingVersion: "v1",
  source: { kind: "form" },
  ...fields,
})

/** `RecordPersonalData` of an identity name by staff unless given. */
export const recordPersonalData = (
  fields: CommandFields<"RecordPersonalData"> = {},
): CommandOf<"RecordPersonalData"> => ({
  _tag: "RecordPersonalData",
  category: "identity",
  fields: { name: "Anna Nowak" },
  source: staffSource,
  ...fields,
})
