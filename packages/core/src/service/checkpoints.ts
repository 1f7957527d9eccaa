/**
 * Signed checkpoints of the log's head (R41, docs/design.md §7.3): after
 * every erasure, at the end of every retention run, every `checkpointEvery`
 * events, and on request, the instance extends the log digest from the last
 * checkpoint over the events appended since (never re-reading the log
 * before it), signs it with the keyring's Ed25519 key, and appends it to the
 * reserved stream `lethe:checkpoints` under optimistic concurrency: a writer
 * that lost the race reads the winner's checkpoint and goes on from it.
 *
 * @module
 */
import type { Schedule } from "effect"
import { Effect, FiberRef } from "effect"
import type { Checkpoint } from "../audit/checkpoint.js"
import {
  checkpointEventType,
  checkpointFormat,
  checkpointPayload,
  emptyLogDigest,
  keyFingerprint,
  logDigestStep,
  parseCheckpoint,
  verifyCheckpoint,
} from "../audit/checkpoint.js"
import { hashEvent } from "../audit/hash-chain.js"
import type { LetheError } from "../errors.js"
import type { MemberEvent } from "../member/events.js"
import type { EventMetadata, StoredEvent } from "../spi/event-store.js"
import { checkpointStream } from "../spi/event-store.js"
import { fromStore } from "../spi/store-call.js"
import type { ServiceContext } from "./context.js"

/** Why a checkpoint is written. */
export type CheckpointReason = Checkpoint["reason"]

/** How an instance signs the log's head. */
export interface CheckpointOptions {
  /** Events between two interval checkpoints; 0 writes none for the interval (erasures and retention still sign). */
  readonly checkpointEvery?: number
  /** Hands each checkpoint to another system once it is stored (an external anchor). */
  readonly onCheckpoint?: (checkpoint: Checkpoint) => Promise<void>
}

/** The checkpoints of one instance. */
export interface Checkpoints {
  /** Notes an append that landed: the position of its last event, and whether it recorded an erasure. */
  appended(position: number, events: ReadonlyArray<MemberEvent>): Effect.Effect<void>
  /**
   * Writes the checkpoint that is due (an erasure not covered yet, or
   * `checkpointEvery` events since the last), unless inside `deferring`.
   * Never fails: a checkpoint that could not be written stays due, and the
   * next operation that appends tries again.
   */
  readonly settle: Effect.Effect<void>
  /**
   * Signs the log's head now, for `reason`, when anything but checkpoints
   * was appended since the last one; null otherwise. Fails with the store's
   * or the keyring's error.
   */
  write(reason: CheckpointReason): Effect.Effect<Checkpoint | null, LetheError>
  /** Runs `effect` with no checkpoint written after each of its appends: the caller writes one at its end. */
  deferring<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R>
  /**
   * Reads the last checkpoint when the instance starts, so that its first
   * command does not. Never fails: what could not be read is read when a
   * checkpoint is next due.
   */
  readonly start: Effect.Effect<void>
}

/** The stream's head and the last checkpoint signed with this keyring, as far as the instance has read. */
interface Head {
  /** Version and hash of the checkpoint stream's last event, for the next append. */
  readonly version: number
  readonly hash: string
  /** The position the last valid checkpoint covers, and the log digest there. */
  readonly position: number
  readonly digest: string
}

const isErasure = (event: MemberEvent): boolean =>
  event._tag === "Forgotten" ||
  event._tag === "Purged" ||
  event._tag === "Anonymized" ||
  event._tag === "PersonalDataErased"

const pageSize = 1000

/** The checkpoints of the instance of `ctx`. */
export const makeCheckpoints = (
  ctx: ServiceContext,
  options: CheckpointOptions,
  backoff: Schedule.Schedule<unknown, unknown>,
): Checkpoints => {
  const { store, keyring, now } = ctx
  const every = Math.max(0, Math.floor(options.checkpointEvery ?? 1000))
  const lock = Effect.unsafeMakeSemaphore(1)
  const deferred = FiberRef.unsafeMake(false)
  let head: Head | undefined
  /** The highest position this instance appended, and the highest of an erasure. */
  const appended = { position: 0, erasure: 0 }
  let signer: { readonly publicKey: string; readonly fingerprint: string } | undefined

  const signingKey = Effect.gen(function* () {
    if (signer !== undefined) return signer
    const publicKey = yield* fromStore("keyring.receiptPublicKey", () => keyring.receiptPublicKey())
    signer = { publicKey, fingerprint: keyFingerprint(publicKey) }
    return signer
  })

  /**
   * Reads the checkpoints appended since the instance last looked (by any
   * process): the stream's head, and the last one this keyring signed, from
   * which the digest goes on. One signed by another key, or not one at all,
   * is no base: the audit reports it. Only the last valid one matters, so
   * signatures are verified from the newest back, and the walk stops at the
   * first that verifies: one verification, not one per checkpoint ever
   * signed. (An older valid one is as good a base: the digest is a running
   * one, so extending it from there gives the same head.)
   */
  const catchUp = Effect.gen(function* () {
    const key = yield* signingKey
    const known: Head = head ?? { version: 0, hash: "", position: 0, digest: emptyLogDigest }
    const events = yield* fromStore("events.readStream", () =>
      store.events.readStream(checkpointStream, { fromVersion: known.version + 1 }),
    )
    const last = events.at(-1)
    let next = last === undefined ? known : { ...known, version: last.version, hash: last.hash }
    for (let i = events.length - 1; i >= 0; i--) {
      const event = events[i] as StoredEvent
      const checkpoint = event.unreadable === undefined ? parseCheckpoint(event.data) : "unreadable"
      if (
        typeof checkpoint !== "string" &&
        checkpoint.position >= known.position &&
        checkpoint.position < event.position &&
        verifyCheckpoint(checkpoint, key.publicKey)
      ) {
        next = { ...next, position: checkpoint.position, digest: checkpoint.logDigest }
        break
      }
    }
    head = next
    return next
  })

  /** The digest from `base` over every event appended since, and how many are not checkpoints. */
  const extend = (base: Head) =>
    Effect.gen(function* () {
      let digest = base.digest
      let position = base.position
      let fresh = 0
      let after = base.position
      for (;;) {
        const page = yield* fromStore("events.readAll", () =>
          store.events.readAll({ after, limit: pageSize }),
        )
        for (const event of page.events) {
          digest = logDigestStep(digest, event)
          position = event.position
          if (event.streamId !== checkpointStream) fresh += 1
        }
        if (page.done || page.events.length === 0) return { digest, position, fresh }
        after = page.next
      }
    })

  /** One attempt: `due` decides, once the log since the last checkpoint is read, whether to sign. */
  const attempt = (reason: CheckpointReason, due: (base: Head, fresh: number) => boolean) =>
    Effect.gen(function* () {
      const base = yield* catchUp
      const { digest, position, fresh } = yield* extend(base)
      if (fresh === 0 || !due(base, fresh)) return null
      const key = yield* signingKey
      const at = yield* now
      const unsigned = {
        format: checkpointFormat,
        position,
        logDigest: digest,
        reason,
        at,
        keyFingerprint: key.fingerprint,
      } as const
      const signature = yield* fromStore("keyring.signReceipt", () =>
        keyring.signReceipt(checkpointPayload(unsigned)),
      )
      const checkpoint: Checkpoint = {
        ...unsigned,
        publicKey: key.publicKey,
        signature: Buffer.from(signature).toString("base64"),
      }
      const version = base.version + 1
      // No id minted: two instances run side by side (the conformance kit's) write the same checkpoint.
      const metadata: EventMetadata = {
        actor: "lethe:system",
        source: "lethe",
        tenantId: "lethe",
        correlationId: `lethe:checkpoint:${version}`,
      }
      const hash = hashEvent(base.hash, {
        streamId: checkpointStream,
        version,
        type: checkpointEventType,
        data: checkpoint,
        metadata,
        recordedAt: at,
      })
      yield* fromStore("append", () =>
        store.events.append({
          streamId: checkpointStream,
          expectedVersion: base.version === 0 ? "no_stream" : base.version,
          events: [
            {
              type: checkpointEventType,
              data: checkpoint,
              metadata,
              recordedAt: at,
              prevHash: base.hash,
              hash,
            },
          ],
        }),
      )
      head = { version, hash, position, digest }
      const hook = options.onCheckpoint
      if (hook !== undefined) yield* fromStore("onCheckpoint", () => hook(checkpoint))
      return checkpoint
    })

  const signed = (reason: CheckpointReason, due: (base: Head, fresh: number) => boolean) =>
    lock.withPermits(1)(
      attempt(reason, due).pipe(
        Effect.retry({ schedule: backoff, while: (error) => error._tag === "ConcurrencyConflict" }),
      ),
    )

  /** What is due after this instance's appends, judged against the last checkpoint it knows of. */
  const dueReason = (known: Head): CheckpointReason | undefined =>
    appended.erasure > known.position
      ? "erasure"
      : every > 0 && appended.position - known.position >= every
        ? "interval"
        : undefined

  const settle: Effect.Effect<void> = Effect.gen(function* () {
    if (appended.position === 0 || (yield* FiberRef.get(deferred))) return
    const known = head ?? (yield* lock.withPermits(1)(catchUp))
    const reason = dueReason(known)
    if (reason === undefined) return
    // Another process may have signed since: what is due is judged again on what it signed.
    yield* signed(reason, (base, fresh) =>
      reason === "erasure" ? appended.erasure > base.position : fresh >= every,
    )
  }).pipe(Effect.ignore)

  return {
    appended: (position, events) =>
      Effect.sync(() => {
        if (position > appended.position) appended.position = position
        if (events.some(isErasure) && position > appended.erasure) appended.erasure = position
      }),
    settle,
    write: (reason) => signed(reason, () => true),
    deferring: (effect) => Effect.locally(effect, deferred, true),
    start: lock.withPermits(1)(catchUp).pipe(Effect.ignore),
  }
}
