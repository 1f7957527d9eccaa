/**
 * The network's monthly statistics as a Lethe projection on the SQLite file
 * (R36): active members per month (members who came to a club at least once
 * that month) and visits per club per month.
 *
 * The projection's tables hold member ids, clubs and months, never a
 * personal value: a member id is the pseudonym that outlives erasure (R3),
 * so the counts stay right after members are anonymized or purged, and a
 * rebuild from the log (where their activity details are erased) gives the
 * same counts. It is inline: Lethe applies it in the transaction of every
 * append, so the statistics never lag behind the log.
 *
 * @module
 */
import type { Projection } from "@lethe/core"
import type Database from "better-sqlite3"

/** The month of a time, `YYYY-MM` (UTC). */
const monthOf = (at: number): string => new Date(at).toISOString().slice(0, 7)

/** Who came to a club, and how often, per month. */
export const monthlyStats: Projection<Database.Database> = {
  name: "gym-monthly-stats",
  inline: true,
  setup: (db) => {
    db.exec(`
      CREATE TABLE IF NOT EXISTS stats_active_members (
        month TEXT NOT NULL, member_id TEXT NOT NULL, PRIMARY KEY (month, member_id)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS stats_visits (
        month TEXT NOT NULL, club_id TEXT NOT NULL, visits INTEGER NOT NULL, PRIMARY KEY (month, club_id)
      ) WITHOUT ROWID;
    `)
  },
  apply: ({ memberId, event }, db) => {
    switch (event._tag) {
      case "ActivityRecorded": {
        if (event.kind !== "visit" && event.kind !== "class") return
        const month = monthOf(event.at)
        db.prepare("INSERT OR IGNORE INTO stats_active_members (month, member_id) VALUES (?, ?)").run(
          month,
          memberId,
        )
        if (event.clubId !== null)
          db.prepare(
            `INSERT INTO stats_visits (month, club_id, visits) VALUES (?, ?, 1)
             ON CONFLICT (month, club_id) DO UPDATE SET visits = visits + 1`,
          ).run(month, event.clubId)
        return
      }
      // Nothing personal is kept here, so erasure drops nothing: the pseudonymous member id and the
      // counts are the statistics anonymization keeps (R19). A projection that copied a name or an
      // e-mail would delete them here, on Forgotten, Purged and Anonymized (docs/gdpr.md).
      case "Forgotten":
      case "Purged":
      case "Anonymized":
        return
      default:
        return
    }
  },
  reset: (db) => {
    db.exec("DELETE FROM stats_active_members; DELETE FROM stats_visits;")
  },
}

/** One month of the statistics. */
export interface MonthStats {
  readonly month: string
  readonly activeMembers: number
  /** Visits per club that month. */
  readonly visits: Readonly<Record<string, number>>
}

/** The statistics, month by month, read from the projection's tables. */
export const readMonthlyStats = (db: Database.Database): ReadonlyArray<MonthStats> => {
  const active = db
    .prepare<[], { month: string; n: number }>(
      "SELECT month, count(*) AS n FROM stats_active_members GROUP BY month ORDER BY month",
    )
    .all()
  const visits = db
    .prepare<[], { month: string; club_id: string; visits: number }>(
      "SELECT month, club_id, visits FROM stats_visits ORDER BY month, club_id",
    )
    .all()
  return active.map(({ month, n }) => ({
    month,
    activeMembers: n,
    visits: Object.fromEntries(visits.filter((v) => v.month === month).map((v) => [v.club_id, v.visits])),
  }))
}
