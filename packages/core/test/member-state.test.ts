import type { MemberEvent } from "@lethe/core/domain"
import { evolve, fold, initialState } from "@lethe/core/domain"
import {
  accessRequested,
  activityRecorded,
  anonymized,
  consentGiven,
  consentWithdrawn,
  contractEnded,
  dataExported,
  days,
  debtCaseClosed,
  debtCaseOpened,
  defaultNow,
  erasureRequested,
  forgotten,
  instalmentPaid,
  messageSent,
  personalDataErased,
  personalDataRecorded,
  purchasePaid,
  purchaseRecorded,
  purged,
  registered,
  restored,
  unsubscribed,
} from "@lethe/testkit"
import { describe, expect, it } from "vitest"

const start = defaultNow - days(100)
const member: ReadonlyArray<MemberEvent> = [
  registered({ at: start, source: { kind: "form", tag: "footer" } }),
]
const at = (n: number) => start + days(n)

describe("evolve: the facts a member's events fold to", () => {
  it("R32: registration starts from nothing: the member, its tenant, source and time", () => {
    expect(fold(member)).toEqual({
      ...initialState,
      exists: true,
      memberId: "member-1",
      tenantId: "tenant-1",
      registeredAt: start,
      source: { kind: "form", tag: "footer" },
      lastActivityAt: start,
      lastContactAt: start,
    })
    expect(initialState).toMatchObject({ exists: false, status: "active", profiling: true, walletBalance: 0 })
  })

  it("R15: a consent is a sign of life (last contact), not activity; a purchase or an activity is both; a message is neither", () => {
    expect(fold([...member, consentGiven({ at: at(1) })])).toMatchObject({
      lastContactAt: at(1),
      lastActivityAt: start,
    })
    expect(fold([...member, purchaseRecorded({ at: at(2) })])).toMatchObject({
      lastContactAt: at(2),
      lastActivityAt: at(2),
    })
    expect(fold([...member, activityRecorded({ at: at(3) })])).toMatchObject({
      lastContactAt: at(3),
      lastActivityAt: at(3),
    })
    expect(fold([...member, messageSent({ at: at(4) })])).toMatchObject({
      lastContactAt: start,
      lastActivityAt: start,
    })
  })

  it("R15: a fact dated before the latest sign of life does not move it back", () => {
    const state = fold([
      ...member,
      activityRecorded({ at: at(10) }),
      consentGiven({ at: at(5) }),
      purchaseRecorded({ at: at(6) }),
      activityRecorded({ at: at(7) }),
    ])
    expect(state).toMatchObject({ lastContactAt: at(10), lastActivityAt: at(10) })
  })

  it("R32: values of a category recorded one after another are merged, the latest winning; erasing drops whole categories", () => {
    const recorded = fold([
      ...member,
      personalDataRecorded({ at: at(1), category: "contact", fields: { email: "anna@example.org" } }),
      personalDataRecorded({ at: at(2), category: "contact", fields: { phone: "+48 600 000 000" } }),
      personalDataRecorded({ at: at(3), category: "contact", fields: { email: "anna@example.com" } }),
      personalDataRecorded({ at: at(3), category: "notes", fields: { note: "x" } }),
    ])
    expect(recorded.personal).toEqual({
      contact: { email: "anna@example.com", phone: "+48 600 000 000" },
      notes: { note: "x" },
    })
    expect(evolve(recorded, personalDataErased({ categories: ["contact"] })).personal).toEqual({
      notes: { note: "x" },
    })
  })

  it("R4/R33: a consent given again lifts the unsubscribe of its purpose only; a withdrawal of an unknown purpose changes nothing", () => {
    const state = fold([
      ...member,
      unsubscribed({ at: at(1), purpose: "newsletter" }),
      unsubscribed({ at: at(1), purpose: "sms", via: "staff" }),
      consentGiven({ at: at(2), purpose: "newsletter" }),
    ])
    expect(state.unsubscribed).toEqual({ sms: { at: at(1), via: "staff" } })
    expect(state.consents.newsletter).toMatchObject({ withdrawnAt: null, givenAt: at(2) })
    expect(evolve(state, consentWithdrawn({ purpose: "marketing" })).consents).toEqual(state.consents)
  })

  it("R3: each message sent is kept by id, oldest first, and counted", () => {
    const state = fold([
      ...member,
      messageSent({ at: at(1), messageId: "message-1" }),
      messageSent({ at: at(2), messageId: "message-2" }),
    ])
    expect(state.messageIds).toEqual(["message-1", "message-2"])
    expect(state.counts.messages).toBe(2)
  })

  it("R13: an export on an access request fulfils it once; an export for no request fulfils nothing; both are counted", () => {
    const requested = fold([...member, accessRequested({ at: at(1), requestId: "request-1" })])
    const exported = fold([dataExported({ at: at(2), requestId: "request-1" })], requested)
    expect(exported.requests["request-1"]?.fulfilledAt).toBe(at(2))
    expect(exported.counts.exports).toBe(1)
    const again = evolve(exported, dataExported({ at: at(3), requestId: "request-1" }))
    expect(again.requests["request-1"]?.fulfilledAt).toBe(at(2))
    const free = evolve(requested, dataExported({ at: at(3), requestId: null }))
    expect(free.requests).toEqual(requested.requests)
    expect(free.counts.exports).toBe(1)
  })

  it("R11: forgetting or anonymizing fulfils the open requests, and keeps when the fulfilled ones were", () => {
    const history = [
      ...member,
      accessRequested({ at: at(1), requestId: "request-1" }),
      dataExported({ at: at(2), requestId: "request-1" }),
      erasureRequested({ at: at(3), requestId: "request-2" }),
    ]
    for (const erasure of [forgotten({ at: at(4) }), anonymized({ at: at(4) })]) {
      const state = fold([...history, erasure])
      expect(state.requests["request-1"]).toMatchObject({ kind: "access", fulfilledAt: at(2) })
      expect(state.requests["request-2"]).toMatchObject({
        kind: "erasure",
        receivedAt: at(3),
        dueBy: at(33),
        fulfilledAt: at(4),
      })
    }
  })

  it("R5: restoring ends the forgotten state and its window; purging ends the window and drops every value", () => {
    const forgot = fold([
      ...member,
      personalDataRecorded({ at: start, category: "contact", fields: { email: "anna@example.org" } }),
      forgotten({ at: at(1) }),
    ])
    expect(forgot).toMatchObject({ status: "forgotten", forgottenAt: at(1), restorableUntil: at(8) })
    expect(evolve(forgot, restored({ at: at(2) }))).toMatchObject({
      status: "active",
      forgottenAt: null,
      restorableUntil: null,
      personal: { contact: { email: "anna@example.org" } },
    })
    expect(evolve(forgot, purged({ at: at(9) }))).toMatchObject({
      status: "purged",
      purgedAt: at(9),
      forgottenAt: at(1),
      restorableUntil: null,
      personal: {},
    })
  })

  it("R24: anonymizing drops the erased categories and keeps the others", () => {
    const state = fold([
      ...member,
      personalDataRecorded({ at: start, category: "contact", fields: { email: "anna@example.org" } }),
      personalDataRecorded({ at: start, category: "invoice", fields: { street: "Długa 1" } }),
      anonymized({ at: at(1), erasedCategories: ["contact"], keptCategories: ["invoice"] }),
    ])
    expect(state).toMatchObject({ status: "anonymized", anonymizedAt: at(1) })
    expect(state.personal).toEqual({ invoice: { street: "Długa 1" } })
  })

  it("R25/R27: a fact about an id the member does not have changes nothing", () => {
    const state = fold(member)
    for (const event of [
      contractEnded({ contractId: "contract-9" }),
      debtCaseClosed({ caseId: "case-9" }),
      purchasePaid({ purchaseId: "purchase-9" }),
      instalmentPaid({ instalmentId: "instalment-9" }),
    ])
      expect(evolve(state, event)).toEqual(state)
  })

  it("R25: a debt case is kept with its club and when it was opened; closing it adds when, and keeps the rest", () => {
    const state = fold([
      ...member,
      debtCaseOpened({ at: at(1), caseId: "case-1", clubId: "club-a" }),
      debtCaseClosed({ at: at(2), caseId: "case-1" }),
    ])
    expect(state.debtCases).toEqual({
      "case-1": { caseId: "case-1", clubId: "club-a", openedAt: at(1), closedAt: at(2) },
    })
  })

  it("R27: a purchase is kept with its amount, whether paid, and when; paying it keeps the rest", () => {
    const state = fold([
      ...member,
      purchaseRecorded({ at: at(1), purchaseId: "purchase-1", amount: 4900, paid: false }),
      purchasePaid({ at: at(2), purchaseId: "purchase-1" }),
    ])
    expect(state.purchases).toEqual({
      "purchase-1": { purchaseId: "purchase-1", amount: 4900, paid: true, at: at(1) },
    })
  })
})
