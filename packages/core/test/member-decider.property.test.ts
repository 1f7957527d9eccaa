/**
 * C3: properties of the member decider over whole generated histories. Each
 * history is played through `decide` (accepted events are folded with
 * `evolve`, refused commands skipped) and, beside it, through a plain model
 * written here from the requirements: the model never calls a guard, so the
 * guards are checked against an independent oracle.
 */
import type {
  Actor,
  AnonymizationBlocker,
  AnonymizationWarning,
  DomainError,
  MessagingBlocker,
  Permission,
  PersonalCategory,
} from "@lethe/core"
import { MemberStatus } from "@lethe/core"
import type {
  DecideContext,
  Decision,
  DomainConfig,
  LawfulBasis,
  MemberCommand,
  MemberEvent,
  MemberState,
} from "@lethe/core/domain"
import {
  dayMs,
  decide,
  evolve,
  initialState,
  MemberEvent as MemberEventSchema,
  systemRole,
} from "@lethe/core/domain"
import { Either, Schema } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { actors, arbConfig, arbHistory, type Step } from "./arbitraries.js"

const numRuns = 200
const maxLength = 40

// ---------------------------------------------------------------------------
// The model: what the requirements say the member's facts are
// ---------------------------------------------------------------------------

type Status = "active" | "forgotten" | "purged" | "anonymized"

interface ModelConsent {
  readonly basis: LawfulBasis
  readonly explicit: boolean
  readonly method: string
  readonly wordingVersion: string
  readonly givenAt: number
  readonly withdrawn: boolean
}

/** The facts of one member, folded from the accepted events by rules stated in the requirements. */
class Model {
  exists = false
  status: Status = "active"
  everAnonymized = false
  restorableUntil: number | null = null
  readonly contracts = new Map<string, { startsAt: number; endsAt: number | null; ended: boolean }>()
  readonly openDebtCases = new Set<string>()
  credits = 0
  debits = 0
  restricted = false
  profiling = true
  customer = false
  readonly dataCategories = new Set<PersonalCategory>()
  contactEmail: string | undefined = undefined
  activities = 0
  readonly unsubscribed = new Set<string>()
  readonly consents = new Map<string, ModelConsent>()
  readonly unpaidPurchases = new Set<string>()
  readonly unpaidInstalments = new Map<string, string>()
  readonly requests = new Map<string, "erasure" | "access">()

  get balance(): number {
    return this.credits - this.debits
  }

  apply(event: MemberEvent): void {
    switch (event._tag) {
      case "MemberRegistered":
        this.exists = true
        break
      case "PersonalDataRecorded":
        this.dataCategories.add(event.category)
        if (event.category === "contact" && typeof event.fields.email === "string")
          this.contactEmail = event.fields.email
        break
      case "PersonalDataErased":
        for (const category of event.categories) this.forgetCategory(category)
        break
      case "ConsentGiven":
        this.unsubscribed.delete(event.purpose)
        this.consents.set(event.purpose, { ...event, withdrawn: false })
        break
      case "ConsentWithdrawn": {
        const consent = this.consents.get(event.purpose)
        if (consent !== undefined) this.consents.set(event.purpose, { ...consent, withdrawn: true })
        break
      }
      case "Unsubscribed":
        this.unsubscribed.add(event.purpose)
        break
      case "ProfilingDisabled":
        this.profiling = false
        break
      case "ProfilingEnabled":
        this.profiling = true
        break
      case "ContractSigned":
        this.customer = true
        this.contracts.set(event.contractId, { startsAt: event.startsAt, endsAt: event.endsAt, ended: false })
        break
      case "ContractEnded": {
        const contract = this.contracts.get(event.contractId)
        if (contract !== undefined) contract.ended = true
        break
      }
      case "WalletCredited":
        this.credits += event.amount
        break
      case "WalletDebited":
        this.debits += event.amount
        break
      case "DebtCaseOpened":
        this.openDebtCases.add(event.caseId)
        break
      case "DebtCaseClosed":
        this.openDebtCases.delete(event.caseId)
        break
      case "PurchaseRecorded":
        this.customer = true
        if (!event.paid) this.unpaidPurchases.add(event.purchaseId)
        break
      case "PurchasePaid":
        this.unpaidPurchases.delete(event.purchaseId)
        break
      case "InstalmentMissed":
        this.unpaidInstalments.set(event.instalmentId, event.clubId)
        break
      case "InstalmentPaid":
        this.unpaidInstalments.delete(event.instalmentId)
        break
      case "ActivityRecorded":
        this.activities += 1
        break
      case "ErasureRequested":
        this.requests.set(event.requestId, "erasure")
        break
      case "AccessRequested":
        this.requests.set(event.requestId, "access")
        break
      case "ProcessingRestricted":
        this.restricted = true
        break
      case "ProcessingRestrictionLifted":
        this.restricted = false
        break
      case "Forgotten":
        this.status = "forgotten"
        this.restorableUntil = event.restorableUntil
        break
      case "Restored":
        this.status = "active"
        this.restorableUntil = null
        break
      case "Purged":
        this.status = "purged"
        this.restorableUntil = null
        for (const category of [...this.dataCategories]) this.forgetCategory(category)
        break
      case "Anonymized":
        this.status = "anonymized"
        this.everAnonymized = true
        for (const category of event.erasedCategories) this.forgetCategory(category)
        break
      case "MessageSent":
      case "DataExported":
        break
    }
  }

  private forgetCategory(category: PersonalCategory): void {
    this.dataCategories.delete(category)
    if (category === "contact") this.contactEmail = undefined
  }
}

// ---------------------------------------------------------------------------
// The oracle: each rule, restated from the requirements against the model
// ---------------------------------------------------------------------------

const mayAct = (actor: Actor, permission: Permission, config: DomainConfig): boolean =>
  actor.roles.includes(systemRole) ||
  actor.roles.some((role) => (config.permissions[role] ?? []).some((granted) => granted === permission))

const sameEmail = (a: string, b: string): boolean => a.trim().toLowerCase() === b.trim().toLowerCase()

/** R25, R23, R9: every reason an anonymization at `now` must be refused. */
const expectedBlockers = (
  model: Model,
  now: number,
  confirmEmail: string | null,
  policyRun: boolean,
): ReadonlySet<AnonymizationBlocker> => {
  const reasons = new Set<AnonymizationBlocker>()
  for (const c of model.contracts.values()) {
    if (c.ended) continue
    if (c.startsAt > now) reasons.add("FutureContract")
    else if (c.endsAt === null || now < c.endsAt) reasons.add("ActiveContract")
  }
  if (model.openDebtCases.size > 0) reasons.add("OpenDebtCase")
  if (model.balance > 0) reasons.add("WalletNotEmpty")
  if (model.restricted) reasons.add("ProcessingRestricted")
  if (model.status === "anonymized") reasons.add("AlreadyAnonymized")
  const email = model.contactEmail
  if (!policyRun && email !== undefined && (confirmEmail === null || !sameEmail(confirmEmail, email)))
    reasons.add("SubjectNotConfirmed")
  return reasons
}

/** R27: reminders an accepted anonymization returns. */
const expectedWarnings = (model: Model, config: DomainConfig): ReadonlySet<AnonymizationWarning> => {
  const warnings = new Set<AnonymizationWarning>()
  if (model.unpaidPurchases.size > 0) warnings.add("UnpaidPurchases")
  for (const clubId of model.unpaidInstalments.values())
    if (config.clubs[clubId]?.debtCollection === false) warnings.add("ArrearsWithoutDebtCollection")
  return warnings
}

/** R4, R16, R23, R31: every reason a message for `purpose` must be refused to an active member. */
const expectedMessagingBlockers = (
  model: Model,
  purpose: string,
  config: DomainConfig,
): ReadonlySet<MessagingBlocker> => {
  const definition = config.consentCatalogue[purpose]
  const consent = model.consents.get(purpose)
  const standing = definition?.standingBasis
  // A consent in force is a basis; once withdrawn, it is an objection: no standing basis replaces it.
  const hasBasis =
    definition !== undefined &&
    (consent !== undefined
      ? !consent.withdrawn
      : standing !== undefined && (!standing.customersOnly || model.customer))
  const reasons = new Set<MessagingBlocker>()
  if (!hasBasis) reasons.add("NoLawfulBasis")
  if (definition !== undefined && model.unsubscribed.has(purpose)) reasons.add("Unsubscribed")
  if (model.restricted) reasons.add("ProcessingRestricted")
  if (definition?.profiling === true && !model.profiling) reasons.add("ProfilingDisabled")
  return reasons
}

/** R24: categories an anonymization erases (activity counts as data), and those kept by law. */
const expectedErasure = (model: Model) => {
  const present = new Set(model.dataCategories)
  if (model.activities > 0) present.add("activity")
  return {
    erasedCategories: [...present].filter((c) => c !== "invoice").sort(),
    keptCategories: [...present].filter((c) => c === "invoice").sort(),
  }
}

const sorted = <T extends string>(values: Iterable<T>): Array<T> => [...values].sort()

// ---------------------------------------------------------------------------
// Playing a history
// ---------------------------------------------------------------------------

type Result = Either.Either<Decision, DomainError>

interface Played {
  readonly step: Step
  readonly ctx: DecideContext
  /** The state and model the command met. */
  readonly before: MemberState
  readonly model: Model
  readonly result: Result
}

/**
 * Plays the history: decides each step against the state so far, folds the
 * accepted events into the state and into the model, skips refused commands.
 * `inspect` sees each step before its events are applied.
 */
const play = (
  steps: ReadonlyArray<Step>,
  config: DomainConfig,
  inspect: (played: Played) => void,
): MemberState => {
  let state = initialState
  const model = new Model()
  for (const step of steps) {
    const ctx: DecideContext = { now: step.now, actor: step.actor, config }
    const result = decide(state, step.command, ctx)
    inspect({ step, ctx, before: state, model, result })
    if (Either.isRight(result))
      for (const event of result.right.events) {
        state = evolve(state, event)
        model.apply(event)
      }
  }
  return state
}

const leftTag = (result: Result): string | undefined => (Either.isLeft(result) ? result.left._tag : undefined)

/** A result as plain data, for deep comparison (errors are class instances). */
const plain = (result: Result) =>
  Either.isRight(result)
    ? { accepted: result.right }
    : { rejected: { ...result.left, _tag: result.left._tag, message: result.left.message } }

const deepFreeze = <T>(value: T): T => {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const inner of Object.values(value)) deepFreeze(inner)
  }
  return value
}

/** What an anonymization must produce, by the oracle. */
const checkAnonymize = (
  model: Model,
  command: Extract<MemberCommand, { _tag: "Anonymize" }>,
  ctx: DecideContext,
  result: Result,
  seen?: { accepted: number; reasons: Set<string> },
) => {
  if (!model.exists) return expect(leftTag(result)).toBe("MemberNotFound")
  if (!mayAct(ctx.actor, "member:anonymize", ctx.config)) return expect(leftTag(result)).toBe("NotPermitted")
  if (model.status === "forgotten" || model.status === "purged")
    return expect(leftTag(result)).toBe("MemberErased")
  // Only Lethe's own jobs (the system role) may skip the subject's confirmation on a policy run.
  const policyRun = command.policyId !== null && ctx.actor.roles.includes(systemRole)
  const blockers = expectedBlockers(model, ctx.now, command.confirmEmail, policyRun)
  if (blockers.size > 0) {
    expect(leftTag(result)).toBe("AnonymizationBlocked")
    if (Either.isLeft(result) && result.left._tag === "AnonymizationBlocked") {
      expect(sorted(result.left.reasons)).toEqual(sorted(blockers))
      expect(new Set(result.left.reasons).size).toBe(result.left.reasons.length)
      for (const reason of result.left.reasons) seen?.reasons.add(reason)
    }
    return
  }
  if (command.requestId !== null && model.requests.get(command.requestId) !== "erasure")
    return expect(leftTag(result)).toBe("UnknownReference")
  expect(plain(result)).toEqual({
    accepted: {
      events: [
        {
          _tag: "Anonymized",
          at: ctx.now,
          ...expectedErasure(model),
          policyId: command.policyId,
          requestId: command.requestId,
        },
      ],
      warnings: expect.anything(),
    },
  })
  if (Either.isRight(result))
    expect(sorted(result.right.warnings)).toEqual(sorted(expectedWarnings(model, ctx.config)))
  if (seen !== undefined) seen.accepted += 1
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

describe("C3: properties of decide/evolve over generated histories", () => {
  it("R25: anonymize succeeds iff no blocker holds, and the reasons are exactly the blockers that hold", () => {
    const seen = { accepted: 0, reasons: new Set<string>() }
    fc.assert(
      fc.property(arbConfig, arbHistory(maxLength), (config, steps) => {
        play(steps, config, ({ step, ctx, before, model, result }) => {
          // The command itself, when it is an anonymization.
          if (step.command._tag === "Anonymize") checkAnonymize(model, step.command, ctx, result)
          // And a hypothetical one by an admin, at every point of the history: a while
          // later, and on both sides of each contract's start and end.
          const probe = { _tag: "Anonymize", ...step.probe, requestId: null } as const
          const edges = [...model.contracts.values()].flatMap((c) => [c.startsAt, c.endsAt ?? c.startsAt])
          const times = [step.now + step.probe.after, ...edges.flatMap((t) => [t - 1, t])]
          for (const now of new Set(times.filter((t) => t >= step.now))) {
            const probeCtx = { now, actor: actors.admin, config }
            checkAnonymize(model, probe, probeCtx, decide(before, probe, probeCtx), seen)
          }
        })
      }),
      { numRuns },
    )
    // The generator must reach both outcomes and every blocker, or this property proves little.
    expect(seen.accepted).toBeGreaterThan(0)
    expect(sorted(seen.reasons)).toEqual(
      sorted([
        "ActiveContract",
        "FutureContract",
        "OpenDebtCase",
        "WalletNotEmpty",
        "ProcessingRestricted",
        "AlreadyAnonymized",
        "SubjectNotConfirmed",
      ]),
    )
  })

  it("C1: a rejection never yields events: decide returns Left, a tagged error and nothing else", () => {
    fc.assert(
      fc.property(arbConfig, arbHistory(maxLength), (config, steps) => {
        play(steps, config, ({ result }) => {
          if (Either.isRight(result)) return
          const error = result.left
          expect(error).toBeInstanceOf(Error)
          expect(error._tag).toMatch(/^[A-Z][A-Za-z]+$/)
          expect(error.message.length).toBeGreaterThan(0)
          expect(error).not.toHaveProperty("events")
          expect(error).not.toHaveProperty("warnings")
        })
      }),
      { numRuns },
    )
  })

  it("C1: evolve is total over anything decide produces; every event is valid, timed now, and round-trips its schema", () => {
    const isEvent = Schema.is(MemberEventSchema)
    const encode = Schema.encodeSync(MemberEventSchema)
    const decodeEvent = Schema.decodeUnknownSync(MemberEventSchema)
    const isStatus = Schema.is(MemberStatus)
    fc.assert(
      fc.property(arbConfig, arbHistory(maxLength), (config, steps) => {
        const statuses: Array<string> = []
        const final = play(steps, config, ({ ctx, before, model, result }) => {
          expect(isStatus(before.status)).toBe(true)
          expect(before.status).toBe(model.status)
          statuses.push(before.status)
          if (Either.isLeft(result)) return
          for (const event of result.right.events) {
            expect(isEvent(event), JSON.stringify(event)).toBe(true)
            expect(event.at).toBe(ctx.now)
            expect(decodeEvent(JSON.parse(JSON.stringify(encode(event))))).toEqual(event)
          }
        })
        expect(isStatus(final.status)).toBe(true)
        // Anonymization is terminal (R22): nothing follows it but "anonymized".
        const anonymizedAt = statuses.indexOf("anonymized")
        if (anonymizedAt >= 0) expect(new Set(statuses.slice(anonymizedAt))).toEqual(new Set(["anonymized"]))
      }),
      { numRuns },
    )
  })

  it("R5/R22: restore succeeds iff the member is forgotten and now < restorableUntil, never after Anonymized", () => {
    const seen = { restored: 0, expired: 0, nothing: 0 }
    fc.assert(
      fc.property(arbConfig, arbHistory(maxLength), (config, steps) => {
        play(steps, config, ({ step, ctx, before, model, result }) => {
          const probes: Array<[Actor, MemberCommand, Result, DecideContext]> = []
          if (step.command._tag === "Restore") probes.push([step.actor, step.command, result, ctx])
          // Hypothetical restores: a while after this step, and on both sides of the window's end.
          const until = model.restorableUntil
          const times = [step.now + step.probe.after, ...(until === null ? [] : [until - 1, until])]
          for (const now of times.filter((t) => t >= step.now))
            for (const by of ["staff", "subject"] as const) {
              const command: MemberCommand = { _tag: "Restore", by }
              const probeCtx = { now, actor: by === "staff" ? actors.admin : actors.guest, config }
              probes.push([probeCtx.actor, command, decide(before, command, probeCtx), probeCtx])
            }
          // The window opens when the member is forgotten and lasts the configured days (R5).
          if (Either.isRight(result))
            for (const event of result.right.events)
              if (event._tag === "Forgotten")
                expect(event.restorableUntil).toBe(ctx.now + config.restoreWindowDays * dayMs)
          for (const [actor, command, outcome, at] of probes) {
            if (command._tag !== "Restore") continue
            const restorable =
              model.exists &&
              model.status === "forgotten" &&
              model.restorableUntil !== null &&
              at.now < model.restorableUntil
            if (model.everAnonymized) expect(Either.isRight(outcome)).toBe(false)
            if (!model.exists) expect(leftTag(outcome)).toBe("MemberNotFound")
            else if (command.by === "staff" && !mayAct(actor, "member:restore", config))
              expect(leftTag(outcome)).toBe("NotPermitted")
            else if (model.status === "active") {
              expect(leftTag(outcome)).toBe("NothingToRestore")
              seen.nothing += 1
            } else if (restorable) {
              expect(plain(outcome)).toEqual({
                accepted: { events: [{ _tag: "Restored", at: at.now, by: command.by }], warnings: [] },
              })
              seen.restored += 1
            } else {
              expect(leftTag(outcome)).toBe("RestoreWindowExpired")
              seen.expired += 1
            }
          }
        })
      }),
      { numRuns },
    )
    expect(seen.restored).toBeGreaterThan(0)
    expect(seen.expired).toBeGreaterThan(0)
    expect(seen.nothing).toBeGreaterThan(0)
  })

  it("R2/R4/R23: no MessageSent ever goes to an erased, restricted or (for that purpose) unsubscribed member", () => {
    let sent = 0
    fc.assert(
      fc.property(arbConfig, arbHistory(maxLength), (config, steps) => {
        play(steps, config, ({ step, model, result }) => {
          if (Either.isLeft(result)) return
          for (const event of result.right.events) {
            if (event._tag !== "MessageSent") continue
            sent += 1
            expect(model.status).toBe("active")
            expect(model.restricted).toBe(false)
            expect(model.unsubscribed.has(event.purpose)).toBe(false)
            expect(step.command._tag).toBe("SendMessage")
          }
        })
      }),
      { numRuns },
    )
    expect(sent).toBeGreaterThan(0)
  })

  it("R2/R4/R16/R23/R31: a message is sent iff the member is active and no messaging blocker holds, with the basis in force", () => {
    fc.assert(
      fc.property(arbConfig, arbHistory(maxLength), (config, steps) => {
        play(steps, config, ({ step, ctx, model, result }) => {
          const command = step.command
          if (command._tag !== "SendMessage") return
          if (!model.exists) return expect(leftTag(result)).toBe("MemberNotFound")
          if (model.status !== "active") return expect(leftTag(result)).toBe("MemberErased")
          const blockers = expectedMessagingBlockers(model, command.purpose, config)
          if (blockers.size > 0) {
            expect(leftTag(result)).toBe("MessageRefused")
            if (Either.isLeft(result) && result.left._tag === "MessageRefused")
              expect(sorted(result.left.reasons)).toEqual(sorted(blockers))
            return
          }
          const consent = model.consents.get(command.purpose)
          const standing = config.consentCatalogue[command.purpose]?.standingBasis
          const lawfulBasis =
            consent !== undefined && !consent.withdrawn
              ? {
                  basis: consent.basis,
                  consentGivenAt: consent.givenAt,
                  method: consent.method,
                  wordingVersion: consent.wordingVersion,
                }
              : { basis: standing?.basis, consentGivenAt: null, method: null, wordingVersion: null }
          expect(plain(result)).toEqual({
            accepted: {
              events: [{ ...command, _tag: "MessageSent", at: ctx.now, lawfulBasis }],
              warnings: [],
            },
          })
        })
      }),
      { numRuns },
    )
  })

  it("R17: special-category data is recorded iff an explicit consent for a purpose covering it is in force", () => {
    let special = 0
    fc.assert(
      fc.property(arbConfig, arbHistory(maxLength), (config, steps) => {
        play(steps, config, ({ step, model, result }) => {
          const command = step.command
          if (command._tag !== "RecordPersonalData" || !model.exists || model.status !== "active") return
          const coveringPurposes = Object.values(config.consentCatalogue)
            .filter((definition) => definition.covers.includes(command.category))
            .map((definition) => definition.purpose)
          if (coveringPurposes.length === 0) return expect(leftTag(result)).toBeUndefined()
          special += 1
          const covered = coveringPurposes.some((purpose) => {
            const consent = model.consents.get(purpose)
            return consent !== undefined && !consent.withdrawn && consent.explicit
          })
          expect(leftTag(result)).toBe(covered ? undefined : "ExplicitConsentRequired")
        })
      }),
      { numRuns },
    )
    expect(special).toBeGreaterThan(0)
  })

  it("Wallet: the balance is the sum of credits minus debits of the accepted events, and never negative", () => {
    fc.assert(
      fc.property(arbConfig, arbHistory(maxLength), (config, steps) => {
        const final = play(steps, config, ({ step, before, model, result }) => {
          expect(before.walletBalance).toBe(model.balance)
          expect(before.walletBalance).toBeGreaterThanOrEqual(0)
          if (step.command._tag === "DebitWallet" && model.exists && model.status === "active")
            expect(leftTag(result)).toBe(
              step.command.amount > model.balance ? "InsufficientFunds" : undefined,
            )
        })
        expect(final.walletBalance).toBeGreaterThanOrEqual(0)
      }),
      { numRuns },
    )
  })

  it("R8/R26: a privileged command by an actor without the permission is always NotPermitted", () => {
    const needs = (command: MemberCommand): Permission | undefined => {
      switch (command._tag) {
        case "Forget":
        case "Purge":
        case "ErasePersonalData":
          return "member:forget"
        case "Anonymize":
          return "member:anonymize"
        case "RecordExport":
          return "member:export"
        case "Restore":
          return command.by === "staff" ? "member:restore" : undefined
        default:
          return undefined
      }
    }
    fc.assert(
      fc.property(arbConfig, arbHistory(maxLength), (config, steps) => {
        play(steps, config, ({ step, model, result }) => {
          const permission = needs(step.command)
          if (!model.exists || permission === undefined) return
          if (!mayAct(step.actor, permission, config)) expect(leftTag(result)).toBe("NotPermitted")
          else expect(leftTag(result)).not.toBe("NotPermitted")
        })
      }),
      { numRuns },
    )
  })

  it("C1: decide is pure and deterministic: same state, command and context give a deep-equal result, nothing mutated", () => {
    fc.assert(
      fc.property(arbConfig, arbHistory(maxLength), (config, steps) => {
        deepFreeze(config)
        play(steps, config, ({ step, ctx, before, result }) => {
          const again = decide(structuredClone(before), structuredClone(step.command), {
            now: ctx.now,
            actor: structuredClone(ctx.actor),
            config: structuredClone(config),
          })
          expect(plain(again)).toEqual(plain(result))
          // Deciding on frozen inputs would throw if decide mutated them.
          const frozen = decide(
            deepFreeze(structuredClone(before)),
            deepFreeze(structuredClone(step.command)),
            ctx,
          )
          expect(plain(frozen)).toEqual(plain(result))
        })
      }),
      { numRuns },
    )
  })
})
