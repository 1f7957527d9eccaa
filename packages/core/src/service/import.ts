/**
 * Importing contacts from CSV (R6, R32, R43): each row applied whole or not at
 * all, new contacts of a chunk registered together in one `appendBatch`
 * when the store has it, the others one by one, bad rows reported with
 * their row number and reason. A row's status decides what it records: a
 * consent, an unsubscribe dated as the file dates it, or a suppression of the
 * address; an opt-out never becomes a consent.
 *
 * @module
 */
import { Effect, Either } from "effect"
import type { LetheError } from "../errors.js"
import { StoreError } from "../errors.js"
import type { ContactFileOptions, ContactRow, RejectedRow } from "../import/contacts-csv.js"
import { importedConsent, importedOptOut, parseContactsCsv } from "../import/contacts-csv.js"
import type { OptOutStatus } from "../import/mapping.js"
import type { MemberCommand } from "../member/commands.js"
import type { Source } from "../member/events.js"
import type { MemberState } from "../member/state.js"
import { absurd } from "../member/state.js"
import type { AppendResult } from "../spi/event-store.js"
import { registerCommand } from "./commands.js"
import { callOf, latestWording, validate } from "./context.js"
import type { ImportCsvInput, ImportOutcome, ImportReport } from "./inputs.js"
import { unborn } from "./loading.js"
import type { EmailOwner } from "./lookups.js"
import type { Pipeline, PreparedAppend } from "./pipeline.js"
import type { LetheImplementation } from "./service.js"

/** Rows of an import appended in one transaction, at most (see `EventStore.appendBatch`). */
const importBatchRows = 200

/** What recording a row did: a consent (`created`, for a new member), an unsubscribe or a suppression (R43). */
const outcomeOf = (row: ContactRow): ImportOutcome =>
  row.status === "unsubscribed" ? "unsubscribed" : row.status === "subscribed" ? "created" : "suppressed"

/** Every outcome and the rejections, counted (R43). */
const countOutcomes = (
  applied: ReadonlyArray<{ readonly outcome: ImportOutcome }>,
  rejected: number,
): ImportReport["counts"] => {
  const counts = {
    created: 0,
    subscribed: 0,
    restored: 0,
    unsubscribed: 0,
    suppressed: 0,
    unchanged: 0,
    rejected,
  }
  for (const a of applied) counts[a.outcome]++
  return counts
}

/** What the report says of the file as a whole: dates read as UTC for want of a zone. */
const warningsOf = (utcAssumed: number): ReadonlyArray<string> =>
  utcAssumed === 0
    ? []
    : [
        `${utcAssumed} row(s) had a date or time without a zone, read as UTC; give timeZone to read them in another zone`,
      ]

/** The options of the input that say how the file is read (exactOptionalPropertyTypes: absent stays absent). */
const fileOptions = (input: ImportCsvInput): ContactFileOptions => ({
  ...(input.mapping === undefined ? {} : { mapping: input.mapping }),
  ...(input.purpose === undefined ? {} : { purpose: input.purpose }),
  ...(input.dateFormat === undefined ? {} : { dateFormat: input.dateFormat }),
  ...(input.timeZone === undefined ? {} : { timeZone: input.timeZone }),
  ...(input.separator === undefined ? {} : { separator: input.separator }),
  ...(input.encoding === undefined ? {} : { encoding: input.encoding }),
})

/** The import operation of one instance. */
export const contactImport = (pipeline: Pipeline): Pick<LetheImplementation, "importCsv"> => {
  const { ctx, execute, lookups, decideAll, prepareAppend, landed } = pipeline
  const { store, config, now, newId, sealer } = ctx

  /**
   * How an imported row is recorded: its source and call, and the command its status gives: a consent
   * (`subscribed`), an unsubscribe from the purpose dated at `at` (`unsubscribed`), or a suppression of
   * the address (the other statuses). An opt-out is never a consent (R43).
   */
  const importCommands = (row: ContactRow, input: ImportCsvInput, at?: number) =>
    Effect.gen(function* () {
      const tag = row.sourceTag ?? input.source
      const source: Source = { kind: "import", ...(tag === undefined ? {} : { tag }) }
      const occurredAt = at ?? row.statusAt ?? undefined
      const dated = occurredAt === undefined ? {} : { occurredAt }
      const command = yield* validate(
        () =>
          row.status === "subscribed"
            ? {
                _tag: "GiveConsent",
                purpose: row.purpose,
                ...(row.basis === null ? {} : { basis: row.basis }),
                explicit: false,
                method: "import",
                wordingVersion: row.wordingVersion ?? latestWording(config, row.purpose) ?? "",
                source,
                ...(row.givenAt === null ? {} : { givenAt: row.givenAt }),
              }
            : row.status === "unsubscribed"
              ? { _tag: "Unsubscribe", purpose: row.purpose, via: "staff", ...dated }
              : { _tag: "Suppress", reason: row.status, source, ...dated },
        { operation: "importCsv", catalogue: config.consentCatalogue },
      )
      return { source, call: callOf(input, source), command }
    })

  /**
   * The registration of a row's contact as a new member. An opt-out row with a date registers the member
   * as of its earliest date, so the opt-out is dated within the membership.
   */
  const contactRegistration = (memberId: string, row: ContactRow, input: ImportCsvInput, source: Source) =>
    validate(
      () => {
        const since =
          row.status === "subscribed" || row.statusAt === null
            ? undefined
            : Math.min(row.statusAt, row.givenAt ?? row.statusAt)
        return {
          ...registerCommand(memberId, {
            tenantId: input.tenantId,
            personal: {
              email: row.email,
              ...(row.name === null ? {} : { name: row.name }),
              ...(row.phone === null ? {} : { phone: row.phone }),
            },
            source,
          }),
          ...(since === undefined ? {} : { occurredAt: since }),
        }
      },
      {
        operation: "importCsv",
        rename: { "personal.email": "email", "personal.name": "name", "personal.phone": "phone" },
      },
    )

  /**
   * The date an opt-out is recorded at on an existing member: the file's, moved forward to the member's
   * registration or last erasure when earlier (no fact is dated before them), or none (now) when the file
   * gives none. Moved forward, an unsubscribe only starts later, never earlier.
   */
  const optOutDate = (row: ContactRow, state: MemberState): number | undefined =>
    row.statusAt === null ? undefined : Math.max(row.statusAt, state.registeredAt, state.lastErasureAt ?? 0)

  /**
   * A row whose e-mail nobody holds, decided and prepared as a new member's
   * append; `undefined` when a command is refused (the row is then imported
   * alone, which reports why).
   */
  const prepareNewContact = (
    row: ContactRow,
    input: ImportCsvInput,
    at: number,
  ): Effect.Effect<PreparedAppend | undefined, LetheError> =>
    Effect.gen(function* () {
      const { source, call, command } = yield* importCommands(row, input)
      const memberId = newId()
      const register = yield* contactRegistration(memberId, row, input, source)
      const decided = decideAll(unborn, [register, command], { now: at, actor: call.actor, config })
      if (Either.isLeft(decided)) return undefined
      const { state, events } = decided.right
      return yield* prepareAppend(
        memberId,
        unborn,
        state,
        events,
        call,
        at,
        sealer.session({ newMember: true }),
      )
    })

  /**
   * The rows of a chunk whose e-mail nobody holds, registered together by one
   * `appendBatch` (one transaction): the imported rows' member ids, by row
   * number (`created`). Rows it does not take (an owner, an e-mail met earlier
   * in the chunk, a refused command) and every row of a refused batch are left
   * to `importRow`, one by one, which reports them exactly as without
   * batching; for the first row of an e-mail an active member holds, it
   * passes that member on (`active`), so the row is not looked up again. No
   * earlier row of the chunk can change who holds that e-mail: each row
   * touches only the holder of its own e-mail.
   */
  const importNewContacts = (
    rows: ReadonlyArray<ContactRow>,
    input: ImportCsvInput,
  ): Effect.Effect<
    { readonly created: ReadonlyMap<number, string>; readonly active: ReadonlyMap<number, string> },
    LetheError
  > =>
    Effect.gen(function* () {
      const canBatch = store.events.appendBatch !== undefined && pipeline.projections.canBatch
      const created = new Map<number, string>()
      const active = new Map<number, string>()
      if (!canBatch || rows.length < 2) return { created, active }
      const at = yield* now
      // A later row with an e-mail met before must find the member the earlier one creates: only
      // each e-mail's first row is a candidate.
      const firsts = new Map<string, ContactRow>()
      for (const row of rows) {
        const emailKey = yield* lookups.lookupKey(input.tenantId, row.email)
        if (!firsts.has(emailKey)) firsts.set(emailKey, row)
      }
      const emails = new Map([...firsts].map(([key, row]) => [key, row.email]))
      const owners = yield* Effect.either(lookups.emailOwners(input.tenantId, emails, at))
      if (Either.isLeft(owners)) return { created, active }
      const batch: Array<{ readonly row: number; readonly prepared: PreparedAppend }> = []
      for (const [emailKey, row] of firsts) {
        const owner = owners.right.get(emailKey)
        if (owner?._tag === "Active") active.set(row.row, owner.memberId)
        if (owner?._tag !== "Nobody") continue
        const prepared = yield* Effect.either(prepareNewContact(row, input, at))
        if (Either.isRight(prepared) && prepared.right !== undefined)
          batch.push({ row: row.row, prepared: prepared.right })
      }
      if (batch.length < 2) return { created, active }
      // Refused as a whole (another writer took an e-mail meanwhile, say): every row goes alone and
      // looks its e-mail up again.
      const results = yield* Effect.either(
        // Through the projections: inline ones run in the batch's transaction.
        pipeline.projections.appendBatch(batch.map(({ prepared }) => prepared)),
      )
      if (Either.isLeft(results)) return { created, active: new Map() }
      if (results.right.length !== batch.length)
        return yield* Effect.fail(
          new StoreError({
            operation: "appendBatch",
            detail: `the store returned ${results.right.length} results for ${batch.length} requests`,
          }),
        )
      for (const [i, { row, prepared }] of batch.entries()) {
        yield* landed(prepared, results.right[i] as AppendResult)
        created.set(row, prepared.memberId)
      }
      return { created, active }
    })

  /** Applies one row; `activeOwner`, when given, is the active member known to hold its e-mail. */
  const importRow = (
    row: ContactRow,
    input: ImportCsvInput,
    activeOwner?: string,
  ): Effect.Effect<
    { readonly memberId: string; readonly outcome: ImportOutcome } | Omit<RejectedRow, "row" | "line">,
    LetheError
  > =>
    Effect.gen(function* () {
      const { source, call, command } = yield* importCommands(row, input)
      const owner: EmailOwner =
        activeOwner === undefined
          ? yield* lookups.ownerOfEmail(input.tenantId, row.email)
          : { _tag: "Active", memberId: activeOwner }
      if (owner._tag === "Restorable" && (!input.restoreForgotten || row.status !== "subscribed"))
        return {
          reason: "ForgottenMember",
          detail:
            row.status === "subscribed"
              ? "the e-mail belongs to a member forgotten within the restore window; import with restoreForgotten to restore it"
              : "the e-mail belongs to a member forgotten within the restore window; an opt-out restores nobody",
        }
      switch (owner._tag) {
        case "Active":
        case "Restorable":
          return yield* row.status === "subscribed"
            ? importConsent(row, owner, command, call)
            : importOptOut(row, row.status, input, owner.memberId, call)
        case "Nobody": {
          const memberId = newId()
          const register = yield* contactRegistration(memberId, row, input, source)
          yield* execute(memberId, () => Effect.succeed([register, command]), call, { create: true })
          return { memberId, outcome: outcomeOf(row) }
        }
        default:
          return absurd(owner)
      }
    })

  /** A consent row on a member who holds its e-mail: recorded, held already, or refused (R4, R43). */
  const importConsent = (
    row: ContactRow,
    owner: Extract<EmailOwner, { readonly _tag: "Active" | "Restorable" }>,
    consent: MemberCommand,
    call: ReturnType<typeof callOf>,
  ) =>
    Effect.gen(function* () {
      // A subscribed row always has its date (`MissingDate` otherwise).
      const givenAt = row.givenAt ?? 0
      const restore = owner._tag === "Restorable" ? [{ _tag: "Restore", by: "staff" } as const] : []
      const executed = yield* execute(
        owner.memberId,
        (loaded) => {
          const verdict = importedConsent(loaded.state, row.purpose, givenAt)
          // An objection since the consent was given outweighs the old list: no restore either.
          return Effect.succeed(
            verdict === "objected" || verdict === "suppressed"
              ? []
              : [...restore, ...(verdict === "record" ? [consent] : [])],
          )
        },
        call,
      )
      if (executed.events.length > 0)
        return {
          memberId: owner.memberId,
          outcome: restore.length > 0 ? ("restored" as const) : ("subscribed" as const),
        }
      const verdict = importedConsent(executed.state, row.purpose, givenAt)
      if (verdict === "suppressed")
        return {
          reason: "ContactSuppressed" as const,
          detail: `the address is suppressed (${executed.state.suppression?.reason}): no import signs it up again`,
        }
      if (verdict === "objected")
        return {
          reason: "ConsentObjected" as const,
          detail: `the member unsubscribed from or withdrew "${row.purpose}" after this consent was given`,
        }
      return { memberId: owner.memberId, outcome: "unchanged" as const }
    })

  /** An opt-out row on an active member: recorded, held already, or outdone by a later consent (R43). */
  const importOptOut = (
    row: ContactRow,
    status: OptOutStatus,
    input: ImportCsvInput,
    memberId: string,
    call: ReturnType<typeof callOf>,
  ) =>
    Effect.gen(function* () {
      // What the last attempt decided (an attempt runs again after a concurrent write).
      const seen: { verdict: ReturnType<typeof importedOptOut> } = { verdict: "held" }
      const executed = yield* execute(
        memberId,
        (loaded) =>
          Effect.gen(function* () {
            seen.verdict = importedOptOut(
              loaded.state,
              row.purpose,
              status,
              row.statusAt ?? Number.POSITIVE_INFINITY,
            )
            if (seen.verdict !== "record") return []
            const { command } = yield* importCommands(row, input, optOutDate(row, loaded.state))
            return [command]
          }),
        call,
      )
      if (executed.events.length > 0) return { memberId, outcome: outcomeOf(row) }
      if (seen.verdict === "superseded")
        return {
          reason: "ConsentNewer" as const,
          detail: `the member gave a consent for "${row.purpose}" after this opt-out, which it does not undo`,
        }
      return { memberId, outcome: "unchanged" as const }
    })

  return {
    importCsv: (csvText, input) =>
      Effect.gen(function* () {
        const parsed = parseContactsCsv(csvText, {
          now: yield* now,
          catalogue: config.consentCatalogue,
          ...fileOptions(input),
        })
        if (Either.isLeft(parsed)) return yield* Effect.fail(parsed.left)
        const applied: Array<ImportReport["applied"][number]> = []
        const rejected: Array<RejectedRow> = [...parsed.right.rejected]
        const { rows } = parsed.right
        for (let from = 0; from < rows.length; from += importBatchRows) {
          const chunk = rows.slice(from, from + importBatchRows)
          // New contacts of the chunk in one transaction, when the store can; the rest one row after
          // the other: a later row with the same e-mail finds the member an earlier one created.
          const { created, active } = yield* importNewContacts(chunk, input)
          // A chunk appended in one batch is no `execute`: its interval checkpoint is settled here.
          yield* pipeline.checkpoints.settle
          for (const row of chunk) {
            const at = { row: row.row, line: row.line }
            const memberId = created.get(row.row)
            if (memberId !== undefined) {
              applied.push({ ...at, memberId, outcome: outcomeOf(row) })
              continue
            }
            const outcome = yield* Effect.either(importRow(row, input, active.get(row.row)))
            if (Either.isLeft(outcome))
              rejected.push({ ...at, reason: outcome.left._tag, detail: outcome.left.message })
            else if ("reason" in outcome.right) rejected.push({ ...at, ...outcome.right })
            else applied.push({ ...at, ...outcome.right })
          }
        }
        return {
          applied,
          rejected: rejected.sort((a, b) => a.row - b.row),
          counts: countOutcomes(applied, rejected.length),
          ignoredColumns: parsed.right.ignoredColumns,
          warnings: warningsOf(parsed.right.utcAssumed),
        }
      }),
  }
}
