/**
 * The JSON-files adapter at work under `createLethe`: members written, the
 * folder closed and opened again (as after a restart), a second opener
 * refused, and a purge that leaves no personal string in the files.
 *
 * Run it with `npm start -w @lethe-examples/custom-adapter`; its conformance
 * run is `test/conformance.test.ts`. The folder is temporary and removed at the
 * end (set `JSON_FILES_FOLDER` to keep it).
 */
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import type { Actor, LetheClient } from "@lethe/core"
import { createLethe, keyringFromSecret } from "@lethe/core"
import { jsonFilesStore } from "./index.js"

/** For the example only: a real deployment reads 32+ random bytes from its secret store. */
const secret = "custom adapter example secret, never use it for real data"
const admin: Actor = { id: "staff:admin", roles: ["admin"] }
const day = 86_400_000

/** The folder's files with their size, and whether any holds one of `needles`. */
const inspect = (folder: string, needles: ReadonlyArray<string>) => {
  const files = fs.readdirSync(folder).sort()
  const contents = files.map((file) => fs.readFileSync(path.join(folder, file), "utf8"))
  return {
    listing: files.map((file, i) => `${file} (${Buffer.byteLength(contents[i] ?? "")} bytes)`).join(", "),
    found: needles.filter((needle) => contents.some((content) => content.includes(needle))),
  }
}

const main = async (say: (line: string) => void): Promise<void> => {
  const kept = process.env.JSON_FILES_FOLDER
  const folder = kept ?? fs.mkdtempSync(path.join(os.tmpdir(), "lethe-json-files-"))
  let now = new Date("2026-05-04T10:00:00Z").getTime()
  const open = async (): Promise<LetheClient> =>
    createLethe({
      store: await jsonFilesStore({ folder }),
      keyring: keyringFromSecret(secret),
      clock: () => new Date(now),
    })
  const anna = { name: "Anna Example-Person", email: "anna.person@example.org" }

  try {
    say("A third party's adapter: the whole store as JSON files in one folder")
    let lethe = await open()
    const { memberId } = await lethe.register({ tenantId: "crm", personal: anna, source: "form" })
    await lethe.giveConsent(memberId, { purpose: "newsletter", method: "double-opt-in", source: "form" })
    const { messageId } = await lethe.sendMessage(memberId, {
      purpose: "newsletter",
      channel: "email",
      sentBy: "campaign:may",
    })
    say(`registered Anna, her consent and a newsletter through createLethe over jsonFilesStore`)
    say(`files: ${inspect(folder, []).listing}`)
    // Each journal line is one commit: the events as stored, and the directory row written with them.
    const commits = fs
      .readFileSync(path.join(folder, "journal.jsonl"), "utf8")
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as { events?: unknown; member?: unknown })
    const inClear = (part: "events" | "member") =>
      commits.some((commit) => JSON.stringify(commit[part] ?? null).includes(anna.email))
    say(
      `her e-mail in clear in the stored events: ${inClear("events") ? "yes (unexpected!)" : "no, sealed"}; ` +
        `in her directory row: ${inClear("member") ? "yes, for look-ups while she is active" : "no"}`,
    )

    await jsonFilesStore({ folder }).then(
      async (second) => {
        await second.close()
        say("a second store on the same folder: opened (unexpected!)")
      },
      (error: { _tag?: string; message?: string }) =>
        say(`a second store on the same folder while it is open: refused, ${error._tag} (${error.message})`),
    )
    await lethe.close()

    lethe = await open()
    const found = await lethe.findByEmail("crm", anna.email)
    const view = await lethe.get(memberId)
    say(
      `after a restart (folder opened again): findByEmail finds the same member ${found?.memberId === memberId}, ` +
        `name "${view.personal.name}", consent ${view.consents.map((c) => `${c.purpose} by ${c.method}`).join(", ")}`,
    )

    await lethe.forget(memberId, { actor: admin })
    const forgotten = inspect(folder, [anna.name, anna.email])
    say(
      `R1 forgotten: her name or e-mail in clear in the files: ${forgotten.found.length === 0 ? "nowhere" : forgotten.found.join(", ")} ` +
        `(the journal lines that held her directory row went into a new snapshot); files: ${forgotten.listing}`,
    )
    now += 8 * day
    const report = await lethe.runRetention()
    const purged = report.executed.find((e) => e.memberId === memberId)
    say(
      `R29 forgotten, and 8 days later purged by the retention run: ${purged?.erasure?.keyIdsDestroyed.length ?? 0} keys destroyed, ` +
        `${purged?.erasure?.sealedValuesRemoved ?? 0} sealed values redacted`,
    )
    await lethe.close()
    const after = inspect(folder, [anna.name, anna.email, memberId])
    say(`files: ${after.listing}`)
    say(
      `R29 her name or e-mail anywhere in the files: ${after.found.filter((f) => f !== memberId).length === 0 ? "nowhere" : after.found.join(", ")}; ` +
        `the pseudonymous member id stays: ${after.found.includes(memberId)}`,
    )

    lethe = await open()
    const proof = await lethe.proveMessage(messageId)
    say(
      `R3 reopened once more: the May newsletter is still proven: ${proof.lawfulBasis.basis} given by ${proof.lawfulBasis.method}, ` +
        `member ${proof.memberStatus}`,
    )
    await lethe.close()
  } finally {
    if (kept === undefined) fs.rmSync(folder, { recursive: true, force: true })
  }
}

main((line) => process.stdout.write(`${line}\n`)).catch((error: unknown) => {
  process.stderr.write(
    `custom-adapter failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  )
  process.exitCode = 1
})
