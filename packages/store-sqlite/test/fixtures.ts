/**
 * What the store-sqlite tests share: fresh database files in a temporary
 * folder per test (removed after it, with every store opened on them
 * closed), and builders of what the core hands to an adapter.
 *
 * @module
 */
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import type { EventMetadata, LetheStore, MemberRow, NewEvent, StoredKey } from "@lethe/core"
import type { SqliteStoreOptions } from "@lethe/store-sqlite"
import { sqliteStore } from "@lethe/store-sqlite"
import { onTestFinished } from "vitest"

/**
 * A path for a database file that does not exist yet, in a folder of its own
 * that is removed when the current test ends.
 */
export const freshFile = (name = "lethe.db"): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lethe-sqlite-"))
  onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }))
  return path.join(dir, name)
}

/** Opens a store on `filename`, closed when the current test ends (closing twice is harmless). */
export const open = (filename: string, options: Omit<SqliteStoreOptions, "filename"> = {}): LetheStore => {
  const store = sqliteStore({ filename, ...options })
  onTestFinished(() => store.close())
  return store
}

/** A store on a fresh file, and the file. */
export const freshStore = (): { readonly store: LetheStore; readonly filename: string } => {
  const filename = freshFile()
  return { store: open(filename), filename }
}

/** The database file and its WAL, as raw bytes (an absent file is empty). */
export const rawBytes = (filename: string): Buffer =>
  Buffer.concat(
    [filename, `${filename}-wal`, `${filename}-shm`].map((file) =>
      fs.existsSync(file) ? fs.readFileSync(file) : Buffer.alloc(0),
    ),
  )

/** Whether `text` appears in `bytes`, in UTF-8 or in UTF-16 (either byte order). */
export const contains = (bytes: Buffer, text: string): boolean =>
  bytes.indexOf(Buffer.from(text, "utf8")) >= 0 ||
  bytes.indexOf(Buffer.from(text, "utf16le")) >= 0 ||
  bytes.indexOf(Buffer.from(text, "utf16le").swap16()) >= 0

/** Metadata of every test event. */
export const metadata: EventMetadata = {
  actor: "staff:test",
  source: "test",
  tenantId: "t1",
  correlationId: "corr-1",
}

/** An event ready to append (not chained: stores do not check hashes). */
export const newEvent = (data: unknown = { n: 1 }, type = "Tested"): NewEvent => ({
  type,
  data,
  metadata,
  recordedAt: 1_000,
  prevHash: "",
  hash: "not-chained",
})

/** A sealed value as the sealing code stores it, with `ciphertext` as given. */
export const sealed = (keyId: string, ciphertext = "Y2lwaGVy", category = "contact") => ({
  _tag: "Sealed" as const,
  keyId,
  category,
  iv: "aXY=",
  ciphertext,
  digest: `digest-of-${keyId}`,
})

/** An active member row of tenant "t1", with `overrides`. */
export const memberRow = (memberId: string, overrides: Partial<MemberRow> = {}): MemberRow => ({
  memberId,
  tenantId: "t1",
  status: "active",
  name: `Name ${memberId}`,
  email: `${memberId}@example.org`,
  emailKey: `ek-${memberId}`,
  restoreKey: null,
  searchText: `name ${memberId} ${memberId}@example.org`,
  restricted: false,
  customer: false,
  registeredAt: 0,
  lastActivityAt: 0,
  lastContactAt: 0,
  contractsEndedAt: null,
  forgottenAt: null,
  restorableUntil: null,
  anonymizedAt: null,
  purgedAt: null,
  holdsInvoiceData: false,
  openRequests: [],
  version: 0,
  ...overrides,
})

/** A wrapped data key of member "m1", with `overrides`. */
export const storedKey = (keyId: string, overrides: Partial<StoredKey> = {}): StoredKey => ({
  keyId,
  tenantId: "t1",
  memberId: "m1",
  category: "contact",
  wrappedKey: `wrapped-${keyId}`,
  kekId: "kek-1",
  createdAt: 100,
  ...overrides,
})

/** The error a promise rejects with; fails the test if it resolves. */
export const rejection = async (
  promise: Promise<unknown>,
): Promise<{ readonly _tag?: string } & Record<string, unknown>> => {
  try {
    await promise
  } catch (error) {
    return error as { readonly _tag?: string } & Record<string, unknown>
  }
  throw new Error("expected a rejection")
}

/** Every event of the log, read in one page. */
export const wholeLog = async (store: LetheStore) => (await store.events.readAll({ limit: 1_000_000 })).events
