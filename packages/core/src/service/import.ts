/**
 * Importing contacts from CSV (R6, R32): each row applied whole or not at
 * all, new contacts of a chunk registered together in one `appendBatch`
 * when the store has it, the others one by one, bad rows reported with
 * their row number and reason.
 *
 * @module
 */
import { Effect, Either } from "effect"
import type { LetheError } from "../errors.js"
import { StoreError } from "../errors.js"
import type { ContactRow, RejectedRow } from "../import/contacts-csv.js"
import { importedConsent, parseContactsCsv } from "../import/contacts-csv.js"
import type { Source } from "../member/events.js"
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

/** The import operation of one instance. */
export const contactImport = (pipeline: Pipeline): Pick<LetheImplementation, "importCsv"> => {
  const { ctx, execute, lookups, decideAll, prepareAppend, landed } = pipeline
  const { store, config, now, newId, sealer } = ctx

  /** How an imported row is recorded: its source and call, and the consent it gives. */
  const importCommands = (row: ContactRow, input: ImportCsvInput) =>
    Effect.gen(function* () {
      const tag = row.sourceTag ?? input.source
      const source: Source = { kind: "import", ...(tag === undefined ? {} : { tag }) }
      const consent = yield* validate(
        () => ({
          _tag: "GiveConsent",
          purpose: row.purpose,
          explicit: false,
          method: "import",
          wordingVersion: row.wordingVersion ?? latestWording(config, row.purpose) ?? "",
          source,
          givenAt: row.givenAt,
        }),
        { operation: "importCsv", catalogue: config.consentCatalogue },
      )
      return { source, call: callOf(input, source), consent }
    })

  /** The registration of a row's contact as a new member. */
  const contactRegistration = (memberId: string, row: ContactRow, input: ImportCsvInput, source: Source) =>
    validate(
      () =>
        registerCommand(memberId, {
          tenantId: input.tenantId,
          personal: {
            email: row.email,
            ...(row.name === null ? {} : { name: row.name }),
            ...(row.phone === null ? {} : { phone: row.phone }),
          },
          source,
        }),
      {
        operation: "importCsv",
        rename: { "personal.email": "email", "personal.name": "name", "personal.phone": "phone" },
      },
    )

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
      const { source, call, consent } = yield* importCommands(row, input)
      const memberId = newId()
      const register = yield* contactRegistration(memberId, row, input, source)
      const decided = decideAll(unborn, [register, consent], { now: at, actor: call.actor, config })
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
      const { source, call, consent } = yield* importCommands(row, input)
      const owner: EmailOwner =
        activeOwner === undefined
          ? yield* lookups.ownerOfEmail(input.tenantId, row.email)
          : { _tag: "Active", memberId: activeOwner }
      if (owner._tag === "Restorable" && !input.restoreForgotten)
        return {
          reason: "ForgottenMember",
          detail:
            "the e-mail belongs to a member forgotten within the restore window; import with restoreForgotten to restore it",
        }
      switch (owner._tag) {
        case "Active":
        case "Restorable": {
          const restore = owner._tag === "Restorable" ? [{ _tag: "Restore", by: "staff" } as const] : []
          const executed = yield* execute(
            owner.memberId,
            (loaded) => {
              const verdict = importedConsent(loaded.state, row.purpose, row.givenAt)
              // An objection since the consent was given outweighs the old list: no restore either.
              return Effect.succeed(
                verdict === "objected" ? [] : [...restore, ...(verdict === "record" ? [consent] : [])],
              )
            },
            call,
          )
          if (executed.events.length > 0)
            return { memberId: owner.memberId, outcome: restore.length > 0 ? "restored" : "subscribed" }
          if (importedConsent(executed.state, row.purpose, row.givenAt) === "objected")
            return {
              reason: "ConsentObjected",
              detail: `the member unsubscribed from or withdrew "${row.purpose}" after this consent was given`,
            }
          return { memberId: owner.memberId, outcome: "unchanged" }
        }
        case "Nobody": {
          const memberId = newId()
          const register = yield* contactRegistration(memberId, row, input, source)
          yield* execute(memberId, () => Effect.succeed([register, consent]), call, { create: true })
          return { memberId, outcome: "created" }
        }
        default:
          return absurd(owner)
      }
    })

  return {
    importCsv: (csvText, input) =>
      Effect.gen(function* () {
        const parsed = parseContactsCsv(csvText, { now: yield* now, catalogue: config.consentCatalogue })
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
              applied.push({ ...at, memberId, outcome: "created" })
              continue
            }
            const outcome = yield* Effect.either(importRow(row, input, active.get(row.row)))
            if (Either.isLeft(outcome))
              rejected.push({ ...at, reason: outcome.left._tag, detail: outcome.left.message })
            else if ("reason" in outcome.right) rejected.push({ ...at, ...outcome.right })
            else applied.push({ ...at, ...outcome.right })
          }
        }
        return { applied, rejected: rejected.sort((a, b) => a.row - b.row) }
      }),
  }
}
