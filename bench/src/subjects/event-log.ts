/**
 * What the raw drivers and Emmett offer the cases: append events to a stream
 * at an expected version in one transaction, and read a stream back.
 *
 * @module
 */

/** An event as the raw drivers and Emmett store it: a type and a JSON payload, in clear. */
export interface PlainEvent {
  readonly type: string
  readonly data: Readonly<Record<string, unknown>>
}

/** One event of a raw multi-row insert: its stream, its version there, and the event. */
export interface PlainRow {
  readonly streamId: string
  readonly version: number
  readonly event: PlainEvent
}

/** An event log of a contender that is not Lethe. */
export interface EventLog {
  /** Appends `events` to `streamId`, whose version must be `expectedVersion` (0: a new stream), atomically. */
  append(streamId: string, expectedVersion: number, events: ReadonlyArray<PlainEvent>): Promise<void>
  /** The stream's events in order. */
  read(streamId: string): Promise<ReadonlyArray<PlainEvent>>
  close(): Promise<void>
}

/** The raw driver's log: also rows of many streams in one statement, and deleting a stream. */
export interface RawLog extends EventLog {
  /** One multi-row INSERT of `rows`, one transaction (a unique (stream, version) checks the versions). */
  insertRows(rows: ReadonlyArray<PlainRow>): Promise<void>
  /** Deletes the stream's rows in one statement: the raw floor of an erasure. */
  erase(streamId: string): Promise<void>
}

/** The metadata every raw and Emmett event carries, as Lethe's do (actor, source, tenant). */
export const plainMetadata = { actor: "staff:bench", source: "import", tenantId: "bench" } as const

/** `events` as the rows of `streamId` after version `expectedVersion`. */
export const rowsOf = (
  streamId: string,
  expectedVersion: number,
  events: ReadonlyArray<PlainEvent>,
): ReadonlyArray<PlainRow> =>
  events.map((event, i) => ({ streamId, version: expectedVersion + i + 1, event }))

/** Writes `events` as the new stream `streamId`, `chunk` events per append. */
export const appendChunked = async (
  log: EventLog,
  streamId: string,
  events: ReadonlyArray<PlainEvent>,
  chunk = 500,
): Promise<void> => {
  for (let version = 0; version < events.length; version += chunk)
    await log.append(streamId, version, events.slice(version, version + chunk))
}
