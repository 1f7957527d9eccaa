/**
 * The event log in memory: one array in global order, and per stream the
 * positions of its events.
 *
 * Complexity (N events in the log, k returned): `append` and `appendBatch`
 * O(events appended + rows and keys written); `readStream` O(k); `readAll`
 * O(k) (positions are contiguous, so a page is a slice); `redact` O(size of
 * the stream's data).
 *
 * @module
 */

import { ConcurrencyConflict, StoreError } from "@lethe/core"
import type { AppendRequest, AppendResult, EventStore, NewEvent, StoredEvent } from "@lethe/core/spi"
import {
  checkPageLimit,
  matchesExpectedVersion,
  redactSealedValues,
  sealedKeyIds,
  toStoredJson,
} from "@lethe/core/spi"
import type { MemoryDirectory } from "./directory.js"
import type { MemoryKeyStore } from "./key-store.js"
import type { Lifecycle } from "./lifecycle.js"
import { frozenCopy } from "./snapshot.js"

const defaultPageSize = 1000

/**
 * The fields of `event` as stored, owned and frozen; throws `StoreError` for
 * a value that is not plain JSON (a function, NaN, a Date, a cycle), which a
 * database adapter could not store either.
 */
const ownEvent = (operation: string, event: NewEvent) => {
  toStoredJson(operation, event.data, "data")
  toStoredJson(operation, event.metadata, "metadata")
  return {
    type: event.type,
    data: frozenCopy(operation, event.data),
    metadata: frozenCopy(operation, event.metadata),
    recordedAt: event.recordedAt,
    prevHash: event.prevHash,
    hash: event.hash,
  }
}

const checkNumber = (operation: string, name: string, value: number): void => {
  if (Number.isNaN(value)) throw new StoreError({ operation, detail: `${name} must be a number, got NaN` })
}

/**
 * The memory event store, with the step the projection store appends through:
 * `appendWith` appends like `appendBatch` and calls `inside` with the events
 * about to be stored, before anything is stored; a throw there stores nothing.
 */
export interface MemoryEventStore extends EventStore {
  appendWith(
    operation: string,
    requests: ReadonlyArray<AppendRequest>,
    inside: (events: ReadonlyArray<StoredEvent>) => void,
  ): Array<AppendResult>
  /** The position of the last event, 0 for an empty log. */
  head(): number
}

/**
 * An event store held in memory, writing the directory update of each append
 * through `directory` and the keys it brings through `keys` in the same
 * synchronous step, and checking `lifecycle` on every call. `appendBatch`
 * takes that step once for all its requests: a refusal of any leaves the
 * store as it was.
 *
 * Stored events are deep-frozen copies: what a caller passed can change
 * afterwards without touching the log, and what a read returns cannot be
 * changed (an attempt throws `TypeError` in strict code).
 *
 * @example
 * ```ts
 * const lifecycle = new Lifecycle()
 * const events = memoryEventStore(lifecycle, memoryDirectory(lifecycle), memoryKeyStore(lifecycle))
 * await events.append({ streamId: "member-1", expectedVersion: "no_stream", events: [event] })
 * ```
 */
export const memoryEventStore = (
  lifecycle: Lifecycle,
  directory: MemoryDirectory,
  keys: MemoryKeyStore,
): MemoryEventStore => {
  /** Every event; the event at position p is at index p - 1. */
  const log: Array<StoredEvent> = []
  /** Per stream, the positions of its events; version v is at index v - 1. */
  const streams = new Map<string, Array<number>>()

  const eventAt = (position: number): StoredEvent => log[position - 1] as StoredEvent

  /**
   * Appends `requests` in order as one step: each is checked as `append`
   * checks it, seeing the ones before it, and the first refusal throws
   * before anything is stored. Synchronous, so concurrent calls are
   * serialized by the event loop.
   */
  const appendAll = (
    operation: string,
    requests: ReadonlyArray<AppendRequest>,
    inside?: (events: ReadonlyArray<StoredEvent>) => void,
  ): Array<AppendResult> => {
    lifecycle.ensureOpen(operation)
    // Copy everything before changing anything: a value that cannot be stored leaves the store as it was.
    const copies = requests.map((request) => request.events.map((event) => ownEvent(operation, event)))
    const rows = directory.draft(operation)
    const fresh = keys.draft()
    /** Versions of the streams the requests before the current one append to. */
    const versions = new Map<string, number>()
    const staged: Array<StoredEvent> = []
    const results = requests.map((request, r): AppendResult => {
      const { streamId, expectedVersion } = request
      const current = versions.get(streamId) ?? streams.get(streamId)?.length ?? 0
      if (!matchesExpectedVersion(current, expectedVersion))
        throw new ConcurrencyConflict({ streamId, expected: expectedVersion, actual: current })
      if (request.directory !== undefined) rows.stage(request.directory)
      fresh.stage(request.keys ?? [])
      const events = copies[r] ?? []
      for (const [i, event] of events.entries())
        staged.push(
          Object.freeze({
            position: log.length + staged.length + 1,
            streamId,
            version: current + i + 1,
            ...event,
          }),
        )
      versions.set(streamId, current + events.length)
      return {
        version: current + events.length,
        position: events.length === 0 ? 0 : log.length + staged.length,
      }
    })
    inside?.(staged)
    for (const event of staged) {
      log.push(event)
      const positions = streams.get(event.streamId)
      if (positions === undefined) streams.set(event.streamId, [event.position])
      else positions.push(event.position)
    }
    rows.commit()
    fresh.commit()
    return results
  }

  return {
    append: async (request) => appendAll("events.append", [request])[0] as AppendResult,

    appendBatch: async (requests) => appendAll("events.appendBatch", requests),

    appendWith: appendAll,

    head: () => log.length,

    readStream: async (streamId, options = {}) => {
      lifecycle.ensureOpen("events.readStream")
      const fromVersion = options.fromVersion ?? 1
      checkNumber("events.readStream", "fromVersion", fromVersion)
      const positions = streams.get(streamId) ?? []
      const events = positions.slice(Math.max(0, Math.ceil(fromVersion) - 1)).map(eventAt)
      if (options.sealedUnder === undefined) return events
      const wanted = new Set(options.sealedUnder)
      return events.filter((event) => sealedKeyIds(event.data).some((keyId) => wanted.has(keyId)))
    },

    readAll: async (options = {}) => {
      lifecycle.ensureOpen("events.readAll")
      const after = options.after ?? 0
      const limit = options.limit ?? defaultPageSize
      checkNumber("events.readAll", "after", after)
      checkPageLimit("events.readAll", limit)
      // Positions are 1..N without gaps: the first position greater than `after` is at index floor(after).
      const start = Math.min(log.length, Math.max(0, Math.floor(after)))
      const events = log.slice(start, start + limit)
      return { events, next: events.at(-1)?.position ?? after, done: start + events.length >= log.length }
    },

    redact: async (streamId, keyIds) => {
      lifecycle.ensureOpen("events.redact")
      const wanted = new Set(keyIds)
      if (wanted.size === 0) return 0
      // Every replacement is computed before any is stored, so a failure redacts nothing.
      const replaced: Array<StoredEvent> = []
      let total = 0
      for (const position of streams.get(streamId) ?? []) {
        const event = eventAt(position)
        const { data, redacted } = redactSealedValues(event.data, wanted)
        if (redacted > 0) {
          replaced.push(Object.freeze({ ...event, data: frozenCopy("events.redact", data) }))
          total += redacted
        }
      }
      for (const event of replaced) log[event.position - 1] = event
      return total
    },
  }
}
