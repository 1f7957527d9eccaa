import type { AnonymizationBlocker } from "@lethe/core"
import type { MemberEvent } from "@lethe/core/domain"
import { normalizeEmail } from "@lethe/core/domain"
import {
  activityRecorded,
  anonymize,
  anonymized,
  contractEnded,
  contractSigned,
  days,
  debtCaseClosed,
  debtCaseOpened,
  defaultNow,
  emailRecorded,
  forgotten,
  given,
  hours,
  instalmentMissed,
  instalmentPaid,
  personalDataRecorded,
  processingRestricted,
  processingRestrictionLifted,
  purchasePaid,
  purchaseRecorded,
  purged,
  registered,
  systemActor,
  walletCredited,
  walletDebited,
} from "@lethe/testkit"
import { describe, expect, it } from "vitest"

const email = "anna@example.org"
const member = [registered({ at: defaultNow - days(400) }), emailRecorded(email, defaultNow - days(400))]
const confirmed = anonymize({ confirmEmail: email })

/** What an accepted anonymization of `member` records at `defaultNow`. */
const anonymizedNow = anonymized({ erasedCategories: ["contact"] })

describe("R25: anonymization blockers", () => {
  const alone: ReadonlyArray<readonly [AnonymizationBlocker, ReadonlyArray<MemberEvent>]> = [
    ["ActiveContract", [contractSigned({ startsAt: defaultNow - days(10), endsAt: defaultNow + days(100) })]],
    ["FutureContract", [contractSigned({ startsAt: defaultNow + days(10), endsAt: null })]],
    ["OpenDebtCase", [debtCaseOpened({ clubId: "club-7" })]],
    ["WalletNotEmpty", [walletCredited({ amount: 1 })]],
    ["ProcessingRestricted", [processingRestricted()]],
  ]

  it.each(alone)(
    "R25: anonymize is refused while %s holds, and only that reason is given",
    (reason, facts) => {
      given([...member, ...facts])
        .when(confirmed)
        .thenRejects("AnonymizationBlocked", { memberId: "member-1", reasons: [reason] })
    },
  )

  it("R25: anonymize is refused with AlreadyAnonymized once anonymized", () => {
    given([...member, anonymized({ at: defaultNow - days(1), erasedCategories: ["contact"] })])
      .when(confirmed)
      .thenRejects("AnonymizationBlocked", { reasons: ["AlreadyAnonymized"] })
  })

  it("R25: anonymize is refused with every blocker that holds, at once", () => {
    given([
      ...member,
      contractSigned({ contractId: "contract-1", startsAt: defaultNow - days(10), endsAt: null }),
      contractSigned({ contractId: "contract-2", startsAt: defaultNow + days(30), endsAt: null }),
      debtCaseOpened({ clubId: "club-2" }),
      walletCredited({ amount: 2500 }),
      processingRestricted(),
    ])
      .when(anonymize({ confirmEmail: "someone@else.org" }))
      .thenRejects("AnonymizationBlocked", {
        reasons: [
          "ActiveContract",
          "FutureContract",
          "OpenDebtCase",
          "WalletNotEmpty",
          "ProcessingRestricted",
          "SubjectNotConfirmed",
        ],
      })
  })

  it("R25: all seven blockers are reported together (history built directly, not reachable by decide)", () => {
    given([
      ...member,
      contractSigned({ contractId: "contract-1", startsAt: defaultNow - days(10), endsAt: null }),
      contractSigned({ contractId: "contract-2", startsAt: defaultNow + days(30), endsAt: null }),
      debtCaseOpened(),
      walletCredited(),
      processingRestricted(),
      anonymized({ at: defaultNow - days(1) }),
    ])
      .when(anonymize({ confirmEmail: null }))
      .thenRejects("AnonymizationBlocked", {
        reasons: [
          "ActiveContract",
          "FutureContract",
          "OpenDebtCase",
          "WalletNotEmpty",
          "ProcessingRestricted",
          "AlreadyAnonymized",
          "SubjectNotConfirmed",
        ],
      })
  })

  it("R25: the refusal message names every reason", () => {
    given([...member, walletCredited(), processingRestricted()])
      .when(confirmed)
      .thenRejects("AnonymizationBlocked", {
        message: "Member member-1 cannot be anonymized: WalletNotEmpty, ProcessingRestricted",
      })
  })

  it("R25: a contract that starts exactly now is active; one that ends exactly now is not", () => {
    given([...member, contractSigned({ startsAt: defaultNow, endsAt: defaultNow + days(30) })])
      .when(confirmed)
      .thenRejects("AnonymizationBlocked", { reasons: ["ActiveContract"] })
    given([...member, contractSigned({ startsAt: defaultNow - days(30), endsAt: defaultNow })])
      .when(confirmed)
      .thenEvents([anonymizedNow])
  })

  it("R25: a contract that has run out, ended early, or was cancelled before it started blocks nothing", () => {
    given([
      ...member,
      contractSigned({
        contractId: "expired",
        startsAt: defaultNow - days(400),
        endsAt: defaultNow - days(35),
      }),
      contractSigned({ contractId: "ended-early", startsAt: defaultNow - days(60), endsAt: null }),
      contractEnded({ contractId: "ended-early", at: defaultNow - days(5) }),
      contractSigned({ contractId: "cancelled", startsAt: defaultNow + days(30), endsAt: null }),
      contractEnded({ contractId: "cancelled", at: defaultNow - days(1) }),
    ])
      .when(confirmed)
      .thenEvents([anonymizedNow])
  })

  it("R25: a closed debt case, an emptied wallet and a lifted restriction block nothing", () => {
    given([
      ...member,
      debtCaseOpened(),
      debtCaseClosed(),
      walletCredited({ amount: 700 }),
      walletDebited({ amount: 700 }),
      processingRestricted(),
      processingRestrictionLifted(),
    ])
      .when(confirmed)
      .thenEvents([anonymizedNow])
  })

  it("R25: the future contract blocks until it has started and run out", () => {
    const history = [
      ...member,
      contractSigned({ startsAt: defaultNow + days(1), endsAt: defaultNow + days(31) }),
    ]
    given(history)
      .when(confirmed)
      .thenRejects("AnonymizationBlocked", { reasons: ["FutureContract"] })
    given(history)
      .when(confirmed, { now: defaultNow + days(2) })
      .thenRejects("AnonymizationBlocked", { reasons: ["ActiveContract"] })
    given(history)
      .when(confirmed, { now: defaultNow + days(31) })
      .thenEvents([anonymized({ at: defaultNow + days(31), erasedCategories: ["contact"] })])
  })

  it("R25: anonymizing a forgotten or purged member is MemberErased, not a blocker", () => {
    given([...member, forgotten({ at: defaultNow - hours(1) })])
      .when(confirmed)
      .thenRejects("MemberErased", { status: "forgotten", attempted: "Anonymize" })
    given([...member, forgotten({ at: defaultNow - days(10) }), purged({ at: defaultNow - days(2) })])
      .when(confirmed)
      .thenRejects("MemberErased", { status: "purged", attempted: "Anonymize" })
  })
})

describe("R9: the subject's e-mail is confirmed before anonymizing", () => {
  it("R9: a confirmation that differs from the stored e-mail is refused with SubjectNotConfirmed", () => {
    given(member)
      .when(anonymize({ confirmEmail: "anna@example.com" }))
      .thenRejects("AnonymizationBlocked", { reasons: ["SubjectNotConfirmed"] })
  })

  it("R9: staff who give no confirmation are refused with SubjectNotConfirmed", () => {
    given(member)
      .when(anonymize({ confirmEmail: null }))
      .thenRejects("AnonymizationBlocked", { reasons: ["SubjectNotConfirmed"] })
  })

  it("R9: the comparison ignores case and surrounding spaces, on both sides", () => {
    given([...member.slice(0, 1), emailRecorded("Anna@Example.ORG")])
      .when(anonymize({ confirmEmail: "  anna@EXAMPLE.org " }))
      .thenEvents([anonymizedNow])
    given([...member.slice(0, 1), emailRecorded("  anna@example.org\t")])
      .when(anonymize({ confirmEmail: "ANNA@example.org" }))
      .thenEvents([anonymizedNow])
  })

  it("R9: the latest recorded e-mail is the one to confirm", () => {
    const history = [...member, emailRecorded("anna.nowak@example.org", defaultNow - days(1))]
    given(history)
      .when(anonymize({ confirmEmail: email }))
      .thenRejects("AnonymizationBlocked", { reasons: ["SubjectNotConfirmed"] })
    given(history)
      .when(anonymize({ confirmEmail: "anna.nowak@example.org" }))
      .thenEvents([anonymizedNow])
  })

  it("R9: a policy run needs no confirmation", () => {
    given(member)
      .when(anonymize({ confirmEmail: null, policyId: "inactive-24-months" }), { actor: systemActor })
      .thenEvents([anonymized({ erasedCategories: ["contact"], policyId: "inactive-24-months" })])
  })

  it("R9: staff naming a policy still have to confirm the subject (only Lethe's jobs skip it)", () => {
    given(member)
      .when(anonymize({ confirmEmail: null, policyId: "inactive-24-months" }))
      .thenRejects("AnonymizationBlocked", { reasons: ["SubjectNotConfirmed"] })
  })

  it("R9: a member recorded without an e-mail has nothing to confirm", () => {
    given([registered(), personalDataRecorded({ fields: { name: "Anna" } })])
      .when(anonymize({ confirmEmail: null }))
      .thenEvents([anonymized({ erasedCategories: ["identity"] })])
  })

  it("R9: an accent typed as a combining mark confirms the same address as the composed letter", () => {
    given([registered(), emailRecorded("jos\u00e9@example.org")])
      .when(anonymize({ confirmEmail: " JOSE\u0301@example.org" }))
      .thenEvents([anonymized({ erasedCategories: ["contact"] })])
  })

  it("R1/R9: an e-mail's normal form is composed, trimmed and lower-case (the blind index of every store is computed from it)", () => {
    expect(normalizeEmail("  Jose\u0301@Example.ORG ")).toBe("jos\u00e9@example.org")
  })

  it("R9: a member whose e-mail's key was destroyed has nothing readable to confirm against", () => {
    const erased = { _tag: "Erased", category: "contact" } as const
    given([registered(), personalDataRecorded({ category: "contact", fields: { email: erased } })])
      .when(anonymize({ confirmEmail: null }))
      .thenEvents([anonymized({ erasedCategories: ["contact"] })])
  })

  it("R9: a member with only a phone has no e-mail to confirm", () => {
    given([registered(), personalDataRecorded({ category: "contact", fields: { phone: "+48 600" } })])
      .when(anonymize({ confirmEmail: null }))
      .thenEvents([anonymized({ erasedCategories: ["contact"] })])
  })
})

describe("R27: reminders, not blockers", () => {
  const noDebtCollection = { clubs: { "club-1": { debtCollection: false } } }

  it("R27: an unpaid purchase comes back as the UnpaidPurchases warning and does not block", () => {
    given([...member, purchaseRecorded({ paid: false })])
      .when(confirmed)
      .thenEvents([anonymizedNow])
      .thenWarnings(["UnpaidPurchases"])
  })

  it("R27: a missed instalment in a club without debt collection is the ArrearsWithoutDebtCollection warning", () => {
    given([...member, instalmentMissed({ clubId: "club-1" })])
      .when(confirmed, { config: noDebtCollection })
      .thenEvents([anonymizedNow])
      .thenWarnings(["ArrearsWithoutDebtCollection"])
  })

  it("R27: both warnings come back together", () => {
    given([...member, purchaseRecorded(), instalmentMissed({ clubId: "club-1" })])
      .when(confirmed, { config: noDebtCollection })
      .thenWarnings(["UnpaidPurchases", "ArrearsWithoutDebtCollection"])
  })

  it("R27: arrears in a club that uses debt collection (the default) are no warning", () => {
    given([...member, instalmentMissed({ clubId: "club-1" })])
      .when(confirmed)
      .thenWarnings([])
  })

  it("R27: paid purchases and paid instalments are no warning", () => {
    given([
      ...member,
      purchaseRecorded(),
      purchasePaid(),
      instalmentMissed({ clubId: "club-1" }),
      instalmentPaid(),
    ])
      .when(confirmed, { config: noDebtCollection })
      .thenEvents([anonymizedNow])
      .thenWarnings([])
  })

  it("R27: warnings never appear among the reasons of a refusal", () => {
    given([...member, purchaseRecorded(), instalmentMissed({ clubId: "club-1" }), walletCredited()])
      .when(confirmed, { config: noDebtCollection })
      .thenRejects("AnonymizationBlocked", { reasons: ["WalletNotEmpty"] })
  })
})

describe("R24: what anonymization removes and keeps", () => {
  it("R24: every category with data is erased, activity included; invoices are kept", () => {
    given([
      ...member,
      personalDataRecorded({ category: "identity", fields: { name: "Anna Nowak" } }),
      personalDataRecorded({ category: "photo", fields: { url: "photo.jpg" } }),
      personalDataRecorded({ category: "invoice", fields: { name: "Anna Nowak", address: "Długa 1" } }),
      activityRecorded(),
    ])
      .when(confirmed)
      .thenEvents([
        anonymized({
          erasedCategories: ["activity", "contact", "identity", "photo"],
          keptCategories: ["invoice"],
        }),
      ])
      .thenState((state) => {
        expect(state.status).toBe("anonymized")
        expect(Object.keys(state.personal)).toEqual(["invoice"])
      })
  })

  it("R19: anonymizing keeps the member and its statistics", () => {
    given([...member, activityRecorded(), activityRecorded({ kind: "class" })])
      .when(confirmed)
      .thenState({ exists: true, memberId: "member-1", status: "anonymized", anonymizedAt: defaultNow })
      .thenState({ counts: { visit: 1, class: 1, transaction: 0, "page-view": 0, messages: 0, exports: 0 } })
  })
})
