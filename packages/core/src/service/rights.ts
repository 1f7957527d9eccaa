/**
 * The data subject's rights: access and erasure requests with their
 * deadlines (R11) and the other systems' confirmations (R14), exports of
 * everything held about a member (R13, R21, R30), and signed download links
 * for them.
 *
 * @module
 */
import { Duration, Effect, Either, Schema } from "effect"
import type { LetheError } from "../errors.js"
import { InvalidCommand } from "../errors.js"
import { defaultExportLinkValidity, openExportLink, signExportLink } from "../export/link.js"
import { ExportFormat, memberExport } from "../export/member-export.js"
import type { ExportResult } from "../export/render.js"
import { renderExport } from "../export/render.js"
import { readableDate } from "../export/tables.js"
import { clockSkew } from "../member/config.js"
import { pendingSystems } from "../member/state.js"
import { dateOrNull } from "../member/view.js"
import type { MemberRow } from "../spi/directory.js"
import { fromStore } from "../spi/store-call.js"
import { callOf, millis, operationOf, pageSize, result, validate } from "./context.js"
import { dataMap } from "./data-map.js"
import type { ConfirmSystemInput, DueRequest, ExportInput, RequestInput, RequestResult } from "./inputs.js"
import { describeValue, issuesOf } from "./issues.js"
import type { Pipeline } from "./pipeline.js"
import type { LetheImplementation } from "./service.js"

/** The rights operations. */
export type Rights = Pick<
  LetheImplementation,
  | "requestErasure"
  | "requestAccess"
  | "confirmSystem"
  | "overdueErasureRequests"
  | "openRequests"
  | "exportMember"
  | "createExportLink"
  | "redeemExportLink"
>

/** Every row a paged directory query returns. */
export const allRows = (
  query: (after: string | undefined) => Promise<ReadonlyArray<MemberRow>>,
  limit = pageSize,
): Effect.Effect<ReadonlyArray<MemberRow>, LetheError> =>
  Effect.gen(function* () {
    const rows: Array<MemberRow> = []
    let after: string | undefined
    for (;;) {
      const page = yield* fromStore("directory", () => query(after))
      rows.push(...page)
      if (page.length < limit) return rows
      after = page.at(-1)?.memberId
    }
  })

const decodeFormat = Schema.decodeUnknownEither(Schema.Struct({ format: ExportFormat }))

/** The export format of `operation`'s input; `InvalidCommand` (`format must be one of json, csv, html, pdf`) otherwise. */
const validateFormat = (
  format: unknown,
  operation: "exportMember" | "createExportLink",
): Effect.Effect<ExportFormat, InvalidCommand> => {
  const decoded = decodeFormat({ format })
  return Either.isRight(decoded)
    ? Effect.succeed(decoded.right.format)
    : Effect.fail(new InvalidCommand({ command: operation, issues: issuesOf(decoded.left, { format }) }))
}

/**
 * The locale and time zone an export writes readable dates in: the input's, else the configuration's;
 * `InvalidCommand` naming the field when `Intl` knows no such locale or time zone.
 */
const validatePresentation = (
  input: { readonly locale?: string; readonly timeZone?: string },
  config: { readonly locale: string; readonly timeZone: string },
  operation: "exportMember" | "createExportLink",
): Effect.Effect<{ readonly locale: string; readonly timeZone: string }, InvalidCommand> => {
  const locale = input.locale ?? config.locale
  const timeZone = input.timeZone ?? config.timeZone
  const issue = (path: "locale" | "timeZone", message: string, value: unknown) =>
    Effect.fail(
      new InvalidCommand({
        command: operation,
        issues: [{ path, message: `${message} (got ${describeValue(value)})` }],
      }),
    )
  try {
    if (typeof locale !== "string" || Intl.getCanonicalLocales(locale).length !== 1)
      return issue("locale", 'must be a BCP 47 language tag, e.g. "pl-PL"', locale)
  } catch {
    return issue("locale", 'must be a BCP 47 language tag, e.g. "pl-PL"', locale)
  }
  try {
    if (typeof timeZone !== "string") throw new RangeError("not a string")
    readableDate(locale, timeZone)
  } catch {
    return issue("timeZone", 'must be an IANA time zone, e.g. "Europe/Warsaw"', timeZone)
  }
  return Effect.succeed({ locale, timeZone })
}

const recordExport = (
  format: ExportFormat,
  requestId: string | undefined,
  operation: "exportMember" | "createExportLink",
) =>
  validate(() => ({ _tag: "RecordExport", format, requestId: requestId ?? null }), { operation }).pipe(
    Effect.map((command) => [command]),
  )

/** The rights operations of one instance. */
export const rights = (pipeline: Pipeline): Rights => {
  const { ctx, execute, run, loader } = pipeline
  const { config, now, newId, store, keyring } = ctx
  // What the export tells of each kind of data: from the configuration alone, so made once, on the first export.
  let processingHeld: ReturnType<typeof dataMap>["processing"] | undefined
  const processing = () => {
    processingHeld ??= dataMap({ config, storeName: store.name }).processing
    return processingHeld
  }

  const request =
    (tag: "RequestErasure" | "RequestAccess") =>
    (memberId: string, input: RequestInput): Effect.Effect<RequestResult, LetheError> =>
      Effect.gen(function* () {
        const requestId = input.requestId ?? newId()
        const at = yield* now
        const receivedAt = millis(input.receivedAt) ?? at
        if (receivedAt > at + clockSkew)
          return yield* Effect.fail(
            new InvalidCommand({
              command: operationOf[tag],
              issues: [
                {
                  path: "receivedAt",
                  message: `must not be in the future (got ${describeValue(input.receivedAt)})`,
                },
              ],
            }),
          )
        const executed = yield* run(
          memberId,
          // The systems as configured now are fixed on the request: a later configuration changes no old one.
          () => ({ _tag: tag, requestId, receivedAt, via: input.via, systems: [...config.otherSystems] }),
          callOf(input),
        )
        const recorded = executed.state.requests[requestId]
        return {
          ...result(executed),
          requestId,
          dueBy: new Date(recorded?.dueBy ?? receivedAt),
          otherSystems: recorded?.systems ?? [],
        }
      })

  const confirmSystem = (memberId: string, input: ConfirmSystemInput) =>
    Effect.gen(function* () {
      const executed = yield* run(
        memberId,
        () => ({
          _tag: "ConfirmSystem",
          requestId: input.requestId,
          system: input.system,
          ...(input.note === undefined ? {} : { note: input.note }),
        }),
        callOf(input),
      )
      // decide refused an unknown request: it is in the state.
      const request = executed.state.requests[input.requestId]
      return {
        ...result(executed),
        requestId: input.requestId,
        pendingSystems: request === undefined ? [] : pendingSystems(request),
        handledAt: dateOrNull(request?.handledAt ?? null),
        fulfilledAt: dateOrNull(request?.fulfilledAt ?? null),
      }
    })

  /**
   * The open requests of `kinds` due before `before`, from the directory, each with what it waits for
   * (R14) from its member's state: the directory row holds the deadline only, so only the members with
   * such a request are read.
   */
  const dueRequests = (
    before: number,
    kinds: ReadonlyArray<DueRequest["kind"]>,
  ): Effect.Effect<ReadonlyArray<DueRequest>, LetheError> =>
    allRows((after) =>
      store.directory.requestsDueBefore({
        before,
        limit: pageSize,
        ...(after === undefined ? {} : { after }),
      }),
    ).pipe(
      Effect.flatMap((rows) =>
        Effect.forEach(rows, (row) => {
          const due = row.openRequests.filter((r) => r.dueBy < before && kinds.includes(r.kind))
          if (due.length === 0) return Effect.succeed([])
          return loader.load(row.memberId).pipe(
            Effect.map(({ state }) =>
              due.map((r): DueRequest => {
                const request = Object.hasOwn(state.requests, r.requestId)
                  ? state.requests[r.requestId]
                  : undefined
                return {
                  memberId: row.memberId,
                  tenantId: row.tenantId,
                  requestId: r.requestId,
                  kind: r.kind,
                  receivedAt: new Date(r.receivedAt),
                  dueBy: new Date(r.dueBy),
                  systems: request?.systems ?? [],
                  pendingSystems: request === undefined ? [] : pendingSystems(request),
                  handledAt: dateOrNull(request?.handledAt ?? null),
                }
              }),
            ),
          )
        }),
      ),
      Effect.map((lists) => lists.flat()),
    )

  const exportMember = (memberId: string, input: ExportInput): Effect.Effect<ExportResult, LetheError> =>
    Effect.gen(function* () {
      const format = yield* validateFormat(input.format, "exportMember")
      const presentation = yield* validatePresentation(input, config, "exportMember")
      // Recorded and read in one step: the document shows the log exactly as of its own DataExported.
      const executed = yield* execute(
        memberId,
        () => recordExport(format, input.requestId, "exportMember"),
        callOf(input),
        {
          history: true,
        },
      )
      const exported = executed.events.find((e) => e._tag === "DataExported")
      const document = memberExport(executed.history ?? [], executed.state, {
        exportedAt: exported?.at ?? (yield* now),
        requestId: input.requestId ?? null,
        otherSystems: config.otherSystems,
        catalogue: config.consentCatalogue,
        controller: config.controller,
        processing: processing(),
        ...presentation,
      })
      return yield* Effect.promise(() => renderExport(document, format))
    })

  return {
    requestErasure: request("RequestErasure"),
    requestAccess: request("RequestAccess"),
    confirmSystem,
    overdueErasureRequests: () => now.pipe(Effect.flatMap((at) => dueRequests(at, ["erasure"]))),
    openRequests: () => dueRequests(Number.MAX_SAFE_INTEGER, ["erasure", "access"]),
    exportMember,
    createExportLink: (memberId, input) =>
      Effect.gen(function* () {
        const format = yield* validateFormat(input.format, "createExportLink")
        yield* validatePresentation(input, config, "createExportLink")
        const maxValidity = Duration.format(Duration.millis(config.maxExportLinkValidity))
        const invalidValidity = new InvalidCommand({
          command: "createExportLink",
          issues: [
            {
              path: "validFor",
              message: `must be a positive duration of at most ${maxValidity}, in milliseconds or e.g. "2 hours" (got ${describeValue(input.validFor)})`,
            },
          ],
        })
        const validFor = yield* Effect.try({
          try: () => Duration.toMillis(input.validFor ?? defaultExportLinkValidity),
          catch: () => invalidValidity,
        })
        if (!(validFor > 0 && validFor <= config.maxExportLinkValidity))
          return yield* Effect.fail(invalidValidity)
        // The same decision the export will take, taken now, so a link that cannot work is never handed out.
        yield* execute(
          memberId,
          () => recordExport(format, input.requestId, "createExportLink"),
          callOf(input),
          {
            check: true,
          },
        )
        const expiresAt = (yield* now) + validFor
        const key = yield* fromStore("linkSigningKey", () => keyring.linkSigningKey())
        const token = signExportLink(
          {
            linkId: newId(),
            memberId,
            format,
            actor: { id: input.actor.id, roles: [...input.actor.roles] },
            requestId: input.requestId ?? null,
            expiresAt,
            ...(input.locale === undefined ? {} : { locale: input.locale }),
            ...(input.timeZone === undefined ? {} : { timeZone: input.timeZone }),
          },
          key,
        )
        return { token, memberId, format, expiresAt: new Date(expiresAt) }
      }),
    redeemExportLink: (token) =>
      Effect.gen(function* () {
        const key = yield* fromStore("linkSigningKey", () => keyring.linkSigningKey())
        const opened = openExportLink(token, key, yield* now)
        if (Either.isLeft(opened)) return yield* Effect.fail(opened.left)
        const claims = opened.right
        return yield* exportMember(claims.memberId, {
          format: claims.format,
          actor: claims.actor,
          ...(claims.requestId === null ? {} : { requestId: claims.requestId }),
          ...(claims.locale === undefined ? {} : { locale: claims.locale }),
          ...(claims.timeZone === undefined ? {} : { timeZone: claims.timeZone }),
        })
      }),
  }
}
