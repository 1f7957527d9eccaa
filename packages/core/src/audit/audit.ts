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
import type { LeavingReason, MemberEvent } from "../member/events.js"
import { retainedOnAnonymization } from "../member/events.js"
import type { MemberState } from "../member/state.js"
import { evolve, initialState } from "../member/state.js"
import type { StoredEvent } from "../spi/event-store.js"
import { checkpointStream, memberStream } from "../spi/event-store.js"
import type { KeyStore } from "../spi/key-store.js"
import type { LetheStore } from "../spi/store.js"
import { auditState, changesAuditState } from "./audit-state.js"
import { ChainHeads } from "./chain-heads.js"
import type { Checkpoint } from "./checkpoint.js"
import {
  checkpointEventType,
  emptyLogDigest,
  keyFingerprint,
  logDigestStep,
  parseCheckpoint,
  verifyCheckpoint,
} from "./checkpoint.js"
import type { LegalHold } from "./checks.js"
import {
  checkEvent,
  holdAfter,
  lateHold,
  latePurge,
  lateRequest,
  legalHoldOf,
  overdueRequest,
} from "./checks.js"
import { decodeWithoutKeys } from "./decode.js"
import type { AuditRule, Evidence, Finding, FindingDraft } from "./findings.js"
import { auditRules, isoOrNull } from "./findings.js"
import type { ChainProblem } from "./hash-chain.js"
import { linkProblem } from "./hash-chain.js"
import { LogDigests } from "./log-digests.js"
import type { FinalErasureReceipt, ScheduledErasureReceipt } from "./receipt.js"
import { parseReceipt, receiptEventType, receiptStreamPrefix, verifyReceipt } from "./receipt.js"

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
  /**
   * Years a purge or an anonymization keeps invoice data (R24, R37), as the
   * log was written under (`LetheConfig.invoiceRetentionYears`). Default 5.
   * Kept past that and the grace period is a `legal-hold` finding.
   */
  readonly invoiceRetentionYears?: number
  /** Findings kept in the report; the summary counts all. Default 10,000. */
  readonly maxFindings?: number
  /** Called every `progressEvery` events and once at the end. */
  readonly onProgress?: (progress: AuditProgress) => void
  /** Default 10,000. */
  readonly progressEvery?: number
  /**
   * The controller's public keys (PEM, SPKI: `keyring.receiptPublicKey()`),
   * obtained from the controller, not from the log. Every checkpoint must be
   * signed by one of them, and a log with none is a finding. Without them,
   * each checkpoint is verified against the key it records itself, which
   * proves the log consistent with its checkpoints, not who signed them: a
   * database writer could have re-signed everything with a key of their own
   * (docs/audit.md, threat model).
   */
  readonly publicKeys?: ReadonlyArray<string>
  /**
   * Checkpoints kept outside the log (handed to another system by
   * `LetheOptions.onCheckpoint`): each must verify, and match the log's
   * digest at its position; a log that ends before one was truncated.
   */
  readonly anchors?: ReadonlyArray<Checkpoint>
  /**
   * How far back, in events, a checkpoint's position may lie behind the
   * checkpoint itself and still be verified (default 65,536): the audit keeps
   * that many digests. One further back is a finding.
   */
  readonly checkpointWindow?: number
}

/** What the audit found of the log's signed checkpoints (R41). */
export interface CheckpointReport {
  /** Checkpoints in the log (`lethe:checkpoints`), valid or not. */
  readonly count: number
  /** Those whose signature and log digest both verified. */
  readonly verified: number
  /** Checkpoints kept outside the log (`anchors`) that verified. */
  readonly anchorsVerified: number
  /** The position the last verified checkpoint covers up to, or null when none verified. */
  readonly lastPosition: number | null
  /** When the last verified checkpoint was signed. */
  readonly lastAt: Date | null
  /** Events after the last verified checkpoint (all of them when none verified): a writer could change these unseen. */
  readonly uncoveredEvents: number
  /**
   * What the signatures were checked against: `"given"` (the public keys
   * passed in: proves who signed), `"log"` (the key each checkpoint records:
   * proves consistency only), or null when there was nothing to check.
   */
  readonly keySource: "given" | "log" | null
  /** Fingerprints (hex SHA-256 of the DER key) of the keys that signed a valid checkpoint. */
  readonly keyFingerprints: ReadonlyArray<string>
  /** One paragraph saying what the checkpoints prove, for the report. */
  readonly note: string
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
  /**
   * Why people left, as they said (R44): for each reason given, how many unsubscribes, consent
   * withdrawals and forgets recorded it. Reasons nobody gave are absent.
   */
  readonly leaving: Readonly<
    Partial<
      Record<
        LeavingReason,
        { readonly unsubscribed: number; readonly withdrawn: number; readonly forgotten: number }
      >
    >
  >
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
  /** The signed checkpoints and what they prove (R41). */
  readonly checkpoints: CheckpointReport
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
  /** What the member's purge or anonymization kept by law and has not erased since; null while nothing. */
  hold: LegalHold | null
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
/** What to do for a member whose keys the key store destroyed and whose log shows no erasure (R42). */
const lostKeysRepair =
  "redo the erasure from its receipt: runRetention purges a forgotten member whose window has ended, purge, anonymize or erasePersonalData the others (docs/operations.md, Backups)"

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
  const invoiceRetentionYears = options.invoiceRetentionYears ?? 5
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
  const leaving: Partial<
    Record<LeavingReason, { unsubscribed: number; withdrawn: number; forgotten: number }>
  > = {}
  const left = (why: LeavingReason | undefined, how: "unsubscribed" | "withdrawn" | "forgotten") => {
    if (why === undefined) return
    const counts = leaving[why] ?? { unsubscribed: 0, withdrawn: 0, forgotten: 0 }
    counts[how] += 1
    leaving[why] = counts
  }
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

  const report = (
    stream: Pick<StreamAudit, "streamId">,
    place: Place,
    at: number | null,
    draft: FindingDraft,
  ) => {
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
        left(event.why, "forgotten")
        break
      case "Unsubscribed":
        left(event.why, "unsubscribed")
        break
      case "ConsentWithdrawn":
        left(event.why, "withdrawn")
        break
      case "Restored":
        mark(event.at, "restored")
        break
      case "Purged": {
        mark(event.at, "purged")
        const late = latePurge(before, graceMs, { purgedAt: event.at })
        if (late !== undefined) report(stream, lastPlace(stream), event.at, late)
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
    const open = stream.openRequests
    if (
      open !== null &&
      (event._tag === "Forgotten" ||
        event._tag === "Anonymized" ||
        event._tag === "DataExported" ||
        event._tag === "SystemConfirmed")
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

  const streamOf = (streamId: string): StreamAudit => {
    let stream = streams.get(streamId)
    if (stream === undefined) {
      stream = {
        streamId,
        slot: heads.add(),
        version: 0,
        position: 0,
        state: initialState,
        ownsState: false,
        openRequests: null,
        forgotten: null,
        erasedCategories: null,
        hold: null,
      }
      streams.set(streamId, stream)
    }
    return stream
  }

  // Signed checkpoints (R41): the running log digest, the digests of the last events, the keys.
  const digests = new LogDigests(options.checkpointWindow ?? 1 << 16)
  let logDigest = emptyLogDigest
  const givenKeys = new Map<string, string>()
  for (const pem of options.publicKeys ?? []) {
    let fingerprint: string
    try {
      fingerprint = keyFingerprint(pem)
    } catch {
      throw new RangeError("auditLog: a public key given is not a PEM public key")
    }
    givenKeys.set(fingerprint, pem)
  }
  const anchors = [...(options.anchors ?? [])].sort((a, b) => a.position - b.position)
  let nextAnchor = 0
  const signed = { count: 0, verified: 0, anchorsVerified: 0, lastPosition: 0, lastAt: 0, lastOrdinal: 0 }
  const signers = new Set<string>()
  const anchorStream = { streamId: checkpointStream }
  const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms))

  const checkpointFinding = (problem: string, message: string, evidence: Evidence): FindingDraft => ({
    rule: "checkpoint",
    requirements: ["R41", "R35"],
    message,
    evidence: { problem, ...evidence },
  })

  /** Why a checkpoint's signature does not hold, or undefined when it does. */
  const signatureProblem = (checkpoint: Checkpoint): string | undefined => {
    if (givenKeys.size === 0)
      return verifyCheckpoint(checkpoint, checkpoint.publicKey)
        ? undefined
        : "its signature does not verify under the key it records"
    const key = givenKeys.get(checkpoint.keyFingerprint)
    if (key === undefined)
      return `it is signed by a key that is not the one given (fingerprint ${checkpoint.keyFingerprint.slice(0, 16)}...)`
    return verifyCheckpoint(checkpoint, key)
      ? undefined
      : "its signature does not verify under the public key given"
  }

  /** A checkpoint kept outside the log, checked when the log reaches its position (or passes it). */
  const checkAnchors = (position: number) => {
    while (nextAnchor < anchors.length && (anchors[nextAnchor] as Checkpoint).position <= position) {
      const anchor = anchors[nextAnchor++] as Checkpoint
      const place = { version: 0, position: anchor.position }
      const signature = signatureProblem(anchor)
      if (signature !== undefined)
        report(
          anchorStream,
          place,
          anchor.at,
          checkpointFinding("anchor-signature-invalid", `the checkpoint kept outside the log: ${signature}`, {
            coveredPosition: anchor.position,
            keyFingerprint: anchor.keyFingerprint,
          }),
        )
      if (anchor.position !== position || anchor.logDigest !== logDigest)
        report(
          anchorStream,
          place,
          anchor.at,
          checkpointFinding(
            anchor.position === position ? "digest-mismatch" : "position-missing",
            anchor.position === position
              ? `the log up to position ${anchor.position} is not the one a checkpoint kept outside it signed at ${iso(anchor.at)}: events up to it were changed, deleted, inserted or renumbered`
              : `no event of the log is at position ${anchor.position}, which a checkpoint kept outside it covers: events were deleted or renumbered`,
            { coveredPosition: anchor.position, signedDigest: anchor.logDigest, logDigest },
          ),
        )
      else if (signature === undefined) signed.anchorsVerified += 1
    }
  }

  /** A `CheckpointSigned` event: its signature, and the log digest at the position it covers. */
  const auditCheckpoint = (stream: StreamAudit, stored: StoredEvent) => {
    const place = lastPlace(stream)
    const parsed =
      stored.type === checkpointEventType
        ? parseCheckpoint(stored.data)
        : `its type is ${stored.type}, not ${checkpointEventType}`
    if (typeof parsed === "string") {
      report(
        stream,
        place,
        stored.recordedAt,
        checkpointFinding("malformed", `version ${stored.version}: not a checkpoint: ${parsed}`, {
          type: stored.type,
        }),
      )
      return
    }
    signed.count += 1
    const signature = signatureProblem(parsed)
    if (signature === undefined && givenKeys.size === 0) logKeys.set(parsed.keyFingerprint, parsed.publicKey)
    if (signature !== undefined)
      report(
        stream,
        place,
        parsed.at,
        checkpointFinding(
          "signature-invalid",
          `checkpoint ${stored.version} (covering position ${parsed.position}): ${signature}; whoever can write to the database could have written it`,
          {
            coveredPosition: parsed.position,
            keyFingerprint: parsed.keyFingerprint,
            signedAt: iso(parsed.at),
          },
        ),
      )
    const covered = parsed.position >= stored.position ? undefined : digests.at(parsed.position)
    const evidence = {
      coveredPosition: parsed.position,
      signedDigest: parsed.logDigest,
      signedAt: iso(parsed.at),
    }
    if (covered === undefined)
      report(
        stream,
        place,
        parsed.at,
        checkpointFinding(
          "covers-itself",
          `checkpoint ${stored.version} at position ${stored.position} covers position ${parsed.position}, at or after its own: events before it were deleted or renumbered`,
          evidence,
        ),
      )
    else if (covered._tag === "TooOld")
      report(
        stream,
        place,
        parsed.at,
        checkpointFinding(
          "unverifiable",
          `checkpoint ${stored.version} covers position ${parsed.position}, more events before itself than the audit keeps digests of: it cannot be verified`,
          evidence,
        ),
      )
    else if (covered._tag === "Missing")
      report(
        stream,
        place,
        parsed.at,
        checkpointFinding(
          "position-missing",
          `no event of the log is at position ${parsed.position}, which checkpoint ${stored.version} (signed ${iso(parsed.at)}) covers: events were deleted or renumbered`,
          evidence,
        ),
      )
    else if (covered.digest !== parsed.logDigest)
      report(
        stream,
        place,
        parsed.at,
        checkpointFinding(
          "digest-mismatch",
          `the log up to position ${parsed.position} is not the one checkpoint ${stored.version} signed at ${iso(parsed.at)}: events up to it were changed, deleted, inserted or renumbered since`,
          { ...evidence, logDigest: covered.digest },
        ),
      )
    else if (signature === undefined) {
      signed.verified += 1
      signers.add(parsed.keyFingerprint)
      if (parsed.position >= signed.lastPosition) {
        signed.lastPosition = parsed.position
        signed.lastAt = parsed.at
        signed.lastOrdinal = covered.ordinal
      }
    }
  }

  // Erasure receipts (R10): each one recorded is verified, and compared with its member's stream.
  const receipts = { count: 0, verified: 0 }
  /** The keys the log's valid checkpoints record, by fingerprint: what receipts verify under when no key is given. */
  const logKeys = new Map<string, string>()
  /** Receipts signed by a key no checkpoint recorded yet: verified at the end, once every checkpoint is read. */
  const pendingReceipts: Array<{
    readonly stream: StreamAudit
    readonly place: Place
    readonly receipt: ScheduledErasureReceipt | FinalErasureReceipt
  }> = []
  const receiptFinding = (problem: string, message: string, evidence: Evidence): FindingDraft => ({
    rule: "erasure-receipt",
    requirements: ["R10"],
    message,
    evidence: { problem, ...evidence },
  })
  const receiptAt = (receipt: ScheduledErasureReceipt | FinalErasureReceipt): number =>
    Date.parse(receipt.status === "scheduled" ? receipt.forgottenAt : receipt.erasedAt)

  /** A receipt's signature under `key` (PEM; undefined: no key known for its fingerprint). */
  const checkReceiptSignature = (
    stream: StreamAudit,
    place: Place,
    receipt: ScheduledErasureReceipt | FinalErasureReceipt,
    key: string | undefined,
  ) => {
    const fingerprint = `${receipt.keyFingerprint.slice(0, 16)}...`
    const problem =
      key === undefined
        ? givenKeys.size > 0
          ? `it is signed by a key that is not the one given (fingerprint ${fingerprint})`
          : `it is signed by a key no valid checkpoint of the log records (fingerprint ${fingerprint})`
        : verifyReceipt(receipt, key)
          ? undefined
          : "its signature does not verify: a field was changed after it was signed"
    if (problem === undefined) {
      receipts.verified += 1
      return
    }
    report(
      stream,
      place,
      receiptAt(receipt),
      receiptFinding(
        "signature-invalid",
        `receipt ${place.version} (${receipt.status}) of member ${receipt.memberId}: ${problem}; whoever can write to the database could have written it`,
        { memberId: receipt.memberId, status: receipt.status, keyFingerprint: receipt.keyFingerprint },
      ),
    )
  }

  /** What a receipt says that its member's stream, at the receipt's place in the log, does not. */
  const receiptMismatches = (
    receipt: ScheduledErasureReceipt | FinalErasureReceipt,
    member: StreamAudit,
  ): Array<string> => {
    const { state } = member
    const fields: Array<string> = []
    if (receipt.tenantId !== state.tenantId) fields.push("tenantId")
    const head = receipt.streamHead
    // Events after the head the receipt attests: the member's state moved on, and only the head's place is known.
    if (head.version > member.version) fields.push("streamHead")
    if (head.version !== member.version) return fields
    if (head.hash !== heads.get(member.slot)) fields.push("streamHead")
    if (receipt.status === "scheduled") {
      if (state.status !== "forgotten") fields.push("status")
      if (Date.parse(receipt.forgottenAt) !== state.forgottenAt) fields.push("forgottenAt")
      if (Date.parse(receipt.restorableUntil) !== state.restorableUntil) fields.push("restorableUntil")
      const destroyBy = Date.parse(receipt.destroyBy)
      // No later than the audit's purge deadline (purge-deadline), no earlier than the window's end.
      if (
        state.restorableUntil === null ||
        destroyBy < state.restorableUntil ||
        destroyBy > state.restorableUntil + graceMs
      )
        fields.push("destroyBy")
    } else {
      if (state.status !== receipt.status) fields.push("status")
      const erasedAt = state.status === "purged" ? state.purgedAt : state.anonymizedAt
      if (Date.parse(receipt.erasedAt) !== erasedAt) fields.push("erasedAt")
    }
    return fields
  }

  /** An `ErasureReceiptIssued` event: its signature, and whether it says what the log says. */
  const auditReceipt = (stream: StreamAudit, stored: StoredEvent) => {
    const place = lastPlace(stream)
    const parsed =
      stored.type === receiptEventType
        ? parseReceipt(stored.data)
        : `its type is ${stored.type}, not ${receiptEventType}`
    if (typeof parsed === "string") {
      report(
        stream,
        place,
        stored.recordedAt,
        receiptFinding("malformed", `version ${stored.version}: not an erasure receipt: ${parsed}`, {
          type: stored.type,
        }),
      )
      return
    }
    receipts.count += 1
    if (givenKeys.size > 0) checkReceiptSignature(stream, place, parsed, givenKeys.get(parsed.keyFingerprint))
    else {
      const key = logKeys.get(parsed.keyFingerprint)
      if (key === undefined) pendingReceipts.push({ stream, place, receipt: parsed })
      else checkReceiptSignature(stream, place, parsed, key)
    }
    const memberId = stream.streamId.slice(receiptStreamPrefix.length)
    const member = streams.get(memberStream(memberId))
    const evidence = { memberId: parsed.memberId, status: parsed.status, streamHead: parsed.streamHead }
    if (parsed.memberId !== memberId || member === undefined || !member.state.exists) {
      report(
        stream,
        place,
        receiptAt(parsed),
        receiptFinding(
          "no-member",
          `receipt ${stored.version} names member ${parsed.memberId}, whose stream holds no member before it`,
          evidence,
        ),
      )
      return
    }
    const fields = receiptMismatches(parsed, member)
    if (fields.length > 0)
      report(
        stream,
        place,
        receiptAt(parsed),
        receiptFinding(
          "mismatch",
          `receipt ${stored.version} (${parsed.status}) of member ${memberId} does not say what the log says: ${fields.join(", ")}`,
          { ...evidence, fields, memberVersion: member.version },
        ),
      )
  }

  const auditEvent = (stored: StoredEvent) => {
    eventCount += 1
    lastPosition = stored.position
    logDigest = logDigestStep(logDigest, stored)
    digests.push(stored.position, eventCount, logDigest)
    if (nextAnchor < anchors.length) checkAnchors(stored.position)
    const stream = streamOf(stored.streamId)
    if (stored.unreadable !== undefined) {
      // Nothing of it can be checked but where it is: the chain goes on from its stored hash.
      report(
        stream,
        { version: stored.version, position: stored.position },
        typeof stored.recordedAt === "number" ? stored.recordedAt : null,
        {
          rule: "unreadable-row",
          requirements: ["R35"],
          message: `version ${stored.version}: the stored row does not read back: ${stored.unreadable}`,
          evidence: { problem: stored.unreadable, type: stored.type, hash: stored.hash },
        },
      )
      stream.version = stored.version
      heads.set(stream.slot, stored.hash)
      stream.position = stored.position
    } else auditStored(stream, stored)
    if (eventCount % progressEvery === 0)
      options.onProgress?.({ events: eventCount, position: lastPosition, done: false })
  }

  const auditStored = (stream: StreamAudit, stored: StoredEvent) => {
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

    if (stored.streamId === checkpointStream) {
      auditCheckpoint(stream, stored)
      return
    }
    if (stored.streamId.startsWith(receiptStreamPrefix)) {
      auditReceipt(stream, stored)
      return
    }
    const decoded = decodeWithoutKeys(stored)
    if (Either.isLeft(decoded)) {
      report(stream, lastPlace(stream), stored.recordedAt, {
        rule: "event-schema",
        requirements: ["R35"],
        message: `${stored.type} does not decode as a member event`,
        evidence: { type: stored.type, problem: decoded.left },
      })
    } else {
      const { event, clearValues, notTokens } = decoded.right
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
      if (notTokens.length > 0)
        report(stream, lastPlace(stream), event.at, {
          rule: "sealing",
          requirements: ["R29"],
          message: `${event._tag} stores text in clear where only a token belongs: ${notTokens.join(", ")}`,
          evidence: { paths: notTokens },
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
    const held = lateHold(stream.hold, invoiceRetentionYears, graceMs, asOf)
    if (held !== undefined) report(stream, lastPlace(stream), null, held)
  }

  // Checkpoints kept outside the log past its end: the log was truncated after they were signed.
  for (const anchor of anchors.slice(nextAnchor))
    report(
      anchorStream,
      { version: 0, position: anchor.position },
      anchor.at,
      checkpointFinding(
        "log-truncated",
        `the log ends at position ${lastPosition}, but a checkpoint kept outside it, signed ${iso(anchor.at)}, covers up to position ${anchor.position}: events were deleted from its end`,
        { coveredPosition: anchor.position, lastPosition, signedDigest: anchor.logDigest },
      ),
    )
  // With no key given and no checkpoint in the log, a receipt has nothing to verify under: the note says so.
  if (logKeys.size > 0)
    for (const { stream, place, receipt } of pendingReceipts)
      checkReceiptSignature(stream, place, receipt, logKeys.get(receipt.keyFingerprint))
  let reservedStreams = 0
  for (const streamId of streams.keys()) if (streamId.startsWith(reservedPrefix)) reservedStreams += 1
  if (givenKeys.size > 0 && signed.count === 0 && anchors.length === 0)
    report(
      anchorStream,
      { version: 0, position: lastPosition },
      null,
      checkpointFinding(
        "no-checkpoint",
        "the log holds no signed checkpoint, though a public key was given: its checkpoints were deleted, or it was written before R41; nothing in it can be told from a rewrite",
        { events: eventCount },
      ),
    )

  if (options.streamVersion !== undefined)
    for (const stream of streams.values()) {
      if (stream.streamId.startsWith(reservedPrefix)) continue
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
      if (stream.streamId.startsWith(reservedPrefix)) continue
      const { state, erasedCategories: erased } = stream
      const erasedStatus = state.status === "purged" || state.status === "anonymized"
      // Purged: no key but those its event kept by law (R37). Anonymized: only the categories kept by law.
      // Any status: no key of an erased category.
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
        report(stream, lastPlace(stream), null, {
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
  if (keys === undefined) {
    notes["keys-destroyed"] = "skipped: the source has no key store"
    notes["log-behind-key-store"] = "skipped: the source has no key store"
  }
  if (options.streamVersion === undefined)
    notes["hash-chain"] =
      "without a directory to compare with, a stream that lost its last events looks like a shorter stream"
  const checkpoints = checkpointReport(
    signed,
    eventCount,
    signed.count === 0 && anchors.length === 0 ? null : givenKeys.size > 0 ? "given" : "log",
    [...signers].sort(),
  )
  notes.checkpoint = checkpoints.note
  notes["erasure-receipt"] = receiptNote(
    receipts.count,
    receipts.verified,
    givenKeys.size > 0 ? "given" : logKeys.size > 0 ? "log" : null,
  )
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
      streams: streams.size - reservedStreams,
      members,
      restricted,
      messages,
      leaving,
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

/** What the report says of the erasure receipts recorded in the log (R10). */
export const receiptNote = (recorded: number, verified: number, keys: "given" | "log" | null): string =>
  recorded === 0
    ? "the log records no erasure receipt"
    : keys === null
      ? `limited: ${recorded} recorded receipt(s) compared with the log, but not verified: no public key was given and the log holds no valid checkpoint to take one from`
      : `${verified} of ${recorded} recorded receipt(s) verified, under ${keys === "given" ? "the public key given" : "the key the log's checkpoints record: that proves them consistent with the checkpoints, not who signed them; give the controller's public key for that"}`

/** The streams of no member (`lethe:checkpoints`, `lethe:receipts:<memberId>`): no directory row, no member. */
const reservedPrefix = "lethe:"

/** The checkpoints' part of the report, and the paragraph that says what they prove. */
export const checkpointReport = (
  signed: {
    readonly count: number
    readonly verified: number
    readonly anchorsVerified: number
    readonly lastPosition: number
    readonly lastAt: number
    readonly lastOrdinal: number
  },
  events: number,
  keySource: "given" | "log" | null,
  keyFingerprints: ReadonlyArray<string>,
): CheckpointReport => {
  const uncoveredEvents = events - signed.lastOrdinal
  const keys = keyFingerprints.map((f) => f.slice(0, 16)).join(", ")
  const last =
    signed.verified === 0
      ? "none verified"
      : `the last verified covers up to position ${signed.lastPosition} (signed ${new Date(signed.lastAt).toISOString()}); ${uncoveredEvents} event(s) after it are covered by none yet, and a writer could change or delete them unseen, as they could the last checkpoints themselves: only a checkpoint kept outside the log shows that`
  const note =
    keySource === null
      ? "limited: the log holds no signed checkpoint (written before R41, or its checkpoints were deleted): a writer to the database could have rewritten any of it, chain recomputed, unseen"
      : keySource === "given"
        ? `${signed.verified} of ${signed.count} checkpoint(s) verified against the public key given (fingerprint ${keys || "none matched"}): they prove who signed the log's head; ${last}`
        : `${signed.verified} of ${signed.count} checkpoint(s) verified against the key each records itself (fingerprint ${keys || "none"}): this proves the log consistent with its checkpoints, not who signed them, since a writer to the database could replace every checkpoint and its key; compare the fingerprint with the controller's published key, or give the public key (--public-key); ${last}`
  return {
    count: signed.count,
    verified: signed.verified,
    anchorsVerified: signed.anchorsVerified,
    lastPosition: signed.verified === 0 ? null : signed.lastPosition,
    lastAt: signed.verified === 0 ? null : new Date(signed.lastAt),
    uncoveredEvents,
    keySource,
    keyFingerprints,
    note,
  }
}
