/**
 * Retention policies (R12, R15, R20): plain data that says which members a
 * scheduled run anonymizes or forgets. A policy is a Schema-checked value with
 * an id, so it can live in a configuration file, and the id is recorded on
 * every `Anonymized` event it causes.
 *
 * @module
 */
import { Schema } from "effect"
import { Id } from "../member/events.js"

const Count = Schema.Number.pipe(Schema.int(), Schema.positive())

/** Anonymize members whose last contract ended more than `months` ago (R20). */
export const AnonymizeAfterContractEnd = Schema.TaggedStruct("AnonymizeAfterContractEnd", {
  id: Id,
  months: Count,
  /** Only this tenant's members; all tenants when absent. */
  tenantId: Schema.optional(Id),
})
export type AnonymizeAfterContractEnd = typeof AnonymizeAfterContractEnd.Type

/** Anonymize members with no visit, class, transaction, page view or purchase for `months` (R12). */
export const AnonymizeInactive = Schema.TaggedStruct("AnonymizeInactive", {
  id: Id,
  months: Count,
  tenantId: Schema.optional(Id),
})
export type AnonymizeInactive = typeof AnonymizeInactive.Type

/**
 * Forget leads who never became customers (no contract, no purchase) and gave
 * no sign of life (consent, activity) for `days` (R15).
 */
export const ForgetColdLeads = Schema.TaggedStruct("ForgetColdLeads", {
  id: Id,
  days: Count,
  tenantId: Schema.optional(Id),
})
export type ForgetColdLeads = typeof ForgetColdLeads.Type

/** Every kind of retention policy. */
export const RetentionPolicy = Schema.Union(AnonymizeAfterContractEnd, AnonymizeInactive, ForgetColdLeads)
export type RetentionPolicy = typeof RetentionPolicy.Type

/**
 * What every policy builder takes besides its period: the policy's id, and the tenant it is limited to (all
 * tenants when absent).
 *
 * @inline
 */
interface PolicyOptions {
  /** Default: derived from the kind and the period, e.g. `anonymize-inactive-24m`. */
  readonly id?: string
  readonly tenantId?: string
}

const scope = (options: PolicyOptions) =>
  options.tenantId === undefined ? {} : { tenantId: options.tenantId }

/**
 * "Anonymize N months after the contract ended" (R20).
 *
 * @example
 * ```ts
 * await lethe.runRetention({ policies: [anonymizeAfterContractEnd({ months: 24, tenantId: "gym" })] })
 * ```
 */
export const anonymizeAfterContractEnd = (
  options: PolicyOptions & { readonly months: number },
): AnonymizeAfterContractEnd => ({
  _tag: "AnonymizeAfterContractEnd",
  id: options.id ?? `anonymize-after-contract-end-${options.months}m`,
  months: options.months,
  ...scope(options),
})

/** "Anonymize customers who have not bought or visited for N months" (R12). */
export const anonymizeInactive = (
  options: PolicyOptions & { readonly months: number },
): AnonymizeInactive => ({
  _tag: "AnonymizeInactive",
  id: options.id ?? `anonymize-inactive-${options.months}m`,
  months: options.months,
  ...scope(options),
})

/** "Delete a lead who never became a customer and has not answered for N days" (R15). */
export const forgetColdLeads = (options: PolicyOptions & { readonly days: number }): ForgetColdLeads => ({
  _tag: "ForgetColdLeads",
  id: options.id ?? `forget-cold-leads-${options.days}d`,
  days: options.days,
  ...scope(options),
})

/**
 * The instant `months` calendar months before `at` (UTC), the day clamped to
 * the month's length: one month before 31 March is 28 or 29 February.
 */
export const monthsBefore = (at: number, months: number): number => {
  const date = new Date(at)
  const target = new Date(at)
  target.setUTCDate(1)
  target.setUTCMonth(target.getUTCMonth() - months)
  const last = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate()
  target.setUTCDate(Math.min(date.getUTCDate(), last))
  return target.getTime()
}
