/**
 * The members of the retention case: five kinds of member, each made once
 * through the facade at the right moments of a movable clock, then copied
 * (events and directory row) under new ids until the population is complete.
 * They hold no personal data, so their events can be copied.
 *
 * @module
 */
import { randomUUID } from "node:crypto"
import type { MovableClock } from "../clock.js"
import { admin, tenantId, visit } from "../fixtures.js"
import type { OpenedLethe } from "../subjects/lethe.js"
import type { StoredMember } from "./copies.js"
import { cloneMember, storedMember } from "./copies.js"

const dayMs = 86_400_000
const yearMs = 365 * dayMs

/** A kind of member, how it is made, and its share of the population (out of 20). */
interface Kind {
  readonly name: string
  readonly share: number
  /** Whether the retention rules of the case select it. */
  readonly selected: boolean
  /** Makes one such member; `at(ago)` sets the clock to `ago` milliseconds before now and returns that time. */
  readonly make: (opened: OpenedLethe, at: (ago: number) => Date) => Promise<string>
}

const register = async ({ lethe }: OpenedLethe) =>
  (await lethe.register({ tenantId, personal: {}, source: "import" })).memberId

const kinds: ReadonlyArray<Kind> = [
  {
    name: "active subscriber",
    share: 10,
    selected: false,
    make: async (opened, at) => {
      at(400 * dayMs)
      const memberId = await register(opened)
      at(2 * dayMs)
      await opened.lethe.recordActivity(memberId, visit)
      await opened.lethe.giveConsent(memberId, { purpose: "newsletter", method: "checkbox", source: "form" })
      return memberId
    },
  },
  {
    name: "customer inactive for 4 years",
    share: 3,
    selected: true,
    make: async (opened, at) => {
      at(5 * yearMs)
      const memberId = await register(opened)
      at(4 * yearMs)
      await opened.lethe.recordPurchase(memberId, { purchaseId: "p-1", amount: 1_999, paid: true })
      await opened.lethe.recordActivity(memberId, visit)
      return memberId
    },
  },
  {
    name: "cold lead of 200 days",
    share: 3,
    selected: true,
    make: async (opened, at) => {
      at(200 * dayMs)
      return register(opened)
    },
  },
  {
    name: "contract ended 3 years ago",
    share: 2,
    selected: true,
    make: async (opened, at) => {
      const startsAt = at(5 * yearMs)
      const memberId = await register(opened)
      await opened.lethe.signContract(memberId, {
        contractId: "c-1",
        clubId: "club-1",
        startsAt,
        endsAt: new Date(startsAt.getTime() + 2 * yearMs),
      })
      at(3 * dayMs)
      await opened.lethe.recordActivity(memberId, visit)
      return memberId
    },
  },
  {
    name: "forgotten 30 days ago",
    share: 2,
    selected: true,
    make: async (opened, at) => {
      at(60 * dayMs)
      const memberId = await register(opened)
      at(30 * dayMs)
      await opened.lethe.forget(memberId, { actor: admin })
      return memberId
    },
  },
]

const shares = kinds.reduce((sum, kind) => sum + kind.share, 0)

/** The kind of the `i`-th member: the kinds in turn, by their shares. */
const kindOf = (i: number): number => {
  let slot = i % shares
  for (const [k, kind] of kinds.entries()) {
    if (slot < kind.share) return k
    slot -= kind.share
  }
  return 0
}

/**
 * Fills `opened`'s store with `members` members of the five kinds, as of
 * `now`; returns how many the retention rules select. Leaves the clock at `now`.
 */
export const population = async (
  opened: OpenedLethe,
  clock: MovableClock,
  now: number,
  members: number,
  progress: (done: number) => void,
): Promise<number> => {
  const at = (ago: number) => {
    clock.set(now - ago)
    return clock.now()
  }
  const sources: Array<StoredMember> = []
  for (const kind of kinds) sources.push(await storedMember(opened.store, await kind.make(opened, at)))
  clock.set(now)
  let selected = kinds.filter((kind) => kind.selected).length
  for (let i = kinds.length; i < members; i++) {
    const k = kindOf(i)
    await cloneMember(opened.store, sources[k] as StoredMember, randomUUID())
    if (kinds[k]?.selected === true) selected++
    if (i % 10_000 === 0) progress(i)
  }
  return selected
}
