/**
 * What the store-sqlite tests share: fresh database files in a temporary
 * folder per test (removed after it, with every store opened on them
 * closed), and their raw bytes. The builders of what the core hands to an
 * adapter are `@lethe/testkit/fixtures`.
 *
 * @module
 */
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import type { LetheStore } from "@lethe/core"
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
