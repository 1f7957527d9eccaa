import type { MemberEvent } from "@lethe/core/domain"
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
  given,
  instalmentMissed,
  instalmentPaid,
  purchasePaid,
  purchaseRecorded,
  registered,
  walletCredited,
  walletDebited,
} from "@lethe/testkit"
import { describe, it } from "vitest"

const email = "anna@example.org"
const start = defaultNow - days(100)
const member: ReadonlyArray<MemberEvent> = [registered({ at: start }), emailRecorded(email, start)]
const confirmed = anonymize({ confirmEmail: email })
const anonymizedNow = anonymized({ erasedCategories: ["contact"] })

describe("R25: a debt-collection case open in any club of the network blocks anonymization", () => {
  const closedAtA = [
    debtCaseOpened({ at: start, caseId: "case-a", clubId: "club-a" }),
    debtCaseClosed({ at: start + days(1), caseId: "case-a" }),
  ]
  const openAtB = [debtCaseOpened({ at: start + days(2), caseId: "case-b", clubId: "club-b" })]

  it("R25: a case open in one club blocks, though the member's case in another club is closed", () => {
    given([...member, ...closedAtA, ...openAtB])
      .when(confirmed)
      .thenRejects("AnonymizationBlocked", { reasons: ["OpenDebtCase"] })
  })

  it("R25: a case open in one club blocks, though a case opened later in another club is closed", () => {
    given([
      ...member,
      ...openAtB,
      debtCaseOpened({ at: start + days(3), caseId: "case-c", clubId: "club-c" }),
      debtCaseClosed({ at: start + days(4), caseId: "case-c" }),
    ])
      .when(confirmed)
      .thenRejects("AnonymizationBlocked", { reasons: ["OpenDebtCase"] })
  })

  it("R25: once the case is closed in every club, nothing blocks", () => {
    given([...member, ...closedAtA, ...openAtB, debtCaseClosed({ at: start + days(5), caseId: "case-b" })])
      .when(confirmed)
      .thenEvents([anonymizedNow])
  })

  it("R25: opening a case records it with its club; a case id is used once", () => {
    given(member)
      .when({ _tag: "OpenDebtCase", caseId: "case-a", clubId: "club-a" })
      .thenEvents([debtCaseOpened({ caseId: "case-a", clubId: "club-a" })])
    given([...member, ...closedAtA])
      .when({ _tag: "OpenDebtCase", caseId: "case-a", clubId: "club-b" })
      .thenRejects("DuplicateReference", { memberId: "member-1", kind: "debt case", id: "case-a" })
  })

  it("R25: closing records it once; closing a closed case records nothing; an unknown case is UnknownReference", () => {
    given([...member, ...openAtB])
      .when({ _tag: "CloseDebtCase", caseId: "case-b" })
      .thenEvents([debtCaseClosed({ caseId: "case-b" })])
    given([...member, ...closedAtA])
      .when({ _tag: "CloseDebtCase", caseId: "case-a" })
      .thenNothing()
    given(member)
      .when({ _tag: "CloseDebtCase", caseId: "case-x" })
      .thenRejects("UnknownReference", { memberId: "member-1", kind: "debt case", id: "case-x" })
  })
})

describe("R25: the wallet", () => {
  const funded = [...member, walletCredited({ at: start, amount: 1000 })]

  it("R25: crediting records the amount", () => {
    given(member)
      .when({ _tag: "CreditWallet", amount: 250 })
      .thenEvents([walletCredited({ amount: 250 })])
  })

  it("R25: a debit of the whole balance empties the wallet; one unit more is InsufficientFunds", () => {
    given(funded)
      .when({ _tag: "DebitWallet", amount: 1000 })
      .thenEvents([walletDebited({ amount: 1000 })])
      .thenState({ walletBalance: 0 })
    given(funded)
      .when({ _tag: "DebitWallet", amount: 999 })
      .thenEvents([walletDebited({ amount: 999 })])
      .thenState({ walletBalance: 1 })
    given(funded)
      .when({ _tag: "DebitWallet", amount: 1001 })
      .thenRejects("InsufficientFunds", { memberId: "member-1", balance: 1000, amount: 1001 })
  })

  it("R25: an empty wallet takes no debit at all", () => {
    given(member)
      .when({ _tag: "DebitWallet", amount: 1 })
      .thenRejects("InsufficientFunds", { balance: 0, amount: 1 })
  })

  it("R25: a credit up to Number.MAX_SAFE_INTEGER is taken; one unit past it is WalletLimitExceeded, never rounded", () => {
    const limit = Number.MAX_SAFE_INTEGER
    given(funded)
      .when({ _tag: "CreditWallet", amount: limit - 1000 })
      .thenEvents([walletCredited({ amount: limit - 1000 })])
      .thenState({ walletBalance: limit })
    given(funded)
      .when({ _tag: "CreditWallet", amount: limit - 999 })
      .thenRejects("WalletLimitExceeded", { memberId: "member-1", balance: 1000, amount: limit - 999, limit })
    given([...funded, walletCredited({ amount: limit - 1000 })])
      .when({ _tag: "CreditWallet", amount: 1 })
      .thenRejects("WalletLimitExceeded", { balance: limit, amount: 1 })
  })
  it("R25: one unit left in the wallet blocks anonymization; an emptied wallet does not", () => {
    given([...funded, walletDebited({ at: start, amount: 999 })])
      .when(confirmed)
      .thenRejects("AnonymizationBlocked", { reasons: ["WalletNotEmpty"] })
    given([...funded, walletDebited({ at: start, amount: 1000 })])
      .when(confirmed)
      .thenEvents([anonymizedNow])
  })
})

describe("R25: contracts", () => {
  it("R25: signing records the contract as given; a contract id is used once", () => {
    const signed = contractSigned({
      contractId: "contract-1",
      clubId: "club-a",
      startsAt: defaultNow + days(1),
      endsAt: defaultNow + days(31),
    })
    given(member)
      .when({
        _tag: "SignContract",
        contractId: "contract-1",
        clubId: "club-a",
        startsAt: defaultNow + days(1),
        endsAt: defaultNow + days(31),
      })
      .thenEvents([signed])
    given([...member, signed])
      .when({
        _tag: "SignContract",
        contractId: "contract-1",
        clubId: "club-b",
        startsAt: defaultNow,
        endsAt: null,
      })
      .thenRejects("DuplicateReference", { memberId: "member-1", kind: "contract", id: "contract-1" })
  })

  it("R25: ending records it once; ending an ended contract records nothing; an unknown one is UnknownReference", () => {
    const signed = contractSigned({ at: start, startsAt: start, endsAt: null })
    given([...member, signed])
      .when({ _tag: "EndContract", contractId: "contract-1" })
      .thenEvents([contractEnded({ contractId: "contract-1" })])
    given([...member, signed, contractEnded({ at: start + days(1) })])
      .when({ _tag: "EndContract", contractId: "contract-1" })
      .thenNothing()
    given(member)
      .when({ _tag: "EndContract", contractId: "contract-9" })
      .thenRejects("UnknownReference", { memberId: "member-1", kind: "contract", id: "contract-9" })
  })
})

describe("R27: purchases and instalments are facts, not blockers", () => {
  it("R27: a purchase is recorded as given, paid or not; a purchase id is used once", () => {
    given(member)
      .when({ _tag: "RecordPurchase", purchaseId: "purchase-1", amount: 4900, paid: true })
      .thenEvents([purchaseRecorded({ purchaseId: "purchase-1", amount: 4900, paid: true })])
    given([...member, purchaseRecorded({ at: start })])
      .when({ _tag: "RecordPurchase", purchaseId: "purchase-1", amount: 100, paid: false })
      .thenRejects("DuplicateReference", { memberId: "member-1", kind: "purchase", id: "purchase-1" })
  })

  it("R27: paying a purchase records it once; paying a paid one records nothing; an unknown one is UnknownReference", () => {
    given([...member, purchaseRecorded({ at: start, paid: false })])
      .when({ _tag: "MarkPurchasePaid", purchaseId: "purchase-1" })
      .thenEvents([purchasePaid({ purchaseId: "purchase-1" })])
    given([...member, purchaseRecorded({ at: start, paid: true })])
      .when({ _tag: "MarkPurchasePaid", purchaseId: "purchase-1" })
      .thenNothing()
    given([...member, purchaseRecorded({ at: start, paid: false }), purchasePaid({ at: start })])
      .when({ _tag: "MarkPurchasePaid", purchaseId: "purchase-1" })
      .thenNothing()
    given(member)
      .when({ _tag: "MarkPurchasePaid", purchaseId: "purchase-9" })
      .thenRejects("UnknownReference", { memberId: "member-1", kind: "purchase", id: "purchase-9" })
  })

  it("R27: a missed instalment is recorded with its club; an instalment id is used once", () => {
    given(member)
      .when({ _tag: "RecordMissedInstalment", instalmentId: "instalment-1", clubId: "club-b", amount: 9900 })
      .thenEvents([instalmentMissed({ instalmentId: "instalment-1", clubId: "club-b", amount: 9900 })])
    given([...member, instalmentMissed({ at: start }), instalmentPaid({ at: start })])
      .when({ _tag: "RecordMissedInstalment", instalmentId: "instalment-1", clubId: "club-a", amount: 100 })
      .thenRejects("DuplicateReference", { memberId: "member-1", kind: "instalment", id: "instalment-1" })
  })

  it("R27: paying an instalment records it once; paying a paid one records nothing; an unknown one is UnknownReference", () => {
    given([...member, instalmentMissed({ at: start })])
      .when({ _tag: "MarkInstalmentPaid", instalmentId: "instalment-1" })
      .thenEvents([instalmentPaid({ instalmentId: "instalment-1" })])
    given([...member, instalmentMissed({ at: start }), instalmentPaid({ at: start })])
      .when({ _tag: "MarkInstalmentPaid", instalmentId: "instalment-1" })
      .thenNothing()
    given(member)
      .when({ _tag: "MarkInstalmentPaid", instalmentId: "instalment-9" })
      .thenRejects("UnknownReference", { memberId: "member-1", kind: "instalment", id: "instalment-9" })
  })
})

describe("R19: activity", () => {
  it("R19: a visit, class, transaction or page view is recorded with its club and details, and counted", () => {
    given(member)
      .when({ _tag: "RecordActivity", kind: "class", clubId: "club-a", details: { class: "yoga" } })
      .thenEvents([activityRecorded({ kind: "class", clubId: "club-a", details: { class: "yoga" } })])
      .thenState({
        counts: { visit: 0, class: 1, transaction: 0, "page-view": 0, messages: 0, exports: 0 },
        lastActivityAt: defaultNow,
        lastContactAt: defaultNow,
      })
  })
})
