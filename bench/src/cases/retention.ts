/**
 * Retention planning: `runRetention({ dryRun: true })` with the built-in
 * rules and three policies (anonymize after 24 months without activity,
 * forget leads cold for 90 days, anonymize 24 months after the contract
 * ended) over a population of members on SQLite, half of whom the rules
 * select. The raw driver and Emmett have no retention planner.
 *
 * @module
 */
import { anonymizeAfterContractEnd, anonymizeInactive, forgetColdLeads } from "@lethe/core"
import { sqliteBackend } from "../backends.js"
import { movableClock } from "../clock.js"
import type { Sampler } from "../compare.js"
import { compare } from "../compare.js"
import type { BenchContext } from "../context.js"
import { timeMs } from "../measure.js"
import type { Figure } from "../results.js"
import { population } from "../seed/population.js"

/** The case name. */
export const retentionCase = "retention planning (dry run)"

const policies = [
  anonymizeInactive({ months: 24 }),
  forgetColdLeads({ days: 90 }),
  anonymizeAfterContractEnd({ months: 24 }),
]

const none = { skip: "no retention planner" } as const

/** A dry run over the population, on SQLite (filled with synchronous NORMAL: a dry run only reads). */
export const runRetention = async (context: BenchContext): Promise<ReadonlyArray<Figure>> => {
  const { runs, members } = context.settings.retention
  const backend = sqliteBackend(context, "normal")
  const now = Date.UTC(2026, 0, 15, 12)
  const clock = movableClock(now)
  let planned = 0
  let selected = 0
  const planner = async (): Promise<Sampler> => {
    const opened = await backend.openLethe(clock.now)
    try {
      context.progress(`${retentionCase}: seeding ${members.toLocaleString("en-US")} members...`)
      selected = await population(opened, clock, now, members, (done) =>
        context.progress(`${retentionCase}: ${done.toLocaleString("en-US")} members`),
      )
    } catch (error) {
      await opened.close()
      throw error
    }
    return {
      sample: () =>
        timeMs(async () => {
          planned = (await opened.lethe.runRetention({ dryRun: true, policies })).planned.length
        }),
      note: () =>
        `plans ${planned.toLocaleString("en-US")} of ${members.toLocaleString("en-US")} members (${selected.toLocaleString("en-US")} meant to be selected)`,
      close: () => opened.close(),
    }
  }
  return compare(
    {
      case: retentionCase,
      variant: `SQLite, ${members.toLocaleString("en-US")} members`,
      unit: "ms",
      runs,
      contestants: [
        { contender: "raw", label: "raw driver", start: none },
        { contender: "emmett", label: "Emmett", start: none },
        { contender: "lethe", label: "Lethe runRetention", start: planner },
      ],
    },
    context.progress,
  )
}
