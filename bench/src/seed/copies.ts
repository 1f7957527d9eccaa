/**
 * Seeding Lethe fast, through the storage SPI. A long history made of
 * thousands of commands would take hours while deciding still grows with
 * history, and it is not what these cases measure. So one command is run
 * through the facade, and what it stored is copied: the same event appended
 * again with its version and hash chain continued, or a whole member copied
 * under a new id with its directory row. The store then holds what the
 * facade would have written, and the measured operations run through the
 * facade as usual. Sealed values cannot be copied (each is bound to its
 * stream and version), so only events without them are.
 *
 * @module
 */
import type { LetheStore } from "@lethe/core"
import { hashEvent } from "@lethe/core/audit"
import type { MemberRow, NewEvent, StoredEvent } from "@lethe/core/spi"
import { memberStream, sealedKeyIds } from "@lethe/core/spi"

type Content = Pick<StoredEvent, "type" | "data" | "metadata" | "recordedAt">

interface Head {
  readonly version: number
  readonly hash: string
}

/** `events` chained after `head` in `streamId`, as the service chains what it appends. */
const chain = (streamId: string, head: Head, events: ReadonlyArray<Content>): ReadonlyArray<NewEvent> => {
  let prevHash = head.hash
  return events.map((event, i) => {
    const { type, data, metadata, recordedAt } = event
    const hash = hashEvent(prevHash, {
      streamId,
      version: head.version + i + 1,
      type,
      data,
      metadata,
      recordedAt,
    })
    const chained: NewEvent = { type, data, metadata, recordedAt, prevHash, hash }
    prevHash = hash
    return chained
  })
}

const refuseSealed = (event: Content) => {
  if (sealedKeyIds(event.data).length > 0)
    throw new Error(`cannot copy a ${event.type} holding sealed values: they are bound to their place`)
}

/** Appends `count` copies of `template` at the end of its stream, `batch` per append. */
export const appendCopies = async (
  store: LetheStore,
  template: StoredEvent,
  count: number,
  batch = 500,
): Promise<void> => {
  refuseSealed(template)
  const last = (await store.events.readStream(template.streamId)).at(-1)
  let head: Head = { version: last?.version ?? 0, hash: last?.hash ?? "" }
  for (let done = 0; done < count; ) {
    const size = Math.min(batch, count - done)
    const events = chain(
      template.streamId,
      head,
      Array.from({ length: size }, () => template),
    )
    await store.events.append({ streamId: template.streamId, expectedVersion: head.version, events })
    head = { version: head.version + size, hash: events.at(-1)?.hash ?? head.hash }
    done += size
  }
}

/** A member as stored: its events and its directory row. */
export interface StoredMember {
  readonly memberId: string
  readonly events: ReadonlyArray<StoredEvent>
  readonly row: MemberRow
}

/** What the store holds of `memberId`. */
export const storedMember = async (store: LetheStore, memberId: string): Promise<StoredMember> => {
  const row = await store.directory.get(memberId)
  if (row === undefined) throw new Error(`member ${memberId} has no directory row`)
  return { memberId, events: await store.events.readStream(memberStream(memberId)), row }
}

/** Writes a copy of `source` as the member `memberId`: its events, re-chained, and its directory row. */
export const cloneMember = async (
  store: LetheStore,
  source: StoredMember,
  memberId: string,
): Promise<void> => {
  const streamId = memberStream(memberId)
  const events = source.events.map((event): Content => {
    refuseSealed(event)
    const data = event.data as Record<string, unknown>
    return data.memberId === source.memberId ? { ...event, data: { ...data, memberId } } : event
  })
  await store.events.append({
    streamId,
    expectedVersion: "no_stream",
    events: chain(streamId, { version: 0, hash: "" }, events),
    directory: { member: { ...source.row, memberId } },
  })
}
