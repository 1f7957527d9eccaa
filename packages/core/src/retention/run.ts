/**
 * Running a retention plan: page through each step's members, act on each
 * through the domain commands (so every guard holds), and report what ran,
 * what the guards refused and why, and what failed. A run changes only what
 * its queries select, and what it changed they no longer select, so running
 * it twice does nothing the second time.
 *
 * @module
 */
import { Effect, Either } from "effect"
import type { AnonymizationWarning, LetheError } from "../errors.js"
import { absurd } from "../member/state.js"
import type { ErasureReport } from "../sealing/shredding.js"
import type { RetentionAction, RetentionStep } from "./plan.js"
import type { RetentionPolicy } from "./policies.js"

/** Where a retention run is, as `onProgress` reports it after each member. */
export interface RetentionProgress {
  /** The built-in rule or the policy id being run. */
  readonly rule: string
  /** Members handled so far in this run (planned ones, in a dry run). */
  readonly done: number
}

/** Options of `runRetention`. */
export interface RetentionOptions {
  /** Policies to run after the built-in rules, in order. Default: none. */
  readonly policies?: ReadonlyArray<RetentionPolicy>
  /** Plan only: report which members the rules and policies select, change nothing. */
  readonly dryRun?: boolean
  /** Members per directory page; each page's members are then handled one by one. Default 5,000. */
  readonly batchSize?: number
  /** Called after each member is handled (each member planned, in a dry run). */
  readonly onProgress?: (progress: RetentionProgress) => void
}

/** One member in a retention report. */
export interface RetentionEntry {
  readonly memberId: string
  /** The built-in rule (`purge-forgotten`, `end-invoice-retention`) or the policy's id. */
  readonly rule: string
  readonly action: RetentionAction["_tag"]
}

/**
 * What a retention run did (or, dry, would do). A member appears in `planned`
 * once, under the first rule that selected it, and then in exactly one of
 * `executed`, `blocked` or `failed` (none in a dry run).
 */
export interface RetentionReport {
  readonly dryRun: boolean
  /** Ties every event of the run together in the log's metadata. */
  readonly correlationId: string
  readonly planned: ReadonlyArray<RetentionEntry>
  readonly executed: ReadonlyArray<RetentionEntry & { readonly erasure: ErasureReport | null }>
  /** Members a guard refused, with every reason (R23, R25): nothing was written for them. */
  readonly blocked: ReadonlyArray<
    RetentionEntry & { readonly reasons: ReadonlyArray<string>; readonly error: LetheError }
  >
  /** Reminders that came back with executed anonymizations (R27). */
  readonly warnings: ReadonlyArray<
    RetentionEntry & { readonly warnings: ReadonlyArray<AnonymizationWarning> }
  >
  /** Members the run could not handle for a reason that is not a refusal (store, integrity). */
  readonly failed: ReadonlyArray<RetentionEntry & { readonly error: LetheError }>
}

/** What the service lends a run: reading the directory, and acting on a member. */
export interface RetentionRunner {
  /** A page of the ids `step` selects after `after`, ascending. */
  readonly page: (
    step: RetentionStep,
    after: string | undefined,
  ) => Effect.Effect<ReadonlyArray<string>, LetheError>
  readonly apply: (
    memberId: string,
    action: RetentionAction,
  ) => Effect.Effect<
    { readonly erasure: ErasureReport | null; readonly warnings: ReadonlyArray<AnonymizationWarning> },
    LetheError
  >
}

/**
 * The reasons of a refusal (a guard said no), or undefined for a failure
 * (the store, the log's integrity, a conflict that outlived its retries).
 */
export const refusalReasons = (error: LetheError): ReadonlyArray<string> | undefined => {
  switch (error._tag) {
    case "AnonymizationBlocked":
    case "ErasureBlocked":
    case "RetentionBlocked":
    case "MessageRefused":
      return error.reasons
    case "MemberErased":
    case "MemberNotFound":
    case "NotPermitted":
    case "RestoreWindowExpired":
    case "NothingToRestore":
    case "NotPurgeable":
    case "ExplicitConsentRequired":
    case "UnknownPurpose":
    case "UnknownWordingVersion":
    case "ExplicitFlagRequired":
    case "BasisNotAllowed":
    case "InsufficientFunds":
    case "WalletLimitExceeded":
    case "UnknownReference":
    case "DuplicateReference":
    case "EmailTaken":
    case "NotErased":
    case "MessageNotFound":
    case "ExportLinkInvalid":
      return [error._tag]
    case "InvalidCommand":
    case "ConcurrencyConflict":
    case "StoreError":
    case "StoreUnavailable":
    case "KeyDestroyed":
    case "KeyExists":
    case "IntegrityError":
    case "ErasureIncomplete":
    case "KeyringMismatch":
      return undefined
    default:
      return absurd(error)
  }
}

/** Runs the steps in order, page by page, and reports. Never fails for one member's sake. */
export const runRetentionSteps = (
  steps: ReadonlyArray<RetentionStep>,
  runner: RetentionRunner,
  options: {
    readonly correlationId: string
    readonly dryRun: boolean
    readonly batchSize: number
    readonly onProgress?: (progress: RetentionProgress) => void
  },
): Effect.Effect<RetentionReport, LetheError> =>
  Effect.gen(function* () {
    const planned: Array<RetentionEntry> = []
    const executed: Array<RetentionReport["executed"][number]> = []
    const blocked: Array<RetentionReport["blocked"][number]> = []
    const warnings: Array<RetentionReport["warnings"][number]> = []
    const failed: Array<RetentionReport["failed"][number]> = []
    const seen = new Set<string>()
    for (const step of steps) {
      let after: string | undefined
      for (;;) {
        // Keyset paging: members acted on leave the query, refused ones stay behind the cursor.
        const page = yield* runner.page(step, after)
        const batch: Array<RetentionEntry> = []
        for (const memberId of page)
          if (!seen.has(memberId)) batch.push({ memberId, rule: step.rule, action: step.action._tag })
        for (const entry of batch) {
          seen.add(entry.memberId)
          planned.push(entry)
          if (options.dryRun) {
            options.onProgress?.({ rule: step.rule, done: planned.length })
            continue
          }
          const outcome = yield* Effect.either(runner.apply(entry.memberId, step.action))
          if (Either.isRight(outcome)) {
            executed.push({ ...entry, erasure: outcome.right.erasure })
            if (outcome.right.warnings.length > 0)
              warnings.push({ ...entry, warnings: outcome.right.warnings })
          } else {
            const reasons = refusalReasons(outcome.left)
            if (reasons === undefined) failed.push({ ...entry, error: outcome.left })
            else blocked.push({ ...entry, reasons, error: outcome.left })
          }
          options.onProgress?.({ rule: step.rule, done: executed.length + blocked.length + failed.length })
        }
        const last = page.at(-1)
        if (page.length < options.batchSize || last === undefined) break
        after = last
      }
    }
    return {
      dryRun: options.dryRun,
      correlationId: options.correlationId,
      planned,
      executed,
      blocked,
      warnings,
      failed,
    }
  })
