/**
 * Speed and memory of the audit (issue 7, DESIGN §5): a log of 1,000,000
 * events is generated as a `lethe export-log` file (realistic events of
 * 40,000 members, interleaved in time, with sealed and erased values and
 * valid hash chains), then audited in a fresh process the way `lethe audit
 * log.jsonl` does it, reporting events per second and peak memory. RSS is
 * sampled as the replay goes, to show memory stays flat as events grow once
 * every member has appeared.
 *
 * Usage: node --conditions=@lethe/source --import tsx bench/audit.bench.ts [events]
 */
import { execFileSync } from "node:child_process"
import { createHash, randomBytes } from "node:crypto"
import { once } from "node:events"
import { createWriteStream, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import os, { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { openLogFile } from "@lethe/cli"
import type { EventMetadata, StoredEvent } from "@lethe/core"
import { auditLog, dataKeyId, dayMs, hashEvent } from "@lethe/core"
import { machine } from "./machine.js"

const members = 40_000
const start = Date.UTC(2025, 0, 1, 8)

/** A pool of ciphertexts with their digests: sealing a million values for real would measure sealing, not the audit. */
const pool = Array.from({ length: 4096 }, () => {
  const ciphertext = randomBytes(24 + Math.floor(Math.random() * 24)).toString("base64")
  return { ciphertext, digest: createHash("sha256").update(Buffer.from(ciphertext, "base64")).digest("hex") }
})
let drawn = 0
const sealed = (memberId: string, category: string, erased: boolean) => {
  const { ciphertext, digest } = pool[drawn++ % pool.length] as (typeof pool)[number]
  return erased
    ? { _tag: "Erased", category, digest }
    : {
        _tag: "Sealed",
        keyId: dataKeyId(memberId, category as "contact"),
        category,
        iv: "AAAAAAAAAAAAAAAA",
        ciphertext,
        digest,
      }
}

type Kind = "active" | "unsubscribes" | "forgotten" | "anonymized"
const kindOf = (i: number): Kind => {
  const k = i % 10
  return k < 7 ? "active" : k === 7 ? "unsubscribes" : k === 8 ? "forgotten" : "anonymized"
}

/** The data of member `i`'s event on day `j`, or undefined when the member has no more events. */
const eventOf = (
  i: number,
  memberId: string,
  j: number,
  at: number,
): { type: string; data: object } | undefined => {
  const kind = kindOf(i)
  const erased = kind === "forgotten" || kind === "anonymized"
  const consentAt = start + 3 * dayMs + i * 1000
  const message = () => ({
    type: "MessageSent",
    data: {
      at,
      messageId: `${memberId}-m${j}`,
      purpose: "newsletter",
      channel: "email",
      sentBy: "campaign:weekly",
      test: false,
      lawfulBasis: {
        basis: "consent",
        consentGivenAt: consentAt,
        method: "double-opt-in",
        wordingVersion: "v1",
      },
    },
  })
  const activity = () => ({
    type: "ActivityRecorded",
    data: { at, kind: "page-view", clubId: null, details: { page: sealed(memberId, "activity", erased) } },
  })
  const purchase = () => ({
    type: "PurchaseRecorded",
    data: { at, purchaseId: `p${j}`, amount: 1_999, paid: true },
  })
  switch (j) {
    case 0:
      return { type: "MemberRegistered", data: { at, memberId, tenantId: "shop", source: { kind: "form" } } }
    case 1:
      return {
        type: "PersonalDataRecorded",
        data: {
          at,
          category: "identity",
          fields: { name: sealed(memberId, "identity", erased) },
          source: { kind: "form" },
        },
      }
    case 2:
      return {
        type: "PersonalDataRecorded",
        data: {
          at,
          category: "contact",
          fields: { email: sealed(memberId, "contact", erased), phone: sealed(memberId, "contact", erased) },
          source: { kind: "form" },
        },
      }
    case 3:
      return {
        type: "ConsentGiven",
        data: {
          at,
          purpose: "newsletter",
          basis: "consent",
          explicit: false,
          method: "double-opt-in",
          wordingVersion: "v1",
          source: { kind: "form", tag: "footer" },
          givenAt: at,
        },
      }
    default:
      break
  }
  if (kind === "forgotten") {
    if (j === 10)
      return {
        type: "ErasureRequested",
        data: { at, requestId: `${memberId}-r`, receivedAt: at, dueBy: at + 30 * dayMs, via: "email" },
      }
    if (j === 12)
      return { type: "Forgotten", data: { at, restorableUntil: at + 7 * dayMs, requestId: `${memberId}-r` } }
    if (j === 20) return { type: "Purged", data: { at } }
    if (j > 12) return undefined
  }
  if (kind === "anonymized") {
    if (j === 5)
      return {
        type: "ContractSigned",
        data: { at, contractId: "c1", clubId: "club-a", startsAt: at, endsAt: null },
      }
    if (j === 6) return { type: "WalletCredited", data: { at, amount: 5_000 } }
    if (j === 8) return { type: "WalletDebited", data: { at, amount: 5_000 } }
    if (j === 9) return { type: "ContractEnded", data: { at, contractId: "c1" } }
    if (j === 11)
      return {
        type: "Anonymized",
        data: {
          at,
          erasedCategories: ["activity", "contact", "identity"],
          keptCategories: [],
          policyId: null,
          requestId: null,
        },
      }
    if (j > 11) return undefined
  }
  if (kind === "unsubscribes" && j === 7)
    return { type: "Unsubscribed", data: { at, purpose: "newsletter", via: "link" } }
  const unsubscribed = kind === "unsubscribes" && j > 7
  switch (j % 5) {
    case 0:
      return unsubscribed ? activity() : message()
    case 1:
      return purchase()
    default:
      return activity()
  }
}

/** Writes `total` events of the members, day by day, each day every member once, as a log file. */
const generate = async (file: string, total: number) => {
  const out = createWriteStream(file)
  const write = async (line: string) => {
    if (!out.write(`${line}\n`)) await once(out, "drain")
  }
  await write(
    JSON.stringify({
      format: "lethe-log/1",
      exportedAt: new Date().toISOString(),
      source: "bench",
      members: true,
    }),
  )
  const ids = Array.from({ length: members }, (_, i) => `0190${i.toString(16).padStart(8, "0")}-bench-member`)
  const heads = ids.map(() => ({ version: 0, hash: "" }))
  let position = 0
  for (let j = 0; position < total; j++) {
    let wrote = false
    for (let i = 0; i < members && position < total; i++) {
      const memberId = ids[i] as string
      const at = start + j * dayMs + i * 1000
      const event = eventOf(i, memberId, j, at)
      if (event === undefined) continue
      wrote = true
      const head = heads[i] as { version: number; hash: string }
      const metadata: EventMetadata = {
        actor: "staff:bench",
        source: "form",
        tenantId: "shop",
        correlationId: `${memberId}-${j}`,
      }
      const unhashed = {
        position: ++position,
        streamId: `member-${memberId}`,
        version: head.version + 1,
        type: event.type,
        data: event.data,
        metadata,
        recordedAt: at,
        prevHash: head.hash,
      }
      const stored: StoredEvent = { ...unhashed, hash: hashEvent(head.hash, unhashed) }
      heads[i] = { version: stored.version, hash: stored.hash }
      await write(JSON.stringify(stored))
    }
    if (!wrote) throw new Error(`members ran out of events at ${position}`)
  }
  for (const [i, memberId] of ids.entries()) {
    const kind = kindOf(i)
    const destroyedAt = kind === "active" || kind === "unsubscribes" ? null : new Date(start).toISOString()
    const keys = ["identity", "contact", "activity"].map((category) => ({
      keyId: dataKeyId(memberId, category as "contact"),
      category,
      destroyedAt,
    }))
    await write(JSON.stringify({ member: { memberId, streamVersion: heads[i]?.version ?? 0, keys } }))
  }
  out.end()
  await once(out, "finish")
  return { events: position, lastAt: start + Math.ceil(position / members) * dayMs }
}

/** The measured run, in a fresh process so that its peak memory is the audit's own. */
const auditChild = async (file: string, asOf: number) => {
  const samples: Array<{ events: number; rssMiB: number; heapUsedMiB: number }> = []
  const log = await openLogFile(file)
  const startedAt = process.hrtime.bigint()
  const cpuBefore = process.cpuUsage()
  const report = await auditLog(log.events, {
    ...log.sources,
    asOf: new Date(asOf),
    progressEvery: 100_000,
    onProgress: (p) => {
      const memory = process.memoryUsage()
      samples.push({ events: p.events, rssMiB: memory.rss / 2 ** 20, heapUsedMiB: memory.heapUsed / 2 ** 20 })
    },
  })
  const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9
  const cpu = process.cpuUsage(cpuBefore)
  const cpuSeconds = (cpu.user + cpu.system) / 1e6
  process.stdout.write(
    JSON.stringify({
      seconds,
      cpuSeconds,
      eventsPerSecond: report.summary.events / seconds,
      eventsPerCpuSecond: report.summary.events / cpuSeconds,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      samples,
      summary: report.summary,
      clean: report.clean,
      firstFindings: report.findings.slice(0, 3),
    }),
  )
}

const main = async () => {
  const [mode, ...rest] = process.argv.slice(2)
  if (mode === "--child") return auditChild(rest[0] as string, Number(rest[1]))
  const total = Number(mode ?? 1_000_000)
  const file = join(tmpdir(), `lethe-audit-bench-${process.pid}.jsonl`)
  try {
    const loadAverage = os.loadavg().map((l) => Math.round(l * 100) / 100)
    const generatedAt = process.hrtime.bigint()
    const { events, lastAt } = await generate(file, total)
    const generateSeconds = Number(process.hrtime.bigint() - generatedAt) / 1e9
    const bytes = statSync(file).size
    process.stdout.write(
      `generated ${events} events (${(bytes / 2 ** 20).toFixed(0)} MiB) in ${generateSeconds.toFixed(1)} s\n`,
    )
    const require = createRequire(import.meta.url)
    const output = execFileSync(
      process.execPath,
      [
        "--conditions=@lethe/source",
        "--import",
        pathToFileURL(require.resolve("tsx")).href,
        fileURLToPath(import.meta.url),
        "--child",
        file,
        String(lastAt + dayMs),
      ],
      { encoding: "utf8", maxBuffer: 1 << 26 },
    )
    const measured = JSON.parse(output) as {
      seconds: number
      cpuSeconds: number
      eventsPerSecond: number
      eventsPerCpuSecond: number
      peakRssMiB: number
      samples: ReadonlyArray<{ events: number; rssMiB: number; heapUsedMiB: number }>
      summary: { events: number; streams: number; findings: number }
      clean: boolean
      firstFindings: ReadonlyArray<unknown>
    }
    if (!measured.clean)
      throw new Error(`the generated log did not audit clean: ${JSON.stringify(measured.firstFindings)}`)
    const date = new Date().toISOString()
    const result = {
      benchmark: "audit",
      date,
      machine: machine(),
      log: { events, members, bytes, source: "lethe-log/1 file (the path of `lethe audit log.jsonl`)" },
      generateSeconds,
      audit: {
        seconds: measured.seconds,
        cpuSeconds: measured.cpuSeconds,
        eventsPerSecond: Math.round(measured.eventsPerSecond),
        // Wall time depends on what else the machine runs; CPU time much less.
        eventsPerCpuSecond: Math.round(measured.eventsPerCpuSecond),
        loadAverageAtStart: loadAverage,
        peakRssMiB: Math.round(measured.peakRssMiB),
        clean: measured.clean,
        memoryAsEventsGrow: measured.samples.map((s) => ({
          events: s.events,
          rssMiB: Math.round(s.rssMiB),
          heapUsedMiB: Math.round(s.heapUsedMiB),
        })),
      },
    }
    const out = join(dirname(fileURLToPath(import.meta.url)), "results", `audit-${date.slice(0, 10)}.json`)
    mkdirSync(dirname(out), { recursive: true })
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`)
    process.stdout.write(
      `audited ${measured.summary.events} events of ${measured.summary.streams} streams in ${measured.seconds.toFixed(1)} s (${measured.cpuSeconds.toFixed(1)} s of CPU): ${result.audit.eventsPerSecond} events/s (${result.audit.eventsPerCpuSecond} per CPU second), peak RSS ${result.audit.peakRssMiB} MiB\n`,
    )
    for (const s of result.audit.memoryAsEventsGrow)
      process.stdout.write(
        `  at ${String(s.events).padStart(9)} events: RSS ${s.rssMiB} MiB, heap ${s.heapUsedMiB} MiB\n`,
      )
    process.stdout.write(`written to ${out}\n`)
  } finally {
    rmSync(file, { force: true })
  }
}

void main()
