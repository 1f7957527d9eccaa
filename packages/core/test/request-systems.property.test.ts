/**
 * R14 as a property of the pure core: whatever the order of the other
 * systems' confirmations, repeats and Lethe's own part (forget, anonymize or
 * export), a request is fulfilled exactly when the last of them is done, at
 * that step's time, and never reopens; a purge in between changes nothing.
 */
import type { DecideContext, MemberCommand, MemberState } from "@lethe/core/domain"
import { dayMs, decide, defaultDomainConfig, evolve, initialState, pendingSystems } from "@lethe/core/domain"
import { Either } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"

const admin = { id: "staff:admin", roles: ["admin"] }
const start = Date.UTC(2026, 2, 2, 9)
const requestId = "request-1"

/** One step of the play: Lethe's part, or one system's confirmation (maybe a repeat). */
type Step = { readonly kind: "lethe" } | { readonly kind: "confirm"; readonly system: string }

const scenario = fc
  .record({
    kind: fc.constantFrom("erasure" as const, "access" as const),
    systems: fc.uniqueArray(fc.constantFrom("Accounting", "Mailchimp", "CRM (old)", "Helpdesk", "Payroll"), {
      minLength: 0,
      maxLength: 5,
    }),
    gaps: fc.array(fc.integer({ min: 0, max: 3 * dayMs }), { minLength: 20, maxLength: 20 }),
    purge: fc.boolean(),
    seed: fc.integer(),
  })
  .chain((s) => {
    const steps: Array<Step> = [
      { kind: "lethe" },
      ...s.systems.map((system) => ({ kind: "confirm" as const, system })),
    ]
    // Some confirmations twice: a repeat records nothing.
    const repeats = fc
      .subarray(s.systems)
      .map((again) => again.map((system) => ({ kind: "confirm" as const, system })))
    return repeats.chain((again) =>
      fc
        .shuffledSubarray([...steps, ...again], { minLength: steps.length + again.length })
        .map((order) => ({ ...s, order })),
    )
  })

const ctxAt = (now: number): DecideContext => ({ now, actor: admin, config: defaultDomainConfig })

/** Decides `command` at `now` and folds what it records; a refusal fails the property. */
const apply = (state: MemberState, command: MemberCommand, now: number): MemberState => {
  const decided = decide(state, command, ctxAt(now))
  if (Either.isLeft(decided)) throw new Error(`${command._tag} refused: ${decided.left._tag}`)
  return decided.right.events.reduce(evolve, state)
}

describe("R14: a request is fulfilled when its last part is done", () => {
  it("R14: for any order of confirmations, repeats and Lethe's part, fulfilled exactly when the last is done", () => {
    fc.assert(
      fc.property(scenario, ({ kind, systems, gaps, purge, order }) => {
        let now = start
        let state = apply(
          initialState,
          {
            _tag: "Register",
            memberId: "m1",
            tenantId: "t1",
            personal: { email: "a@example.org" },
            source: { kind: "staff" },
          },
          now,
        )
        state = apply(
          state,
          kind === "erasure"
            ? { _tag: "RequestErasure", requestId, receivedAt: now, via: "email", systems }
            : { _tag: "RequestAccess", requestId, receivedAt: now, via: "email", systems },
          now,
        )
        const done = new Set<string>()
        let letheDone = false
        let lastDoneAt: number | null = null
        for (const [i, step] of order.entries()) {
          now += gaps[i % gaps.length] ?? 0
          if (step.kind === "lethe") {
            state = apply(
              state,
              kind === "erasure"
                ? { _tag: "Forget", requestId }
                : { _tag: "RecordExport", format: "json", requestId },
              now,
            )
            letheDone = true
            lastDoneAt = now
            // A purge after the window: the systems must still be able to confirm.
            if (purge && kind === "erasure") {
              now += (defaultDomainConfig.restoreWindowDays + 1) * dayMs
              state = apply(state, { _tag: "Purge" }, now)
            }
          } else {
            const before = state
            state = apply(state, { _tag: "ConfirmSystem", requestId, system: step.system }, now)
            if (done.has(step.system)) expect(state, "a repeat records nothing").toBe(before)
            else lastDoneAt = now
            done.add(step.system)
          }
          const request = state.requests[requestId]
          const complete = letheDone && systems.every((s) => done.has(s))
          expect(request?.fulfilledAt ?? null).toBe(complete ? lastDoneAt : null)
          expect(request?.handledAt !== null).toBe(letheDone)
          expect(pendingSystems(request ?? { systems: [], confirmations: [] })).toEqual(
            systems.filter((s) => !done.has(s)),
          )
        }
      }),
      { numRuns: 300 },
    )
  })
})
