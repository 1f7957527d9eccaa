/**
 * A Lethe storage adapter on plain JSON files in one folder, written only
 * against the public SPI of `@lethe/core` (`LetheStore`, `EventStore`,
 * `KeyStore`, `Directory` and the helpers every adapter shares).
 *
 * The folder holds:
 * - `snapshot.json`: everything, as of journal entry `seq` (replaced atomically);
 * - `journal.jsonl`: the commits since, one JSON line each, fsync'd before the
 *   call resolves (an append with its directory row and keys is one line, so
 *   it lands whole or not at all);
 * - `lock`: the process that has the folder open.
 *
 * The content lives in memory while the store is open, so it suits a small
 * deployment (thousands of members), not a large one: every query scans.
 * Writes take turns on one queue; reads answer from memory.
 *
 * @module
 */
import fs from "node:fs/promises"
import path from "node:path"
import type { LetheStore } from "@lethe/core"
import { ConcurrencyConflict, EmailTaken, KeyDestroyed, KeyExists, StoreError } from "@lethe/core"
import type {
  AppendRequest,
  AppendResult,
  BeforeQuery,
  Directory,
  EventStore,
  KeyEntry,
  KeyStore,
  MemberRow,
  RetentionQueryName,
  StoredEvent,
  StoredKey,
} from "@lethe/core/spi"
import { checkPageLimit, matchesExpectedVersion, redactSealedValues, toStoredJson } from "@lethe/core/spi"
import { FolderLock, Journal, writeFileAtomic } from "./durable-files.js"
import type { JournalEntry } from "./state.js"
import { StoreState } from "./state.js"

/** Where the store lives, and how often the journal is folded into the snapshot. */
export interface JsonFilesStoreOptions {
  /** The folder of the store; created if missing. One open store per folder at a time. */
  readonly folder: string
  /** Journal entries after which the snapshot is rewritten and the journal emptied. Default 1000. */
  readonly compactEvery?: number
}

/** The adapter, and the folder it writes. */
export interface JsonFilesStore extends LetheStore {
  readonly folder: string
}

const defaultPageSize = 1000

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/** Our own deep copy of a caller's value, checked to be plain JSON (`StoreError` if not). */
const own = <A>(operation: string, value: A, name: string): A =>
  JSON.parse(toStoredJson(operation, value, name)) as A

/** A copy of a stored value for a caller, who may change it freely. */
const handOut = <A>(value: A): A => structuredClone(value)

/** Whether `next` no longer holds a personal column's value that `previous` held in clear. */
const dropsPersonalColumns = (previous: MemberRow, next: MemberRow): boolean =>
  (previous.name !== null && previous.name !== next.name) ||
  (previous.email !== null && previous.email !== next.email) ||
  (previous.searchText !== null && previous.searchText !== next.searchText)

const keyIdOf = (entry: KeyEntry): string => (entry._tag === "Live" ? entry.key.keyId : entry.tombstone.keyId)

const checkNumber = (operation: string, name: string, value: number): void => {
  if (Number.isNaN(value)) throw new StoreError({ operation, detail: `${name} must be a number, got NaN` })
}

/**
 * Opens the store in `options.folder` (creating it), reading the snapshot and
 * replaying the journal. Rejects with `StoreError` (operation "open") when
 * another store has the folder open, or its files are damaged.
 *
 * @example
 * ```ts
 * import { createLethe, keyringFromSecret } from "@lethe/core"
 * import { jsonFilesStore } from "./json-files-store.js"
 *
 * const lethe = await createLethe({
 *   store: await jsonFilesStore({ folder: "./lethe-data" }),
 *   keyring: keyringFromSecret(secret),
 * })
 * ```
 */
export const jsonFilesStore = async (options: JsonFilesStoreOptions): Promise<JsonFilesStore> => {
  const folder = path.resolve(options.folder)
  const snapshotFile = path.join(folder, "snapshot.json")
  const compactEvery = options.compactEvery ?? 1000

  let lock: FolderLock
  try {
    await fs.mkdir(folder, { recursive: true })
    lock = await FolderLock.acquire(folder)
  } catch (error) {
    throw new StoreError({ operation: "open", detail: messageOf(error) })
  }
  let state: StoreState
  let journal: Journal | undefined
  let sinceSnapshot = 0
  try {
    // A snapshot a crash interrupted before its rename: never read, and it may hold erased bytes.
    await fs.rm(`${snapshotFile}.tmp`, { force: true })
    const snapshot = await fs.readFile(snapshotFile, "utf8").catch((error: unknown) => {
      if (typeof error === "object" && error !== null && "code" in error && error.code === "ENOENT")
        return undefined
      throw error
    })
    state = snapshot === undefined ? new StoreState() : StoreState.fromSnapshot(snapshot)
    const opened = await Journal.open(path.join(folder, "journal.jsonl"))
    journal = opened.journal
    // Entries up to the snapshot's seq are in it already (a crash between the rename and the truncate).
    for (const entry of opened.entries as ReadonlyArray<JournalEntry>)
      if (entry.seq > state.seq) {
        state.apply(entry)
        sinceSnapshot++
      }
  } catch (error) {
    await journal?.close()
    await lock.release()
    throw new StoreError({ operation: "open", detail: `${folder}: ${messageOf(error)}` })
  }
  const files = { journal, lock }

  let closing: Promise<void> | undefined
  /** Why the store stopped accepting calls after a write failed half-way (memory and disk may differ). */
  let failure: string | undefined
  let queue: Promise<unknown> = Promise.resolve()

  const ensureWorking = (operation: string): void => {
    if (failure !== undefined)
      throw new StoreError({ operation, detail: `an earlier write failed (${failure}); reopen the store` })
  }
  const ensureOpen = (operation: string): void => {
    if (closing !== undefined) throw new StoreError({ operation, detail: "store is closed" })
    ensureWorking(operation)
  }

  /** Runs write transactions one after the other, so each checks and writes with nobody in between. */
  const write = <A>(operation: string, transaction: () => Promise<A>): Promise<A> => {
    try {
      ensureOpen(operation)
    } catch (error) {
      return Promise.reject(error)
    }
    // Writes queued before `close` still run; one queued behind a failed write does not.
    const run = async () => {
      ensureWorking(operation)
      return transaction()
    }
    const result = queue.then(run, run)
    queue = result.catch(() => undefined)
    return result
  }

  const fail = (operation: string, error: unknown): never => {
    failure = messageOf(error)
    throw new StoreError({ operation, detail: `write failed: ${failure}` })
  }

  /** Folds everything into a new snapshot and empties the journal: erased bytes leave both files. */
  const writeSnapshot = async (operation: string): Promise<void> => {
    try {
      await writeFileAtomic(snapshotFile, state.toSnapshot())
      await files.journal.clear()
      sinceSnapshot = 0
    } catch (error) {
      fail(operation, error)
    }
  }

  /** Makes `entry` durable in the journal, then applies it in memory. */
  const commit = async (operation: string, entry: JournalEntry): Promise<void> => {
    try {
      await files.journal.append(entry)
    } catch (error) {
      fail(operation, error)
    }
    state.apply(entry)
    if (++sinceSnapshot >= compactEvery) await writeSnapshot(operation)
  }

  /** Throws `KeyExists` or `KeyDestroyed` for a key that may not be put, as `put` and `append` must. */
  const checkNewKeys = (keys: ReadonlyArray<StoredKey>): void => {
    const fresh = new Set<string>()
    for (const key of keys) {
      const existing = state.keys.get(key.keyId)
      if (existing?._tag === "Live" || fresh.has(key.keyId)) throw new KeyExists({ keyId: key.keyId })
      if (existing?._tag === "Destroyed") throw new KeyDestroyed({ keyId: key.keyId })
      fresh.add(key.keyId)
    }
  }

  const ownKey = (operation: string, key: StoredKey): StoredKey =>
    own(
      operation,
      {
        keyId: key.keyId,
        tenantId: key.tenantId,
        memberId: key.memberId,
        category: key.category,
        wrappedKey: key.wrappedKey,
        kekId: key.kekId,
        createdAt: key.createdAt,
      },
      "key",
    )

  const append = (request: AppendRequest): Promise<AppendResult> =>
    write("events.append", async () => {
      const operation = "events.append"
      const { streamId, expectedVersion } = request
      const current = state.streams.get(streamId)?.length ?? 0
      // The SPI's order: version, then e-mail, then keys; the first that fails rejects, nothing is written.
      if (!matchesExpectedVersion(current, expectedVersion))
        throw new ConcurrencyConflict({ streamId, expected: expectedVersion, actual: current })
      const member =
        request.directory === undefined ? null : own(operation, request.directory.member, "member")
      if (member !== null && member.emailKey !== null) {
        // A scan: fine for a small store; a database adapter uses a unique index on (tenant, e-mail key).
        for (const row of state.members.values())
          if (
            row.tenantId === member.tenantId &&
            row.emailKey === member.emailKey &&
            row.memberId !== member.memberId
          )
            throw new EmailTaken({ tenantId: member.tenantId, memberId: row.memberId })
      }
      const keys = request.keys ?? []
      checkNewKeys(keys)
      const events = request.events.map(
        (event, i): StoredEvent =>
          own(
            operation,
            {
              position: state.log.length + i + 1,
              streamId,
              version: current + i + 1,
              type: event.type,
              data: event.data,
              metadata: event.metadata,
              recordedAt: event.recordedAt,
              prevHash: event.prevHash,
              hash: event.hash,
            },
            "event",
          ),
      )
      const messages = own(operation, request.directory?.messages ?? [], "messages")
      const previous = member === null ? undefined : state.members.get(member.memberId)
      if (events.length > 0 || member !== null || keys.length > 0 || messages.length > 0)
        await commit(operation, {
          seq: state.seq + 1,
          op: "append",
          events,
          member,
          messages,
          keys: keys.map((key) => ownKey(operation, key)),
        })
      // A row that drops or changes a name or an e-mail (forget, anonymize, a new address): the old
      // value sits in clear in earlier journal lines, so they are folded into a new snapshot now (R1).
      if (previous !== undefined && member !== null && dropsPersonalColumns(previous, member))
        await writeSnapshot(operation)
      return { version: current + events.length, position: events.at(-1)?.position ?? 0 }
    })

  const events: EventStore = {
    append,

    readStream: async (streamId, options = {}) => {
      ensureOpen("events.readStream")
      const fromVersion = options.fromVersion ?? 1
      checkNumber("events.readStream", "fromVersion", fromVersion)
      const positions = (state.streams.get(streamId) ?? []).slice(Math.max(0, Math.ceil(fromVersion) - 1))
      const wanted = options.sealedUnder === undefined ? undefined : new Set(options.sealedUnder)
      return positions
        .filter((p) => wanted === undefined || (state.sealedUnder[p - 1] ?? []).some((id) => wanted.has(id)))
        .map((p) => handOut(state.log[p - 1] as StoredEvent))
    },

    readAll: async (options = {}) => {
      ensureOpen("events.readAll")
      const after = options.after ?? 0
      const limit = options.limit ?? defaultPageSize
      checkNumber("events.readAll", "after", after)
      checkPageLimit("events.readAll", limit)
      // Positions are 1..N without gaps: the first one greater than `after` is at index floor(after).
      const start = Math.min(state.log.length, Math.max(0, Math.floor(after)))
      const page = state.log.slice(start, start + limit).map(handOut)
      return {
        events: page,
        next: page.at(-1)?.position ?? after,
        done: start + page.length >= state.log.length,
      }
    },

    redact: (streamId, keyIds) =>
      write("events.redact", async () => {
        const wanted = new Set(keyIds)
        if (wanted.size === 0) return 0
        let total = 0
        for (const position of state.streams.get(streamId) ?? []) {
          if (!(state.sealedUnder[position - 1] ?? []).some((id) => wanted.has(id))) continue
          const event = state.log[position - 1] as StoredEvent
          const { data, redacted } = redactSealedValues(event.data, wanted)
          state.replace({ ...event, data })
          total += redacted
        }
        if (total > 0) await writeSnapshot("events.redact")
        return total
      }),
  }

  const keys: KeyStore = {
    put: (key) =>
      write("keys.put", async () => {
        checkNewKeys([key])
        await commit("keys.put", { seq: state.seq + 1, op: "put-key", key: ownKey("keys.put", key) })
      }),

    get: async (keyId) => {
      ensureOpen("keys.get")
      const entry = state.keys.get(keyId)
      return entry === undefined ? undefined : handOut(entry)
    },

    destroy: (keyId, at) =>
      write("keys.destroy", async () => {
        if (!Number.isSafeInteger(at))
          throw new StoreError({
            operation: "keys.destroy",
            detail: `at must be epoch milliseconds, got ${at}`,
          })
        const entry = state.keys.get(keyId)
        // Unknown ids and tombstones are left as they are: destroying is idempotent.
        if (entry?._tag !== "Live") return
        const { tenantId, memberId, category } = entry.key
        state.keys.set(keyId, {
          _tag: "Destroyed",
          tombstone: { keyId, tenantId, memberId, category, destroyedAt: at },
        })
        // The wrapped key is in the journal (or the old snapshot) until both are rewritten.
        await writeSnapshot("keys.destroy")
      }),

    listForMember: async (memberId) => {
      ensureOpen("keys.listForMember")
      return [...state.keys.values()]
        .filter(
          (entry) => (entry._tag === "Live" ? entry.key.memberId : entry.tombstone.memberId) === memberId,
        )
        .sort((a, b) => (keyIdOf(a) < keyIdOf(b) ? -1 : 1))
        .map(handOut)
    },
  }

  /** Rows in memberId order (plain string comparison, as keyset paging needs). */
  const rowsInOrder = (): Array<MemberRow> =>
    [...state.members.values()].sort((a, b) =>
      a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0,
    )

  /** Rows of `tenantId` (all when undefined) after `after` matching `matches`, at most `limit` (not copies). */
  const pageOf = (
    operation: string,
    query: { readonly tenantId?: string | undefined; readonly limit: number; readonly after?: string },
    matches: (row: MemberRow) => boolean,
  ): ReadonlyArray<MemberRow> => {
    ensureOpen(operation)
    checkPageLimit(operation, query.limit)
    const after = query.after
    return rowsInOrder()
      .filter(
        (row) =>
          (query.tenantId === undefined || row.tenantId === query.tenantId) &&
          (after === undefined || row.memberId > after) &&
          matches(row),
      )
      .slice(0, query.limit)
  }

  /** `pageOf`'s rows, as copies. */
  const page = (
    operation: string,
    query: { readonly tenantId?: string | undefined; readonly limit: number; readonly after?: string },
    matches: (row: MemberRow) => boolean,
  ): ReadonlyArray<MemberRow> => pageOf(operation, query, matches).map(handOut)

  /** What each retention query selects: a row, at `before`. */
  const retentionMatches: Readonly<Record<RetentionQueryName, (row: MemberRow, before: number) => boolean>> =
    {
      contractsEndedBefore: (row, before) =>
        row.status === "active" && row.contractsEndedAt !== null && row.contractsEndedAt < before,
      inactiveSince: (row, before) => row.status === "active" && row.lastActivityAt < before,
      coldLeadsSince: (row, before) => row.status === "active" && !row.customer && row.lastContactAt < before,
      restoreWindowEndedBefore: (row, before) =>
        row.status === "forgotten" && row.restorableUntil !== null && row.restorableUntil <= before,
      invoicesHeldSince: (row, before) => {
        // Anonymized or purged (R37): one of the two dates is set.
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

  const retention =
    (name: RetentionQueryName) =>
    async (query: BeforeQuery): Promise<ReadonlyArray<MemberRow>> =>
      page(`directory.${name}`, query, (row) => retentionMatches[name](row, query.before))

  const lookup = (operation: string, tenantId: string, matches: (row: MemberRow) => boolean) => {
    ensureOpen(operation)
    return rowsInOrder()
      .filter((row) => row.tenantId === tenantId && matches(row))
      .map(handOut)
  }

  const directory: Directory = {
    get: async (memberId) => {
      ensureOpen("directory.get")
      const row = state.members.get(memberId)
      return row === undefined ? undefined : handOut(row)
    },
    findByEmail: async (tenantId, emailKey) =>
      lookup(
        "directory.findByEmail",
        tenantId,
        (row) => row.status === "active" && row.emailKey === emailKey,
      ),
    findRestorable: async (tenantId, restoreKey) =>
      lookup(
        "directory.findRestorable",
        tenantId,
        (row) => row.status === "forgotten" && row.restoreKey === restoreKey,
      ),
    search: async (tenantId, text, query) =>
      page(
        "directory.search",
        { ...query, tenantId },
        (row) => row.status === "active" && row.searchText !== null && row.searchText.includes(text),
      ),
    contractsEndedBefore: retention("contractsEndedBefore"),
    inactiveSince: retention("inactiveSince"),
    coldLeadsSince: retention("coldLeadsSince"),
    restoreWindowEndedBefore: retention("restoreWindowEndedBefore"),
    invoicesHeldSince: retention("invoicesHeldSince"),
    requestsDueBefore: retention("requestsDueBefore"),
    // Optional: a retention run plans from ids alone; this spares it a copy of each row.
    retentionMemberIds: async (name, query) => {
      const operation = "directory.retentionMemberIds"
      const matches = Object.hasOwn(retentionMatches, name) ? retentionMatches[name] : undefined
      if (matches === undefined)
        throw new StoreError({ operation, detail: `no retention query named ${JSON.stringify(name)}` })
      return pageOf(operation, query, (row) => matches(row, query.before)).map((row) => row.memberId)
    },
    messageOwner: async (messageId) => {
      ensureOpen("directory.messageOwner")
      const entry = state.messages.get(messageId)
      return entry === undefined ? undefined : handOut(entry)
    },
  }

  return {
    name: "json-files",
    folder,
    events,
    keys,
    directory,
    close: () => {
      closing ??= (async () => {
        // Writes queued before close finish; calls made after it reject.
        await queue
        await files.journal.close()
        await files.lock.release()
      })()
      return closing
    },
  }
}
