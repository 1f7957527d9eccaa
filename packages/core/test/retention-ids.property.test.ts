/**
 * Issue 21: a retention run plans from member ids alone
 * (`Directory.retentionMemberIds`, or the ids of the query's rows without
 * it). Whatever the histories, the plan is the one the rows gave: the same
 * members, rules and actions, in the same order, for any page size.
 */
import type { LetheClient, LetheStore, RetentionPolicy } from "@lethe/core"
import { anonymizeAfterContractEnd, anonymizeInactive, forgetColdLeads } from "@lethe/core"
import type { Directory } from "@lethe/core/spi"
import { retentionMemberIds } from "@lethe/core/spi"
import { memoryStore } from "@lethe/store-memory"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { applyHistoryAction, day, setup } from "./rights-setup.js"

const year = 365 * day

/** One thing that happens to a member in a generated history, then time passes. */
interface Step {
  readonly member: number
  readonly action:
    | "visit"
    | "purchase"
    | "invoice"
    | "contract"
    | "restrict"
    | "forget"
    | "purge"
    | "anonymize"
    | "consent"
    | "nothing"
  readonly advanceDays: number
}

const arbStep: fc.Arbitrary<Step> = fc.record({
  member: fc.nat({ max: 7 }),
  action: fc.constantFrom(
    "visit",
    "purchase",
    "invoice",
    "contract",
    "restrict",
    "forget",
    "purge",
    "anonymize",
    "consent",
    "nothing",
  ),
  advanceDays: fc.oneof(fc.nat({ max: 40 }), fc.integer({ min: 100, max: 900 })),
})

const apply = (lethe: LetheClient, memberId: string, step: Step, now: number, i: number) =>
  applyHistoryAction(lethe, memberId, step.action, { now, i, email: `m${step.member}@example.org` })

/** `store` as a third party's adapter without `retentionMemberIds` shows it: the core keeps the rows' ids. */
const withoutIds = (store: LetheStore): LetheStore => {
  const { retentionMemberIds: _, ...directory } = store.directory
  return { ...store, directory: directory as Directory, close: async () => {} }
}

const arbPolicies: fc.Arbitrary<ReadonlyArray<RetentionPolicy>> = fc.subarray(
  [
    forgetColdLeads({ days: 30 }),
    anonymizeAfterContractEnd({ months: 12 }),
    anonymizeInactive({ months: 18 }),
    anonymizeInactive({ months: 6, id: "inactive-gym", tenantId: "gym" }),
  ],
  { minLength: 0 },
)

describe("retention plans from member ids", () => {
  it("R12, R15, R20, R24: whatever the histories, a dry run plans from ids exactly what it planned from the rows, for any page size", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbStep, { maxLength: 30 }),
        arbPolicies,
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 12 }),
        async (steps, policies, batchSize, laterYears) => {
          const store = memoryStore()
          const { lethe, clock } = await setup({ store })
          const rows = await setup({ store: withoutIds(store), clock: clock.now })
          const ids: Array<string> = []
          for (let i = 0; i < 8; i++)
            ids.push(
              (
                await lethe.register({
                  tenantId: i % 2 === 0 ? "gym" : "shop",
                  personal: { name: `M${i}`, email: `m${i}@example.org` },
                  source: "staff",
                })
              ).memberId,
            )
          for (const [i, step] of steps.entries()) {
            const memberId = ids[step.member] as string
            await apply(lethe, memberId, step, clock.millis(), i).catch(() => undefined)
            clock.advance(step.advanceDays * day)
          }
          // Years on, so that invoice retention (10 years by default) may end too.
          clock.advance(laterYears * year)
          const fromIds = await lethe.runRetention({ dryRun: true, policies, batchSize })
          const fromRows = await rows.lethe.runRetention({ dryRun: true, policies, batchSize })
          expect(fromIds.planned).toEqual(fromRows.planned)
          expect(fromIds.planned).toEqual((await rows.lethe.runRetention({ dryRun: true, policies })).planned)
        },
      ),
      { numRuns: 60 },
    )
  })

  it("R12: retentionMemberIds (of @lethe/core/spi) asks the adapter's method when there is one, else keeps the ids of the query's rows", async () => {
    const { lethe, store, clock } = await setup()
    const a = await lethe.register({ tenantId: "gym", personal: { name: "A" }, source: "staff" })
    const b = await lethe.register({ tenantId: "shop", personal: { name: "B" }, source: "staff" })
    clock.advance(400 * day)
    const query = { before: clock.millis(), limit: 10 }
    const both = [a.memberId, b.memberId].sort()
    expect(await retentionMemberIds(store.directory, "inactiveSince", query)).toEqual(both)
    expect(await retentionMemberIds(withoutIds(store).directory, "inactiveSince", query)).toEqual(both)
    expect(
      await retentionMemberIds(withoutIds(store).directory, "inactiveSince", { ...query, tenantId: "gym" }),
    ).toEqual([a.memberId])
    let asked = 0
    const counting: Directory = {
      ...store.directory,
      retentionMemberIds: async (name, q) => {
        asked++
        return store.directory.retentionMemberIds?.(name, q) ?? []
      },
    }
    expect(await retentionMemberIds(counting, "inactiveSince", query)).toEqual(both)
    expect(asked).toBe(1)
  })
})
