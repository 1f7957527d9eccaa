/**
 * Issue 5, faults on SQLite: a database file that cannot be opened, and a
 * write lock another connection holds past the busy timeout, fail with
 * `StoreUnavailable` (never the driver's error), write nothing, and the same
 * call succeeds once the cause is gone. The store-level busy case is in
 * store.test.ts.
 */
import fs from "node:fs"
import path from "node:path"
import { createLethe, keyringFromSecret } from "@lethe/core"
import { sqliteStore } from "@lethe/store-sqlite"
import { wholeLog } from "@lethe/testkit/fixtures"
import Database from "better-sqlite3"
import { describe, expect, it } from "vitest"
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
})
