import { defaultDomainConfig, systemRole } from "@lethe/core/domain"
import {
  adminActor,
  anonymize,
  consentGiven,
  context,
  contractSigned,
  DeciderSpecification,
  days,
  defaultNow,
  emailRecorded,
  forget,
  forgotten,
  given,
  purchaseRecorded,
  registered,
  sendMessage,
  staff,
  systemActor,
  unsubscribed,
  walletCredited,
} from "@lethe/testkit"
import { Either } from "effect"
import { describe, expect, it } from "vitest"

describe("context", () => {
  it("defaults to defaultNow, an admin actor and defaultDomainConfig", () => {
    expect(context()).toEqual({ now: defaultNow, actor: adminActor, config: defaultDomainConfig })
    expect(adminActor.roles).toEqual(["admin"])
    expect(systemActor.roles).toEqual([systemRole])
  })

  it("takes now as a Date or epoch milliseconds and merges config over the defaults", () => {
    const ctx = context({
      now: new Date("2025-03-01T00:00:00Z"),
      actor: staff("kasia", "receptionist"),
      config: { restoreWindowDays: 14 },
    })
    expect(ctx.now).toBe(Date.UTC(2025, 2, 1))
    expect(ctx.actor).toEqual({ id: "kasia", roles: ["receptionist"] })
    expect(ctx.config).toEqual({ ...defaultDomainConfig, restoreWindowDays: 14 })
    expect(context({ now: defaultNow + days(1) }).now).toBe(defaultNow + 86_400_000)
  })
})

describe("event builders", () => {
  it("default at to defaultNow and derive dependent times from at", () => {
    expect(registered().at).toBe(defaultNow)
    const at = defaultNow + days(3)
    expect(forgotten({ at }).restorableUntil).toBe(at + days(7))
    expect(consentGiven({ at }).givenAt).toBe(at)
    expect(contractSigned({ at }).startsAt).toBe(at)
    expect(consentGiven({ at, givenAt: 5 }).givenAt).toBe(5)
  })
})

describe("given/when/then", () => {
  const history = [registered(), emailRecorded("anna@example.org")]

  it("thenEvents passes on the exact events and fails on others or on a refusal", () => {
    given(history).when(forget()).thenEvents([forgotten()])
    expect(() => given(history).when(forget()).thenEvents([])).toThrow()
    expect(() =>
      given([...history, forgotten()])
        .when(sendMessage())
        .thenEvents([]),
    ).toThrow(/accepted/)
  })

  it("thenRejects checks the tag and the refusal's data, and fails on acceptance", () => {
    const blocked = given([...history, walletCredited({ amount: 10 })]).when(
      anonymize({ confirmEmail: "anna@example.org" }),
    )
    blocked
      .thenRejects("AnonymizationBlocked")
      .thenRejects("AnonymizationBlocked", { reasons: ["WalletNotEmpty"] })
    blocked.thenRejects("AnonymizationBlocked", { message: expect.stringContaining("WalletNotEmpty") })
    expect(() => blocked.thenRejects("NotPermitted")).toThrow()
    expect(() => blocked.thenRejects("AnonymizationBlocked", { reasons: ["ActiveContract"] })).toThrow()
    expect(() => given(history).when(forget()).thenRejects("NotPermitted")).toThrow(
      /refused with NotPermitted/,
    )
  })

  it("thenWarnings and thenNothing check an accepted decision", () => {
    given([...history, purchaseRecorded()])
      .when(anonymize({ confirmEmail: "anna@example.org" }))
      .thenWarnings(["UnpaidPurchases"])
    expect(() =>
      given(history)
        .when(anonymize({ confirmEmail: "anna@example.org" }))
        .thenWarnings(["UnpaidPurchases"]),
    ).toThrow()
    given([...history, unsubscribed()])
      .when({ _tag: "Unsubscribe", purpose: "newsletter", via: "link" })
      .thenNothing()
    expect(() => given(history).when(forget()).thenNothing()).toThrow()
  })

  it("thenState folds the new events over the given history", () => {
    given(history)
      .when(forget(), { now: defaultNow + days(1) })
      .thenState({ status: "forgotten", restorableUntil: defaultNow + days(8) })
      .thenState((state) => expect(state.personal.contact).toEqual({ email: "anna@example.org" }))
    expect(() => given(history).when(forget()).thenState({ status: "active" })).toThrow()
    expect(() => given([]).when(forget()).thenState({})).toThrow()
  })

  it("exposes the state the command met and the raw result", () => {
    const outcome = given([...history, consentGiven()]).when(sendMessage())
    expect(outcome.state.consents.newsletter?.withdrawnAt).toBeNull()
    expect(Either.isRight(outcome.result)).toBe(true)
  })
})

describe("DeciderSpecification.for", () => {
  type Event = { readonly _tag: "Added"; readonly n: number }
  const counter = DeciderSpecification.for(
    {
      initialState: 0,
      evolve: (total: number, event: Event) => total + event.n,
      decide: (total: number, n: number, limit: number) =>
        total + n > limit
          ? Either.left({ _tag: "OverLimit" as const, total })
          : Either.right({ events: [{ _tag: "Added" as const, n }], warnings: [] as ReadonlyArray<never> }),
    },
    (limit: number | undefined) => limit ?? 10,
  )

  it("works for any decider with a tagged refusal", () => {
    counter([{ _tag: "Added", n: 4 }])
      .when(5)
      .thenEvents([{ _tag: "Added", n: 5 }])
      .thenState(9)
    counter([{ _tag: "Added", n: 4 }])
      .when(5, 8)
      .thenRejects("OverLimit", { total: 4 })
  })
})
