import type { MemberEvent } from "@lethe/core/domain"
import { anonymizedName, fold, memberView } from "@lethe/core/domain"
import {
  activityRecorded,
  anonymized,
  consentGiven,
  consentWithdrawn,
  contractEnded,
  contractSigned,
  days,
  debtCaseClosed,
  debtCaseOpened,
  defaultNow,
  forgotten,
  personalDataRecorded,
  processingRestricted,
  profilingDisabled,
  purchasePaid,
  purchaseRecorded,
  purged,
  registered,
  restored,
  unsubscribed,
  walletCredited,
} from "@lethe/testkit"
import { describe, expect, it } from "vitest"

const start = defaultNow - days(100)
const contact = personalDataRecorded({
  at: start,
  category: "contact",
  fields: { email: "anna@example.org", phone: "+48 600 000 000" },
})
const member: ReadonlyArray<MemberEvent> = [
  registered({ at: start }),
  personalDataRecorded({ at: start, category: "identity", fields: { name: "Anna Nowak" } }),
  contact,
  personalDataRecorded({ at: start, category: "invoice", fields: { name: "Anna Nowak", street: "Długa 1" } }),
  activityRecorded({ at: start + days(1) }),
]

const viewOf = (history: ReadonlyArray<MemberEvent>, now = defaultNow) => memberView(fold(history), now)

describe("memberView: what get shows of a member", () => {
  it("R33/R19: an active member shows its personal data, consents (wording, source, state), contracts, money and counts", () => {
    const view = viewOf([
      ...member,
      consentGiven({ at: start, purpose: "newsletter", givenAt: start - days(3) }),
      consentGiven({ at: start, purpose: "sms", method: "paper", wordingVersion: "v2" }),
      consentWithdrawn({ at: start + days(2), purpose: "sms" }),
      unsubscribed({ at: start + days(3), purpose: "newsletter" }),
      profilingDisabled({ at: start }),
      processingRestricted({ at: start }),
      walletCredited({ at: start, amount: 250 }),
      contractSigned({ at: start, contractId: "c-running", clubId: "club-a", startsAt: start, endsAt: null }),
      contractSigned({
        at: start,
        contractId: "c-over",
        clubId: "club-b",
        startsAt: start,
        endsAt: defaultNow,
      }),
      contractSigned({
        at: start,
        contractId: "c-ended",
        clubId: "club-c",
        startsAt: start,
        endsAt: null,
      }),
      contractEnded({ at: start + days(5), contractId: "c-ended" }),
      debtCaseOpened({ at: start, caseId: "case-open", clubId: "club-a" }),
      debtCaseOpened({ at: start, caseId: "case-closed", clubId: "club-b" }),
      debtCaseClosed({ at: start + days(1), caseId: "case-closed" }),
      purchaseRecorded({ at: start, purchaseId: "p-unpaid-1", paid: false }),
      purchaseRecorded({ at: start, purchaseId: "p-unpaid-2", paid: false }),
      purchaseRecorded({ at: start, purchaseId: "p-unpaid-3", paid: false }),
      purchaseRecorded({ at: start, purchaseId: "p-paid", paid: true }),
      purchaseRecorded({ at: start, purchaseId: "p-paid-later", paid: false }),
      purchasePaid({ at: start + days(1), purchaseId: "p-paid-later" }),
    ])
    expect(view).toEqual({
      memberId: "member-1",
      tenantId: "tenant-1",
      status: "active",
      personal: { name: "Anna Nowak", email: "anna@example.org", phone: "+48 600 000 000" },
      data: {
        identity: { name: "Anna Nowak" },
        contact: { email: "anna@example.org", phone: "+48 600 000 000" },
        invoice: { name: "Anna Nowak", street: "Długa 1" },
      },
      displayName: "Anna Nowak",
      consents: [
        {
          purpose: "newsletter",
          basis: "consent",
          explicit: false,
          method: "checkbox",
          wordingVersion: "v1",
          source: { kind: "form" },
          givenAt: new Date(start - days(3)),
          withdrawnAt: null,
          inForce: true,
          unsubscribed: true,
        },
        {
          purpose: "sms",
          basis: "consent",
          explicit: false,
          method: "paper",
          wordingVersion: "v2",
          source: { kind: "form" },
          givenAt: new Date(start),
          withdrawnAt: new Date(start + days(2)),
          inForce: false,
          unsubscribed: false,
        },
      ],
      unsubscribed: ["newsletter"],
      profiling: false,
      restricted: true,
      walletBalance: 250,
      contracts: [
        {
          contractId: "c-running",
          clubId: "club-a",
          startsAt: new Date(start),
          endsAt: null,
          endedAt: null,
          active: true,
        },
        {
          contractId: "c-over",
          clubId: "club-b",
          startsAt: new Date(start),
          endsAt: new Date(defaultNow),
          endedAt: null,
          active: false,
        },
        {
          contractId: "c-ended",
          clubId: "club-c",
          startsAt: new Date(start),
          endsAt: null,
          endedAt: new Date(start + days(5)),
          active: false,
        },
      ],
      openDebtCases: [{ caseId: "case-open", clubId: "club-a" }],
      unpaidPurchases: 3,
      registeredAt: new Date(start),
      forgottenAt: null,
      restorableUntil: null,
      anonymizedAt: null,
      purgedAt: null,
      counts: { visit: 1, class: 0, transaction: 0, "page-view": 0, messages: 0, exports: 0 },
      kept: [],
    })
  })

  it("R25: a contract is active from its start to just before its end, as the view's clock says", () => {
    const history = [
      ...member,
      contractSigned({ at: start, startsAt: defaultNow, endsAt: defaultNow + days(30) }),
    ]
    const active = (now: number) => viewOf(history, now).contracts.map((c) => c.active)
    expect(active(defaultNow - 1)).toEqual([false])
    expect(active(defaultNow)).toEqual([true])
    expect(active(defaultNow + days(30) - 1)).toEqual([true])
    expect(active(defaultNow + days(30))).toEqual([false])
  })

  it("R1: a forgotten member shows no personal data and a placeholder name, with its restore window", () => {
    const at = defaultNow - days(1)
    const view = viewOf([...member, forgotten({ at })])
    expect(view.personal).toStrictEqual({})
    expect(view.data).toStrictEqual({})
    expect(view).toMatchObject({
      status: "forgotten",
      restricted: false,
      profiling: false,
      unpaidPurchases: 0,
      openDebtCases: [],
      displayName: "Member member-1",
      forgottenAt: new Date(at),
      restorableUntil: new Date(at + days(7)),
      anonymizedAt: null,
      purgedAt: null,
    })
  })

  it("R1: a purged member shows no personal data, and when it was purged", () => {
    const view = viewOf([
      ...member,
      forgotten({ at: defaultNow - days(10) }),
      purged({ at: defaultNow - days(2) }),
    ])
    expect(view.personal).toStrictEqual({})
    expect(view.data).toStrictEqual({})
    expect(view).toMatchObject({
      status: "purged",
      displayName: "Member member-1",
      restorableUntil: null,
      purgedAt: new Date(defaultNow - days(2)),
    })
  })

  it("R24/R19: an anonymized member shows only the invoice data the law keeps, the placeholder name, and its counts", () => {
    const at = defaultNow - days(1)
    const view = viewOf([
      ...member,
      anonymized({ at, erasedCategories: ["activity", "contact", "identity"], keptCategories: ["invoice"] }),
    ])
    expect(view.personal).toStrictEqual({})
    expect(view).toMatchObject({
      status: "anonymized",
      data: { invoice: { name: "Anna Nowak", street: "Długa 1" } },
      displayName: anonymizedName,
      anonymizedAt: new Date(at),
      counts: { visit: 1 },
    })
    expect(Object.keys(view.data)).toEqual(["invoice"])
    expect(anonymizedName).toBe("Anonymized member")
  })

  it("R24: after anonymization the view keeps statistics and the invoice data marked with its end; consents, profiling and finance read as ended", () => {
    const at = Date.UTC(2026, 1, 28, 12)
    const history = [
      ...member,
      consentGiven({ at: start, purpose: "newsletter" }),
      contractSigned({ at: start, contractId: "c-1", clubId: "club-a", startsAt: start, endsAt: null }),
      contractEnded({ at: start + days(1), contractId: "c-1" }),
      purchaseRecorded({ at: start, purchaseId: "p-unpaid", paid: false }),
      debtCaseOpened({ at: start, caseId: "case-1", clubId: "club-a" }),
      debtCaseClosed({ at: start + days(1), caseId: "case-1" }),
      anonymized({ at, erasedCategories: ["activity", "contact", "identity"], keptCategories: ["invoice"] }),
    ]
    const view = memberView(fold(history), at + days(1), { invoiceRetentionYears: 5 })
    expect(view).toMatchObject({
      status: "anonymized",
      profiling: false,
      walletBalance: 0,
      unpaidPurchases: 0,
      openDebtCases: [],
      contracts: [{ contractId: "c-1", clubId: "club-a", active: false }],
      counts: { visit: 1 },
      kept: [{ category: "invoice", until: new Date(Date.UTC(2031, 1, 28, 12)) }],
    })
    expect(view.consents.map((c) => [c.purpose, c.inForce])).toEqual([["newsletter", false]])
    // Without the retention period, the invoice data is still marked as kept, its end unknown.
    expect(memberView(fold(history), at).kept).toEqual([{ category: "invoice", until: null }])
  })

  it("R2: a forgotten member's consents and contracts read as not in force while the restore window runs", () => {
    const history = [
      ...member,
      consentGiven({ at: start, purpose: "newsletter" }),
      contractSigned({ at: start, contractId: "c-1", clubId: "club-a", startsAt: start, endsAt: null }),
      forgotten({ at: defaultNow - days(1) }),
    ]
    const view = viewOf(history)
    expect(view.consents.map((c) => c.inForce)).toEqual([false])
    expect(view.contracts.map((c) => c.active)).toEqual([false])
    expect(view.kept).toEqual([])
    // Restored, they read as they were.
    const back = viewOf([...history, restored({ at: defaultNow })])
    expect(back.consents.map((c) => c.inForce)).toEqual([true])
    expect(back.contracts.map((c) => c.active)).toEqual([true])
  })

  it("R29: a value whose key was destroyed is not shown as personal data; without a name the display name is empty", () => {
    const erased = { _tag: "Erased", category: "contact" } as const
    const view = viewOf([
      registered({ at: start }),
      personalDataRecorded({ at: start, category: "contact", fields: { email: erased, phone: erased } }),
    ])
    expect(view.displayName).toBe("")
    expect(view.personal).toStrictEqual({})
    expect(view.data).toEqual({ contact: { email: erased, phone: erased } })
  })

  it("R1: while active, the view shows the name, e-mail and phone the member has, each on its own", () => {
    const onlyEmail = viewOf([
      registered({ at: start }),
      personalDataRecorded({ at: start, category: "contact", fields: { email: "anna@example.org" } }),
    ])
    expect(onlyEmail.personal).toStrictEqual({ email: "anna@example.org" })
    const onlyPhone = viewOf([
      registered({ at: start }),
      personalDataRecorded({ at: start, category: "contact", fields: { phone: "+48 600 000 000" } }),
    ])
    expect(onlyPhone.personal).toStrictEqual({ phone: "+48 600 000 000" })
    const onlyName = viewOf([
      registered({ at: start }),
      personalDataRecorded({ at: start, category: "identity", fields: { name: "Anna" } }),
    ])
    expect(onlyName.personal).toStrictEqual({ name: "Anna" })
  })
})
