/**
 * Issue 5, faults on SQLite: a database file that cannot be opened, and a
 * write lock another connection holds past the busy timeout, fail with
 * `StoreUnavailable` (never the driver's error), write nothing, and the same
 * call succeeds once the cause is gone; an open kept out of a new file past
 * the busy timeout waits that long first. The store-level busy case is in
 * store.test.ts; opens that wait for a lock and then succeed are in
 * concurrency.test.ts.
 */
import fs from "node:fs"
import path from "node:path"
import { createLethe, keyringFromSecret } from "@lethe/core"
import { sqliteStore } from "@lethe/store-sqlite"
import { wholeLog } from "@lethe/testkit/fixtures"
import Database from "better-sqlite3"
import { describe, expect, it } from "vitest"
import { busyTimeoutMs } from "../src/connection.js"
import { freshFile, open } from "./fixtures.js"

const keyring = keyringFromSecret("store-sqlite faults test secret, long enough")
const admin = { id: "staff:admin", roles: ["admin"] } as const

/** What `sqliteStore` throws (it opens synchronously); fails the test if it opens. */
const openingError = (filename: string, readonly = false): Record<string, unknown> => {
  try {
    sqliteStore({ filename, ...(readonly ? { readonly: true } : {}) }).close()
  } catch (error) {
    return error as Record<string, unknown>
  }
  throw new Error(`expected ${filename} not to open`)
}

describe("sqlite store: faults", () => {
  it("a file that cannot be opened (a directory, a missing folder, a missing file opened read-only) is StoreUnavailable on open, and nothing is created", () => {
    const dir = path.dirname(freshFile())
    const missingFolder = path.join(dir, "no-such-folder", "lethe.db")
    const missingFile = path.join(dir, "absent.db")
    for (const [filename, readonly] of [
      [dir, false],
      [missingFolder, false],
      [missingFile, true],
    ] as const) {
      const error = openingError(filename, readonly)
      expect(error, filename).toMatchObject({ _tag: "StoreUnavailable", store: "sqlite", operation: "open" })
      expect(String(error.message)).toMatch(/^The sqlite store is unavailable during open \(retry later\): /)
    }
    expect(fs.existsSync(path.dirname(missingFolder))).toBe(false)
    expect(fs.existsSync(missingFile)).toBe(false)
    // Once the file can be opened, the same call succeeds.
    fs.mkdirSync(path.dirname(missingFolder))
    expect(open(missingFolder).name).toBe("sqlite")
  })

  it("another connection holding the write lock past the busy timeout: a command through createLethe rejects with StoreUnavailable and writes nothing, reads go on, and the same command succeeds once the lock is released", async () => {
    const filename = freshFile()
    const store = open(filename)
    const lethe = await createLethe({ store, keyring })
    const { memberId } = await lethe.register({
      tenantId: "gym",
      personal: { name: "Busy Member" },
      source: { kind: "import" },
    })
    const before = await wholeLog(store)
    const visit = () => lethe.recordActivity(memberId, { kind: "visit", clubId: "club-1", actor: admin })
    const holder = new Database(filename)
    holder.exec("BEGIN IMMEDIATE")
    try {
      const error = await visit().then(
        () => undefined,
        (e: unknown) => e as Record<string, unknown>,
      )
      expect(error).toMatchObject({ _tag: "StoreUnavailable", store: "sqlite", operation: "events.append" })
      expect(String(error?.detail)).toContain("SQLITE_BUSY")
      // WAL: readers are not blocked by a writer.
      expect((await lethe.get(memberId)).personal.name).toBe("Busy Member")
    } finally {
      holder.exec("ROLLBACK")
      holder.close()
    }
    expect(await wholeLog(store)).toEqual(before)
    await visit()
    expect((await wholeLog(store)).map((e) => e.type)).toEqual([
      ...before.map((e) => e.type),
      "ActivityRecorded",
    ])
    await lethe.close()
  }, 20_000)

  it("C2: another connection holding the write lock of a new file past the busy timeout: the open waits that long for the switch to WAL, then fails with StoreUnavailable, not SQLITE_BUSY, and writes nothing", () => {
    const filename = freshFile()
    const holder = new Database(filename)
    holder.exec("BEGIN IMMEDIATE")
    const started = Date.now()
    let error: Record<string, unknown>
    try {
      error = openingError(filename)
    } finally {
      holder.exec("ROLLBACK")
      holder.close()
    }
    const waited = Date.now() - started
    expect(error).toMatchObject({ _tag: "StoreUnavailable", store: "sqlite", operation: "open" })
    expect(String(error.detail)).toContain("SQLITE_BUSY")
    expect(waited).toBeGreaterThanOrEqual(busyTimeoutMs - 50)
    expect(waited).toBeLessThan(2 * busyTimeoutMs)
    expect(fs.statSync(filename).size).toBe(0)
    expect(fs.existsSync(`${filename}-wal`)).toBe(false)
    // Once the lock is let go, the same open succeeds.
    expect(open(filename).name).toBe("sqlite")
  }, 20_000)
})
