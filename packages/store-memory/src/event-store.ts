/**
 * The event log in memory: one array in global order, and per stream the
 * positions of its events.
 *
 * Complexity (N events in the log, k returned): `append` O(events appended);
 * `readStream` O(k); `readAll` O(k) (positions are contiguous, so a page is a
 * slice); `redact` O(size of the stream's data).
 *
 * @module
 */
import type { EventStore, StoredEvent } from "@lethe/core"
import {
  ConcurrencyConflict,
  checkPageLimit,
  matchesExpectedVersion,
  redactSealedValues,
  StoreError,
  sealedKeyIds,
} from "@lethe/core"
import type { MemoryDirectory } from "./directory.js"
import type { MemoryKeyStore } from "./key-store.js"
import type { Lifecycle } from "./lifecycle.js"
import { frozenCopy } from "./snapshot.js"

const defaultPageSize = 1000

const checkNumber = (operation: string, name: string, value: number): void => {
  if (Number.isNaN(value)) throw new StoreError({ operation, detail: `${name} must be a number, got NaN` })
}

/**
 * An event store held in memory, writing the directory update of each append
 * through `directory` and the keys it brings through `keys` in the same
 * synchronous step, and checking `lifecycle`
 * on every call.
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
): EventStore => {
  /** Every event; the event at position p is at index p - 1. */
  const log: Array<StoredEvent> = []
  /** Per stream, the positions of its events; version v is at index v - 1. */
  const streams = new Map<string, Array<number>>()

  const eventAt = (position: number): StoredEvent => log[position - 1] as StoredEvent

  return {
    // No `await` in here: the version check and the write happen in one
    // synchronous step, so concurrent appends are serialized by the event loop.
    append: async (request) => {
      const operation = "events.append"
      lifecycle.ensureOpen(operation)
      const { streamId, expectedVersion } = request
      const positions = streams.get(streamId) ?? []
      const current = positions.length
      if (!matchesExpectedVersion(current, expectedVersion))
        throw new ConcurrencyConflict({ streamId, expected: expectedVersion, actual: current })

      // Copy everything before changing anything: a copy that fails leaves the store as it was.
      const stored = request.events.map(
        (event, i): StoredEvent =>
          Object.freeze({
            position: log.length + i + 1,
            streamId,
            version: current + i + 1,
            type: event.type,
            data: frozenCopy(operation, event.data),
            metadata: frozenCopy(operation, event.metadata),
            recordedAt: event.recordedAt,
            prevHash: event.prevHash,
            hash: event.hash,
          }),
      )
      const commitDirectory =
        request.directory === undefined ? undefined : directory.prepare(operation, request.directory)
      const commitKeys = keys.prepare(request.keys ?? [])

      for (const event of stored) {
        log.push(event)
        positions.push(event.position)
      }
      if (positions.length > 0) streams.set(streamId, positions)
      commitDirectory?.()
      commitKeys()
      return { version: positions.length, position: stored.at(-1)?.position ?? 0 }
    },

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
