/**
 * The directory row of a member, derived from its state. The core computes it
 * so every adapter stores the same projection (docs/design.md §4: written in the same
 * transaction as the events).
 *
 * @module
 */
import { isCustomer, storedEmail } from "../member/guards.js"
import type { MemberState } from "../member/state.js"
import type { MemberRow, OpenRequest } from "../spi/directory.js"

const text = (state: MemberState, category: "identity" | "contact", key: string): string | null => {
  const value = state.personal[category]?.[key]
  return typeof value === "string" ? value : null
}

/**
 * When the member's last contract is over (ended early, or its end date), or
 * null if it has none or one runs without an end. Stored as a date rather than
 * a flag so a fixed-term contract that runs out needs no new event for the
 * retention query to see it (R20).
 */
const contractsEndedAt = (state: MemberState): number | null => {
  const ends = Object.values(state.contracts).map((c) =>
    Math.min(c.endedAt ?? Number.POSITIVE_INFINITY, c.endsAt ?? Number.POSITIVE_INFINITY),
  )
  if (ends.length === 0) return null
  const last = Math.max(...ends)
  return Number.isFinite(last) ? last : null
}

/**
 * The member's row. `emailKey` is the blind index of the stored e-mail (or
 * null); it lands in `emailKey` while active and in `restoreKey` while
 * forgotten and restorable, and nowhere after that (R1, R5).
 */
export const memberRow = (state: MemberState, version: number, emailKey: string | null): MemberRow => {
  const active = state.status === "active"
  const name = active ? text(state, "identity", "name") : null
  const email = active ? (storedEmail(state) ?? null) : null
  const openRequests: Array<OpenRequest> = Object.values(state.requests)
    .filter((r) => r.fulfilledAt === null)
    .map((r) => ({ requestId: r.requestId, kind: r.kind, receivedAt: r.receivedAt, dueBy: r.dueBy }))
  return {
    memberId: state.memberId,
    tenantId: state.tenantId,
    status: state.status,
    name,
    email,
    emailKey: active ? emailKey : null,
    restoreKey: state.status === "forgotten" ? emailKey : null,
    searchText: active
      ? [name, email]
          .filter((v) => v !== null)
          .join(" ")
          .toLowerCase()
      : null,
    restricted: state.restriction !== null,
    customer: isCustomer(state),
    registeredAt: state.registeredAt,
    lastActivityAt: state.lastActivityAt,
    lastContactAt: state.lastContactAt,
    contractsEndedAt: contractsEndedAt(state),
    forgottenAt: state.forgottenAt,
    restorableUntil: state.restorableUntil,
    anonymizedAt: state.anonymizedAt,
    purgedAt: state.purgedAt,
    holdsInvoiceData: state.personal.invoice !== undefined,
    openRequests,
    version,
  }
}
