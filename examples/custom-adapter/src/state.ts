/**
 * What the store holds, in memory, and the two ways it changes: journal
 * entries (an append, a key put), applied the same way when they are written
 * and when the journal is replayed at open; and the erasures (a key destroyed,
 * values redacted), which rewrite the snapshot at once, so no copy of the
 * erased bytes stays in the journal (R29).
 *
 * Everything here is plain JSON, already copied: the store parses what it is
 * given into its own objects, and hands out clones.
 *
 * @module
 */
import type { KeyEntry, MemberRow, MessageEntry, StoredEvent, StoredKey } from "@lethe/core/spi"
import { sealedKeyIds } from "@lethe/core/spi"

/** The snapshot file's format: every event, key, directory row and message owner. */
export interface Snapshot {
  readonly format: typeof snapshotFormat
  /** The last journal entry this snapshot includes. */
  readonly seq: number
  readonly events: ReadonlyArray<StoredEvent>
  readonly keys: ReadonlyArray<KeyEntry>
  readonly members: ReadonlyArray<MemberRow>
  readonly messages: ReadonlyArray<MessageEntry>
}

export const snapshotFormat = "lethe-json-files/1"

/** One committed append: its events as stored, the directory update and the keys it brought. */
export interface AppendEntry {
  readonly seq: number
  readonly op: "append"
  readonly events: ReadonlyArray<StoredEvent>
  readonly member: MemberRow | null
  readonly messages: ReadonlyArray<MessageEntry>
  readonly keys: ReadonlyArray<StoredKey>
}

/** One key stored on its own (`keys.put`). */
export interface PutKeyEntry {
  readonly seq: number
  readonly op: "put-key"
  readonly key: StoredKey
}

/** A line of the journal. */
export type JournalEntry = AppendEntry | PutKeyEntry

/** The store's content, indexed for the SPI's reads. */
export class StoreState {
  /** The last journal entry applied. */
  seq = 0
  /** Every event; the event at position p is at index p - 1 (positions have no gaps). */
  readonly log: Array<StoredEvent> = []
  /** Per event (same index as `log`), the key ids its data holds sealed values under. */
  readonly sealedUnder: Array<ReadonlyArray<string>> = []
  /** Per stream, the positions of its events; version v is at index v - 1. */
  readonly streams = new Map<string, Array<number>>()
  readonly keys = new Map<string, KeyEntry>()
  readonly members = new Map<string, MemberRow>()
  readonly messages = new Map<string, MessageEntry>()

  /** Applies a committed journal entry (written now, or replayed at open). */
  apply(entry: JournalEntry): void {
    switch (entry.op) {
      case "append":
        for (const event of entry.events) {
          this.log.push(event)
          this.sealedUnder.push(sealedKeyIds(event.data))
          const positions = this.streams.get(event.streamId)
          if (positions === undefined) this.streams.set(event.streamId, [event.position])
          else positions.push(event.position)
        }
        if (entry.member !== null) this.members.set(entry.member.memberId, entry.member)
        // A message id names one message for good: the first owner recorded stays.
        for (const message of entry.messages)
          if (!this.messages.has(message.messageId)) this.messages.set(message.messageId, message)
        for (const key of entry.keys) this.keys.set(key.keyId, { _tag: "Live", key })
        break
      case "put-key":
        this.keys.set(entry.key.keyId, { _tag: "Live", key: entry.key })
        break
      default: {
        const unknown: never = entry
        throw new Error(`unknown journal entry: ${JSON.stringify(unknown)}`)
      }
    }
    this.seq = entry.seq
  }

  /** Replaces the event at `position` by its redacted form. */
  replace(event: StoredEvent): void {
    this.log[event.position - 1] = event
    this.sealedUnder[event.position - 1] = sealedKeyIds(event.data)
  }

  /** The whole content as the snapshot file's text. */
  toSnapshot(): string {
    const snapshot: Snapshot = {
      format: snapshotFormat,
      seq: this.seq,
      events: this.log,
      keys: [...this.keys.values()],
      members: [...this.members.values()],
      messages: [...this.messages.values()],
    }
    return JSON.stringify(snapshot)
  }

  /** The state a snapshot file holds; throws if it is not one. */
  static fromSnapshot(text: string): StoreState {
    const snapshot = JSON.parse(text) as Snapshot
    if (snapshot.format !== snapshotFormat) throw new Error(`not a ${snapshotFormat} snapshot`)
    const state = new StoreState()
    state.apply({
      seq: snapshot.seq,
      op: "append",
      events: snapshot.events,
      member: null,
      messages: snapshot.messages,
      keys: [],
    })
    for (const entry of snapshot.keys)
      state.keys.set(entry._tag === "Live" ? entry.key.keyId : entry.tombstone.keyId, entry)
    for (const row of snapshot.members) state.members.set(row.memberId, row)
    return state
  }
}
