/**
 * The audit (R35): replays a log in global order and proves, rule by rule,
 * that it holds, or names where it does not. It streams: for each stream it
 * keeps the member's state (folded with `evolve` from events decoded without
 * keys, kept as `auditState` projects it) and the head of its hash chain,
 * never the events, so memory grows with the number of members, not of
 * events, nor with the length of each member's history.
 *
 * The loop is plain synchronous code per event: a log of a million events
 * spends its time hashing and checking, not in allocation or in promises.
 *
 * @module
 */
import { Either } from "effect"
import type { MemberStatus } from "../errors.js"
import type { DomainConfig } from "../member/config.js"
import { dayMs, defaultDomainConfig } from "../member/config.js"
import type { MemberEvent } from "../member/events.js"
import { retainedOnAnonymization } from "../member/events.js"
import type { MemberState } from "../member/state.js"
import { evolve, initialState } from "../member/state.js"
import type { StoredEvent } from "../spi/event-store.js"
import { memberStream } from "../spi/event-store.js"
import type { KeyStore } from "../spi/key-store.js"
import type { LetheStore } from "../spi/store.js"
import { auditState, changesAuditState } from "./audit-state.js"
import { ChainHeads } from "./chain-heads.js"
import { checkEvent, latePurge, lateRequest, overdueRequest } from "./checks.js"
import { decodeWithoutKeys } from "./decode.js"
import type { AuditRule, Finding, FindingDraft } from "./findings.js"
import { auditRules, isoOrNull } from "./findings.js"
import type { ChainProblem } from "./hash-chain.js"
import { linkProblem } from "./hash-chain.js"

/**
 * What the audit can cross-check besides the log. Both are optional: a check
 * that needs one that is absent is reported as skipped, never as passed.
 */
export interface AuditSources {
  /** Every data key of a member, live or destroyed, for the key checks (R29, R24). */
  readonly keys?: Pick<KeyStore, "listForMember">
  /**
   * The stream version the directory records for a member: a stream shorter
   * than that lost its last events, which its chain alone cannot show.
   */
  readonly streamVersion?: (memberId: string) => Promise<number | undefined>
}

/** The cross-checks a store offers: its key store and its directory's stream versions. */
export const auditSourcesOf = (store: LetheStore): AuditSources => ({
  keys: store.keys,
  streamVersion: async (memberId) => (await store.directory.get(memberId))?.version,
})

/** How to audit. */
export interface AuditOptions extends AuditSources {
  /** When the audit judges open deadlines (R11, R29). Default: now. */
  readonly asOf?: Date
  /**
   * The tenant's configuration: consent catalogue, restore window, deadlines,
   * clubs. Default: Lethe's defaults (docs/design.md §2b). Give the one the log was written under.
   */
  readonly config?: Partial<DomainConfig>
  /** Days a forgotten member may stay unpurged after the window ends (R29). Default 1. */
  readonly purgeGraceDays?: number
  /** Findings kept in the report; the summary counts all. Default 10,000. */
  readonly maxFindings?: number
  /** Called every `progressEvery` events and once at the end. */
  readonly onProgress?: (progress: AuditProgress) => void
  /** Default 10,000. */
  readonly progressEvery?: number
}

/** How far `auditLog` has read, as `onProgress` reports it. */
export interface AuditProgress {
  /** Events read so far. */
  readonly events: number
  /** The global position of the last event read. */
  readonly position: number
  /** True on the last call, once the whole log is read. */
  readonly done: boolean
}

/** Requests of one kind over the whole log. */
export interface RequestCounts {
  readonly total: number
  readonly fulfilled: number
  readonly open: number
}

/** Counts over the whole log, as the audit found it at its end. */
export interface AuditSummary {
  /** Events in the log. */
  readonly events: number
  /** Streams in the log: one per member. */
  readonly streams: number
  /** Registered members by their status at the end of the log. */
  readonly members: Readonly<Record<MemberStatus, number>>
  /** Members whose processing is restricted at the end of the log. */
  readonly restricted: number
  /** `MessageSent` events, test messages included. */
  readonly messages: number
  readonly erasureRequests: RequestCounts
  readonly accessRequests: RequestCounts
  /** The time (`at`) of the first event that decodes, or null for an empty log. */
  readonly firstEventAt: Date | null
  /** The latest time (`at`) of an event that decodes, or null for an empty log. */
  readonly lastEventAt: Date | null
  /** The global position of the last event read (0 for an empty log). */
  readonly lastPosition: number
  /** Every finding, including those past `maxFindings`. */
  readonly findings: number
  readonly findingsByRule: Readonly<Partial<Record<AuditRule, number>>>
}

/** Whether a rule was checked, and if not, why. */
export interface CheckStatus {
  readonly rule: AuditRule
  readonly requirements: ReadonlyArray<string>
  readonly description: string
  readonly checked: boolean
  /** Why it was skipped, or what it could not cover. */
  readonly note: string | null
}

/** What happened on one day (UTC), for the report's timeline. */
export interface TimelineDay {
  /** YYYY-MM-DD. */
  readonly day: string
  readonly erasureRequested: number
  readonly accessRequested: number
  readonly forgotten: number
  readonly restored: number
  readonly purged: number
  readonly anonymized: number
  readonly findings: number
}

/** The audit's result. `clean` is true when no rule was broken. */
export interface AuditReport {
  readonly format: "lethe-audit/1"
  readonly asOf: Date
  readonly clean: boolean
  readonly settings: {
    readonly purgeGraceDays: number
    readonly restoreWindowDays: number
    readonly erasureDeadlineDays: number
    readonly accessDeadlineDays: number
    readonly purposes: ReadonlyArray<string>
  }
  readonly summary: AuditSummary
  readonly checks: ReadonlyArray<CheckStatus>
  /** In log order, then end-of-log findings; at most `maxFindings`. */
  readonly findings: ReadonlyArray<Finding>
  readonly timeline: ReadonlyArray<TimelineDay>
}

interface Place {
  readonly version: number
  readonly position: number
}

/**
 * What the audit keeps per stream: never an event. Its fields change in
 * place, so an event allocates nothing that outlives it.
 */
interface StreamAudit {
  readonly streamId: string
  /** Its head hash's slot in the audit's `ChainHeads`. */
  readonly slot: number
  /** The version of the last event: the head of the chain. */
  version: number
  /** The position of the last event. */
  position: number
  state: MemberState
  /** Whether `state` is this stream's own object, not shared with another stream (`initialState`). */
  ownsState: boolean
  /** Where each still-open request was made, for findings at the end of the log; null while none. */
  openRequests: Map<string, Place> | null
  /** Where the member was last forgotten. */
  forgotten: Place | null
  /** Categories erased by `PersonalDataErased`, whose keys must be gone; null while none. */
  erasedCategories: Set<string> | null
}

/**
 * Makes `next` (a new object) the stream's state. Once the stream has an
 * object of its own, `next` is copied into it rather than replacing it: the
 * replaced state would have outlived many young collections, been promoted,
 * and have to be swept from the old generation.
 */
const keep = (stream: StreamAudit, next: MemberState): void => {
  if (stream.ownsState) Object.assign(stream.state, next)
  else {
    stream.state = next
    stream.ownsState = true
  }
}

/** Where the stream's last event is. */
const lastPlace = (stream: StreamAudit): Place => ({ version: stream.version, position: stream.position })

/** What a timeline day counts. */
export type TimelineKind = Exclude<keyof TimelineDay, "day">

/** A day's counts, all zero: the start of every day of the timeline, and of any grouping of days. */
export const emptyTimelineCounts = (): Record<TimelineKind, number> => ({
  erasureRequested: 0,
  accessRequested: 0,
  forgotten: 0,
  restored: 0,
  purged: 0,
  anonymized: 0,
  findings: 0,
})

const chainMessages: Readonly<Record<ChainProblem, string>> = {
  "version-gap": "events are missing or out of order",
  "prev-hash-mismatch": "the event is not chained to the previous one",
  "hash-mismatch": "the event's content does not match its hash: it was changed",
  "digest-mismatch": "a sealed value's ciphertext does not match its committed digest: it was changed",
  "wrong-stream": "the event is stored under another stream",
}

const memberIdOf = (stream: StreamAudit): string =>
  stream.state.exists ? stream.state.memberId : stream.streamId.replace(/^member-/, "")

const isAsync = <A>(items: AsyncIterable<A> | Iterable<A>): items is AsyncIterable<A> =>
  Symbol.asyncIterator in items

const retained: ReadonlySet<string> = retainedOnAnonymization

const dayOf = (ms: number): number => Math.floor(ms / dayMs)

/** The operation that finishes an interrupted erasure of a member in this status. */
const repairOf = (status: string, erased: ReadonlySet<string> | null): string =>
  status === "purged"
    ? "purge"
    : status === "anonymized"
      ? "anonymize"
      : `erasePersonalData with categories ${[...(erased ?? [])].sort().join(", ")}`

/**
 * Audits a log read in global order, e.g. `readAllEvents(store.events)`.
 *
 * @example
 * ```ts
 * const report = await auditLog(readAllEvents(store.events), { ...auditSourcesOf(store), asOf: new Date() })
 * if (!report.clean) for (const f of report.findings) console.log(f.rule, f.streamId, f.version, f.message)
 * ```
 */
export const auditLog = async (
  events: AsyncIterable<StoredEvent> | Iterable<StoredEvent>,
  options: AuditOptions = {},
): Promise<AuditReport> => {
  const config: DomainConfig = { ...defaultDomainConfig, ...options.config }
  const asOf = (options.asOf ?? new Date()).getTime()
  const graceDays = options.purgeGraceDays ?? 1
  const graceMs = graceDays * dayMs
  const maxFindings = options.maxFindings ?? 10_000
  const progressEvery = options.progressEvery ?? 10_000

  const streams = new Map<string, StreamAudit>()
  const heads = new ChainHeads()
  const findings: Array<Finding> = []
  const byRule: Partial<Record<AuditRule, number>> = {}
  const timeline = new Map<number, Record<TimelineKind, number>>()
  let eventCount = 0
  let lastPosition = 0
  // Fields, not variables of the closure: a time is no small integer, and each new value of a
  // closure's variable would be a new number on the heap.
  const span = { seen: false, firstAt: 0, lastAt: 0 }
  let messages = 0
  const requestTotals = { erasure: 0, access: 0 }

  const mark = (at: number, kind: TimelineKind) => {
    const day = dayOf(at)
    let counts = timeline.get(day)
    if (counts === undefined) {
      counts = emptyTimelineCounts()
      timeline.set(day, counts)
    }
    counts[kind] += 1
  }

  const report = (stream: StreamAudit, place: Place, at: number | null, draft: FindingDraft) => {
    const finding: Finding = {
      ...draft,
      streamId: stream.streamId,
      version: draft.version ?? place.version,
      position: place.position,
      at: draft.at === undefined ? (at === null ? null : new Date(at)) : draft.at,
    }
    byRule[finding.rule] = (byRule[finding.rule] ?? 0) + 1
    if (finding.at !== null) mark(finding.at.getTime(), "findings")
    if (findings.length < maxFindings) findings.push(finding)
  }

  const chainFinding = (stream: StreamAudit, stored: StoredEvent, problem: ChainProblem): FindingDraft => {
    const expected = stream.version + 1
    const missing = problem === "version-gap" && stored.version > expected
    return {
      rule: "hash-chain",
      requirements: ["R35"],
      version: missing ? expected : stored.version,
      message: missing
        ? `version ${expected}${stored.version - 1 > expected ? `..${stored.version - 1}` : ""} missing: the next event stored is version ${stored.version}`
        : `version ${stored.version}: ${chainMessages[problem]}`,
      evidence: {
        problem,
        expectedVersion: expected,
        storedVersion: stored.version,
        storedStreamId: stored.streamId,
        type: stored.type,
        prevHash: stored.prevHash,
        expectedPrevHash: heads.get(stream.slot),
        hash: stored.hash,
      },
    }
  }

  const afterEvent = (stream: StreamAudit, before: MemberState, event: MemberEvent) => {
    // Most events change nothing the audit keeps: no fold, no copy.
    const changes = changesAuditState(before, event)
    const after = changes ? evolve(before, event) : before
    switch (event._tag) {
      case "ErasureRequested":
      case "AccessRequested":
        requestTotals[event._tag === "ErasureRequested" ? "erasure" : "access"] += 1
        mark(event.at, event._tag === "ErasureRequested" ? "erasureRequested" : "accessRequested")
        stream.openRequests ??= new Map()
        stream.openRequests.set(event.requestId, lastPlace(stream))
        break
      case "Forgotten":
        mark(event.at, "forgotten")
        stream.forgotten = lastPlace(stream)
        break
      case "Restored":
        mark(event.at, "restored")
        break
      case "Purged": {
        mark(event.at, "purged")
        const late = latePurge(before, graceMs, { purgedAt: event.at })
        if (late !== undefined) report(stream, lastPlace(stream), event.at, late)
        break
      }
      case "Anonymized":
        mark(event.at, "anonymized")
        break
      case "MessageSent":
        messages += 1
        break
      case "PersonalDataErased":
        stream.erasedCategories ??= new Set()
        for (const category of event.categories) stream.erasedCategories.add(category)
        break
      default:
        break
    }
    const open = stream.openRequests
    if (
      open !== null &&
      (event._tag === "Forgotten" || event._tag === "Anonymized" || event._tag === "DataExported")
    )
      for (const requestId of open.keys()) {
        const request = after.requests[requestId]
        if (request === undefined || request.fulfilledAt === null) continue
        open.delete(requestId)
        const late = lateRequest(request)
        if (late !== undefined) report(stream, lastPlace(stream), event.at, late)
      }
    if (event._tag === "Restored") stream.forgotten = null
    if (changes) keep(stream, auditState(after))
  }

  const auditEvent = (stored: StoredEvent) => {
    eventCount += 1
    lastPosition = stored.position
    let stream = streams.get(stored.streamId)
    if (stream === undefined) {
      stream = {
        streamId: stored.streamId,
        slot: heads.add(),
        version: 0,
        position: 0,
        state: initialState,
        ownsState: false,
        openRequests: null,
        forgotten: null,
        erasedCategories: null,
      }
      streams.set(stored.streamId, stream)
    }
    const problem = linkProblem(
      stream.streamId,
      stream.version,
      heads.is(stream.slot, stored.prevHash),
      stored,
    )
    if (problem !== undefined)
      report(
        stream,
        { version: stored.version, position: stored.position },
        stored.recordedAt,
        chainFinding(stream, stored, problem),
      )
    // Go on from the stored link, so one change is reported once, not at every later event.
    stream.version = stored.version
    heads.set(stream.slot, stored.hash)
    stream.position = stored.position

    const decoded = decodeWithoutKeys(stored)
    if (Either.isLeft(decoded)) {
      report(stream, lastPlace(stream), stored.recordedAt, {
        rule: "event-schema",
        requirements: ["R35"],
        message: `${stored.type} does not decode as a member event`,
        evidence: { type: stored.type, problem: decoded.left },
      })
    } else {
      const { event, clearValues } = decoded.right
      if (!span.seen) {
        span.seen = true
        span.firstAt = event.at
        span.lastAt = event.at
      } else if (event.at > span.lastAt) span.lastAt = event.at
      if (clearValues.length > 0)
        report(stream, lastPlace(stream), event.at, {
          rule: "sealing",
          requirements: ["R29"],
          message: `${event._tag} stores ${clearValues.length} personal value(s) in clear`,
          evidence: { paths: clearValues },
        })
      if (event._tag === "MemberRegistered" && memberStream(event.memberId) !== stream.streamId)
        report(stream, lastPlace(stream), event.at, {
          rule: "lifecycle",
          requirements: ["R35"],
          message: `MemberRegistered for member ${event.memberId} in another member's stream`,
          evidence: { memberId: event.memberId },
        })
      const before = stream.state
      const drafts = checkEvent(before, event, config)
      for (let i = 0; i < drafts.length; i++)
        report(stream, lastPlace(stream), event.at, drafts[i] as FindingDraft)
      afterEvent(stream, before, event)
    }
    if (eventCount % progressEvery === 0)
      options.onProgress?.({ events: eventCount, position: lastPosition, done: false })
  }

  // An array or other iterable in memory is read without a promise per event, as `for await` would read it.
  if (isAsync(events)) for await (const stored of events) auditEvent(stored)
  else for (const stored of events) auditEvent(stored)

  const members: Record<MemberStatus, number> = { active: 0, forgotten: 0, purged: 0, anonymized: 0 }
  let restricted = 0
  const open = { erasure: 0, access: 0 }
  for (const stream of streams.values()) {
    const { state } = stream
    if (!state.exists) continue
    members[state.status] += 1
    if (state.restriction !== null) restricted += 1
    for (const [requestId, place] of stream.openRequests ?? []) {
      const request = state.requests[requestId]
      if (request === undefined || request.fulfilledAt !== null) continue
      open[request.kind] += 1
      const overdue = overdueRequest(request, asOf)
      if (overdue !== undefined) report(stream, place, request.dueBy, overdue)
    }
    const unpurged = latePurge(state, graceMs, { asOf })
    if (unpurged !== undefined) report(stream, stream.forgotten ?? lastPlace(stream), null, unpurged)
  }

  if (options.streamVersion !== undefined)
    for (const stream of streams.values()) {
      const recorded = await options.streamVersion(memberIdOf(stream))
      if (recorded === undefined || recorded === stream.version) continue
      report(stream, lastPlace(stream), null, {
        rule: "hash-chain",
        requirements: ["R35"],
        version: recorded > stream.version ? stream.version + 1 : stream.version,
        message:
          recorded > stream.version
            ? `version ${stream.version + 1}${recorded > stream.version + 1 ? `..${recorded}` : ""} missing: the stream ends at version ${stream.version}, the directory says ${recorded}`
            : `the stream goes on to version ${stream.version}, the directory says ${recorded}: events were appended outside Lethe`,
        evidence: {
          problem: recorded > stream.version ? "stream-truncated" : "directory-behind",
          streamVersion: stream.version,
          directoryVersion: recorded,
          headHash: heads.get(stream.slot),
        },
      })
    }

  const keys = options.keys
  if (keys !== undefined)
    for (const stream of streams.values()) {
      const { state, erasedCategories: erased } = stream
      const erasedStatus = state.status === "purged" || state.status === "anonymized"
      if (!erasedStatus && erased === null) continue
      // Purged: no key at all. Anonymized: only the categories kept by law. Any status: no key of an erased category.
      const mustBeGone = (category: string) =>
        state.status === "purged" ||
        (state.status === "anonymized" && !retained.has(category)) ||
        (erased?.has(category) ?? false)
      const live = (await keys.listForMember(state.memberId)).flatMap((entry) =>
        entry._tag === "Live" && mustBeGone(entry.key.category)
          ? [{ keyId: entry.key.keyId, category: entry.key.category }]
          : [],
      )
      if (live.length === 0) continue
      const erasedAt = state.status === "purged" ? state.purgedAt : state.anonymizedAt
      report(stream, lastPlace(stream), erasedAt, {
        rule: "keys-destroyed",
        requirements: state.status === "purged" ? ["R29"] : ["R24", "R29"],
        message: `${erasedStatus ? `${state.status} member` : "member"} still has ${live.length} live data key(s) of erased data: ${live.map((k) => k.category).join(", ")}; finish the erasure with ${repairOf(state.status, erased)}`,
        evidence: {
          status: state.status,
          repair: repairOf(state.status, erased),
          erasedAt: isoOrNull(erasedAt),
          erasedCategories: erased === null ? [] : [...erased].sort(),
          liveKeys: live,
        },
      })
    }

  options.onProgress?.({ events: eventCount, position: lastPosition, done: true })

  const total = Object.values(byRule).reduce((n, count) => n + count, 0)
  const notes: Partial<Record<AuditRule, string>> = {
    "anonymization-guard": "the subject's confirmation (R9) is not in the log: decide alone checks it",
  }
  if (keys === undefined) notes["keys-destroyed"] = "skipped: the source has no key store"
  if (options.streamVersion === undefined)
    notes["hash-chain"] =
      "without a directory to compare with, a stream that lost its last events looks like a shorter stream"
  const requestCounts = (kind: "erasure" | "access"): RequestCounts => ({
    total: requestTotals[kind],
    open: open[kind],
    fulfilled: requestTotals[kind] - open[kind],
  })
  return {
    format: "lethe-audit/1",
    asOf: new Date(asOf),
    clean: total === 0,
    settings: {
      purgeGraceDays: graceDays,
      restoreWindowDays: config.restoreWindowDays,
      erasureDeadlineDays: config.erasureDeadlineDays,
      accessDeadlineDays: config.accessDeadlineDays,
      purposes: Object.keys(config.consentCatalogue),
    },
    summary: {
      events: eventCount,
      streams: streams.size,
      members,
      restricted,
      messages,
      erasureRequests: requestCounts("erasure"),
      accessRequests: requestCounts("access"),
      firstEventAt: span.seen ? new Date(span.firstAt) : null,
      lastEventAt: span.seen ? new Date(span.lastAt) : null,
      lastPosition,
      findings: total,
      findingsByRule: byRule,
    },
    checks: (Object.keys(auditRules) as Array<AuditRule>).map((rule) => ({
      rule,
      requirements: auditRules[rule].requirements,
      description: auditRules[rule].description,
      checked: rule !== "keys-destroyed" || keys !== undefined,
      note: notes[rule] ?? null,
    })),
    findings,
    timeline: [...timeline.entries()]
      .sort(([a], [b]) => a - b)
      .map(([day, counts]) => ({ day: new Date(day * dayMs).toISOString().slice(0, 10), ...counts })),
  }
}
