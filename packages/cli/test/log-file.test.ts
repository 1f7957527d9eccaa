/**
 * The log file reader `lethe audit` streams (R35): it reads the file a chunk
 * at a time and takes each chunk's lines without a promise each, so a line
 * may run over the end of one chunk (1 MiB) into the next, or over several.
 * Whatever the line breaks and wherever the chunks end, it yields exactly the
 * events and member lines of the file, as a plain reading of the whole file
 * would.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { LogFileError, logFormat, openLogFile } from "@lethe/cli"
import type { StoredEvent } from "@lethe/core/spi"
import fc from "fast-check"
import { afterAll, describe, expect, it } from "vitest"

const dir = mkdtempSync(join(tmpdir(), "lethe-log-file-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const header = JSON.stringify({
  format: logFormat,
  exportedAt: "2026-01-01T00:00:00.000Z",
  source: "test",
  members: true,
})

const event = (position: number, note: string): StoredEvent => ({
  position,
  streamId: "member-m1",
  version: position,
  type: "ActivityRecorded",
  data: { at: position, note },
  metadata: { actor: "staff", source: "api", tenantId: "club", correlationId: "c" },
  recordedAt: position,
  prevHash: "",
  hash: "",
})

const readAll = async (file: string) => {
  const log = await openLogFile(file)
  const events: Array<StoredEvent> = []
  for await (const e of log.events) events.push(e)
  return { events, log }
}

describe("the log file reader", () => {
  it("R35: yields every event, whatever the line breaks and wherever a chunk ends", async () => {
    let run = 0
    await fc.assert(
      fc.asyncProperty(
        // Notes from a few bytes to more than a chunk; text with characters of 2, 3 and 4 bytes in UTF-8.
        fc.array(
          fc.tuple(
            fc.oneof(
              fc.string({ maxLength: 20 }),
              fc.integer({ min: 1, max: 3 * 2 ** 20 }).map((n) => "é€😀x".repeat(Math.ceil(n / 10))),
            ),
            fc.constantFrom("\n", "\r\n"),
            fc.boolean(),
          ),
          { minLength: 1, maxLength: 6 },
        ),
        fc.boolean(),
        async (lines, trailingBreak) => {
          const events = lines.map(([note], i) => event(i + 1, note))
          let text = `${header}\n`
          for (const [i, [, lineBreak, blankAfter]] of lines.entries()) {
            const last = i === lines.length - 1
            text += JSON.stringify(events[i]) + (last && !trailingBreak ? "" : lineBreak)
            if (blankAfter && !last) text += ` \t${lineBreak}`
          }
          const file = join(dir, `log-${run++}.jsonl`)
          writeFileSync(file, text)
          const { events: read, log } = await readAll(file)
          expect(read).toEqual(events)
          expect(log.progress()).toEqual({ done: Buffer.byteLength(text), total: Buffer.byteLength(text) })
        },
      ),
      { numRuns: 25 },
    )
  })

  it("R35: member lines after the events answer the key and directory cross-checks", async () => {
    const file = join(dir, "members.jsonl")
    const member = {
      memberId: "m1",
      streamVersion: 1,
      keys: [{ keyId: "k1", category: "contact", destroyedAt: "2026-01-02T00:00:00.000Z" }],
    }
    writeFileSync(file, `${header}\n${JSON.stringify(event(1, "x"))}\n${JSON.stringify({ member })}`)
    const { events, log } = await readAll(file)
    expect(events).toHaveLength(1)
    expect(await log.sources.streamVersion?.("m1")).toBe(1)
    expect(await log.sources.keys?.listForMember("m1")).toEqual([
      {
        _tag: "Destroyed",
        tombstone: {
          keyId: "k1",
          tenantId: "",
          memberId: "m1",
          category: "contact",
          destroyedAt: Date.parse(member.keys[0]?.destroyedAt as string),
        },
      },
    ])
  })

  it("R35: a line that is not JSON, after a chunk's end, names its line number", async () => {
    const file = join(dir, "broken.jsonl")
    const long = JSON.stringify(event(1, "y".repeat(2 ** 20 + 5)))
    writeFileSync(file, `${header}\n${long}\n\n{oops\n`)
    await expect(readAll(file)).rejects.toThrow(LogFileError)
    await expect(readAll(file)).rejects.toThrow(/line 4: not JSON/)
  })
})
