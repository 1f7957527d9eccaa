/**
 * How an application builds Lethe: the options of `Lethe.layer` and
 * `createLethe`, the default configuration, and the actor Lethe's own jobs act as.
 *
 * @module
 */

import type { Checkpoint } from "../audit/checkpoint.js"
import { defaultController } from "../export/member-export.js"
import type { Actor } from "../member/config.js"
import { defaultDomainConfig, systemRole } from "../member/config.js"
import type { Keyring } from "../sealing/keyring.js"
import type { LetheStore } from "../spi/store.js"
import type { LetheConfig } from "./inputs.js"
import type { Projection } from "./projections.js"

/** How to build Lethe. */
export interface LetheOptions {
  /** The storage adapter: `memoryStore()`, `sqliteStore(...)`, `postgresStore(...)` or your own. */
  readonly store: LetheStore
  /** Where keys come from: `keyringFromSecret(secret)` or your own (a KMS). */
  readonly keyring: Keyring
  /** Default: real time (Effect's `Clock`, so `TestClock` works in tests). */
  readonly clock?: () => Date
  /** Overrides of the defaults (7-day restore window, 30-day deadlines, default catalogue...). */
  readonly config?: Partial<LetheConfig>
  /**
   * Attempts after an optimistic-concurrency conflict before it is reported
   * (default 5). Each waits longer than the one before (exponential backoff
   * from 2 ms, with jitter, on Effect's `Clock`), so writers that collided
   * do not collide again in step.
   */
  readonly retries?: number
  /**
   * Mints member, message, request and correlation ids. Default: UUIDv7. Give
   * a deterministic one in tests that compare two stores run side by side.
   */
  readonly newId?: () => string
  /**
   * The key check of the store (docs/design.md §3.1): `"record"` (default)
   * verifies that the keyring opens the store's key checks and records one
   * for the keyring's key-encryption key if the store has none for it yet;
   * `"verify"` only verifies (a store opened read-only); `"skip"` does
   * neither, for runs that open no sealed value and hold no secret (a
   * retention dry run).
   */
  readonly keyCheck?: "record" | "verify" | "skip"
  /**
   * How many members' states this instance keeps between operations, most
   * recently used first (default 5,000; 0 keeps none). A kept state is never
   * trusted as it is: each operation reads the events appended since (by any
   * process) and folds them in, so deciding costs the same however long the
   * member's history is. Kept states hold opened personal values in memory;
   * erasure events remove them from the state as from the log.
   */
  readonly memberCache?: number
  /**
   * Every how many events a member's snapshot is taken, when the store keeps
   * snapshots (`LetheStore.snapshots`; default 100; 0 takes none and reads
   * none). The first operation on a member after start-up then reads its
   * snapshot and the events after it, not its whole history. A snapshot's
   * personal values are sealed under the member's data keys like the
   * events'; an erasure removes the member's snapshot.
   */
  readonly snapshotEvery?: number
  /**
   * The application's own projections (R36): read models over the members'
   * events in global order, each with a checkpoint the store writes in the
   * same transaction as the read model (the store must keep projections:
   * `LetheStore.projections`, which the memory, SQLite and PostgreSQL stores
   * do). An `inline` one is caught up when Lethe starts and applied in every
   * append's own transaction; the others are caught up by
   * `catchUpProjection`, `followProjection` and `rebuildProjection`. Names
   * are unique (`InvalidCommand` otherwise).
   */
  readonly projections?: ReadonlyArray<Projection>
  /**
   * Every how many events the log's head is signed (R41; default 1,000; 0
   * signs none for the interval). Besides, a checkpoint is signed after
   * every erasure (forget, purge, anonymize, erasePersonalData; one after a
   * `forgetMany`), at the end of every retention run, and on `checkpoint()`.
   * Each is the log digest over every event up to the log's head, signed
   * with the keyring's Ed25519 key (`signReceipt`, under its own domain) and
   * stored in the reserved stream `lethe:checkpoints`; `lethe audit
   * --public-key` verifies them. Writing one reads only the events since the
   * last. One that cannot be written (the store unavailable) fails no
   * operation: it stays due, and the next append tries again.
   */
  readonly checkpointEvery?: number
  /**
   * Hands each signed checkpoint, once stored, to another system (an
   * external anchor: a transparency log, another database, an e-mail to the
   * DPO), so that deleting the log's last checkpoints, and the events they
   * cover, shows too: give those checkpoints to the audit (`anchors`). A
   * hook that rejects fails `checkpoint()` (an automatic checkpoint fails no
   * operation); the checkpoint stays stored, and the next is handed over.
   *
   * @example
   * ```ts
   * const lethe = await createLethe({ store, keyring, onCheckpoint: (c) => anchors.append(JSON.stringify(c)) })
   * ```
   */
  readonly onCheckpoint?: (checkpoint: Checkpoint) => Promise<void>
}

/** The default configuration (docs/design.md §2b). */
export const defaultConfig: LetheConfig = {
  ...defaultDomainConfig,
  otherSystems: [],
  invoiceRetentionYears: 5,
  maxExportLinkValidity: 7 * 24 * 60 * 60 * 1000,
  purgeGraceDays: 1,
  controller: defaultController,
  locale: "en-GB",
  timeZone: "UTC",
}

/** The actor Lethe's own retention jobs act as. */
export const retentionActor: Actor = { id: "lethe:retention", roles: [systemRole] }
