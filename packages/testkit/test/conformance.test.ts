import type { ConformanceCaseName } from "@lethe/testkit"
import { conformanceCaseNames, runAdapterConformance } from "@lethe/testkit"
import { describe, expect, it } from "vitest"

const failingStore = () => {
  throw new Error("no store is opened while the options are checked")
}

describe("runAdapterConformance", () => {
  it("C4: names at least 45 cases, each once, as concern/what-it-checks", () => {
    expect(conformanceCaseNames.length).toBeGreaterThanOrEqual(45)
    expect(new Set(conformanceCaseNames).size).toBe(conformanceCaseNames.length)
    for (const name of conformanceCaseNames) expect(name).toMatch(/^[a-z]+(-[a-z]+)*\/[a-z0-9-]+$/)
  })

  it("C4: covers every concern the issue lists", () => {
    const concerns = new Set(conformanceCaseNames.map((name) => name.split("/")[0]))
    expect([...concerns].sort()).toEqual(
      [
        "append",
        "append-batch",
        "concurrency",
        "directory",
        "directory-ids",
        "directory-many",
        "durability",
        "erasure",
        "events",
        "keys",
        "model",
        "projections",
        "snapshots",
        "store",
      ].sort(),
    )
  })

  it("C4: a skip list naming an unknown case is refused, so a typo never skips silently", () => {
    expect(() =>
      runAdapterConformance({
        name: "typo",
        makeStore: failingStore,
        skip: { "concurrency/twenty-no-streams": "typo" } as Partial<Record<ConformanceCaseName, string>>,
      }),
    ).toThrow(/unknown case "concurrency\/twenty-no-streams"/)
  })

  it("C4: a skip needs a reason", () => {
    expect(() =>
      runAdapterConformance({
        name: "no reason",
        makeStore: failingStore,
        skip: { "store/close-twice": "  " },
      }),
    ).toThrow(/needs a reason/)
  })
})
