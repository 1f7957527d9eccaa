/**
 * R35 as a property: whatever the application does through the facade, in
 * whatever order and however time moves, the log it leaves audits clean of
 * every guard, chain and sealing rule; and the only deadline findings are
 * the requests the service itself reports as overdue.
 */

import { createLethe } from "@lethe/core"
import { auditLog, auditSourcesOf } from "@lethe/core/audit"
import { readAllEvents } from "@lethe/core/spi"
import { memoryStore } from "@lethe/store-memory"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { keyring, start } from "./audit-logs.js"
import type { Run } from "./facade-ops.js"
import { arbOp, members, otherSystems, register } from "./facade-ops.js"

describe("audit: any log the facade writes", () => {
  it("R35: audits clean, and its only deadline findings are the requests the service reports overdue", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(arbOp, { minLength: 5, maxLength: 40, size: "max" }), async (ops) => {
        const store = memoryStore()
        const clock = { now: start }
        const lethe = await createLethe({
          store,
          keyring,
          clock: () => new Date(clock.now),
          config: { otherSystems },
        })
        const run: Run = { lethe, ids: [], clock }
        try {
          for (let i = 0; i < members; i++) await register(i)(run)
          for (const op of ops) await op(run).catch(() => undefined)
          const report = await auditLog(readAllEvents(store.events), {
            ...auditSourcesOf(store),
            asOf: new Date(run.clock.now),
            // Purge timing depends on when the test ran retention, not on a rule of the service.
            purgeGraceDays: 10_000,
          })
          const deadline = new Set(["erasure-deadline", "access-deadline"])
          expect(report.findings.filter((f) => !deadline.has(f.rule))).toEqual([])
          const stillOpen = report.findings
            .filter((f) => /still open/.test(f.message))
            .map((f) => String(f.evidence.requestId))
            .sort()
          const overdue = (await lethe.openRequests())
            .filter((r) => r.dueBy.getTime() < run.clock.now)
            .map((r) => r.requestId)
            .sort()
          expect(stillOpen).toEqual(overdue)
          expect(report.summary.events).toBeGreaterThanOrEqual(0)
        } finally {
          await lethe.close()
        }
      }),
      { numRuns: 60 },
    )
  })
})
