/**
 * Logs for the audit tests: clean ones written through the facade on the
 * memory store, and ways to tamper with them — change an event and keep its
 * hash (what a byte flip does), or forge an event and re-chain the stream so
 * that only the broken rule shows, never the chain.
 */
import type { Actor, LetheClient, LetheStore } from "@lethe/core"
import { createLethe, keyringFromSecret } from "@lethe/core"
import type { AuditOptions, AuditReport } from "@lethe/core/audit"
import { auditLog, auditSourcesOf, hashEvent } from "@lethe/core/audit"
import type { StoredEvent } from "@lethe/core/spi"
import { memberStream, readAllEvents } from "@lethe/core/spi"
import { memoryStore } from "@lethe/store-memory"

export const day = 86_400_000
export const keyring = keyringFromSecret("audit test secret, long enough for HKDF")
export const admin: Actor = { id: "staff:admin", roles: ["admin"] }
export const start = Date.UTC(2026, 0, 10, 10)

/** A facade on a fresh memory store with a clock the test moves. */
export interface World {
  readonly lethe: LetheClient
  readonly store: LetheStore
  now(): number
  advance(days: number): void
}

export const world = async (): Promise<World> => {
  let now = start
  const store = memoryStore()
  const lethe = await createLethe({ store, keyring, clock: () => new Date(now) })
  return {
    lethe,
    store,
    now: () => now,
    advance: (days) => {
      now += days * day
    },
  }
}

/** The whole log of a store, in global order. */
export const logOf = async (store: LetheStore): Promise<Array<StoredEvent>> => {
  const events: Array<StoredEvent> = []
  for await (const event of readAllEvents(store.events)) events.push(event)
  return events
}

/** Audits a log held in memory, as of `asOf` (default: the world's end). */
export const audit = (events: ReadonlyArray<StoredEvent>, options: AuditOptions = {}): Promise<AuditReport> =>
  auditLog(events, options)

/** Audits a world's store with its key store and directory, as of its clock. */
export const auditWorld = async (w: World, options: AuditOptions = {}): Promise<AuditReport> =>
  auditLog(readAllEvents(w.store.events), { ...auditSourcesOf(w.store), asOf: new Date(w.now()), ...options })

/** Registers Anna, who consents to the newsletter. */
export const anna = async (w: World): Promise<string> => {
  const { memberId } = await w.lethe.register({
    tenantId: "club",
    personal: { name: "Anna Kowalska", email: "anna@example.org", phone: "+48 600 100 200" },
    source: "form",
  })
  await w.lethe.giveConsent(memberId, { purpose: "newsletter", method: "double-opt-in", source: "form" })
  return memberId
}

/**
 * Recomputes positions, versions, `prevHash` and `hash` of every event, so the
 * chains hold whatever was inserted, removed or changed.
 */
export const rechain = (events: ReadonlyArray<StoredEvent>): Array<StoredEvent> => {
  const heads = new Map<string, { version: number; hash: string }>()
  return events.map((event, i) => {
    const head = heads.get(event.streamId) ?? { version: 0, hash: "" }
    const version = head.version + 1
    const linked = { ...event, position: i + 1, version, prevHash: head.hash }
    const hash = hashEvent(head.hash, linked)
    heads.set(event.streamId, { version, hash })
    return { ...linked, hash }
  })
}

/**
 * An event of `type` for the member, as the service would store it, to insert
 * into a log before `rechain`. `data` holds no personal value unless given sealed.
 */
export const forged = (
  memberId: string,
  type: string,
  data: Record<string, unknown>,
  at: number,
): StoredEvent => ({
  position: 0,
  streamId: memberStream(memberId),
  version: 0,
  type,
  data: { at, ...data },
  metadata: { actor: "intruder", source: "api", tenantId: "club", correlationId: "forged" },
  recordedAt: at,
  prevHash: "",
  hash: "",
})

/** The log with `event` inserted after the last event of its stream recorded at or before `event.recordedAt`. */
export const insert = (events: ReadonlyArray<StoredEvent>, event: StoredEvent): Array<StoredEvent> => {
  const after = events.findLastIndex((e) => e.recordedAt <= event.recordedAt)
  return rechain([...events.slice(0, after + 1), event, ...events.slice(after + 1)])
}

/** The findings of a report as `rule stream@version`, for compact assertions. */
export const brief = (report: AuditReport): Array<string> =>
  report.findings.map((f) => `${f.rule} ${f.streamId}@${f.version}`)
