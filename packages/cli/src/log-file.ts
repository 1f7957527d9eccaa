/**
 * The log file `lethe export-log` writes and `lethe audit` reads: JSON Lines,
 * one line per record, so both stream it with flat memory.
 *
 * - line 1, the header: `{"format":"lethe-log/1","exportedAt":...,"source":...,"members":true}`
 * - then every stored event, in global order, exactly as the store holds it
 *   (sealed values stay sealed: the file holds no personal value in clear)
 * - then, when `members` is true, one line per member:
 *   `{"member":{"memberId":...,"streamVersion":7,"keys":[{"keyId":...,"category":...,"destroyedAt":...}]}}`
 *   the stream version the directory records and the status of each data key
 *   (never the key itself), so the audit's truncation and key checks run on
 *   the file alone.
 *
 * @module
 */
import { once } from "node:events"
import { createWriteStream, statSync } from "node:fs"
import { open } from "node:fs/promises"
import type { LetheStore } from "@lethe/core"
import type { AuditSources } from "@lethe/core/audit"
import type { KeyEntry, StoredEvent } from "@lethe/core/spi"
import { readAllEvents } from "@lethe/core/spi"

/** The format named in a log file's header. */
export const logFormat = "lethe-log/1"

/** The first line of a log file. */
export interface LogHeader {
  readonly format: typeof logFormat
  /** ISO 8601. */
  readonly exportedAt: string
  /** What was exported, e.g. "sqlite:lethe.db". */
  readonly source: string
  /** Whether member lines (stream versions, key statuses) follow the events. */
  readonly members: boolean
}

/** A data key's status as a log file records it: never the key. */
export interface KeyStatus {
  readonly keyId: string
  readonly category: string
  /** ISO 8601, or null while the key is live. */
  readonly destroyedAt: string | null
}

/** What a log file records of a member besides its events. */
export interface MemberRecord {
  readonly memberId: string
  /** The version the directory records for the member's stream, or null if it has no row. */
  readonly streamVersion: number | null
  readonly keys: ReadonlyArray<KeyStatus>
}

/** A log file that cannot be read: the line (0 for the file as a whole) and why. */
export class LogFileError extends Error {
  readonly line: number
  constructor(file: string, line: number, detail: string) {
    super(line === 0 ? `${file}: ${detail}` : `${file}, line ${line}: ${detail}`)
    this.name = "LogFileError"
    this.line = line
  }
}

const memberIdOfStream = (streamId: string): string | undefined =>
  streamId.startsWith("member-") ? streamId.slice("member-".length) : undefined

const keyStatus = (entry: KeyEntry): KeyStatus =>
  entry._tag === "Live"
    ? { keyId: entry.key.keyId, category: entry.key.category, destroyedAt: null }
    : {
        keyId: entry.tombstone.keyId,
        category: entry.tombstone.category,
        destroyedAt: new Date(entry.tombstone.destroyedAt).toISOString(),
      }

/** How an export went. */
export interface ExportSummary {
  readonly events: number
  readonly members: number
}

/**
 * Writes the whole log of `store` to `file` (a path, or a stream such as
 * stdout, which is left open), then a line per member with its directory
 * version and key statuses. Memory grows with the number of members (their
 * ids), never with the events.
 *
 * @example
 * ```ts
 * await exportLog(sqliteStore({ filename: "lethe.db" }), "log.jsonl", { source: "sqlite:lethe.db" })
 * ```
 */
export const exportLog = async (
  store: LetheStore,
  file: string | NodeJS.WritableStream,
  options: { readonly source: string; readonly onEvent?: (count: number) => void },
): Promise<ExportSummary> => {
  const out: NodeJS.WritableStream =
    typeof file === "string" ? createWriteStream(file, { encoding: "utf8" }) : file
  const failed = new Promise<never>((_, reject) => out.once("error", reject))
  const write = async (line: string) => {
    if (!out.write(`${line}\n`)) await Promise.race([once(out, "drain"), failed])
  }
  try {
    const header: LogHeader = {
      format: logFormat,
      exportedAt: new Date().toISOString(),
      source: options.source,
      members: true,
    }
    await write(JSON.stringify(header))
    const memberIds = new Set<string>()
    let events = 0
    for await (const event of readAllEvents(store.events)) {
      await write(JSON.stringify(event))
      const memberId = memberIdOfStream(event.streamId)
      if (memberId !== undefined) memberIds.add(memberId)
      events += 1
      options.onEvent?.(events)
    }
    for (const memberId of memberIds) {
      const row = await store.directory.get(memberId)
      const keys = await store.keys.listForMember(memberId)
      const member: MemberRecord = {
        memberId,
        streamVersion: row?.version ?? null,
        keys: keys.map(keyStatus),
      }
      await write(JSON.stringify({ member }))
    }
    if (typeof file === "string") {
      out.end()
      await Promise.race([once(out, "finish"), failed])
    }
    return { events, members: memberIds.size }
  } catch (error) {
    if (typeof file === "string") (out as ReturnType<typeof createWriteStream>).destroy()
    throw error
  }
}

const lineText = (bytes: Buffer, from: number, end: number): string =>
  bytes.toString("utf8", from, end > from && bytes[end - 1] === 13 ? end - 1 : end)

/**
 * The lines of a file, without their line breaks (LF or CRLF), split on
 * bytes before decoding each line: faster than `node:readline` for the
 * million-line files the audit reads. The lines of a chunk in hand are taken
 * synchronously (`take`), so only reading the next chunk costs a promise.
 * Chunks may reuse one buffer: a line's start left at the end of a chunk is
 * copied before the next is read.
 */
class FileLines {
  #chunk: Buffer = Buffer.alloc(0)
  #from = 0
  /** A line that ran over the end of the previous chunk, joined. */
  #joined: string | undefined
  /** The start of a line not ended by the last chunk read. */
  #rest: Buffer | undefined
  #ended = false
  readonly #chunks: AsyncIterator<Buffer>

  constructor(chunks: AsyncIterable<Buffer>) {
    this.#chunks = chunks[Symbol.asyncIterator]()
  }

  /** The next line if it has been read, `undefined` if `more` must read first, `null` after the last line. */
  take(): string | undefined | null {
    if (this.#joined !== undefined) {
      const line = this.#joined
      this.#joined = undefined
      return line
    }
    const end = this.#chunk.indexOf(10, this.#from)
    if (end !== -1) {
      const from = this.#from
      this.#from = end + 1
      return lineText(this.#chunk, from, end)
    }
    if (!this.#ended) return undefined
    const rest = this.#rest
    this.#rest = undefined
    return rest === undefined ? null : lineText(rest, 0, rest.length)
  }

  /** Reads chunks until the next line is complete or the input ends. */
  async more(): Promise<void> {
    if (this.#from < this.#chunk.length) {
      const tail = this.#chunk.subarray(this.#from)
      this.#rest = this.#rest === undefined ? Buffer.from(tail) : Buffer.concat([this.#rest, tail])
    }
    this.#chunk = Buffer.alloc(0)
    this.#from = 0
    for (;;) {
      const next = await this.#chunks.next()
      if (next.done === true) {
        this.#ended = true
        return
      }
      const chunk = next.value
      if (this.#rest === undefined) {
        this.#chunk = chunk
        return
      }
      const end = chunk.indexOf(10)
      if (end === -1) {
        this.#rest = Buffer.concat([this.#rest, chunk])
        continue
      }
      const joined = Buffer.concat([this.#rest, chunk.subarray(0, end)])
      this.#joined = lineText(joined, 0, joined.length)
      this.#rest = undefined
      this.#chunk = chunk
      this.#from = end + 1
      return
    }
  }

  /** The next line, or null after the last. */
  async next(): Promise<string | null> {
    for (;;) {
      const line = this.take()
      if (line !== undefined) return line
      await this.more()
    }
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const isStoredEvent = (value: Record<string, unknown>): boolean =>
  typeof value.position === "number" &&
  typeof value.streamId === "string" &&
  typeof value.version === "number" &&
  typeof value.type === "string" &&
  // A row the store could not read back is exported as it was returned, `unreadable` saying why (R35).
  (isRecord(value.metadata) || typeof value.unreadable === "string") &&
  typeof value.recordedAt === "number" &&
  typeof value.hash === "string" &&
  typeof value.prevHash === "string"

/** A log file opened for the audit: its events, its cross-checks, and how far reading has got. */
export interface LogFile {
  readonly header: LogHeader
  /** Every event, in file order. Iterate once. */
  readonly events: AsyncIterable<StoredEvent>
  /** The member lines' cross-checks; they answer once the events have been read. */
  readonly sources: AuditSources
  /** Bytes read so far and the file's size, for a progress bar. */
  progress(): { readonly done: number; readonly total: number }
}

/**
 * Opens a log file written by `exportLog`. Throws `LogFileError` for a file
 * that is not one; a line past the header that is not JSON, not an event and
 * not a member line fails the iteration with `LogFileError`.
 *
 * @example
 * ```ts
 * const log = await openLogFile("log.jsonl")
 * const report = await auditLog(log.events, { ...log.sources, asOf: new Date() })
 * ```
 */
export const openLogFile = async (file: string): Promise<LogFile> => {
  const total = statSync(file).size
  const handle = await open(file, "r")
  let bytesRead = 0
  let closed = false
  const close = () => {
    if (closed) return
    closed = true
    handle.close().catch(() => undefined)
  }
  // Two buffers for the whole file, taking turns: the next chunk is read while the lines of the
  // last one are audited. (A new buffer per chunk would wait in the old generation, 1 MiB each,
  // for a full garbage collection to free it.)
  async function* chunks(): AsyncGenerator<Buffer> {
    const buffers: ReadonlyArray<Buffer> = [Buffer.allocUnsafe(1 << 20), Buffer.allocUnsafe(1 << 20)]
    const readInto = (buffer: Buffer) => {
      const reading = handle.read(buffer, 0, buffer.length, null)
      // Left unread when the audit stops early: its failure is nobody's.
      reading.catch(() => undefined)
      return reading
    }
    let turn = 0
    let next = readInto(buffers[turn] as Buffer)
    for (;;) {
      const { bytesRead: read, buffer } = await next
      if (read === 0) return
      bytesRead += read
      turn = 1 - turn
      // The other buffer's chunk has been taken: its unfinished line, if any, was copied out.
      next = readInto(buffers[turn] as Buffer)
      yield buffer.subarray(0, read)
    }
  }
  const lines = new FileLines(chunks())
  const parse = (text: string, line: number): unknown => {
    try {
      return JSON.parse(text) as unknown
    } catch (error) {
      throw new LogFileError(
        file,
        line,
        `not JSON (${error instanceof Error ? error.message : String(error)})`,
      )
    }
  }
  let header: unknown
  try {
    // A byte-order mark, which some editors write, is not part of the header.
    const first = (await lines.next())?.replace(/^\uFEFF/, "") ?? null
    // Empty, or nothing but a blank line: said so, rather than "line 1: not JSON".
    if (first === null || (first.trim() === "" && (await lines.next()) === null))
      throw new LogFileError(file, 0, "an empty file, not a Lethe log (lethe export-log writes one)")
    const start = first.trimStart().charAt(0)
    try {
      header = JSON.parse(first) as unknown
    } catch {
      if (start === "{" || start === "[")
        throw new LogFileError(
          file,
          0,
          `a JSON document, not a Lethe log (a log has one JSON record per line, the first naming the format "${logFormat}")`,
        )
      header = parse(first, 1)
    }
  } catch (error) {
    close()
    throw error
  }
  if (!isRecord(header) || header.format !== logFormat) {
    close()
    throw new LogFileError(
      file,
      0,
      `JSON, but not a Lethe log (its first line must name the format "${logFormat}"; lethe export-log writes one)`,
    )
  }
  const members = new Map<string, MemberRecord>()
  let line = 1
  let finished = false
  const done: IteratorReturnResult<undefined> = { done: true, value: undefined }
  const finish = () => {
    finished = true
    close()
  }
  /** The next event among the lines in hand; `undefined` when more must be read first. */
  const step = (): IteratorResult<StoredEvent> | undefined => {
    for (;;) {
      const text = lines.take()
      if (text === undefined) return undefined
      if (text === null) {
        finish()
        return done
      }
      line += 1
      // A line of JSON starts with "{": only another one may be blank (a whole line to trim).
      if (text.charCodeAt(0) !== 123 && text.trim() === "") continue
      const record = parse(text, line)
      if (!isRecord(record)) throw new LogFileError(file, line, "not a JSON object")
      if (isRecord(record.member) && typeof record.member.memberId === "string") {
        members.set(record.member.memberId, record.member as unknown as MemberRecord)
        continue
      }
      if (!isStoredEvent(record))
        throw new LogFileError(file, line, "neither a stored event nor a member line")
      return { done: false, value: record as unknown as StoredEvent }
    }
  }
  const read = async (): Promise<IteratorResult<StoredEvent>> => {
    try {
      for (;;) {
        await lines.more()
        const result = step()
        if (result !== undefined) return result
      }
    } catch (error) {
      finish()
      throw error
    }
  }
  // An iterator, not an async generator: the lines of a chunk in hand come without a promise
  // each, which a million events notice; reading the next chunk is the only wait.
  const events: AsyncIterableIterator<StoredEvent> = {
    [Symbol.asyncIterator]() {
      return this
    },
    next() {
      if (finished) return Promise.resolve(done)
      try {
        const result = step()
        return result === undefined ? read() : Promise.resolve(result)
      } catch (error) {
        finish()
        return Promise.reject(error)
      }
    },
    return() {
      if (!finished) finish()
      return Promise.resolve(done)
    },
  }
  const withMembers = header.members === true
  return {
    header: header as unknown as LogHeader,
    events,
    sources: withMembers
      ? {
          keys: {
            listForMember: async (memberId) =>
              (members.get(memberId)?.keys ?? []).map(
                (k): KeyEntry =>
                  k.destroyedAt === null
                    ? {
                        _tag: "Live",
                        key: {
                          keyId: k.keyId,
                          tenantId: "",
                          memberId,
                          category: k.category,
                          wrappedKey: "",
                          kekId: "",
                          createdAt: 0,
                        },
                      }
                    : {
                        _tag: "Destroyed",
                        tombstone: {
                          keyId: k.keyId,
                          tenantId: "",
                          memberId,
                          category: k.category,
                          destroyedAt: Date.parse(k.destroyedAt),
                        },
                      },
              ),
          },
          streamVersion: async (memberId) => members.get(memberId)?.streamVersion ?? undefined,
        }
      : {},
    progress: () => ({ done: bytesRead, total }),
  }
}
