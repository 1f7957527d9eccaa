import fs from "node:fs"
import { StoreError } from "@lethe/core"
import { sqliteStore } from "@lethe/store-sqlite"
import { memberRow, newEvent, rejection, wholeLog } from "@lethe/testkit/fixtures"
import Database from "better-sqlite3"
import { describe, expect, it } from "vitest"
import { Connection } from "../src/connection.js"
import { freshFile, freshStore, open } from "./fixtures.js"

/** The pragma's value on the store's own connection. */
const pragma = (connection: Connection, name: string): unknown =>
  connection.run("test", (db) => db.pragma(name, { simple: true }))

describe("sqliteStore", () => {
  // The SPI's cases (closing, isolation, every query...) are in conformance.test.ts.
  it("SPI: a store is named 'sqlite' and starts empty", async () => {
    const { store } = freshStore()
    expect(store.name).toBe("sqlite")
    expect(await store.events.readAll()).toEqual({ events: [], next: 0, done: true })
  })

  it("R29: the connection runs in WAL mode with secure_delete, foreign keys, a busy timeout and synchronous FULL by default", () => {
    const connection = Connection.open({ filename: freshFile() })
    try {
      expect(pragma(connection, "journal_mode")).toBe("wal")
      expect(pragma(connection, "synchronous")).toBe(2) // FULL
      expect(pragma(connection, "secure_delete")).toBe(1)
      expect(pragma(connection, "foreign_keys")).toBe(1)
      expect(pragma(connection, "busy_timeout")).toBe(5_000)
    } finally {
      connection.close()
    }
    const normal = Connection.open({ filename: freshFile(), synchronous: "normal" })
    try {
      expect(pragma(normal, "synchronous")).toBe(1) // NORMAL
    } finally {
      normal.close()
    }
  })

  it("SPI: an unknown synchronous option is refused with StoreError before any file is made", () => {
    const filename = freshFile()
    expect(() => sqliteStore({ filename, synchronous: "off" as "full" })).toThrow(StoreError)
    expect(fs.existsSync(filename)).toBe(false)
  })

  it("SPI: a file of another program is refused with StoreError and left byte for byte as it was", () => {
    const filename = freshFile("other.db")
    const other = new Database(filename)
    other.exec(
      "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total INTEGER); INSERT INTO invoices VALUES (1, 5)",
    )
    other.close()
    const before = fs.readFileSync(filename)
    let error: unknown
    try {
      sqliteStore({ filename })
    } catch (thrown) {
      error = thrown
    }
    expect(error).toBeInstanceOf(StoreError)
    expect(error).toMatchObject({ _tag: "StoreError", operation: "open" })
    expect((error as StoreError).detail).toContain("not a Lethe database")
    expect(fs.readFileSync(filename).equals(before)).toBe(true)
    // SQLite may create an empty -wal beside a WAL database it reads; nothing is written into it.
    if (fs.existsSync(`${filename}-wal`)) expect(fs.statSync(`${filename}-wal`).size).toBe(0)
  })

  it("SPI: a file that is not a database at all is refused with StoreError and left as it was", () => {
    const filename = freshFile("notes.db")
    fs.writeFileSync(filename, "these are my notes, not a database ".repeat(200))
    const before = fs.readFileSync(filename)
    expect(() => sqliteStore({ filename })).toThrow(StoreError)
    expect(fs.readFileSync(filename).equals(before)).toBe(true)
  })

  it("SPI: a file whose schema is newer than this package is refused with StoreError and its data kept", async () => {
    const filename = freshFile()
    const store = open(filename)
    await store.events.append({ streamId: "s", expectedVersion: "no_stream", events: [newEvent()] })
    await store.close()
    const db = new Database(filename)
    db.prepare(
      "INSERT INTO lethe_migrations (version, name, applied_at) VALUES (99, 'from the future', 0)",
    ).run()
    db.close()
    expect(() => sqliteStore({ filename })).toThrow(/schema version 99, newer than/)
    const db2 = new Database(filename)
    expect(db2.prepare("SELECT count(*) AS n FROM events").get()).toEqual({ n: 1 })
    db2.close()
  })

  it("SPI: a driver error (here a table dropped behind the store's back) rejects with StoreError and writes nothing", async () => {
    const { store, filename } = freshStore()
    const db = new Database(filename)
    db.exec("DROP TABLE messages")
    db.close()
    const error = await rejection(
      store.events.append({
        streamId: "member-m1",
        expectedVersion: "no_stream",
        events: [newEvent()],
        directory: {
          member: memberRow("m1"),
          messages: [{ messageId: "msg-1", memberId: "m1", tenantId: "t1", sentAt: 1 }],
        },
      }),
    )
    expect(error).toBeInstanceOf(StoreError)
    expect(error).toMatchObject({ _tag: "StoreError", operation: "events.append" })
    expect(String(error.detail)).toContain("no such table")
    expect(await wholeLog(store)).toEqual([])
    expect(await store.directory.get("m1")).toBeUndefined()
  })

  it("SPI: a writer that waits longer than the busy timeout gets StoreUnavailable, not the driver's SQLITE_BUSY, and may retry", async () => {
    const { store, filename } = freshStore()
    const holder = new Database(filename)
    holder.exec("BEGIN IMMEDIATE")
    try {
      const error = await rejection(
        store.events.append({ streamId: "s", expectedVersion: "no_stream", events: [newEvent()] }),
      )
      expect(error).toMatchObject({ _tag: "StoreUnavailable", store: "sqlite", operation: "events.append" })
      expect(String(error.detail)).toContain("SQLITE_BUSY")
    } finally {
      holder.exec("ROLLBACK")
      holder.close()
    }
    expect(
      await store.events.append({ streamId: "s", expectedVersion: "no_stream", events: [newEvent()] }),
    ).toEqual({ version: 1, position: 1 })
  })

  it("SPI: values that would not read back equal are refused with StoreError and nothing is written", async () => {
    const { store } = freshStore()
    for (const data of [
      { f: () => 1 },
      { when: new Date(0) },
      { n: Number.NaN },
      { list: [1, undefined] },
      { big: 1n },
      undefined,
    ]) {
      const error = await rejection(
        store.events.append({
          streamId: "s",
          expectedVersion: "no_stream",
          events: [newEvent(), { ...newEvent(), data }],
          directory: { member: memberRow("m1") },
        }),
      )
      expect(error).toMatchObject({ _tag: "StoreError", operation: "events.append" })
    }
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(
      await rejection(
        store.events.append({ streamId: "s", expectedVersion: "any", events: [newEvent(cyclic)] }),
      ),
    ).toMatchObject({ _tag: "StoreError", detail: expect.stringContaining("cycle") })
    expect(await wholeLog(store)).toEqual([])
    expect(await store.directory.get("m1")).toBeUndefined()
    const shared = { x: 1 }
    await store.events.append({
      streamId: "s",
      expectedVersion: "no_stream",
      events: [newEvent({ a: shared, b: shared, gone: undefined, text: "\ud800 lone" })],
    })
    expect((await wholeLog(store)).map((e) => e.data)).toEqual([
      { a: { x: 1 }, b: { x: 1 }, text: "\ud800 lone" },
    ])
  })
})

describe("sqliteStore({ readonly: true })", () => {
  it("SPI: an auditor's read-only open reads everything, writes nothing, and leaves the file as it was", async () => {
    const filename = freshFile()
    const writer = sqliteStore({ filename })
    await writer.events.append({ streamId: "member-a", expectedVersion: "no_stream", events: [newEvent()] })
    await writer.close()
    const before = fs.readFileSync(filename)
    const reader = sqliteStore({ filename, readonly: true })
    expect((await reader.events.readAll()).events).toHaveLength(1)
    expect(
      await rejection(
        reader.events.append({ streamId: "member-b", expectedVersion: "no_stream", events: [newEvent()] }),
      ),
    ).toBeInstanceOf(StoreError)
    await reader.close()
    expect(fs.readFileSync(filename).equals(before)).toBe(true)
    // SQLite may create an empty -wal beside a WAL database it reads; nothing is written into it.
    if (fs.existsSync(`${filename}-wal`)) expect(fs.statSync(`${filename}-wal`).size).toBe(0)
  })

  it("SPI: a read-only open refuses a missing file and one that needs migrations, without creating or changing it", () => {
    const missing = freshFile()
    expect(() => sqliteStore({ filename: missing, readonly: true })).toThrow(
      /sqlite store is unavailable during open/,
    )
    expect(fs.existsSync(missing)).toBe(false)
    const empty = freshFile()
    new Database(empty).close()
    expect(() => sqliteStore({ filename: empty, readonly: true })).toThrow(/migrations/)
  })
})
