/**
 * The data subject's rights: access and erasure requests with their
 * deadlines (R11), exports of everything held about a member (R13, R21,
 * R30), and signed download links for them.
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
import { clockSkew } from "../member/config.js"
import type { MemberRow } from "../spi/directory.js"
import { fromStore } from "../spi/store-call.js"
import { callOf, millis, operationOf, pageSize, result, validate } from "./context.js"
import type { DueRequest, ExportInput, RequestInput, RequestResult } from "./inputs.js"
import { describeValue, issuesOf } from "./issues.js"
import type { Pipeline } from "./pipeline.js"
import type { LetheImplementation } from "./service.js"

/** The rights operations. */
export type Rights = Pick<
  LetheImplementation,
  | "requestErasure"
  | "requestAccess"
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

/** The export format of `operation`'s input; `InvalidCommand` (`format must be one of json, csv, html`) otherwise. */
const validateFormat = (
  format: unknown,
  operation: "exportMember" | "createExportLink",
): Effect.Effect<ExportFormat, InvalidCommand> => {
  const decoded = decodeFormat({ format })
  return Either.isRight(decoded)
    ? Effect.succeed(decoded.right.format)
    : Effect.fail(new InvalidCommand({ command: operation, issues: issuesOf(decoded.left, { format }) }))
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
  const { ctx, execute, run } = pipeline
  const { config, now, newId, store, keyring } = ctx

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
          () => ({ _tag: tag, requestId, receivedAt, via: input.via }),
          callOf(input),
        )
        const dueBy = executed.state.requests[requestId]?.dueBy ?? receivedAt
        return { ...result(executed), requestId, dueBy: new Date(dueBy), otherSystems: config.otherSystems }
      })

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
      Effect.map((rows) =>
        rows.flatMap((row) =>
          row.openRequests
            .filter((r) => r.dueBy < before && kinds.includes(r.kind))
            .map((r) => ({
              memberId: row.memberId,
              tenantId: row.tenantId,
              requestId: r.requestId,
              kind: r.kind,
              receivedAt: new Date(r.receivedAt),
              dueBy: new Date(r.dueBy),
            })),
        ),
      ),
    )

  const exportMember = (memberId: string, input: ExportInput): Effect.Effect<ExportResult, LetheError> =>
    Effect.gen(function* () {
      const format = yield* validateFormat(input.format, "exportMember")
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
      })
      return renderExport(document, format)
    })

  return {
    requestErasure: request("RequestErasure"),
    requestAccess: request("RequestAccess"),
    overdueErasureRequests: () => now.pipe(Effect.flatMap((at) => dueRequests(at, ["erasure"]))),
    openRequests: () => dueRequests(Number.MAX_SAFE_INTEGER, ["erasure", "access"]),
    exportMember,
    createExportLink: (memberId, input) =>
      Effect.gen(function* () {
        const format = yield* validateFormat(input.format, "createExportLink")
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
        })
      }),
  }
}
