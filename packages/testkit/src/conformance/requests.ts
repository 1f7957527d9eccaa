/**
 * Conformance of requests as stored (R11, R14): a request waiting for its
 * other systems stays in the directory's open requests, with its deadline,
 * after the member was forgotten and purged; the systems' confirmations are
 * appended to a purged member's stream and read back from the store, and the
 * last one takes the request out of the directory.
 *
 * @module
 */
import { expect } from "vitest"
import { adminActor, days, hours } from "../given-when-then.js"
import type { CaseGroup } from "./case.js"
import { openLethe, testClock } from "./world.js"

const otherSystems = ["Accounting (invoices)", "Newsletter tool"]

/** Request cases, by stable name: erasure requests, under the erasure concern. */
export const requestCases = {
  "erasure/other-systems-confirm": {
    title:
      "R14: an erasure request stays open in the directory until every other system confirms, after forget and purge too",
    run: async ({ withStore }) =>
      withStore(async (store) => {
        const clock = testClock()
        // No kept state: each operation reads the member's stream back from the store.
        const lethe = await openLethe(store, clock, { config: { otherSystems }, memberCache: 0 })
        try {
          const { memberId } = await lethe.register({
            tenantId: "t1",
            personal: { name: "Anna Nowak", email: "anna@example.org" },
            source: "form",
          })
          const request = await lethe.requestErasure(memberId, { via: "email" })
          const { requestId } = request
          expect(request.otherSystems).toEqual(otherSystems)
          await lethe.forget(memberId, { actor: adminActor, requestId })
          await lethe.confirmSystem(memberId, { actor: adminActor, requestId, system: "Newsletter tool" })
          clock.advance(days(lethe.config.restoreWindowDays) + hours(1))
          await lethe.purge(memberId, { actor: adminActor })
          const row = await store.directory.get(memberId)
          expect(row?.status).toBe("purged")
          expect(
            row?.openRequests.map((r) => r.requestId),
            "still waiting for accounting",
          ).toEqual([requestId])
          clock.advance(days(lethe.config.erasureDeadlineDays))
          expect(await lethe.overdueErasureRequests()).toEqual([
            expect.objectContaining({ memberId, requestId, pendingSystems: ["Accounting (invoices)"] }),
          ])

          const last = await lethe.confirmSystem(memberId, {
            actor: adminActor,
            requestId,
            system: "Accounting (invoices)",
          })
          expect(last).toMatchObject({ recorded: ["SystemConfirmed"], pendingSystems: [] })
          expect(last.fulfilledAt).toEqual(clock.now())
          expect((await store.directory.get(memberId))?.openRequests).toEqual([])
          expect(await lethe.openRequests()).toEqual([])
          const again = await lethe.confirmSystem(memberId, {
            actor: adminActor,
            requestId,
            system: "Accounting (invoices)",
          })
          expect(again.recorded, "a repeat records nothing").toEqual([])
        } finally {
          await lethe.close()
        }
      }),
  },
} satisfies CaseGroup
