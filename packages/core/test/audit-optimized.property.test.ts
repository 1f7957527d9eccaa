/**
 * The optimized auditor (issue 8) finds exactly what the straightforward one
 * found (`audit-reference.ts`, the auditor as it was), on any log: clean or
 * not, with events no decision could produce, events that do not decode,
 * values in clear, broken chains, changed ciphertexts, any configuration,
 * with or without key store and directory. And the pieces it is built from
 * hold on their own: the compiled type guard answers as `Schema.is`, and the
 * state the audit keeps is the projection of the state it kept before.
 */
import { createHash } from "node:crypto"
import type { AuditOptions } from "@lethe/core/audit"
import { auditLog } from "@lethe/core/audit"
import type { DomainConfig, MemberEvent as MemberEventType, MemberState } from "@lethe/core/domain"
import { evolve, initialState, MemberEvent } from "@lethe/core/domain"
import type { KeyEntry, StoredEvent } from "@lethe/core/spi"
import { memberStream } from "@lethe/core/spi"
import { Schema, SchemaAST } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { auditState, changesAuditState } from "../src/audit/audit-state.js"
import { ChainHeads } from "../src/audit/chain-heads.js"
import { compileGuard } from "../src/audit/type-guard.js"
import { day, rechain, start } from "./audit-logs.js"
import { referenceAuditLog, referenceCompact } from "./audit-reference.js"

const members = ["m1", "m2", "m3"] as const
const purposes = ["newsletter", "marketing", "health-data", "unknown"] as const
const categories = ["identity", "contact", "activity", "health", "invoice", "religiousBeliefs"] as const
const ids = fc.constantFrom("a", "b", "7", "10")
const otherSystems = ["Accounting", "Mailchimp"]
const club = fc.constantFrom("club-a", "club-b")
const purpose = fc.constantFrom(...purposes)
const category = fc.constantFrom(...categories)
const method = fc.constantFrom("checkbox", "double-opt-in")
const basis = fc.constantFrom("consent", "legitimate-interest", "contract")
const source = fc.constantFrom({ kind: "form" }, { kind: "staff", tag: "desk" })
const days = (min: number, max: number) => fc.integer({ min, max }).map((n) => n * day)

const digest = (ciphertext: string) =>
  createHash("sha256").update(Buffer.from(ciphertext, "base64")).digest("hex")
/** A personal value as stored: sealed, erased, in clear, or not a value at all. */
const arbPersonal = (of: string): fc.Arbitrary<unknown> => {
  const ciphertext = Buffer.from(`${of} secret`).toString("base64")
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc.constant({
        _tag: "Sealed",
        keyId: `key-${of}`,
        category: of,
        iv: "AAAA",
        ciphertext,
        digest: digest(ciphertext),
      }),
    },
    fc.constant({ _tag: "Erased", category: of, digest: digest("") }),
    fc.constant("in clear"),
    fc.constant({
      _tag: "Sealed",
      keyId: "k",
      category: "no-such-category",
      ciphertext: "",
      digest: digest(""),
    }),
    fc.constant(42),
  )
}

/** The data of an event of every type, as `decide` could write it or not, at `at`. */
const arbData = (at: number): fc.Arbitrary<{ readonly type: string; readonly data: unknown }> => {
  const of = <T>(type: string, data: fc.Arbitrary<T>) => data.map((d) => ({ type, data: { at, ...d } }))
  const living = fc.oneof(
    of(
      "MemberRegistered",
      fc.record({ memberId: fc.constantFrom(...members), tenantId: fc.constant("club"), source }),
    ),
    of(
      "PersonalDataRecorded",
      category.chain((c) =>
        fc.record({
          category: fc.constant(c),
          fields: fc.dictionary(ids, arbPersonal(c), { maxKeys: 2 }),
          source,
        }),
      ),
    ),
    of(
      "PersonalDataErased",
      fc.record({ categories: fc.subarray([...categories]), reason: fc.constant("not needed") }),
    ),
    // Consents first among the facts messages are judged by: more of them.
    {
      weight: 4,
      arbitrary: of(
        "ConsentGiven",
        fc.record({
          purpose,
          basis,
          explicit: fc.boolean(),
          method,
          wordingVersion: fc.constant("v1"),
          source,
          givenAt: fc.integer({ min: at - 3 * day, max: at }),
        }),
      ),
    },
    of("ConsentWithdrawn", fc.record({ purpose, source })),
    of("Unsubscribed", fc.record({ purpose, via: fc.constantFrom("link", "staff") })),
    of("ProfilingDisabled", fc.constant({})),
    of("ProfilingEnabled", fc.constant({})),
    of(
      "ContractSigned",
      fc
        .tuple(ids, club, days(-10, 10), fc.option(days(1, 40)))
        .map(([contractId, clubId, offset, length]) => ({
          contractId,
          clubId,
          startsAt: at + offset,
          endsAt: length === null ? null : at + offset + length,
        })),
    ),
    of("ContractEnded", fc.record({ contractId: ids })),
    // R38: a fact's own date, anywhere around the event (the fact-date rule's findings in both auditors).
    of(
      "WalletCredited",
      fc.record(
        {
          amount: fc.integer({ min: 1, max: 300 }),
          occurredAt: fc.integer({ min: at - 10 * day, max: at + day }),
        },
        { requiredKeys: ["amount"] },
      ),
    ),
    of("WalletDebited", fc.record({ amount: fc.integer({ min: 1, max: 300 }) })),
    of("DebtCaseOpened", fc.record({ caseId: ids, clubId: club })),
    of("DebtCaseClosed", fc.record({ caseId: ids })),
    of(
      "PurchaseRecorded",
      fc.record({ purchaseId: ids, amount: fc.integer({ min: 1, max: 300 }), paid: fc.boolean() }),
    ),
    of("PurchasePaid", fc.record({ purchaseId: ids })),
    of(
      "InstalmentMissed",
      fc.record({ instalmentId: ids, clubId: club, amount: fc.integer({ min: 1, max: 300 }) }),
    ),
    of("InstalmentPaid", fc.record({ instalmentId: ids })),
    of(
      "ActivityRecorded",
      fc.record(
        {
          kind: fc.constantFrom("visit", "page-view"),
          clubId: fc.option(club),
          details: fc.dictionary(ids, arbPersonal("activity"), { maxKeys: 2 }),
          occurredAt: fc.integer({ min: at - 10 * day, max: at }),
        },
        { requiredKeys: ["kind", "clubId", "details"] },
      ),
    ),
    {
      weight: 4,
      arbitrary: of(
        "MessageSent",
        fc.record({
          messageId: ids,
          purpose,
          channel: fc.constant("email"),
          sentBy: fc.constant("campaign"),
          test: fc.boolean(),
          lawfulBasis: fc.record({
            basis: fc.constantFrom("consent", "legitimate-interest"),
            consentGivenAt: fc.option(fc.integer({ min: at - 3 * day, max: at })),
            method: fc.option(method),
            wordingVersion: fc.option(fc.constant("v1")),
          }),
        }),
      ),
    },
    ...(["ErasureRequested", "AccessRequested"] as const).map((type) =>
      of(
        type,
        fc
          .tuple(ids, days(0, 5), days(20, 35), fc.constantFrom("email", "staff"), fc.subarray(otherSystems))
          .map(([requestId, ago, due, via, systems]) => ({
            requestId,
            receivedAt: at - ago,
            dueBy: at - ago + due,
            via,
            ...(systems.length === 0 ? {} : { systems }),
          })),
      ),
    ),
    of("DataExported", fc.record({ format: fc.constant("json"), requestId: fc.option(ids) })),
    // R14: confirmations, of a request's own systems or not, before and after its erasure.
    of("SystemConfirmed", fc.record({ requestId: ids, system: fc.constantFrom(...otherSystems, "Slack") })),
    of("ProcessingRestricted", fc.record({ reason: fc.constant("contested") })),
    of("ProcessingRestrictionLifted", fc.constant({})),
  )
  // Rarer, so that members live long enough to meet the guards before their erasure.
  const ending = fc.oneof(
    of(
      "Forgotten",
      fc.record({
        restorableUntil: fc.integer({ min: 5, max: 9 }).map((n) => at + n * day),
        requestId: fc.option(ids),
      }),
    ),
    of("Restored", fc.record({ by: fc.constantFrom("staff", "subject") })),
    of("Purged", fc.constant({})),
    {
      weight: 2,
      arbitrary: of(
        "Anonymized",
        fc.record({
          erasedCategories: fc.subarray([...categories]),
          keptCategories: fc.subarray(["invoice"]),
          policyId: fc.option(fc.constant("policy")),
          requestId: fc.option(ids),
        }),
      ),
    },
  )
  return fc.oneof({ weight: 8, arbitrary: living }, { weight: 1, arbitrary: ending })
}

/** Now and then, an event that does not decode: a field changed to any JSON, or gone, or another type. */
const arbBroken = (event: { readonly type: string; readonly data: unknown }) =>
  fc.oneof(
    { weight: 30, arbitrary: fc.constant(event) },
    fc.tuple(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })).map(([key, value]) => {
      const data = event.data as Record<string, unknown>
      const keys = Object.keys(data)
      const name = keys.length === 0 ? key : (keys[key.length % keys.length] as string)
      return { type: event.type, data: { ...data, [name]: value } }
    }),
    fc.constant({
      type: event.type,
      data: Object.fromEntries(Object.entries(event.data as object).slice(1)),
    }),
    fc.constantFrom("Unknown", "Restored", "MessageSent").map((type) => ({ type, data: event.data })),
    fc
      .constantFrom("Purged", "Unknown")
      .map((tag) => ({ type: event.type, data: { ...(event.data as object), _tag: tag } })),
    fc.constantFrom(null, [1], "data").map((data) => ({ type: event.type, data })),
  )

interface Step {
  readonly member: number
  readonly advance: number
  readonly event: { readonly type: string; readonly data: unknown }
}

/** Each event drawn at `start`; the log moves it to its own time. */
const arbStep: fc.Arbitrary<Step> = fc.record({
  member: fc.integer({ min: 0, max: members.length - 1 }),
  advance: fc.integer({ min: 0, max: 3 }).map((n) => n * day),
  event: arbData(start).chain(arbBroken),
})

/** A log from the steps, every event at its member's registration first, time moving on. */
const logOf = (steps: ReadonlyArray<Step>): Array<StoredEvent> => {
  let now = start
  const events: Array<StoredEvent> = members.map((memberId) => ({
    position: 0,
    streamId: memberStream(memberId),
    version: 0,
    type: "MemberRegistered",
    data: { at: now, memberId, tenantId: "club", source: { kind: "form" } },
    metadata: { actor: "staff", source: "form", tenantId: "club", correlationId: "c" },
    recordedAt: now,
    prevHash: "",
    hash: "",
  }))
  for (const step of steps) {
    now += step.advance
    const data = shiftTimes(step.event.data, now - start)
    events.push({
      position: 0,
      streamId: memberStream(members[step.member] as string),
      version: 0,
      type: step.event.type,
      data,
      metadata: { actor: "staff", source: "api", tenantId: "club", correlationId: "c" },
      recordedAt: now,
      prevHash: "",
      hash: "",
    })
  }
  return rechain(events)
}

const timeFields = new Set(["at", "givenAt", "startsAt", "endsAt", "receivedAt", "dueBy", "restorableUntil"])
const shiftTimes = (data: unknown, by: number): unknown => {
  if (data === null || typeof data !== "object" || Array.isArray(data)) return data
  return Object.fromEntries(
    Object.entries(data).map(([key, value]) => [
      key,
      timeFields.has(key) && typeof value === "number" ? value + by : value,
    ]),
  )
}

type Tamper = (log: ReadonlyArray<StoredEvent>) => Array<StoredEvent>

/** One event changed where it lies, its hash kept: what a byte flip leaves. */
const changed = (event: StoredEvent, what: string): StoredEvent => {
  switch (what) {
    case "version":
      return { ...event, version: event.version + 1 }
    case "prevHash":
      return { ...event, prevHash: "0".repeat(64) }
    case "hash":
      return { ...event, hash: event.hash.toUpperCase() }
    case "no hash":
      return { ...event, hash: "not a hash" }
    case "streamId":
      return { ...event, streamId: memberStream("m9") }
    case "data":
      return { ...event, data: { ...(event.data as object), at: 1 } }
    default:
      return {
        ...event,
        data: JSON.parse(JSON.stringify(event.data).replaceAll('"ciphertext":"', '"ciphertext":"AA')),
      }
  }
}

/** Changes made to a chained log: what a byte flip, a lost line or an intruder leaves. */
const arbTamper = (length: number): fc.Arbitrary<Tamper> => {
  const index = fc.integer({ min: 0, max: Math.max(0, length - 1) })
  return fc.oneof(
    index.map(
      (i): Tamper =>
        (log) =>
          log.filter((_, j) => j !== i),
    ),
    index.map(
      (i): Tamper =>
        (log) =>
          log.flatMap((e, j) => (j === i ? [e, e] : [e])),
    ),
    fc.tuple(index, index).map(
      ([i, j]): Tamper =>
        (log) => {
          const copy = [...log]
          const [a, b] = [copy[i], copy[j]]
          if (a === undefined || b === undefined) return copy
          copy[i] = b
          copy[j] = a
          return copy
        },
    ),
    fc
      .tuple(
        index,
        fc.constantFrom("version", "prevHash", "hash", "no hash", "streamId", "data", "ciphertext"),
      )
      .map(
        ([i, what]): Tamper =>
          (log) =>
            log.map((e, j) => (j === i ? changed(e, what) : e)),
      ),
  )
}

const arbKeys: fc.Arbitrary<ReadonlyArray<KeyEntry>> = fc.array(
  fc.tuple(fc.constantFrom(...categories), fc.boolean()).map(
    ([c, live]): KeyEntry =>
      live
        ? {
            _tag: "Live",
            key: {
              keyId: `k-${c}`,
              tenantId: "club",
              memberId: "",
              category: c,
              wrappedKey: "",
              kekId: "",
              createdAt: 0,
            },
          }
        : {
            _tag: "Destroyed",
            tombstone: { keyId: `k-${c}`, tenantId: "club", memberId: "", category: c, destroyedAt: start },
          },
  ),
  { maxLength: 3 },
)

/** Options of every kind: key store and directory or not, any grace, window and deadlines, few findings kept. */
const arbOptions = (log: ReadonlyArray<StoredEvent>): fc.Arbitrary<AuditOptions> =>
  fc
    .record({
      asOfDays: fc.integer({ min: 0, max: 60 }),
      purgeGraceDays: fc.integer({ min: 0, max: 3 }),
      config: fc.record({
        restoreWindowDays: fc.constantFrom(7, 8),
        erasureDeadlineDays: fc.constantFrom(30, 25),
        accessDeadlineDays: fc.constantFrom(30, 25),
      }),
      maxFindings: fc.constantFrom(undefined, 2, 10_000),
      keys: fc.option(fc.tuple(arbKeys, arbKeys, arbKeys)),
      versions: fc.option(fc.tuple(fc.integer({ min: -1, max: 1 }), fc.integer({ min: -1, max: 1 }))),
    })
    .map(({ asOfDays, purgeGraceDays, config, maxFindings, keys, versions }) => {
      const lastAt = Math.max(start, ...log.map((e) => e.recordedAt))
      const length = (memberId: string) => log.filter((e) => e.streamId === memberStream(memberId)).length
      return {
        asOf: new Date(lastAt + asOfDays * day),
        purgeGraceDays,
        config: config satisfies Partial<DomainConfig>,
        ...(maxFindings === undefined ? {} : { maxFindings }),
        ...(keys === null
          ? {}
          : {
              keys: {
                listForMember: async (memberId: string) => keys[members.indexOf(memberId as "m1")] ?? [],
              },
            }),
        ...(versions === null
          ? {}
          : {
              streamVersion: async (memberId: string) =>
                memberId === "m3" ? undefined : length(memberId) + (versions[memberId === "m1" ? 0 : 1] ?? 0),
            }),
      }
    })

const deepFreeze = <A>(value: A): A => {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const inner of Object.values(value)) deepFreeze(inner)
  }
  return value
}

async function* streamed(log: ReadonlyArray<StoredEvent>): AsyncGenerator<StoredEvent> {
  for (const event of log) yield event
}

describe("audit: the optimized auditor", () => {
  it("R35: finds exactly what the straightforward auditor finds, on any log, tampered or not", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .array(arbStep, { maxLength: 80, size: "max" })
          .map(logOf)
          .chain((log) =>
            fc.tuple(fc.constant(log), fc.array(arbTamper(log.length), { maxLength: 2 }), arbOptions(log)),
          ),
        async ([chained, tampers, options]) => {
          // Frozen: neither auditor may change the events it is given.
          const log = deepFreeze(
            tampers.reduce<Array<StoredEvent>>((events, tamper) => tamper(events), chained),
          )
          const expected = await referenceAuditLog(streamed(log), options)
          expect(await auditLog(streamed(log), options)).toEqual(expected)
          expect(await auditLog(log, options)).toEqual(expected)
        },
      ),
      { numRuns: 400 },
    )
  })

  it("R35: the compiled type guard accepts exactly what Schema.is accepts", () => {
    const isEvent = Schema.is(MemberEvent)
    const fast = compileGuard(SchemaAST.typeAST(MemberEvent.ast))
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 400 }).chain((n) => arbData(start + n * day).chain(arbBroken)),
        fc.oneof(fc.constant(null), fc.constantFrom("", " x", "x".repeat(201), -1, 1.5, 2 ** 53, Number.NaN)),
        fc.nat(),
        ({ type, data }, odd, pick) => {
          const candidate =
            data !== null && typeof data === "object" && !Array.isArray(data)
              ? { _tag: type, ...data }
              : { _tag: type, data }
          // Now and then an odd value in place of one of the fields: an empty id, a fraction, an unsafe integer.
          const keys = Object.keys(candidate).filter((k) => k !== "_tag")
          const mutated =
            odd === null || keys.length === 0
              ? candidate
              : { ...candidate, [keys[pick % keys.length] as string]: odd }
          expect(fast(mutated)).toBe(isEvent(mutated))
        },
      ),
      { numRuns: 3_000 },
    )
  })

  it("R35: the state the audit keeps is the projection of the state it kept before, and a skipped fold changes nothing", () => {
    const isEvent = Schema.is(MemberEvent)
    fc.assert(
      fc.property(
        fc.array(
          fc.integer({ min: 0, max: 400 }).chain((n) => arbData(start + n * day)),
          { maxLength: 60, size: "max" },
        ),
        (drawn) => {
          const events = drawn
            .map(({ type, data }) => ({ _tag: type, ...(data as object) }))
            // Personal values as the audit decodes them: clear ones and markers only.
            .map((e) => JSON.parse(JSON.stringify(e).replace(/"_tag":"Sealed"/g, '"_tag":"Erased"')))
            .filter((e): e is MemberEventType => isEvent(e))
          let before: MemberState = initialState
          let kept: MemberState = initialState
          for (const event of events) {
            before = referenceCompact(evolve(before, event))
            if (changesAuditState(kept, event)) kept = auditState(evolve(kept, event))
            else expect(auditState(evolve(kept, event))).toEqual(kept)
            expect(kept).toEqual(auditState(before))
          }
        },
      ),
      { numRuns: 1_000 },
    )
  })

  it("R35: a chain head kept as bytes reads back as it was stored, and compares as ===", () => {
    const hex = fc
      .uint8Array({ minLength: 32, maxLength: 32 })
      .map((bytes) => Buffer.from(bytes).toString("hex"))
    const arbHash = fc.oneof(
      hex,
      hex.map((h) => h.toUpperCase()),
      hex.map((h) => `${h.slice(0, 40)}g${h.slice(41)}`),
      hex.map((h) => h.slice(1)),
      fc.string({ maxLength: 70 }),
      fc.constant(""),
    )
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: 40 }), arbHash, arbHash), { maxLength: 60 }), (steps) => {
        const heads = new ChainHeads()
        const kept = new Map<number, string>()
        for (const [n, hash, probe] of steps) {
          // Slots are added as the audit meets streams: sometimes a new one, else one of those met.
          const slot = n >= kept.size ? heads.add() : n
          if (!kept.has(slot)) kept.set(slot, "")
          expect(heads.get(slot)).toBe(kept.get(slot))
          expect(heads.is(slot, probe)).toBe(probe === kept.get(slot))
          expect(heads.is(slot, kept.get(slot) as string)).toBe(true)
          heads.set(slot, hash)
          kept.set(slot, hash)
          expect(heads.get(slot)).toBe(hash)
        }
      }),
      { numRuns: 500 },
    )
  })
})
