/**
 * `--keys`: the CLI on a store whose keys live apart from the log (R42).
 */
import { createLethe, keyringFromSecret } from "@lethe/core"
import { sqliteStore } from "@lethe/store-sqlite"
import { afterAll, describe, expect, it } from "vitest"
import { lethe, workdir } from "./run-cli.js"

const work = workdir()
afterAll(() => work.cleanup())
const secret = "cli keys-apart test secret, at least 32 bytes long"

describe("lethe with --keys (a key store apart from the log)", () => {
  it("R42: audit reads a SQLite log beside its key store file, cross-checking the keys; without --keys the log is refused, never read as keyless", async () => {
    const log = work.path("lethe.db")
    const keys = work.path("lethe-keys.db")
    const app = await createLethe({
      store: sqliteStore({ filename: log, keys: { filename: keys } }),
      keyring: keyringFromSecret(secret),
    })
    await app.register({ tenantId: "gym", personal: { name: "Ada Keys" }, source: { kind: "form" } })
    await app.close()

    const audited = await lethe(["audit", log, "--keys", keys, "--format", "json"], { cwd: work.dir })
    expect(audited.stderr).toBe("")
    expect(audited.code).toBe(0)
    const report = JSON.parse(audited.stdout) as { checks: ReadonlyArray<{ rule: string; checked: boolean }> }
    expect(report.checks.find((c) => c.rule === "log-behind-key-store")?.checked).toBe(true)

    const alone = await lethe(["audit", log], { cwd: work.dir })
    expect(alone.code).toBe(2)
    expect(alone.stderr).toMatch(/keeps its keys in the key store/)
  })
})
