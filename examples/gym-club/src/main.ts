/**
 * A club network (one tenant, three clubs) on a SQLite file: a member whose
 * anonymization is refused with every reason at once, the monthly policy
 * "anonymize 24 months after the contract ended" run as a job that opens the
 * file each month, reminders that do not block, and invoices that keep name
 * and address after anonymization until their own retention ends.
 *
 * Run it with `npm start -w @lethe-examples/gym-club`. The file lives in a
 * temporary directory removed at the end (set `GYM_CLUB_DB` to keep it).
 */
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import type { Actor, LetheClient, LetheConfig, RetentionReport } from "@lethe/core"
import { anonymizeAfterContractEnd, createLethe, keyringFromSecret, verifyReceipt } from "@lethe/core"
import { sqliteStore } from "@lethe/store-sqlite"
import type Database from "better-sqlite3"
import { monthlyStats, readMonthlyStats } from "./monthly-stats.js"

/** For the example only: a real deployment reads 32+ random bytes from its secret store. */
const secret = "gym-club example secret, never use it for real data"
const tenantId = "fitnet"

/** Who may anonymize is a permission granted to roles (R26). */
const config: Partial<LetheConfig> = {
  permissions: {
    "club-manager": ["member:anonymize", "member:export", "member:restore"],
    "front-desk": [],
  },
  // Gdańsk does not hand unpaid instalments to debt collection: they come back as reminders (R27).
  clubs: { "gdansk-port": { debtCollection: false } },
  invoiceRetentionYears: 5,
}
const manager: Actor = { id: "staff:ola", roles: ["club-manager"] }
const frontDesk: Actor = { id: "staff:kuba", roles: ["front-desk"] }
/** The policy the network's clubs agreed on (R20). */
const policy = anonymizeAfterContractEnd({ months: 24, tenantId })

const day = (date: Date | number): string => new Date(date).toISOString().slice(0, 10)
const money = (minor: number): string => `${(minor / 100).toFixed(2)} PLN`

/** The tagged error's name and reasons, or rethrows what is not a Lethe error. */
const refusal = (error: unknown): string => {
  if (typeof error !== "object" || error === null || !("_tag" in error)) throw error
  const reasons = "reasons" in error && Array.isArray(error.reasons) ? `: ${error.reasons.join(", ")}` : ""
  return `${String(error._tag)}${reasons}`
}

const main = async (say: (line: string) => void): Promise<void> => {
  const kept = process.env.GYM_CLUB_DB
  // The story starts from an empty network: never write it into a file that already holds one.
  if (kept !== undefined && fs.existsSync(kept))
    throw new Error(`GYM_CLUB_DB=${kept} exists; name a new file`)
  const dir = kept === undefined ? fs.mkdtempSync(path.join(os.tmpdir(), "lethe-gym-club-")) : undefined
  const filename = kept ?? path.join(dir as string, "fitnet.db")
  let now = new Date("2024-01-15T09:00:00Z")
  /** Opens Lethe on the file, as each job and each front-desk session does, with the example's clock. */
  const open = (): Promise<LetheClient> =>
    createLethe({
      store: sqliteStore({ filename }),
      keyring: keyringFromSecret(secret),
      clock: () => now,
      config,
      // The network's monthly statistics, kept in the same file and applied with every append (R36).
      projections: [monthlyStats],
    })
  const names = new Map<string, string>()
  const who = (memberId: string) => names.get(memberId) ?? memberId

  try {
    say(`Club network "${tenantId}": clubs warsaw-centre, krakow-old-town, gdansk-port; one SQLite file`)
    let lethe = await open()

    // -- The front desk registers members (R32: every item carries its source).
    const source = { kind: "staff", tag: "front-desk" } as const
    const marta = (
      await lethe.register({
        tenantId,
        personal: { name: "Marta Wiśniewska", email: "marta@example.pl", phone: "+48 600 700 800" },
        source,
        actor: frontDesk,
      })
    ).memberId
    names.set(marta, "Marta")
    await lethe.recordPersonalData(marta, {
      category: "address",
      fields: { street: "ul. Marszałkowska 1", city: "Warszawa" },
      source,
    })
    await lethe.recordPersonalData(marta, {
      category: "invoice",
      fields: { name: "Marta Wiśniewska", address: "ul. Marszałkowska 1, 00-001 Warszawa" },
      source,
    })
    await lethe.recordPersonalData(marta, { category: "photo", fields: { file: "marta.jpg" }, source })
    await lethe.signContract(marta, {
      contractId: "waw-2023-06",
      clubId: "warsaw-centre",
      startsAt: new Date("2023-06-01T00:00:00Z"),
    })
    await lethe.creditWallet(marta, { amount: 5_000 })
    await lethe.openDebtCase(marta, { caseId: "debt-krk-17", clubId: "krakow-old-town" })
    await lethe.recordPurchase(marta, { purchaseId: "shake-0115", amount: 1_200, paid: false })
    await lethe.recordMissedInstalment(marta, {
      instalmentId: "gda-2023-12",
      clubId: "gdansk-port",
      amount: 9_900,
    })
    await lethe.recordActivity(marta, { kind: "visit", clubId: "warsaw-centre" })
    await lethe.recordActivity(marta, {
      kind: "class",
      clubId: "krakow-old-town",
      details: { class: "yoga" },
    })
    say(
      `${day(now)} registered Marta: contract in warsaw-centre since 2023-06-01, ${money(5_000)} in the wallet, ` +
        "a debt case in krakow-old-town, an unpaid protein shake, a missed instalment in gdansk-port",
    )

    const ewa = (
      await lethe.register({ tenantId, personal: { name: "Ewa Nowak", email: "ewa@example.pl" }, source })
    ).memberId
    names.set(ewa, "Ewa")
    await lethe.signContract(ewa, {
      contractId: "krk-2019",
      clubId: "krakow-old-town",
      startsAt: new Date("2019-07-01T00:00:00Z"),
      endsAt: new Date("2021-06-30T00:00:00Z"),
    })
    say(`${day(now)} registered Ewa from the old system: her contract in krakow-old-town ended 2021-06-30`)

    const tomasz = (
      await lethe.register({
        tenantId,
        personal: { name: "Tomasz Zieliński", email: "tomasz@example.pl" },
        source,
      })
    ).memberId
    names.set(tomasz, "Tomasz")
    await lethe.signContract(tomasz, {
      contractId: "gda-2020",
      clubId: "gdansk-port",
      startsAt: new Date("2020-01-01T00:00:00Z"),
      endsAt: new Date("2021-09-30T00:00:00Z"),
    })
    await lethe.restrictProcessing(tomasz, { reason: "contests a charge (art. 18)", actor: manager })
    say(
      `${day(now)} registered Tomasz: contract in gdansk-port ended 2021-09-30; he contests a charge, so processing is restricted (R23)`,
    )

    // -- Staff try to anonymize Marta.
    await lethe.anonymize(marta, { actor: frontDesk, confirmEmail: "marta@example.pl" }).then(
      () => say("R26 front desk anonymizes Marta: accepted (unexpected!)"),
      (error) =>
        say(`R26 front desk anonymizes Marta: refused, ${refusal(error)} (the role lacks the permission)`),
    )
    await lethe.anonymize(marta, { actor: manager, confirmEmail: "marta@example.pl" }).then(
      () => say("R25 manager anonymizes Marta: accepted (unexpected!)"),
      (error) => say(`R25 manager anonymizes Marta: refused with every reason at once, ${refusal(error)}`),
    )

    await lethe.endContract(marta, { contractId: "waw-2023-06" })
    await lethe.debitWallet(marta, { amount: 5_000 })
    await lethe.closeDebtCase(marta, { caseId: "debt-krk-17" })
    say(
      `${day(now)} Marta leaves: contract ended, ${money(5_000)} paid out, the krakow-old-town debt case closed`,
    )

    const exported = await lethe.exportMember(marta, { actor: manager, format: "json" })
    say(`R21 before anything is erased, staff export everything about Marta: ${exported.format} document`)
    await lethe.close()

    // -- The monthly job: open the file, run the policy, close (R20).
    say(`R20 policy "${policy.id}" runs on the 1st of every month, as a job that opens the SQLite file`)
    const runAt = async (at: Date): Promise<RetentionReport> => {
      now = at
      const job = await open()
      try {
        const report = await job.runRetention({ policies: [policy] })
        if (report.failed.length > 0)
          throw new Error(`retention failed: ${report.failed.map((f) => refusal(f.error)).join(", ")}`)
        return report
      } finally {
        await job.close()
      }
    }
    const blocked = (report: RetentionReport): string =>
      report.blocked.map((b) => `${who(b.memberId)} blocked (${b.reasons.join(", ")}, R23)`).join("; ")
    let erasedForMarta: ReadonlyArray<string> = []
    /** Runs that anonymized nobody, summed up in one line, with what the last of them blocked. */
    let quiet: Array<Date> = []
    let quietBlocked = ""
    for (let month = new Date("2024-02-01T02:00:00Z"); month < new Date("2026-03-01"); ) {
      const report = await runAt(month)
      if (report.executed.length === 0) {
        quiet.push(month)
        quietBlocked = blocked(report)
      } else {
        const first = quiet[0]
        if (first !== undefined)
          say(
            `${day(first)} .. ${day(quiet.at(-1) ?? first)}: ${quiet.length} runs, nobody anonymized; ${quietBlocked}`,
          )
        quiet = []
        const reminders = report.warnings.map(
          (w) => `; reminders for ${who(w.memberId)}, not blockers (R27): ${w.warnings.join(", ")}`,
        )
        say(
          `${day(month)} run: anonymized ${report.executed.map((e) => who(e.memberId)).join(", ")}${reminders.join("")}; ${blocked(report)}`,
        )
        for (const e of report.executed)
          if (e.memberId === marta) erasedForMarta = e.erasure?.categories ?? []
      }
      month = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1, 2))
    }

    // -- What is left of Marta (a front-desk session on the same file).
    lethe = await open()
    const after = await lethe.get(marta)
    const personalGone = Object.keys(after.personal).length === 0
    say(
      `R19 Marta now shows as "${after.displayName}", status ${after.status}, name, e-mail and phone ${personalGone ? "gone" : "STILL THERE"}; ` +
        `kept for statistics: ${after.counts.visit} visit, ${after.counts.class} class`,
    )
    const stats = await lethe.readProjection(monthlyStats.name, (db: Database.Database) =>
      readMonthlyStats(db),
    )
    say(
      `R36 monthly statistics (a projection in the file), after Marta's anonymization: ${stats
        .map(
          (s) =>
            `${s.month} ${s.activeMembers} active member(s), visits ${Object.entries(s.visits)
              .map(([club, n]) => `${club} ${n}`)
              .join(", ")}`,
        )
        .join("; ")}`,
    )
    const invoice = after.data.invoice
    say(
      `R24 her invoices keep name and address (accounting law): "${String(invoice?.name)}, ${String(invoice?.address)}"; ` +
        `invoice lists show "${after.displayName}"`,
    )
    say(
      `R24 erased with their keys: ${erasedForMarta.join(", ")}; readable now: ${Object.keys(after.data).join(", ")}`,
    )
    const receipt = await lethe.erasureReceipt(marta)
    const valid = verifyReceipt(receipt, await keyringFromSecret(secret).receiptPublicKey())
    say(
      `R10 signed erasure receipt: ${"keys" in receipt ? receipt.keys.length : 0} keys destroyed, kept ${receipt.keptCategories.join(", ")}; ` +
        `signature valid: ${valid}`,
    )
    await lethe.restore(marta, { actor: manager }).then(
      () => say("R22 restoring Marta: accepted (unexpected!)"),
      (error) => say(`R22 restoring Marta: refused, ${refusal(error)} (anonymization cannot be undone)`),
    )
    await lethe.close()

    // -- Five years later the invoices' own retention ends (R24).
    const report = await runAt(new Date("2031-03-01T02:00:00Z"))
    const ended = report.executed.filter((e) => e.rule === "end-invoice-retention")
    say(
      `${day(now)} run: invoice retention (${config.invoiceRetentionYears} years) ended for ` +
        `${ended.map((e) => `${who(e.memberId)} (${e.erasure?.categories.join(", ")} erased)`).join(", ") || "nobody"}`,
    )
    lethe = await open()
    const last = await lethe.get(marta)
    say(
      `R24 readable personal data of Marta now: ${Object.keys(last.data).join(", ") || "none"}; ` +
        `she stays a pseudonymous member with ${last.counts.visit} visit for the statistics (R19)`,
    )
    await lethe.close()
    const bytes = [filename, `${filename}-wal`]
      .filter((file) => fs.existsSync(file))
      .map((file) => fs.readFileSync(file))
    const traces = ["Wiśniewska", "marta@example.pl", "Marszałkowska"].filter((text) =>
      bytes.some((content) => content.includes(Buffer.from(text))),
    )
    say(
      `R29 the SQLite file's raw bytes hold Marta's name, e-mail or street: ${traces.length === 0 ? "nowhere" : traces.join(", ")}`,
    )
  } finally {
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true })
  }
}

main((line) => process.stdout.write(`${line}\n`)).catch((error: unknown) => {
  process.stderr.write(
    `gym-club failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  )
  process.exitCode = 1
})
