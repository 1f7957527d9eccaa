// What the conformance suite cannot see from outside: how the files behave after a crash, the folder
// lock, and erased bytes leaving the files.
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import type { NewEvent, StoredKey } from "@lethe/core/spi"
import { digestOf } from "@lethe/core/spi"
import { afterAll, describe, expect, it } from "vitest"
import { jsonFilesStore } from "../src/index.js"

const root = fs.mkdtempSync(path.join(os.tmpdir(), "lethe-json-files-test-"))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))
const freshFolder = () => fs.mkdtempSync(path.join(root, "store-"))

const event = (data: unknown): NewEvent => ({
  type: "Tested",
  data,
  metadata: { actor: "test", source: "test", tenantId: "t1", correlationId: "c1" },
  recordedAt: 1,
  prevHash: "",
  hash: "h",
})
const sealed = (keyId: string, ciphertext: string) => ({
  _tag: "Sealed",
  keyId,
  category: "contact",
  iv: "aXY=",
  ciphertext,
  digest: digestOf(ciphertext),
})
const key = (keyId: string, wrappedKey: string): StoredKey => ({
  keyId,
  tenantId: "t1",
  memberId: "m1",
  category: "contact",
  wrappedKey,
  kekId: "kek-1",
  createdAt: 1,
})
const journalOf = (folder: string) => path.join(folder, "journal.jsonl")
const filesOf = (folder: string) =>
  fs
    .readdirSync(folder)
    .map((file) => fs.readFileSync(path.join(folder, file), "utf8"))
    .join("\n")

describe("json-files adapter: crashes, lock, erasure on disk", () => {
  it("a torn last journal line (a write that never completed) is cut off at open", async () => {
    const folder = freshFolder()
    const store = await jsonFilesStore({ folder })
    await store.events.append({ streamId: "s", expectedVersion: "no_stream", events: [event(1), event(2)] })
    await store.close()
    fs.appendFileSync(journalOf(folder), '{"seq":2,"op":"append","events":[{"posi')
    const again = await jsonFilesStore({ folder })
    expect((await again.events.readStream("s")).map((e) => e.data)).toEqual([1, 2])
    await again.events.append({ streamId: "s", expectedVersion: 2, events: [event(3)] })
    await again.close()
    const third = await jsonFilesStore({ folder })
    expect((await third.events.readStream("s")).map((e) => e.data)).toEqual([1, 2, 3])
    await third.close()
  })

  it("journal lines already in the snapshot (a crash before the journal was emptied) are not applied twice", async () => {
    const folder = freshFolder()
    const store = await jsonFilesStore({ folder })
    await store.events.append({ streamId: "s", expectedVersion: "no_stream", events: [event(1)] })
    await store.close()
    const before = fs.readFileSync(journalOf(folder), "utf8")
    const compacting = await jsonFilesStore({ folder, compactEvery: 1 })
    await compacting.events.append({ streamId: "s", expectedVersion: 1, events: [event(2)] })
    await compacting.close()
    expect(fs.readFileSync(journalOf(folder), "utf8")).toBe("")
    fs.writeFileSync(journalOf(folder), before)
    const again = await jsonFilesStore({ folder })
    expect((await again.events.readAll()).events.map((e) => e.data)).toEqual([1, 2])
    await again.close()
  })

  it("a damaged journal line in the middle refuses to open, with StoreError, rather than guess", async () => {
    const folder = freshFolder()
    fs.writeFileSync(journalOf(folder), 'not json\n{"seq":1}\n')
    await expect(jsonFilesStore({ folder })).rejects.toMatchObject({ _tag: "StoreError", operation: "open" })
    expect(fs.existsSync(path.join(folder, "lock"))).toBe(false)
  })

  it("one open store per folder; a lock left by a process that no longer runs is taken over", async () => {
    const folder = freshFolder()
    const store = await jsonFilesStore({ folder })
    await expect(jsonFilesStore({ folder })).rejects.toMatchObject({ _tag: "StoreError", operation: "open" })
    await store.close()
    fs.writeFileSync(path.join(folder, "lock"), "999999999\n")
    const again = await jsonFilesStore({ folder })
    await again.close()
    expect(fs.existsSync(path.join(folder, "lock"))).toBe(false)
  })

  it("R29: a destroyed key and redacted ciphertexts are in none of the files afterwards", async () => {
    const folder = freshFolder()
    const store = await jsonFilesStore({ folder })
    await store.events.append({
      streamId: "member-m1",
      expectedVersion: "no_stream",
      events: [
        event({ email: sealed("k1", "Q0lQSEVSVEVYVC1PRi1USEUtRU1BSUw="), kept: sealed("k2", "S0VQVA==") }),
      ],
      keys: [key("k1", "V1JBUFBFRC1EQVRBLUtFWQ=="), key("k2", "T1RIRVI=")],
    })
    expect(filesOf(folder)).toContain("Q0lQSEVSVEVYVC1PRi1USEUtRU1BSUw=")
    expect(filesOf(folder)).toContain("V1JBUFBFRC1EQVRBLUtFWQ==")
    await store.keys.destroy("k1", 5)
    expect(await store.events.redact("member-m1", ["k1"])).toBe(1)
    const files = filesOf(folder)
    expect(files).not.toContain("Q0lQSEVSVEVYVC1PRi1USEUtRU1BSUw=")
    expect(files).not.toContain("V1JBUFBFRC1EQVRBLUtFWQ==")
    expect(files).toContain("S0VQVA==")
    await store.close()
  })
})
