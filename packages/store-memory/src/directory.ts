/**
 * The directory read model in memory: member rows by id, kept in memberId
 * order, with indexes for the e-mail and restore look-ups.
 *
 * Complexity (n rows, k rows returned, s rows scanned for a page):
 * - writing a row: O(log n) to find it, O(n) to insert a new id in the sorted
 *   id lists (an array shift, fast in practice); replacing a row is O(log n);
 * - `get`, `messageOwner`: O(1);
 * - `findByEmail`, `findRestorable`: O(k log k) through the key indexes;
 *   `findManyByEmail`, `findManyRestorable`: the same for the keys together;
 * - `search`, the retention queries and `retentionMemberIds`: O(log n + s),
 *   a scan in memberId order from `after` that stops at `limit` matches; s is
 *   the whole tenant (or the whole directory) when few rows match. Fine for a
 *   reference adapter; a database adapter uses indexes on the date columns
 *   instead.
 *
 * @module
 */

import { EmailTaken, StoreError } from "@lethe/core"
import type {
  BeforeQuery,
  Directory,
  DirectoryUpdate,
  MemberRow,
  MessageEntry,
  Page,
  RetentionQueryName,
} from "@lethe/core/spi"
import { checkLookupKeys, checkPageLimit } from "@lethe/core/spi"
import type { Lifecycle } from "./lifecycle.js"
import { firstAfter, firstAtLeast } from "./paging.js"
import { copy } from "./snapshot.js"

/**
 * The directory with its write side: the event store stages the updates of
 * one transaction (an append, or every append of a batch) in a draft, which
 * checks each against the stored rows and the updates staged before it, then
 * commits them together.
 */
export interface MemoryDirectory {
  readonly directory: Directory
  /** A new, empty draft of updates for `operation`. */
  draft(operation: string): DirectoryDraft
}

/** Directory updates staged to be applied together, or not at all. */
export interface DirectoryDraft {
  /**
   * Copies `update` and checks that no other member of the tenant holds its
   * e-mail key (`EmailTaken`, naming the holder), counting the rows staged
   * before it as written. A throw stages nothing.
   */
  stage(update: DirectoryUpdate): void
  /** Applies every staged update, in order. Everything that can fail happened in `stage`. */
  commit(): void
}

const insertSorted = (sorted: Array<string>, id: string): void => {
  sorted.splice(firstAtLeast(sorted, id), 0, id)
}

const removeSorted = (sorted: Array<string>, id: string): void => {
  const at = firstAtLeast(sorted, id)
  if (sorted[at] === id) sorted.splice(at, 1)
}

/** Each retention query's documented meaning: whether it selects `row` at `before`. */
const retentionMatches: Readonly<Record<RetentionQueryName, (row: MemberRow, before: number) => boolean>> = {
  contractsEndedBefore: (row, before) =>
    row.status === "active" && row.contractsEndedAt !== null && row.contractsEndedAt < before,
  inactiveSince: (row, before) => row.status === "active" && row.lastActivityAt < before,
  coldLeadsSince: (row, before) => row.status === "active" && !row.customer && row.lastContactAt < before,
  restoreWindowEndedBefore: (row, before) =>
    row.status === "forgotten" && row.restorableUntil !== null && row.restorableUntil <= before,
  invoicesHeldSince: (row, before) => {
    // Anonymized or purged (R37): one of the two dates is set, as SQL's coalesce picks it.
    const heldSince = row.anonymizedAt ?? row.purgedAt
    return (
      (row.status === "anonymized" || row.status === "purged") &&
      row.holdsInvoiceData &&
      heldSince !== null &&
      heldSince < before
    )
  },
  requestsDueBefore: (row, before) => row.openRequests.some((request) => request.dueBy < before),
}

/** A key of the look-up indexes: the NUL separator cannot occur in a tenant id or a blind index. */
const lookupKey = (tenantId: string, key: string): string => `${tenantId}\u0000${key}`

/** A many-to-many index from a look-up key to member ids. */
class KeyIndex {
  readonly #ids = new Map<string, Set<string>>()

  add(tenantId: string, key: string | null, memberId: string): void {
    if (key === null) return
    const k = lookupKey(tenantId, key)
    const ids = this.#ids.get(k)
    if (ids === undefined) this.#ids.set(k, new Set([memberId]))
    else ids.add(memberId)
  }

  remove(tenantId: string, key: string | null, memberId: string): void {
    if (key === null) return
    const k = lookupKey(tenantId, key)
    const ids = this.#ids.get(k)
    ids?.delete(memberId)
    if (ids?.size === 0) this.#ids.delete(k)
  }

  /** Member ids under the key, ascending. */
  find(tenantId: string, key: string): ReadonlyArray<string> {
    return this.findMany(tenantId, [key])
  }

  /** Member ids under any of the keys, each once, ascending. */
  findMany(tenantId: string, keys: ReadonlyArray<string>): ReadonlyArray<string> {
    const found = new Set<string>()
    for (const key of keys) for (const id of this.#ids.get(lookupKey(tenantId, key)) ?? []) found.add(id)
    return [...found].sort()
  }
}

/**
 * A directory held in memory, checking `lifecycle` on every call.
 *
 * @example
 * ```ts
 * const { directory, draft } = memoryDirectory(new Lifecycle())
 * const updates = draft("events.append")
 * updates.stage({ member: row })
 * updates.commit()
 * await directory.get(row.memberId)
 * ```
 */
export const memoryDirectory = (lifecycle: Lifecycle): MemoryDirectory => {
  const rows = new Map<string, MemberRow>()
  /** Every member id, ascending. */
  const allIds: Array<string> = []
  /** Member ids per tenant, ascending. */
  const tenantIds = new Map<string, Array<string>>()
  const byEmail = new KeyIndex()
  const byRestoreKey = new KeyIndex()
  const messages = new Map<string, MessageEntry>()

  const idsOf = (tenantId: string | undefined): ReadonlyArray<string> =>
    tenantId === undefined ? allIds : (tenantIds.get(tenantId) ?? [])

  const unindex = (row: MemberRow): void => {
    byEmail.remove(row.tenantId, row.emailKey, row.memberId)
    byRestoreKey.remove(row.tenantId, row.restoreKey, row.memberId)
  }

  const index = (row: MemberRow): void => {
    byEmail.add(row.tenantId, row.emailKey, row.memberId)
    byRestoreKey.add(row.tenantId, row.restoreKey, row.memberId)
  }

  const upsert = (row: MemberRow): void => {
    const previous = rows.get(row.memberId)
    if (previous !== undefined) unindex(previous)
    else insertSorted(allIds, row.memberId)
    if (previous?.tenantId !== row.tenantId) {
      if (previous !== undefined) removeSorted(tenantIds.get(previous.tenantId) ?? [], row.memberId)
      const ids = tenantIds.get(row.tenantId)
      if (ids === undefined) tenantIds.set(row.tenantId, [row.memberId])
      else insertSorted(ids, row.memberId)
    }
    rows.set(row.memberId, row)
    index(row)
  }

  /** The ids under `ids` (ascending) after `page.after` whose rows satisfy `matches`, at most `page.limit`. */
  const scanIds = (
    operation: string,
    ids: ReadonlyArray<string>,
    page: Page,
    matches: (row: MemberRow) => boolean,
  ): Array<string> => {
    checkPageLimit(operation, page.limit)
    const found: Array<string> = []
    for (let i = page.after === undefined ? 0 : firstAfter(ids, page.after); i < ids.length; i++) {
      const id = ids[i] as string
      const row = rows.get(id)
      if (row !== undefined && matches(row)) {
        found.push(id)
        if (found.length === page.limit) break
      }
    }
    return found
  }

  /** Copies of the rows `scanIds` finds. */
  const scan = (
    operation: string,
    ids: ReadonlyArray<string>,
    page: Page,
    matches: (row: MemberRow) => boolean,
  ): ReadonlyArray<MemberRow> =>
    scanIds(operation, ids, page, matches).map((id) => copy(operation, rows.get(id) as MemberRow))

  const lookup = (operation: string, ids: ReadonlyArray<string>, matches: (row: MemberRow) => boolean) =>
    ids.flatMap((id) => {
      const row = rows.get(id)
      return row !== undefined && matches(row) ? [copy(operation, row)] : []
    })

  /** A retention query: its `retentionMatches` on the rows of the query's tenant (or all), paged. */
  const retention =
    (name: RetentionQueryName) =>
    async (query: BeforeQuery): Promise<ReadonlyArray<MemberRow>> => {
      const operation = `directory.${name}`
      lifecycle.ensureOpen(operation)
      const matches = retentionMatches[name]
      return scan(operation, idsOf(query.tenantId), query, (row) => matches(row, query.before))
    }

  const directory: Directory = {
    get: async (memberId) => {
      lifecycle.ensureOpen("directory.get")
      const row = rows.get(memberId)
      return row === undefined ? undefined : copy("directory.get", row)
    },
    findByEmail: async (tenantId, emailKey) => {
      lifecycle.ensureOpen("directory.findByEmail")
      return lookup(
        "directory.findByEmail",
        byEmail.find(tenantId, emailKey),
        (row) => row.status === "active",
      )
    },
    findRestorable: async (tenantId, restoreKey) => {
      lifecycle.ensureOpen("directory.findRestorable")
      return lookup(
        "directory.findRestorable",
        byRestoreKey.find(tenantId, restoreKey),
        (row) => row.status === "forgotten",
      )
    },
    findManyByEmail: async (tenantId, emailKeys) => {
      lifecycle.ensureOpen("directory.findManyByEmail")
      checkLookupKeys("directory.findManyByEmail", emailKeys)
      return lookup(
        "directory.findManyByEmail",
        byEmail.findMany(tenantId, emailKeys),
        (row) => row.status === "active",
      )
    },
    findManyRestorable: async (tenantId, restoreKeys) => {
      lifecycle.ensureOpen("directory.findManyRestorable")
      checkLookupKeys("directory.findManyRestorable", restoreKeys)
      return lookup(
        "directory.findManyRestorable",
        byRestoreKey.findMany(tenantId, restoreKeys),
        (row) => row.status === "forgotten",
      )
    },
    search: async (tenantId, text, page) => {
      lifecycle.ensureOpen("directory.search")
      return scan(
        "directory.search",
        idsOf(tenantId),
        page,
        (row) => row.status === "active" && row.searchText !== null && row.searchText.includes(text),
      )
    },
    contractsEndedBefore: retention("contractsEndedBefore"),
    inactiveSince: retention("inactiveSince"),
    coldLeadsSince: retention("coldLeadsSince"),
    restoreWindowEndedBefore: retention("restoreWindowEndedBefore"),
    invoicesHeldSince: retention("invoicesHeldSince"),
    requestsDueBefore: retention("requestsDueBefore"),
    // The same scan, without copying a row: the ids are strings.
    retentionMemberIds: async (name, query) => {
      const operation = "directory.retentionMemberIds"
      lifecycle.ensureOpen(operation)
      const matches = Object.hasOwn(retentionMatches, name) ? retentionMatches[name] : undefined
      if (matches === undefined)
        throw new StoreError({ operation, detail: `no retention query named ${JSON.stringify(name)}` })
      return scanIds(operation, idsOf(query.tenantId), query, (row) => matches(row, query.before))
    },
    messageOwner: async (messageId) => {
      lifecycle.ensureOpen("directory.messageOwner")
      const entry = messages.get(messageId)
      return entry === undefined ? undefined : copy("directory.messageOwner", entry)
    },
  }

  const draft = (operation: string): DirectoryDraft => {
    /** The last row staged for each member: it stands for the stored one. */
    const staged = new Map<string, MemberRow>()
    const stagedByEmail = new KeyIndex()
    const updates: Array<{ readonly row: MemberRow; readonly sent: ReadonlyArray<MessageEntry> }> = []

    /** The first member but `row`'s own holding `emailKey` in its tenant, once the staged rows are written. */
    const holderOf = (row: MemberRow, emailKey: string): string | undefined =>
      [
        ...byEmail.find(row.tenantId, emailKey).filter((id) => !staged.has(id)),
        ...stagedByEmail.find(row.tenantId, emailKey),
      ]
        .filter((id) => id !== row.memberId)
        .sort()[0]

    return {
      stage: (update) => {
        const row = copy(operation, update.member)
        const sent = copy(operation, update.messages ?? [])
        if (row.emailKey !== null) {
          const holder = holderOf(row, row.emailKey)
          if (holder !== undefined) throw new EmailTaken({ tenantId: row.tenantId, memberId: holder })
        }
        const previous = staged.get(row.memberId)
        if (previous !== undefined)
          stagedByEmail.remove(previous.tenantId, previous.emailKey, previous.memberId)
        staged.set(row.memberId, row)
        stagedByEmail.add(row.tenantId, row.emailKey, row.memberId)
        updates.push({ row, sent })
      },
      commit: () => {
        for (const { row, sent } of updates) {
          upsert(row)
          // A message id names one message for good: the first owner recorded stays.
          for (const entry of sent) if (!messages.has(entry.messageId)) messages.set(entry.messageId, entry)
        }
      },
    }
  }

  return { directory, draft }
}
