/**
 * Scale-out on PostgreSQL (issue 21): N application processes, each with its
 * own `pg` Pool and its own `createLethe`, open one new schema at once (racing
 * its creation and migration), then register members, race for the same
 * e-mails and record visits on the members they share. PostgreSQL, not a
 * home-made cluster, keeps the guarantees: one global order (positions
 * strictly increasing, each stream's versions 1..n), one member per e-mail
 * per tenant, and nothing lost: every command a process saw succeed is in the
 * log exactly once, and nothing else is. Real server only (PGlite is one
 * connection in one process).
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { createLethe, keyringFromSecret } from "@lethe/core"
import type { StoredEvent } from "@lethe/core/spi"
import { readAllEvents } from "@lethe/core/spi"
import { postgresStore } from "@lethe/store-postgres"
import { describe, expect, it } from "vitest"
import { noServerReason, serverDatabase, serverUrl } from "./fixtures.js"

const processes = 4
const sharedEmails = 20
const ownMembers = 30
const visits = 60
const repoRoot = fileURLToPath(new URL("../../..", import.meta.url))
const writer = fileURLToPath(new URL("./workers/writer.ts", import.meta.url))
const keyring = keyringFromSecret("store-postgres multi-process test secret, long enough")

interface Outcome {
  readonly process: number
  readonly own: ReadonlyArray<string>
  readonly emailsWon: ReadonlyArray<string>
  readonly emailsTaken: number
  readonly visits: ReadonlyArray<string>
  readonly failures: ReadonlyArray<string>
}

/** Runs one writer process; resolves with the outcome it printed. */
const runWriter = (args: ReadonlyArray<string>): Promise<Outcome> =>
  new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--conditions=@lethe/source", "--import", "tsx", writer, ...args],
      {
        cwd: repoRoot,
        stdio: ["ignore", "pipe", "pipe"],
      },
    )
    let out = ""
    let err = ""
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString()
    })
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString()
    })
    child.on("error", reject)
    child.on("close", (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split("\n").at(-1) ?? "{}"))
        : reject(new Error(`writer exited ${code}: ${err}`)),
    )
  })

describe.skipIf(serverUrl === undefined)(
  `postgres store: ${processes} application processes${serverUrl === undefined ? ` [skipped: ${noServerReason}]` : ""}`,
  () => {
    it(`C: ${processes} processes on one new schema keep one global order, one member per e-mail, and lose nothing`, async () => {
      const database = serverDatabase(serverUrl ?? "", 4)
      const schema = database.freshSchema()
      // First round: the processes race the schema's creation and migration, their own registrations
      // and the same e-mails.
      const outcomes = await Promise.all(
        Array.from({ length: processes }, (_, n) =>
          runWriter([
            serverUrl ?? "",
            schema,
            String(n),
            String(sharedEmails),
            String(ownMembers),
            String(visits),
            "",
          ]),
        ),
      )
      // A second round, on members all processes share, now that the schema exists.
      const lethe = await createLethe({
        store: await postgresStore({ pool: database.pool, schema }),
        keyring,
      })
      const shared = [outcomes[0]?.own[0], outcomes[1]?.own[0]].filter((id): id is string => id !== undefined)
      const visitsRound = await Promise.all(
        Array.from({ length: processes }, (_, n) =>
          runWriter([
            serverUrl ?? "",
            schema,
            String(n + processes),
            "0",
            "0",
            String(visits),
            shared.join(","),
          ]),
        ),
      )
      const all = [...outcomes, ...visitsRound]
      expect(all.flatMap((o) => o.failures)).toEqual([])

      // One member per e-mail: each shared e-mail won by exactly one process, refused to the others.
      const won = outcomes.flatMap((o) => o.emailsWon)
      expect(won.sort()).toEqual(
        Array.from({ length: sharedEmails }, (_, i) => `shared-${i}@example.org`).sort(),
      )
      expect(outcomes.reduce((n, o) => n + o.emailsTaken, 0)).toBe(sharedEmails * (processes - 1))
      for (let i = 0; i < sharedEmails; i++)
        expect(await lethe.findByEmail("gym", `shared-${i}@example.org`), `shared-${i}`).not.toBeNull()

      const log: Array<StoredEvent> = []
      for await (const event of readAllEvents((await postgresStore({ pool: database.pool, schema })).events, {
        pageSize: 97,
      }))
        log.push(event)
      await lethe.close()
      // One global order: positions strictly increase; each stream's versions are 1..n.
      for (let i = 1; i < log.length; i++) expect(log[i]?.position).toBeGreaterThan(log[i - 1]?.position ?? 0)
      const streams = new Map<string, Array<number>>()
      for (const event of log)
        streams.set(event.streamId, [...(streams.get(event.streamId) ?? []), event.version])
      for (const [streamId, versions] of streams)
        expect(versions, streamId).toEqual(versions.map((_, i) => i + 1))
      // Nothing lost, nothing extra: every registration (its MemberRegistered) and every visit reported
      // is in the log once.
      const members = log
        .filter((e) => e.type === "MemberRegistered")
        .map((e) => e.streamId.replace(/^member-/, ""))
      expect(members.length).toBe(new Set(members).size)
      expect(members.length).toBe(won.length + outcomes.reduce((n, o) => n + o.own.length, 0))
      const clubs = log
        .filter((e) => e.type === "ActivityRecorded")
        .map((e) => String((e.data as { clubId?: unknown }).clubId))
      expect(clubs.sort()).toEqual(visitsRound.flatMap((o) => o.visits).sort())
      expect(clubs.length).toBe(processes * visits)
    }, 240_000)
  },
)
