/**
 * How an application builds Lethe: the options of `Lethe.layer` and
 * `createLethe`, the default configuration, and the actor Lethe's own jobs act as.
 *
 * @module
 */
import type { Actor } from "../member/config.js"
import { defaultDomainConfig, systemRole } from "../member/config.js"
import type { Keyring } from "../sealing/keyring.js"
import type { LetheStore } from "../spi/store.js"
import type { LetheConfig } from "./inputs.js"

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
}

/** The default configuration (docs/design.md §2b). */
export const defaultConfig: LetheConfig = {
  ...defaultDomainConfig,
  otherSystems: [],
  invoiceRetentionYears: 5,
  maxExportLinkValidity: 7 * 24 * 60 * 60 * 1000,
}

/** The actor Lethe's own retention jobs act as. */
export const retentionActor: Actor = { id: "lethe:retention", roles: [systemRole] }
