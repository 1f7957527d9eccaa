import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import type { Actor } from "@lethe/core"
import { createLethe, keyringFromSecret } from "@lethe/core"
import { sqliteStore } from "@lethe/store-sqlite"
import type Database from "better-sqlite3"
import { afterEach, describe, expect, it } from "vitest"
import { monthlyStats, readMonthlyStats } from "../src/monthly-stats.js"

const manager: Actor = { id: "staff:ola", roles: ["admin"] }
const dirs: Array<string> = []
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

describe("examples/gym-club: monthly statistics as a SQLite projection (R36)", () => {
  it("R36: active members per month and visits per club per month stay right after members are anonymized, and after a rebuild", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lethe-gym-stats-"))
    dirs.push(dir)
    let now = Date.UTC(2024, 0, 10, 9)
    const lethe = await createLethe({
      store: sqliteStore({ filename: path.join(dir, "fitnet.db") }),
      keyring: keyringFromSecret("gym-club monthly statistics test secret, not for real data"),
      clock: () => new Date(now),
      projections: [monthlyStats],
    })
    const stats = () =>
      lethe.readProjection("gym-monthly-stats", (db: Database.Database) => readMonthlyStats(db))
    try {
      const members: Array<string> = []
      for (const name of ["Marta", "Ewa", "Tomasz"])
        members.push(
          (
            await lethe.register({
              tenantId: "fitnet",
              personal: { name, email: `${name.toLowerCase()}@example.pl` },
              source: "staff",
            })
          ).memberId,
        )
      const [marta, ewa, tomasz] = members as [string, string, string]
      // January: Marta twice in Warsaw and a class in Kraków, Ewa once in Kraków.
      await lethe.recordActivity(marta, { kind: "visit", clubId: "warsaw-centre" })
      await lethe.recordActivity(marta, { kind: "visit", clubId: "warsaw-centre" })
      await lethe.recordActivity(marta, {
        kind: "class",
        clubId: "krakow-old-town",
        details: { class: "yoga" },
      })
      await lethe.recordActivity(ewa, { kind: "visit", clubId: "krakow-old-town" })
      // February: all three, Tomasz in Gdańsk.
      now = Date.UTC(2024, 1, 5, 9)
      await lethe.recordActivity(marta, { kind: "visit", clubId: "warsaw-centre" })
      await lethe.recordActivity(ewa, { kind: "visit", clubId: "warsaw-centre" })
      await lethe.recordActivity(tomasz, { kind: "visit", clubId: "gdansk-port" })
      await lethe.recordActivity(tomasz, { kind: "page-view", details: { page: "/timetable" } })

      const expected = [
        { month: "2024-01", activeMembers: 2, visits: { "krakow-old-town": 2, "warsaw-centre": 2 } },
        { month: "2024-02", activeMembers: 3, visits: { "gdansk-port": 1, "warsaw-centre": 2 } },
      ]
      // Inline: right after the appends, without a catch-up.
      expect(await stats()).toEqual(expected)
      expect((await lethe.projectionStatus("gym-monthly-stats")).lag).toBe(0)

      now = Date.UTC(2024, 2, 1, 9)
      await lethe.anonymize(marta, { actor: manager, confirmEmail: "marta@example.pl" })
      await lethe.anonymize(tomasz, { actor: manager, confirmEmail: "tomasz@example.pl" })
      expect((await lethe.get(marta)).status).toBe("anonymized")
      expect(await stats(), "the counts after anonymization").toEqual(expected)

      // Rebuilt from the log, where the anonymized members' details are erased: the same counts.
      await lethe.rebuildProjection("gym-monthly-stats")
      expect(await stats(), "the counts after a rebuild").toEqual(expected)
    } finally {
      await lethe.close()
    }
  })
})
