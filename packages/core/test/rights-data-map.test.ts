/**
 * The data map (R18, R34): categories held, purposes and lawful bases,
 * retention, storage and other systems, computed from the configuration.
 */

import { anonymizeAfterContractEnd, defaultConfig, forgetColdLeads } from "@lethe/core"
import type { ConsentCatalogue } from "@lethe/core/domain"
import { defaultConsentCatalogue, PersonalCategory, specialCategories } from "@lethe/core/domain"
import { describe, expect, it } from "vitest"
import { dataMap } from "../src/service/data-map.js"
import { countEvents, rejection, setup } from "./rights-setup.js"

const catalogue: ConsentCatalogue = {
  "club-news": {
    purpose: "club-news",
    description: "News of the club, by e-mail",
    bases: ["legitimate-interest", "consent"],
    standingBasis: { basis: "legitimate-interest", customersOnly: true },
    wordingVersions: ["2024-01", "2025-06"],
    explicit: false,
    covers: [],
    profiling: false,
  },
  "injury-care": {
    purpose: "injury-care",
    description: "Adapting training to injuries",
    bases: ["consent"],
    wordingVersions: ["v3"],
    explicit: true,
    covers: ["health"],
    profiling: false,
  },
}

describe("dataMap", () => {
  it("R18: every PersonalCategory appears once, sealed in the event log, with what it contains", async () => {
    const { lethe } = await setup()
    const map = await lethe.dataMap()
    expect(map.categories.map((c) => c.category)).toEqual([...PersonalCategory.literals])
    for (const c of map.categories) {
      expect(c.contains.length).toBeGreaterThan(0)
      expect(c.eventLog).toMatch(/sealed/)
    }
  })

  it("R18: special categories (art. 9) are flagged exactly, with the purposes that cover them", async () => {
    const { lethe } = await setup()
    const map = await lethe.dataMap()
    const flagged = map.categories.filter((c) => c.specialCategory).map((c) => c.category)
    expect(new Set(flagged)).toEqual(specialCategories)
    const health = map.categories.find((c) => c.category === "health")
    expect(health?.coveredBy).toEqual(["health-data"])
    for (const c of map.categories.filter((c) => !c.specialCategory)) expect(c.coveredBy).toEqual([])
  })

  it("R18: only name and e-mail are held in clear in the directory, and only while active", async () => {
    const { lethe } = await setup()
    const map = await lethe.dataMap()
    const withColumns = map.categories.filter((c) => c.directory.length > 0).map((c) => c.category)
    expect(withColumns.sort()).toEqual(["contact", "identity"])
    const identity = map.categories.find((c) => c.category === "identity")
    expect(identity?.directory.map((d) => d.column)).toContain("name")
    const contact = map.categories.find((c) => c.category === "contact")
    expect(contact?.directory.map((d) => d.column)).toContain("email")
    expect(map.categories.find((c) => c.category === "invoice")?.keptOnAnonymization).toBe(true)
  })

  it("R18: the default catalogue's purposes appear with their lawful bases, standing basis and wordings", async () => {
    const { lethe } = await setup()
    const map = await lethe.dataMap()
    expect(map.purposes.map((p) => p.purpose)).toEqual(Object.keys(defaultConsentCatalogue))
    const marketing = map.purposes.find((p) => p.purpose === "marketing")
    expect(marketing).toMatchObject({
      lawfulBases: ["consent", "legitimate-interest"],
      standingBasis: { basis: "legitimate-interest", customersOnly: true },
      explicit: false,
      wordingVersions: ["v1"],
    })
    expect(map.purposes.find((p) => p.purpose === "newsletter")?.standingBasis).toBeNull()
    expect(map.purposes.find((p) => p.purpose === "health-data")).toMatchObject({
      explicit: true,
      covers: ["health"],
    })
  })

  it("R18: a custom catalogue and configuration are reflected", async () => {
    const { lethe } = await setup({
      config: {
        consentCatalogue: catalogue,
        restoreWindowDays: 14,
        erasureDeadlineDays: 20,
        accessDeadlineDays: 25,
        invoiceRetentionYears: 10,
        otherSystems: ["Accounting (Fakturownia)", "Mailchimp"],
      },
    })
    const map = await lethe.dataMap()
    expect(map.purposes).toEqual([
      {
        purpose: "club-news",
        description: "News of the club, by e-mail",
        lawfulBases: ["legitimate-interest", "consent"],
        standingBasis: { basis: "legitimate-interest", customersOnly: true },
        explicit: false,
        covers: [],
        profiling: false,
        wordingVersions: ["2024-01", "2025-06"],
      },
      {
        purpose: "injury-care",
        description: "Adapting training to injuries",
        lawfulBases: ["consent"],
        standingBasis: null,
        explicit: true,
        covers: ["health"],
        profiling: false,
        wordingVersions: ["v3"],
      },
    ])
    expect(map.categories.find((c) => c.category === "health")?.coveredBy).toEqual(["injury-care"])
    expect(map.categories.find((c) => c.category === "religiousBeliefs")?.coveredBy).toEqual([])
    expect(map.retention).toMatchObject({
      restoreWindowDays: 14,
      erasureDeadlineDays: 20,
      accessDeadlineDays: 25,
      invoiceRetentionYears: 10,
    })
    expect(map.otherSystems).toEqual(["Accounting (Fakturownia)", "Mailchimp"])
  })

  it("R18: the retention policies passed in appear with the built-in rules", async () => {
    const { lethe } = await setup()
    const map = await lethe.dataMap({
      policies: [anonymizeAfterContractEnd({ months: 24, tenantId: "gym" }), forgetColdLeads({ days: 30 })],
    })
    expect(map.retention.builtInRules.map((r) => r.rule)).toEqual([
      "finish-erasure",
      "purge-forgotten",
      "end-invoice-retention",
    ])
    expect(map.retention.policies).toEqual([
      expect.objectContaining({
        id: "anonymize-after-contract-end-24m",
        kind: "AnonymizeAfterContractEnd",
        action: "anonymize",
        period: { months: 24 },
        tenantId: "gym",
      }),
      expect.objectContaining({
        id: "forget-cold-leads-30d",
        kind: "ForgetColdLeads",
        action: "forget",
        period: { days: 30 },
        tenantId: null,
      }),
    ])
    expect((await lethe.dataMap()).retention.policies).toEqual([])
  })

  it("R18: a malformed policy is refused as runRetention would refuse it", async () => {
    const { lethe } = await setup()
    const error = await rejection(
      lethe.dataMap({ policies: [forgetColdLeads({ days: 30 }), forgetColdLeads({ days: 30 })] }),
    )
    expect(error._tag).toBe("InvalidCommand")
    expect(error.command).toBe("dataMap")
  })

  it("R18: storage names the store and says the library sends nothing anywhere (R28)", async () => {
    const { lethe } = await setup()
    const map = await lethe.dataMap()
    expect(map.storage.store).toBe("memory")
    expect(map.storage.residency).toMatch(/sends nothing anywhere/)
  })

  it("R34: the map is plain JSON-serializable data, reads and records nothing", async () => {
    const { lethe, store } = await setup({ config: { otherSystems: ["Accounting"] } })
    await lethe.register({
      tenantId: "gym",
      personal: { name: "Ada", email: "ada@example.org" },
      source: "staff",
    })
    const before = await countEvents(store)
    const map = await lethe.dataMap({ policies: [forgetColdLeads({ days: 30 })] })
    expect(JSON.parse(JSON.stringify(map))).toEqual(map)
    expect(JSON.stringify(map)).not.toMatch(/Ada|ada@example\.org/)
    expect(await countEvents(store)).toBe(before)
  })

  it("R34: the pure function gives the same map as the service", async () => {
    const { lethe } = await setup()
    const policies = [forgetColdLeads({ days: 30 })]
    expect(await lethe.dataMap({ policies })).toEqual(
      dataMap({ config: defaultConfig, storeName: "memory", policies }),
    )
  })
})
