/**
 * A retention run's plan: the built-in rules and the caller's policies made
 * concrete for one instant, each as a directory query (which members) and an
 * action (what to do to each). Planning reads the directory only, never the
 * log, so it costs one indexed query per page whatever the log's size.
 *
 * @module
 */
import { dayMs } from "../member/config.js"
import { absurd } from "../member/state.js"
import { erasureMarkerMember, markedErasure } from "../sealing/shredding.js"
import type { Directory, Page, RetentionQueryName } from "../spi/directory.js"
import { retentionMemberIds } from "../spi/directory.js"
import type { KeyStore } from "../spi/key-store.js"
import type { RetentionPolicy } from "./policies.js"
import { monthsBefore } from "./policies.js"

/**
 * The rules every run applies before any policy (docs/design.md §8, R24, R29).
 *
 * @inline
 */
export type RetentionRule = "finish-erasure" | "purge-forgotten" | "end-invoice-retention"

/** The built-in rules, in the order a run applies them. */
export const builtInRetentionRules: ReadonlyArray<RetentionRule> = [
  "finish-erasure",
  "purge-forgotten",
  "end-invoice-retention",
]

/** What a run does to one member. */
export type RetentionAction =
  /** Destroy the keys a purge or an anonymization left live when it was interrupted (R29). */
  | { readonly _tag: "FinishErasure" }
  /** Destroy every key of a member forgotten past the window. */
  | { readonly _tag: "Purge" }
  /** Destroy the invoice key of an anonymized member whose invoice retention ended (R24). */
  | { readonly _tag: "EraseInvoices" }
  | { readonly _tag: "Anonymize"; readonly policyId: string }
  | { readonly _tag: "Forget"; readonly policyId: string }

/** One rule or policy of a run: the members its query selects, and the action on each. */
export interface RetentionStep {
  /** The built-in rule's name, or the policy's id. */
  readonly rule: string
  readonly action: RetentionAction
  /**
   * The ids of one page of the members the step selects, ascending: a plan
   * needs no more of a member than its id.
   */
  readonly query: (directory: Directory, page: Page) => Promise<ReadonlyArray<string>>
}

/** The step's query: the directory's retention query `name` at `before`, ids only. */
const selecting =
  (name: RetentionQueryName, before: number, tenantId?: string): RetentionStep["query"] =>
  (directory, page) =>
    retentionMemberIds(directory, name, {
      ...page,
      before,
      ...(tenantId === undefined ? {} : { tenantId }),
    })

const policyStep = (policy: RetentionPolicy, now: number): RetentionStep => {
  switch (policy._tag) {
    case "AnonymizeAfterContractEnd":
      return {
        rule: policy.id,
        action: { _tag: "Anonymize", policyId: policy.id },
        query: selecting("contractsEndedBefore", monthsBefore(now, policy.months), policy.tenantId),
      }
    case "AnonymizeInactive":
      return {
        rule: policy.id,
        action: { _tag: "Anonymize", policyId: policy.id },
        query: selecting("inactiveSince", monthsBefore(now, policy.months), policy.tenantId),
      }
    case "ForgetColdLeads":
      return {
        rule: policy.id,
        action: { _tag: "Forget", policyId: policy.id },
        query: selecting("coldLeadsSince", now - policy.days * dayMs, policy.tenantId),
      }
    default:
      return absurd(policy)
  }
}

/**
 * The members whose purge or anonymization left keys live (its marker is
 * live: see `erasureMarker`), a page of them by member id. Read from the key
 * store, where the markers are, then each member's row from the directory.
 * A marker whose member the directory does not show purged or anonymized
 * stands for an erasure whose event never committed (a key store apart from
 * the log commits first, docs/design.md §3.4): nothing to finish, and the
 * erasure, run again by its own rule or caller, reuses the marker.
 */
const interruptedErasures =
  (keys: Pick<KeyStore, "listForMember">): RetentionStep["query"] =>
  async (directory, page) => {
    const members = (await keys.listForMember(erasureMarkerMember))
      .flatMap((entry) => (entry._tag === "Live" ? [markedErasure(entry.key.keyId)?.memberId ?? ""] : []))
      .filter((memberId) => memberId !== "" && (page.after === undefined || memberId > page.after))
      .sort()
    const ids: Array<string> = []
    for (const memberId of members) {
      if (ids.length >= page.limit) break
      const row = await directory.get(memberId)
      if (row !== undefined && (row.status === "purged" || row.status === "anonymized")) ids.push(memberId)
    }
    return ids
  }

/**
 * The steps of a run at `now`: the built-in rules, then the policies in the
 * order given (a member is handled by the first step that selects it).
 */
export const retentionSteps = (
  now: number,
  settings: { readonly invoiceRetentionYears: number },
  policies: ReadonlyArray<RetentionPolicy>,
  keys: Pick<KeyStore, "listForMember">,
): ReadonlyArray<RetentionStep> => {
  const invoiceCutoff = new Date(now)
  invoiceCutoff.setUTCFullYear(invoiceCutoff.getUTCFullYear() - settings.invoiceRetentionYears)
  return [
    { rule: "finish-erasure", action: { _tag: "FinishErasure" }, query: interruptedErasures(keys) },
    {
      rule: "purge-forgotten",
      action: { _tag: "Purge" },
      query: selecting("restoreWindowEndedBefore", now),
    },
    {
      rule: "end-invoice-retention",
      action: { _tag: "EraseInvoices" },
      query: selecting("invoicesHeldSince", invoiceCutoff.getTime()),
    },
    ...policies.map((policy) => policyStep(policy, now)),
  ]
}
