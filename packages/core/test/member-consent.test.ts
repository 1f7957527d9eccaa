import type { PersonalCategory } from "@lethe/core"
import type { ConsentCatalogue } from "@lethe/core/domain"
import {
  defaultConsentCatalogue,
  defaultDomainConfig,
  fold,
  missingExplicitConsent,
} from "@lethe/core/domain"
import {
  anonymize,
  consentGiven,
  consentWithdrawn,
  contractSigned,
  days,
  defaultNow,
  emailRecorded,
  giveConsent,
  given,
  personalDataRecorded,
  processingRestricted,
  processingRestrictionLifted,
  profilingDisabled,
  profilingEnabled,
  purchaseRecorded,
  recordPersonalData,
  registered,
  sendMessage,
  systemActor,
  unsubscribed,
} from "@lethe/testkit"
import { describe, expect, it } from "vitest"

const start = defaultNow - days(60)
const member = [registered({ at: start }), emailRecorded("anna@example.org", start)]
const newsletterConsent = consentGiven({ at: start, purpose: "newsletter" })
const smsConsent = consentGiven({ at: start, purpose: "sms" })
const consentBasis = {
  basis: "consent",
  consentGivenAt: start,
  method: "checkbox",
  wordingVersion: "v1",
} as const
const sent = (
  purpose: string,
  lawfulBasis: typeof consentBasis | typeof legitimateInterest = consentBasis,
) => ({
  _tag: "MessageSent" as const,
  at: defaultNow,
  messageId: "message-1",
  purpose,
  channel: "email",
  sentBy: "staff-admin",
  test: false,
  lawfulBasis,
})
const legitimateInterest = {
  basis: "legitimate-interest",
  consentGivenAt: null,
  method: null,
  wordingVersion: null,
} as const

describe("R4: unsubscribe is not forget", () => {
  it("R4: unsubscribing records Unsubscribed and keeps the profile, consents and history", () => {
    given([...member, newsletterConsent])
      .when({ _tag: "Unsubscribe", purpose: "newsletter", via: "link" })
      .thenEvents([unsubscribed({ purpose: "newsletter", via: "link" })])
      .thenState((state) => {
        expect(state.status).toBe("active")
        expect(state.personal.contact).toEqual({ email: "anna@example.org" })
        expect(state.consents.newsletter?.withdrawnAt).toBeNull()
        expect(state.unsubscribed).toEqual({ newsletter: { at: defaultNow, via: "link" } })
      })
  })

  it("R4: after unsubscribing, messages for that purpose are refused with Unsubscribed", () => {
    given([...member, newsletterConsent, unsubscribed({ purpose: "newsletter" })])
      .when(sendMessage({ purpose: "newsletter" }))
      .thenRejects("MessageRefused", { purpose: "newsletter", reasons: ["Unsubscribed"] })
  })

  it("R4: test messages for that purpose are refused as well", () => {
    given([...member, newsletterConsent, unsubscribed({ purpose: "newsletter", via: "staff" })])
      .when(sendMessage({ purpose: "newsletter", test: true }))
      .thenRejects("MessageRefused", { reasons: ["Unsubscribed"] })
  })

  it("R4: unsubscribing stops that purpose only", () => {
    given([...member, newsletterConsent, smsConsent, unsubscribed({ purpose: "newsletter" })])
      .when(sendMessage({ purpose: "sms" }))
      .thenEvents([sent("sms")])
  })

  it("R4: subscribing again re-enables sending", () => {
    const history = [
      ...member,
      newsletterConsent,
      unsubscribed({ at: start + days(1), purpose: "newsletter" }),
      consentGiven({ at: start + days(2), purpose: "newsletter" }),
    ]
    given(history)
      .when(sendMessage({ purpose: "newsletter" }))
      .thenEvents([sent("newsletter", { ...consentBasis, consentGivenAt: start + days(2) })])
  })

  it("R4: the renewed consent lifts the unsubscribe in the state", () => {
    given([...member, newsletterConsent, unsubscribed({ purpose: "newsletter" })])
      .when(giveConsent({ purpose: "newsletter" }))
      .thenState({ unsubscribed: {} })
  })

  it("R4: unsubscribing twice records nothing; an unknown purpose is UnknownPurpose", () => {
    given([...member, unsubscribed({ purpose: "newsletter" })])
      .when({ _tag: "Unsubscribe", purpose: "newsletter", via: "link" })
      .thenNothing()
    given(member)
      .when({ _tag: "Unsubscribe", purpose: "carrier-pigeons", via: "link" })
      .thenRejects("UnknownPurpose", { purpose: "carrier-pigeons" })
  })

  it("R4: a withdrawn consent leaves no lawful basis for a consent-only purpose", () => {
    given([...member, newsletterConsent, consentWithdrawn({ purpose: "newsletter" })])
      .when(sendMessage({ purpose: "newsletter" }))
      .thenRejects("MessageRefused", { reasons: ["NoLawfulBasis"] })
  })
})

describe("R16: lawful basis", () => {
  it("R16: marketing to a customer (a contract) rests on legitimate interest, recorded with the message", () => {
    given([...member, contractSigned({ at: start, startsAt: start })])
      .when(sendMessage({ purpose: "marketing" }))
      .thenEvents([sent("marketing", legitimateInterest)])
  })

  it("R16: a purchase makes a customer too", () => {
    given([...member, purchaseRecorded({ at: start, paid: true })])
      .when(sendMessage({ purpose: "marketing" }))
      .thenEvents([sent("marketing", legitimateInterest)])
  })

  it("R16: legitimate interest does not cover someone who is not a customer", () => {
    given(member)
      .when(sendMessage({ purpose: "marketing" }))
      .thenRejects("MessageRefused", { reasons: ["NoLawfulBasis"] })
  })

  it("R16: a purpose without a standing basis needs a consent, even for a customer", () => {
    given([...member, contractSigned({ at: start, startsAt: start })])
      .when(sendMessage({ purpose: "newsletter" }))
      .thenRejects("MessageRefused", { reasons: ["NoLawfulBasis"] })
  })

  it("R16: a consent in force takes precedence and is the basis recorded (R3)", () => {
    given([
      ...member,
      contractSigned({ at: start, startsAt: start }),
      consentGiven({ at: start, purpose: "marketing" }),
    ])
      .when(sendMessage({ purpose: "marketing" }))
      .thenEvents([sent("marketing")])
  })

  it("R16: unsubscribing stops messages on legitimate interest as well", () => {
    given([...member, contractSigned({ at: start, startsAt: start }), unsubscribed({ purpose: "marketing" })])
      .when(sendMessage({ purpose: "marketing" }))
      .thenRejects("MessageRefused", { reasons: ["Unsubscribed"] })
  })

  it("R16: a customer who withdrew the marketing consent gets no marketing on legitimate interest instead", () => {
    // Withdrawing is an objection to that purpose (art. 21(3)); the basis may not be swapped afterwards.
    given([
      ...member,
      contractSigned({ at: start, startsAt: start }),
      consentGiven({ at: start, purpose: "marketing" }),
      consentWithdrawn({ at: start + days(1), purpose: "marketing" }),
    ])
      .when(sendMessage({ purpose: "marketing" }))
      .thenRejects("MessageRefused", { reasons: ["NoLawfulBasis"] })
  })

  it("R16: a consent records its basis; one the catalogue does not allow is BasisNotAllowed", () => {
    given(member)
      .when(giveConsent({ purpose: "marketing", basis: "legitimate-interest" }))
      .thenEvents([
        consentGiven({
          purpose: "marketing",
          basis: "legitimate-interest",
          explicit: false,
          givenAt: defaultNow,
        }),
      ])
    given(member)
      .when(giveConsent({ purpose: "newsletter", basis: "legitimate-interest" }))
      .thenRejects("BasisNotAllowed", {
        purpose: "newsletter",
        basis: "legitimate-interest",
        allowed: ["consent"],
      })
  })

  it("R16: without a basis named, the catalogue's first one is recorded", () => {
    given(member)
      .when(giveConsent({ purpose: "service" }))
      .thenEvents([consentGiven({ purpose: "service", basis: "contract" })])
  })

  it("R33: a consent cites a wording version the catalogue knows, and a known purpose", () => {
    given(member)
      .when(giveConsent({ wordingVersion: "v9" }))
      .thenRejects("UnknownWordingVersion", { purpose: "newsletter", wordingVersion: "v9", known: ["v1"] })
    given(member)
      .when(giveConsent({ purpose: "telepathy" }))
      .thenRejects("UnknownPurpose", { purpose: "telepathy" })
  })

  it("R33: an imported consent keeps when it was given, never later than now", () => {
    given(member)
      .when(giveConsent({ method: "import", givenAt: defaultNow - days(300) }))
      .thenEvents([consentGiven({ method: "import", givenAt: defaultNow - days(300) })])
    given(member)
      .when(giveConsent({ givenAt: defaultNow + days(3) }))
      .thenEvents([consentGiven({ givenAt: defaultNow })])
  })

  it("R2: a message for a purpose the catalogue does not know is refused", () => {
    given([...member, newsletterConsent])
      .when(sendMessage({ purpose: "telepathy" }))
      .thenRejects("MessageRefused", { purpose: "telepathy" })
  })
})

describe("R17: special categories need an explicit consent", () => {
  const special: ReadonlyArray<readonly [PersonalCategory, string]> = [
    ["health", "health-data"],
    ["ethnicOrigin", "sensitive-data"],
    ["politicalOpinions", "sensitive-data"],
    ["religiousBeliefs", "sensitive-data"],
  ]

  it.each(special)(
    "R17: %s data without an explicit consent is refused with ExplicitConsentRequired",
    (category, purpose) => {
      given(member)
        .when(recordPersonalData({ category, fields: { value: "x" } }))
        .thenRejects("ExplicitConsentRequired", { memberId: "member-1", category, purposes: [purpose] })
    },
  )

  it.each(special)(
    "R17: %s data is recorded with an explicit consent in force for %s",
    (category, purpose) => {
      given([...member, consentGiven({ purpose, explicit: true })])
        .when(recordPersonalData({ category, fields: { value: "x" } }))
        .thenEvents([personalDataRecorded({ category, fields: { value: "x" } })])
    },
  )

  it("R17: a consent for another purpose does not cover the category", () => {
    given([...member, consentGiven({ purpose: "health-data", explicit: true }), newsletterConsent])
      .when(recordPersonalData({ category: "religiousBeliefs", fields: { religion: "x" } }))
      .thenRejects("ExplicitConsentRequired", { category: "religiousBeliefs", purposes: ["sensitive-data"] })
  })

  it("R17: a withdrawn explicit consent no longer covers", () => {
    given([
      ...member,
      consentGiven({ purpose: "health-data", explicit: true }),
      consentWithdrawn({ purpose: "health-data" }),
    ])
      .when(recordPersonalData({ category: "health", fields: { bloodPressure: "120/80" } }))
      .thenRejects("ExplicitConsentRequired", { category: "health" })
  })

  it("R17: a consent that covers the category but is not explicit does not cover it", () => {
    const consentCatalogue: ConsentCatalogue = {
      ...defaultConsentCatalogue,
      wellness: {
        purpose: "wellness",
        description: "Wellness tips",
        bases: ["consent"],
        wordingVersions: ["v1"],
        explicit: false,
        covers: ["health"],
        profiling: false,
      },
    }
    given([...member, consentGiven({ purpose: "wellness", explicit: false })])
      .when(recordPersonalData({ category: "health", fields: { weight: "70" } }), {
        config: { consentCatalogue },
      })
      .thenRejects("ExplicitConsentRequired", { category: "health", purposes: ["health-data", "wellness"] })
  })

  it("R17: one explicit consent in force among the purposes that cover the category is enough", () => {
    const consentCatalogue: ConsentCatalogue = {
      ...defaultConsentCatalogue,
      wellness: {
        purpose: "wellness",
        description: "Wellness tips",
        bases: ["consent"],
        wordingVersions: ["v1"],
        explicit: false,
        covers: ["health"],
        profiling: false,
      },
    }
    given([
      ...member,
      consentGiven({ purpose: "wellness", explicit: false }),
      consentGiven({ purpose: "health-data", explicit: true }),
    ])
      .when(recordPersonalData({ category: "health", fields: { weight: "70" } }), {
        config: { consentCatalogue },
      })
      .thenEvents([personalDataRecorded({ category: "health", fields: { weight: "70" } })])
  })

  it("R17/R35: the guard the auditor re-runs names no purpose for an ordinary category, and every covering one for a special one", () => {
    const state = fold(member)
    expect(missingExplicitConsent(state, "notes", defaultDomainConfig)).toEqual({
      missing: false,
      purposes: [],
    })
    expect(missingExplicitConsent(state, "religiousBeliefs", defaultDomainConfig)).toEqual({
      missing: true,
      purposes: ["sensitive-data"],
    })
    const covered = fold([...member, consentGiven({ purpose: "sensitive-data", explicit: true })])
    expect(missingExplicitConsent(covered, "religiousBeliefs", defaultDomainConfig)).toEqual({
      missing: false,
      purposes: ["sensitive-data"],
    })
  })

  it("R17: a consent for a purpose that requires it explicit must be explicit (ExplicitFlagRequired)", () => {
    given(member)
      .when(giveConsent({ purpose: "health-data", explicit: false }))
      .thenRejects("ExplicitFlagRequired", { purpose: "health-data" })
  })

  it("R17: ordinary categories need no consent", () => {
    given(member)
      .when(recordPersonalData({ category: "notes", fields: { note: "prefers mornings" } }))
      .thenEvents([personalDataRecorded({ category: "notes", fields: { note: "prefers mornings" } })])
  })
})

describe("R23: restriction of processing", () => {
  it("R23: restricting records ProcessingRestricted; restricting again records nothing", () => {
    given(member)
      .when({ _tag: "RestrictProcessing", reason: "accuracy contested" })
      .thenEvents([processingRestricted({ reason: "accuracy contested" })])
      .thenState({ restriction: { since: defaultNow, reason: "accuracy contested" } })
    given([...member, processingRestricted()])
      .when({ _tag: "RestrictProcessing", reason: "again" })
      .thenNothing()
  })

  it("R23: a restricted member receives no message, with every reason listed", () => {
    given([...member, newsletterConsent, processingRestricted()])
      .when(sendMessage({ purpose: "newsletter" }))
      .thenRejects("MessageRefused", { reasons: ["ProcessingRestricted"] })
    given([...member, newsletterConsent, unsubscribed({ purpose: "newsletter" }), processingRestricted()])
      .when(sendMessage({ purpose: "newsletter", test: true }))
      .thenRejects("MessageRefused", { reasons: ["Unsubscribed", "ProcessingRestricted"] })
  })

  it("R23: restriction blocks anonymization until it is lifted", () => {
    const restricted = [...member, processingRestricted()]
    given(restricted)
      .when(anonymize({ confirmEmail: "anna@example.org" }))
      .thenRejects("AnonymizationBlocked", { reasons: ["ProcessingRestricted"] })
    given(restricted)
      .when(anonymize({ confirmEmail: null, policyId: "after-contract-12-months" }), { actor: systemActor })
      .thenRejects("AnonymizationBlocked", { reasons: ["ProcessingRestricted"] })
  })

  it("R23: lifting the restriction allows messages again", () => {
    given([...member, newsletterConsent, processingRestricted(), processingRestrictionLifted()])
      .when(sendMessage({ purpose: "newsletter" }))
      .thenEvents([sent("newsletter")])
  })
})

describe("R31: profiling switch", () => {
  const profilingConsent = consentGiven({ at: start, purpose: "profiling" })

  it("R31: disabling profiling records ProfilingDisabled; disabling again records nothing", () => {
    given(member)
      .when({ _tag: "DisableProfiling" })
      .thenEvents([profilingDisabled()])
      .thenState({ profiling: false })
    given([...member, profilingDisabled()])
      .when({ _tag: "DisableProfiling" })
      .thenNothing()
  })

  it("R31: profiling purposes are refused with ProfilingDisabled while profiling is off", () => {
    given([...member, profilingConsent, profilingDisabled()])
      .when(sendMessage({ purpose: "profiling" }))
      .thenRejects("MessageRefused", { reasons: ["ProfilingDisabled"] })
  })

  it("R31: other purposes are not affected", () => {
    given([...member, newsletterConsent, profilingDisabled()])
      .when(sendMessage({ purpose: "newsletter" }))
      .thenEvents([sent("newsletter")])
  })

  it("R31: turning profiling on again allows profiling purposes", () => {
    given([...member, profilingConsent, profilingDisabled(), profilingEnabled()])
      .when(sendMessage({ purpose: "profiling" }))
      .thenEvents([sent("profiling")])
    given([...member, profilingDisabled()])
      .when({ _tag: "EnableProfiling" })
      .thenEvents([profilingEnabled()])
  })
})

describe("R33: the consent catalogue is the only source of purposes", () => {
  const builtIns = ["toString", "constructor", "__proto__", "hasOwnProperty"]

  it.each(builtIns)("R33: %s, a name every object answers to, is no purpose of the catalogue", (purpose) => {
    given(member).when(giveConsent({ purpose })).thenRejects("UnknownPurpose", { purpose })
    given(member)
      .when({ _tag: "WithdrawConsent", purpose, source: { kind: "subject" } })
      .thenRejects("UnknownPurpose", { purpose })
    given(member)
      .when({ _tag: "Unsubscribe", purpose, via: "link" })
      .thenRejects("UnknownPurpose", { purpose })
    given(member)
      .when(sendMessage({ purpose }))
      .thenRejects("MessageRefused", { purpose, reasons: ["NoLawfulBasis"] })
  })

  it("R16: a purpose whose catalogue entry allows no basis refuses every consent, citing consent", () => {
    const consentCatalogue: ConsentCatalogue = {
      ...defaultConsentCatalogue,
      survey: {
        purpose: "survey",
        description: "Satisfaction surveys",
        bases: [],
        wordingVersions: ["v1"],
        explicit: false,
        covers: [],
        profiling: false,
      },
    }
    given(member)
      .when(giveConsent({ purpose: "survey" }), { config: { consentCatalogue } })
      .thenRejects("BasisNotAllowed", { purpose: "survey", basis: "consent", allowed: [] })
  })
})
