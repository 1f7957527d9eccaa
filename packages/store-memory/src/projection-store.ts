/**
 * Projections in memory (R36): per projection a `Map<string, unknown>` and a
 * checkpoint. A transaction works on a structured clone of the map, which
 * replaces the map, with the new checkpoint, only when the work returns: a
 * throw leaves both as they were. Inline projections run inside the
 * append's synchronous step, before its events are stored.
 *
 * Complexity: a transaction clones the projection's map, O(size of the
 * state); memory is the reference and the store of tests, not of large
 * read models.
 *
 * @module
 */
import type { InlineProjections, ProjectionStore, ProjectionWork } from "@lethe/core/spi"
import { checkSynchronous } from "@lethe/core/spi"
import type { MemoryEventStore } from "./event-store.js"
import type { Lifecycle } from "./lifecycle.js"

/** One projection's state and checkpoint. */
interface Kept {
  readonly state: Map<string, unknown>
  readonly checkpoint: number
}

const empty: Kept = { state: new Map(), checkpoint: 0 }

/**
 * The projection store of a memory store: the transaction handle (`tx`) is
 * the projection's own `Map<string, unknown>`, whose values must be
 * structured-cloneable (plain data).
 *
 * @example
 * ```ts
 * await store.projections.commit("visits", 0, 3, (tx) => {
 *   const visits = tx as Map<string, unknown>
 *   visits.set("club-1", 3)
 * })
 * ```
 */
export const memoryProjectionStore = (lifecycle: Lifecycle, events: MemoryEventStore): ProjectionStore => {
  const kept = new Map<string, Kept>()
  const keptOf = (name: string): Kept => kept.get(name) ?? empty

  /** `work` on a copy of `name`'s state; the copy, or a throw. */
  const draft = (operation: string, name: string, work: ProjectionWork): Map<string, unknown> => {
    const copy = structuredClone(keptOf(name).state)
    checkSynchronous(operation, work(copy))
    return copy
  }

  /** Inline projections applied to `appended` on drafts; committing them is the caller's, after the append. */
  const inlineDrafts = (inline: InlineProjections) => {
    const drafts = new Map<string, Kept>()
    const inside = (appended: ReadonlyArray<{ readonly position: number }>) => {
      const first = appended[0]?.position
      const last = appended.at(-1)?.position
      if (first === undefined || last === undefined) return
      for (const name of inline.names) {
        if (keptOf(name).checkpoint !== first - 1) continue
        const state = draft("projections.append", name, (tx) =>
          inline.apply(name, tx, appended as Parameters<InlineProjections["apply"]>[2]),
        )
        drafts.set(name, { state, checkpoint: last })
      }
    }
    const commit = () => {
      for (const [name, next] of drafts) kept.set(name, next)
    }
    return { inside, commit }
  }

  return {
    checkpoint: async (name) => {
      lifecycle.ensureOpen("projections.checkpoint")
      return keptOf(name).checkpoint
    },

    head: async () => {
      lifecycle.ensureOpen("projections.head")
      return events.head()
    },

    commit: async (name, from, to, work) => {
      lifecycle.ensureOpen("projections.commit")
      if (keptOf(name).checkpoint !== from) return false
      kept.set(name, { state: draft("projections.commit", name, work), checkpoint: to })
      return true
    },

    reset: async (name, work) => {
      lifecycle.ensureOpen("projections.reset")
      kept.set(name, { state: draft("projections.reset", name, work), checkpoint: 0 })
    },

    read: async (name, work) => {
      lifecycle.ensureOpen("projections.read")
      return work(structuredClone(keptOf(name).state))
    },

    append: async (request, inline) => {
      const drafts = inlineDrafts(inline)
      const [result] = events.appendWith("projections.append", [request], drafts.inside)
      drafts.commit()
      return result as NonNullable<typeof result>
    },

    appendBatch: async (requests, inline) => {
      const drafts = inlineDrafts(inline)
      const results = events.appendWith("projections.appendBatch", requests, drafts.inside)
      drafts.commit()
      return results
    },
  }
}
