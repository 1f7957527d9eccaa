/**
 * Cost of sealing: one value sealed and opened (AES-256-GCM), and one
 * `PersonalDataRecorded` event encoded and decoded through the sealing codec
 * with its key cached for the operation, as the service does it.
 *
 * Not part of `npm run bench`; run it alone with `npm run sealing -w @lethe/bench`.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { keyringFromSecret } from "@lethe/core"
import type { MemberEvent } from "@lethe/core/domain"
import { memoryStore } from "@lethe/store-memory"
import { Effect } from "effect"
import { seal, unseal } from "../../packages/core/src/sealing/seal.js"
import { sealingCodec } from "../../packages/core/src/sealing/sealing-codec.js"
import { machine } from "./machine.js"
import { summarize } from "./measure.js"

const rounds = 7
const perRound = 5_000

const timeRound = async (work: (i: number) => Promise<void> | void): Promise<number> => {
  const start = process.hrtime.bigint()
  for (let i = 0; i < perRound; i++) await work(i)
  return Number(process.hrtime.bigint() - start) / 1_000 / perRound // µs per operation
}

const measure = async (work: (i: number) => Promise<void> | void) => {
  await timeRound(work) // warm-up
  const samples: Array<number> = []
  for (let r = 0; r < rounds; r++) samples.push(await timeRound(work))
  return summarize(samples)
}

const main = async () => {
  const key = new Uint8Array(32).fill(1)
  const place = { streamId: "member-x", version: 2, path: "fields.email" }
  const sealValue = await measure(() => {
    seal(key, "k", "contact", "anna.kowalska@example.org", place)
  })
  const sealed = seal(key, "k", "contact", "anna.kowalska@example.org", place)
  const openValue = await measure(() => {
    unseal(key, sealed, place)
  })

  const codec = sealingCodec(
    memoryStore().keys,
    keyringFromSecret("bench secret, thirty-two bytes or more"),
  ).session()
  const event: MemberEvent = {
    _tag: "PersonalDataRecorded",
    at: 1_700_000_000_000,
    category: "contact",
    fields: { email: "anna.kowalska@example.org", phone: "+48 600 100 200" },
    source: { kind: "form" },
  }
  const where = {
    streamId: "member-m1",
    version: 2,
    tenantId: "t",
    memberId: "m1",
    recordedAt: 1_700_000_000_000,
  }
  const encoded = await Effect.runPromise(codec.encode(event, where))
  const stored = {
    ...where,
    position: 2,
    type: event._tag,
    data: encoded,
    metadata: { actor: "a", source: "form", tenantId: "t", correlationId: "c" },
    prevHash: "",
    hash: "",
  }
  const encodeEvent = await measure(() => Effect.runPromise(codec.encode(event, where)).then(() => undefined))
  const decodeEvent = await measure(() => Effect.runPromise(codec.decode(stored)).then(() => undefined))

  const result = {
    benchmark: "sealing",
    date: new Date().toISOString(),
    machine: machine(),
    unit: "µs per operation",
    cases: {
      "seal one value": sealValue,
      "open one value": openValue,
      "encode PersonalDataRecorded (2 fields)": encodeEvent,
      "decode PersonalDataRecorded (2 fields)": decodeEvent,
    },
  }
  const out = join(
    dirname(fileURLToPath(import.meta.url)),
    "..",
    "results",
    `sealing-${result.date.slice(0, 10)}.json`,
  )
  mkdirSync(dirname(out), { recursive: true })
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`)
  for (const [name, s] of Object.entries(result.cases))
    process.stdout.write(
      `${name.padEnd(42)} median ${s.median.toFixed(2)} µs (min ${s.min.toFixed(2)}, max ${s.max.toFixed(2)})\n`,
    )
  process.stdout.write(`written to ${out}\n`)
}

void main()
