/**
 * A process killed between a purge's event and its key destruction leaves a
 * purged member with live keys; the next retention run finishes the job
 * (R29). Real processes, a real SQLite file.
 */
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { createLethe, keyringFromSecret } from "@lethe/core"
import { auditLog, auditSourcesOf } from "@lethe/core/audit"
import { wholeLog } from "@lethe/testkit/fixtures"
import { describe, expect, it } from "vitest"
import { freshFile, open } from "./fixtures.js"

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url))
const worker = fileURLToPath(new URL("./workers/interrupted-purge.ts", import.meta.url))
const secret = "interrupted purge test secret, 32 bytes or more"

describe("R40: an erasure interrupted by a killed process is finished by the next retention run", () => {
  it("R40: SIGKILL between Purged and the keys: the member is purged with live keys; runRetention destroys them and the audit is clean", async () => {
    const filename = freshFile("interrupted.db")
    const child = spawnSync(
      process.execPath,
      ["--conditions=@lethe/source", "--import", "tsx", worker, filename, secret],
      { cwd: repoRoot, encoding: "utf8", timeout: 120_000 },
    )
    expect(child.signal, child.stderr).toBe("SIGKILL")
    const memberId = child.stdout.split("\n")[0] ?? ""
    expect(child.stdout).not.toMatch(/not interrupted/)

    const store = open(filename)
    const liveKeys = async () => (await store.keys.listForMember(memberId)).filter((e) => e._tag === "Live")
    expect((await store.directory.get(memberId))?.status).toBe("purged")
    expect((await liveKeys()).length).toBeGreaterThan(0)
    const asOf = new Date(Date.parse("2026-03-10T00:00:00Z"))
    const before = await auditLog(await wholeLog(store), { ...auditSourcesOf(store), asOf })
    expect(before.findings.find((f) => f.rule === "keys-destroyed")?.message).toMatch(
      /finish the erasure with purge/,
    )

    const lethe = await createLethe({ store, keyring: keyringFromSecret(secret), clock: () => asOf })
    const report = await lethe.runRetention()
    expect(report.executed).toMatchObject([{ memberId, rule: "finish-erasure" }])
    expect(await liveKeys()).toEqual([])
    await lethe.close()

    const reopened = open(filename)
    const after = await auditLog(await wholeLog(reopened), { ...auditSourcesOf(reopened), asOf })
    expect(after.findings).toEqual([])
    await reopened.close()
  })
})
