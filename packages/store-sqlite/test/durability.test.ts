import type { LetheStore } from "@lethe/core"
import { memberRow, newEvent, sealed, storedKey, wholeLog } from "@lethe/testkit/fixtures"
import Database from "better-sqlite3"
import { describe, expect, it } from "vitest"
import { freshFile, open } from "./fixtures.js"

/** Everything a store answers about what `fill` wrote. */
const snapshot = async (store: LetheStore) => ({
  log: await wholeLog(store),
  stream: await store.events.readStream("member-m1"),
  keys: await store.keys.listForMember("m1"),
  k1: await store.keys.get("k1"),
  k2: await store.keys.get("k2"),
  m1: await store.directory.get("m1"),
  m2: await store.directory.get("m2"),
  byEmail: await store.directory.findByEmail("t1", "ek-m1"),
  restorable: await store.directory.findRestorable("t1", "rk-m2"),
  due: await store.directory.requestsDueBefore({ before: 50, limit: 10 }),
  owner: await store.directory.messageOwner("msg-1"),
})

const fill = async (store: LetheStore) => {
  await store.events.append({
    streamId: "member-m1",
    expectedVersion: "no_stream",
    events: [newEvent({ email: sealed("k1") }), newEvent({ n: 2 })],
    directory: {
      member: memberRow("m1", {
        version: 2,
        customer: true,
        restricted: true,
        openRequests: [
          { requestId: "r2", kind: "access", receivedAt: 3, dueBy: 40 },
          { requestId: "r1", kind: "erasure", receivedAt: 1, dueBy: 30 },
        ],
      }),
      messages: [{ messageId: "msg-1", memberId: "m1", tenantId: "t1", sentAt: 7 }],
    },
  })
  await store.events.append({
    streamId: "member-m2",
    expectedVersion: "no_stream",
    events: [newEvent()],
    directory: {
      member: memberRow("m2", {
        status: "forgotten",
        name: null,
        email: null,
        emailKey: null,
        searchText: null,
        restoreKey: "rk-m2",
        forgottenAt: 5,
        restorableUntil: 12,
        holdsInvoiceData: true,
      }),
    },
  })
  await store.keys.put(storedKey("k1"))
  await store.keys.put(storedKey("k2", { category: "identity" }))
  await store.keys.destroy("k2", 9)
  await store.events.redact("member-m1", ["k2"])
}

describe("sqlite store: durability", () => {
  it("SPI: events, keys (live and destroyed) and the directory (rows, requests, messages) survive close and reopen", async () => {
    const filename = freshFile()
    const first = open(filename)
    await fill(first)
    const before = await snapshot(first)
    expect(before.log).toHaveLength(3)
    expect(before.m1?.openRequests.map((r) => r.requestId)).toEqual(["r2", "r1"])
    expect(before.k2).toMatchObject({ _tag: "Destroyed", tombstone: { destroyedAt: 9 } })
    await first.close()

    const second = open(filename)
    expect(await snapshot(second)).toEqual(before)
  })

  it("SPI: after reopening, versions and positions continue where they were; the version check still holds", async () => {
    const filename = freshFile()
    const first = open(filename, { synchronous: "normal" })
    await first.events.append({
      streamId: "s",
      expectedVersion: "no_stream",
      events: [newEvent(), newEvent()],
    })
    await first.close()
    const second = open(filename)
    expect(
      await second.events
        .append({ streamId: "s", expectedVersion: "no_stream", events: [newEvent()] })
        .catch((e) => e),
    ).toMatchObject({ _tag: "ConcurrencyConflict", actual: 2 })
    expect(await second.events.append({ streamId: "s", expectedVersion: 2, events: [newEvent()] })).toEqual({
      version: 3,
      position: 3,
    })
    expect(await second.keys.put(storedKey("k1"))).toBeUndefined()
    await second.keys.destroy("k1", 1)
    await second.close()
    const third = open(filename)
    expect(await third.keys.put(storedKey("k1")).catch((e) => e)).toMatchObject({
      _tag: "KeyDestroyed",
      keyId: "k1",
    })
  })

  it("SPI: positions are never handed out twice: not after a rejected append, not after the last row is gone", async () => {
    const filename = freshFile()
    const store = open(filename)
    await store.events.append({
      streamId: "s",
      expectedVersion: "no_stream",
      events: [newEvent(), newEvent()],
    })
    await store.events
      .append({ streamId: "s", expectedVersion: 0, events: [newEvent()] })
      .catch(() => undefined)
    expect(
      await store.events.append({ streamId: "t", expectedVersion: "no_stream", events: [newEvent()] }),
    ).toEqual({
      version: 1,
      position: 3,
    })
    // Lethe never deletes an event; AUTOINCREMENT still keeps a reader's `after` meaningful if someone did.
    const db = new Database(filename)
    db.prepare("DELETE FROM events WHERE position = 3").run()
    db.close()
    expect(
      await store.events.append({ streamId: "u", expectedVersion: "no_stream", events: [newEvent()] }),
    ).toEqual({
      version: 1,
      position: 4,
    })
  })
})
