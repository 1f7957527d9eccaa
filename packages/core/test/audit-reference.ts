/**
 * The auditor as it was before it was optimized (issue 8), kept verbatim as
 * the reference the optimized one must agree with on every log: decoding with
 * Effect Schema, `evolve` on every event, the first state compaction, the
 * first canonical JSON and hashing, one promise per event. Only the imports
 * differ; the per-event checks (`checks.ts`) are shared, as the optimization
 * left them as they were.
 */

import type { MemberStatus } from "@lethe/core"
import type {
  AuditOptions,
  AuditReport,
  AuditRule,
  ChainProblem,
  Finding,
  RequestCounts,
  TimelineKind,
} from "@lethe/core/audit"
import { auditRules, emptyTimelineCounts } from "@lethe/core/audit"
import type { DomainConfig, LeavingReason, MemberEvent, MemberState } from "@lethe/core/domain"
import {
  dayMs,
  defaultDomainConfig,
  evolve,
  freeTextFields,
  initialState,
  MemberEvent as MemberEventSchema,
  PersonalCategory,
  retainedOnAnonymization,
  Token,
} from "@lethe/core/domain"
import type { StoredEvent } from "@lethe/core/spi"
import { memberStream } from "@lethe/core/spi"
import { Either, ParseResult, Schema } from "effect"
import { checkpointReport, receiptNote } from "../src/audit/audit.js"
import type { LegalHold } from "../src/audit/checks.js"
import {
  checkEvent,
  holdAfter,
  lateHold,
  latePurge,
  lateRequest,
  legalHoldOf,
  overdueRequest,
} from "../src/audit/checks.js"
import type { FindingDraft } from "../src/audit/findings.js"
import { isoOrNull } from "../src/audit/findings.js"
import type { ChainHead } from "../src/audit/hash-chain.js"
import { emptyChain } from "../src/audit/hash-chain.js"
import { referenceCheckLink as checkLink } from "./audit-reference-hash.js"

/** A stored event decoded for the audit. */
interface AuditedEvent {
  readonly event: MemberEvent
  /**
   * Paths of personal values stored in clear (they should never be: docs/design.md §3). Their values
   * are not kept.
   */
  readonly clearValues: ReadonlyArray<string>
  /** Paths where a token belongs and something else is (issue 18, added to both auditors). */
  readonly notTokens: ReadonlyArray<string>
}

const isToken = Schema.is(Token)

/** Issue 18: the metadata's actor, correlation id and source (a kind, or `kind:tag`), and `source.tag`. */
const notTokensOf = (stored: StoredEvent, data: Record<string, unknown>): ReadonlyArray<string> => {
  const metadata = (stored.metadata ?? {}) as unknown as Record<string, unknown>
  const source = typeof metadata.source === "string" ? metadata.source : undefined
  const [kind = "", ...tag] = source?.split(":") ?? []
  const dataSource = data.source as { readonly tag?: unknown } | undefined
  return [
    ...(isToken(metadata.actor) ? [] : ["metadata.actor"]),
    ...(isToken(metadata.correlationId) ? [] : ["metadata.correlationId"]),
    ...(source !== undefined && isToken(kind) && (tag.length === 0 || isToken(tag.join(":")))
      ? []
      : ["metadata.source"]),
    ...(typeof dataSource !== "object" ||
    dataSource === null ||
    dataSource.tag === undefined ||
    isToken(dataSource.tag)
      ? []
      : ["source.tag"]),
  ]
}

const decodeEvent = Schema.decodeUnknownEither(MemberEventSchema)
const isEvent = Schema.is(MemberEventSchema)
const isCategory = Schema.is(PersonalCategory)

/** Fields of an event that hold personal values (see `sealingCodec`). */
const personalFields = ["fields", "details"] as const

/** A sealed or erased value becomes the `Erased` marker of its category; anything else is left to fail the schema. */
const erasedMarker = (value: unknown): unknown => {
  if (value === null || typeof value !== "object" || !("_tag" in value)) return value
  if (value._tag !== "Sealed" && value._tag !== "Erased") return value
  const category = "category" in value ? value.category : undefined
  return isCategory(category) ? { _tag: "Erased", category } : value
}

/**
 * The member event a stored event holds, with personal values as `Erased`
 * markers; or why it does not decode.
 *
 * @example
 * ```ts
 * const decoded = decodeWithoutKeys(stored)
 * if (Either.isRight(decoded)) state = evolve(state, decoded.right.event)
 * ```
 */
const decodeWithoutKeys = (stored: StoredEvent): Either.Either<AuditedEvent, string> => {
  if (stored.data === null || typeof stored.data !== "object" || Array.isArray(stored.data))
    return Either.left("data is not an object")
  const data: Record<string, unknown> = { ...(stored.data as Record<string, unknown>) }
  const clearValues: Array<string> = []
  for (const field of personalFields) {
    const values = data[field]
    if (values === null || typeof values !== "object" || Array.isArray(values)) continue
    const category = field === "details" ? "activity" : data.category
    const markers: Record<string, unknown> = {}
    for (const [name, value] of Object.entries(values)) {
      if (typeof value === "string") {
        clearValues.push(`${field}.${name}`)
        // The auditor never keeps a clear value: it counts as erased of the event's category.
        markers[name] = isCategory(category) ? { _tag: "Erased", category } : value
      } else markers[name] = erasedMarker(value)
    }
    data[field] = markers
  }
  // Issue 18: free text (a reason) is sealed like a personal value, of category notes.
  for (const name of freeTextFields[stored.type] ?? []) {
    const value = data[name]
    if (typeof value === "string") {
      clearValues.push(name)
      data[name] = { _tag: "Erased", category: "notes" }
    } else data[name] = erasedMarker(value)
  }
  const notTokens = notTokensOf(stored, data)
  const candidate: unknown = { ...data, _tag: stored.type }
  // Checking is cheaper than decoding (no output to build) and the schema transforms nothing:
  // a value that passes is the event. Only a failure is decoded again, for its explanation.
  if (isEvent(candidate)) return Either.right({ event: candidate, clearValues, notTokens })
  return decodeEvent(candidate).pipe(
    Either.map((event) => ({ event, clearValues, notTokens })),
    Either.mapLeft((error) => ParseResult.TreeFormatter.formatErrorSync(error)),
  )
}

interface Place {
  readonly version: number
  readonly position: number
}

/** What the audit keeps per stream: never an event. */
interface StreamAudit {
  readonly streamId: string
  head: ChainHead
  state: MemberState
  last: Place
  /** Where each still-open request was made, for findings at the end of the log. */
  readonly openRequests: Map<string, Place>
  /** Where the member was last forgotten. */
  forgotten: Place | null
  /** Categories erased by `PersonalDataErased`, whose keys must be gone; null while none. */
  erasedCategories: Set<string> | null
  /** What the member's purge or anonymization kept by law and has not erased since. */
  hold: LegalHold | null
}

const chainMessages: Readonly<Record<ChainProblem, string>> = {
  "version-gap": "events are missing or out of order",
  "prev-hash-mismatch": "the event is not chained to the previous one",
  "hash-mismatch": "the event's content does not match its hash: it was changed",
  "digest-mismatch": "a sealed value's ciphertext does not match its committed digest: it was changed",
  "wrong-stream": "the event is stored under another stream",
}

/**
 * The state the audit keeps: the same facts, without what no check reads
 * (sent message ids); a purged or anonymized member, which no later event may
 * change, keeps only its status and dates.
 */
export const referenceCompact = (state: MemberState): MemberState => {
  if (state.status === "purged" || state.status === "anonymized")
    return {
      ...initialState,
      exists: state.exists,
      memberId: state.memberId,
      tenantId: state.tenantId,
      status: state.status,
      registeredAt: state.registeredAt,
      forgottenAt: state.forgottenAt,
      anonymizedAt: state.anonymizedAt,
      purgedAt: state.purgedAt,
      // Issue 19: the fact-date check (R38) reads it, in both auditors alike.
      lastErasureAt: state.lastErasureAt,
      requests: state.requests,
    }
  return state.messageIds.length === 0 ? state : { ...state, messageIds: [] }
}

const memberIdOf = (stream: StreamAudit): string =>
  stream.state.exists ? stream.state.memberId : stream.streamId.replace(/^member-/, "")

const retained: ReadonlySet<string> = retainedOnAnonymization

const dayOf = (ms: number): number => Math.floor(ms / dayMs)

/**
 * Audits a log read in global order, e.g. `readAllEvents(store.events)`.
 *
 * @example
 * ```ts
 * const report = await auditLog(readAllEvents(store.events), { ...auditSourcesOf(store), asOf: new Date() })
 * if (!report.clean) for (const f of report.findings) console.log(f.rule, f.streamId, f.version, f.message)
 * ```
 */
export const referenceAuditLog = async (
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
  const findings: Array<Finding> = []
  const byRule: Partial<Record<AuditRule, number>> = {}
  const timeline = new Map<number, Record<TimelineKind, number>>()
  let eventCount = 0
  let lastPosition = 0
  let firstAt: number | null = null
  let lastAt: number | null = null
  let messages = 0
  // Why people left, kept the plain way: a list of [reason, how], counted at the end.
  const leavings: Array<[LeavingReason, "unsubscribed" | "withdrawn" | "forgotten"]> = []
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
    const expected = stream.head.version + 1
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
        expectedPrevHash: stream.head.hash,
        hash: stored.hash,
      },
    }
  }

  const afterEvent = (stream: StreamAudit, before: MemberState, event: MemberEvent, place: Place) => {
    const after = evolve(before, event)
    switch (event._tag) {
      case "ErasureRequested":
      case "AccessRequested":
        requestTotals[event._tag === "ErasureRequested" ? "erasure" : "access"] += 1
        mark(event.at, event._tag === "ErasureRequested" ? "erasureRequested" : "accessRequested")
        stream.openRequests.set(event.requestId, place)
        break
      case "Forgotten":
        mark(event.at, "forgotten")
        stream.forgotten = place
        if (event.why !== undefined) leavings.push([event.why, "forgotten"])
        break
      case "Unsubscribed":
        if (event.why !== undefined) leavings.push([event.why, "unsubscribed"])
        break
      case "ConsentWithdrawn":
        if (event.why !== undefined) leavings.push([event.why, "withdrawn"])
        break
      case "Restored":
        mark(event.at, "restored")
        break
      case "Purged": {
        mark(event.at, "purged")
        const late = latePurge(before, graceMs, { purgedAt: event.at })
        if (late !== undefined) report(stream, place, event.at, late)
        stream.hold = legalHoldOf(event) ?? null
        break
      }
      case "Anonymized":
        mark(event.at, "anonymized")
        stream.hold = legalHoldOf(event) ?? null
        break
      case "MessageSent":
        messages += 1
        break
      case "PersonalDataErased":
        stream.erasedCategories ??= new Set()
        for (const category of event.categories) stream.erasedCategories.add(category)
        stream.hold = holdAfter(stream.hold, event)
        break
      default:
        break
    }
    if (
      event._tag === "Forgotten" ||
      event._tag === "Anonymized" ||
      event._tag === "DataExported" ||
      event._tag === "SystemConfirmed"
    )
      for (const requestId of stream.openRequests.keys()) {
        const request = after.requests[requestId]
        if (request === undefined || request.fulfilledAt === null) continue
        stream.openRequests.delete(requestId)
        const late = lateRequest(request)
        if (late !== undefined) report(stream, place, event.at, late)
      }
    if (event._tag === "Restored") stream.forgotten = null
    stream.state = referenceCompact(after)
  }

  for await (const stored of events) {
    eventCount += 1
    lastPosition = stored.position
    let stream = streams.get(stored.streamId)
    if (stream === undefined) {
      stream = {
        streamId: stored.streamId,
        head: emptyChain,
        state: initialState,
        last: { version: 0, position: 0 },
        openRequests: new Map(),
        forgotten: null,
        erasedCategories: null,
        hold: null,
      }
      streams.set(stored.streamId, stream)
    }
    const place: Place = { version: stored.version, position: stored.position }
    const problem = checkLink(stream.streamId, stream.head, stored)
    if (problem !== undefined) report(stream, place, stored.recordedAt, chainFinding(stream, stored, problem))
    // Go on from the stored link, so one change is reported once, not at every later event.
    stream.head = { version: stored.version, hash: stored.hash }
    stream.last = place

    const decoded = decodeWithoutKeys(stored)
    if (Either.isLeft(decoded)) {
      report(stream, place, stored.recordedAt, {
        rule: "event-schema",
        requirements: ["R35"],
        message: `${stored.type} does not decode as a member event`,
        evidence: { type: stored.type, problem: decoded.left },
      })
    } else {
      const { event, clearValues, notTokens } = decoded.right
      firstAt ??= event.at
      lastAt = Math.max(lastAt ?? event.at, event.at)
      if (clearValues.length > 0)
        report(stream, place, event.at, {
          rule: "sealing",
          requirements: ["R29"],
          message: `${event._tag} stores ${clearValues.length} personal value(s) in clear`,
          evidence: { paths: clearValues },
        })
      if (notTokens.length > 0)
        report(stream, place, event.at, {
          rule: "sealing",
          requirements: ["R29"],
          message: `${event._tag} stores text in clear where only a token belongs: ${notTokens.join(", ")}`,
          evidence: { paths: notTokens },
        })
      if (event._tag === "MemberRegistered" && memberStream(event.memberId) !== stream.streamId)
        report(stream, place, event.at, {
          rule: "lifecycle",
          requirements: ["R35"],
          message: `MemberRegistered for member ${event.memberId} in another member's stream`,
          evidence: { memberId: event.memberId },
        })
      const before = stream.state
      for (const draft of checkEvent(before, event, config)) report(stream, place, event.at, draft)
      afterEvent(stream, before, event, place)
    }
    if (eventCount % progressEvery === 0)
      options.onProgress?.({ events: eventCount, position: lastPosition, done: false })
  }

  const members: Record<MemberStatus, number> = { active: 0, forgotten: 0, purged: 0, anonymized: 0 }
  let restricted = 0
  const open = { erasure: 0, access: 0 }
  for (const stream of streams.values()) {
    const { state } = stream
    if (!state.exists) continue
    members[state.status] += 1
    if (state.restriction !== null) restricted += 1
    for (const [requestId, place] of stream.openRequests) {
      const request = state.requests[requestId]
      if (request === undefined || request.fulfilledAt !== null) continue
      open[request.kind] += 1
      const overdue = overdueRequest(request, asOf)
      if (overdue !== undefined) report(stream, place, request.dueBy, overdue)
    }
    const unpurged = latePurge(state, graceMs, { asOf })
    if (unpurged !== undefined) report(stream, stream.forgotten ?? stream.last, null, unpurged)
    const held = lateHold(stream.hold, options.invoiceRetentionYears ?? 5, graceMs, asOf)
    if (held !== undefined) report(stream, stream.last, null, held)
  }

  if (options.streamVersion !== undefined)
    for (const stream of streams.values()) {
      const recorded = await options.streamVersion(memberIdOf(stream))
      if (recorded === undefined || recorded === stream.head.version) continue
      report(stream, stream.last, null, {
        rule: "hash-chain",
        requirements: ["R35"],
        version: recorded > stream.head.version ? stream.head.version + 1 : stream.head.version,
        message:
          recorded > stream.head.version
            ? `version ${stream.head.version + 1}${recorded > stream.head.version + 1 ? `..${recorded}` : ""} missing: the stream ends at version ${stream.head.version}, the directory says ${recorded}`
            : `the stream goes on to version ${stream.head.version}, the directory says ${recorded}: events were appended outside Lethe`,
        evidence: {
          problem: recorded > stream.head.version ? "stream-truncated" : "directory-behind",
          streamVersion: stream.head.version,
          directoryVersion: recorded,
          headHash: stream.head.hash,
        },
      })
    }

  const lostKeysRepair =
    "redo the erasure from its receipt: runRetention purges a forgotten member whose window has ended, purge, anonymize or erasePersonalData the others (docs/operations.md, Backups)"
  const keys = options.keys
  if (keys !== undefined)
    for (const stream of streams.values()) {
      const { state, erasedCategories: erased } = stream
      const erasedStatus = state.status === "purged" || state.status === "anonymized"
      // Purged: no key at all. Anonymized: only the categories kept by law. Any status: no key of an erased category.
      const mustBeGone = (category: string) =>
        (state.status === "purged" && !(stream.hold?.categories.has(category) ?? false)) ||
        (state.status === "anonymized" && !retained.has(category)) ||
        (erased?.has(category) ?? false)
      const entries = await keys.listForMember(state.memberId)
      // A key is destroyed only after its erasure event committed: a tombstone the log has no
      // erasure for means the log lost that event, restored from a backup older than the key store.
      const lost = entries.flatMap((entry) =>
        entry._tag === "Destroyed" && !mustBeGone(entry.tombstone.category)
          ? [
              {
                keyId: entry.tombstone.keyId,
                category: entry.tombstone.category,
                destroyedAt: isoOrNull(entry.tombstone.destroyedAt),
              },
            ]
          : [],
      )
      if (lost.length > 0)
        report(stream, stream.last, null, {
          rule: "log-behind-key-store",
          requirements: ["R42"],
          message: `the key store destroyed ${lost.length} data key(s) of this member (${lost.map((k) => k.category).join(", ")}) that the log has no erasure for: the log is older than the key store (restored from a backup?), and its values under them cannot be opened; ${lostKeysRepair}`,
          evidence: { status: state.status, repair: lostKeysRepair, destroyedKeys: lost },
        })
      if (!erasedStatus && erased === null) continue
      const live = entries.flatMap((entry) =>
        entry._tag === "Live" && mustBeGone(entry.key.category)
          ? [{ keyId: entry.key.keyId, category: entry.key.category }]
          : [],
      )
      if (live.length === 0) continue
      const repair =
        state.status === "purged"
          ? "purge"
          : state.status === "anonymized"
            ? "anonymize"
            : `erasePersonalData with categories ${[...(erased ?? [])].sort().join(", ")}`
      const erasedAt = state.status === "purged" ? state.purgedAt : state.anonymizedAt
      report(stream, stream.last, erasedAt, {
        rule: "keys-destroyed",
        requirements: state.status === "purged" ? ["R29"] : ["R24", "R29"],
        message: `${erasedStatus ? `${state.status} member` : "member"} still has ${live.length} live data key(s) of erased data: ${live.map((k) => k.category).join(", ")}; finish the erasure with ${repair}`,
        evidence: {
          status: state.status,
          repair,
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
  if (keys === undefined) {
    notes["keys-destroyed"] = "skipped: the source has no key store"
    notes["log-behind-key-store"] = "skipped: the source has no key store"
  }
  if (options.streamVersion === undefined)
    notes["hash-chain"] =
      "without a directory to compare with, a stream that lost its last events looks like a shorter stream"
  // The logs this auditor is compared on hold no checkpoint (R41): it reports none, as the auditor does.
  const checkpoints = checkpointReport(
    { count: 0, verified: 0, anchorsVerified: 0, lastPosition: 0, lastAt: 0, lastOrdinal: 0 },
    eventCount,
    null,
    [],
  )
  notes.checkpoint = checkpoints.note
  // Nor any erasure receipt (R10): the same note as the auditor's for none.
  notes["erasure-receipt"] = receiptNote(0, 0, null)
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
      leaving: Object.fromEntries(
        [...new Set(leavings.map(([why]) => why))].map((why) => [
          why,
          {
            unsubscribed: leavings.filter(([w, how]) => w === why && how === "unsubscribed").length,
            withdrawn: leavings.filter(([w, how]) => w === why && how === "withdrawn").length,
            forgotten: leavings.filter(([w, how]) => w === why && how === "forgotten").length,
          },
        ]),
      ),
      erasureRequests: requestCounts("erasure"),
      accessRequests: requestCounts("access"),
      firstEventAt: firstAt === null ? null : new Date(firstAt),
      lastEventAt: lastAt === null ? null : new Date(lastAt),
      lastPosition,
      findings: total,
      findingsByRule: byRule,
    },
    checks: (Object.keys(auditRules) as Array<AuditRule>).map((rule) => ({
      rule,
      requirements: auditRules[rule].requirements,
      description: auditRules[rule].description,
      checked: (rule !== "keys-destroyed" && rule !== "log-behind-key-store") || keys !== undefined,
      note: notes[rule] ?? null,
    })),
    findings,
    timeline: [...timeline.entries()]
      .sort(([a], [b]) => a - b)
      .map(([day, counts]) => ({ day: new Date(day * dayMs).toISOString().slice(0, 10), ...counts })),
    checkpoints,
  }
}
