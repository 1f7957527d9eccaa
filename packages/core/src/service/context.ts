/**
 * What every capability of one Lethe instance shares: the store, the
 * keyring, the configuration, the clock, the id minter, the sealing codec,
 * and the helpers that turn an operation's input into a caller and a result.
 *
 * @module
 */
import type { ParseResult } from "effect"
import { Clock, Effect, Either, Schema, SchemaAST } from "effect"
import { InvalidCommand, UnknownPurpose } from "../errors.js"
import type { MemberCommand } from "../member/commands.js"
import { MemberCommand as MemberCommandSchema } from "../member/commands.js"
import type { Actor, ConsentCatalogue } from "../member/config.js"
import { purposeDefinition } from "../member/config.js"
import type { MemberEvent, Source } from "../member/events.js"
import { Id } from "../member/events.js"
import type { Keyring } from "../sealing/keyring.js"
import { sealingCodec } from "../sealing/sealing-codec.js"
import type { MemberRow } from "../spi/directory.js"
import type { LetheStore } from "../spi/store.js"
import { newUuid } from "./ids.js"
import type { Acting, CommandResult, LetheConfig, MemberSummary, SourceInput } from "./inputs.js"
import { clip, issuesOf } from "./issues.js"
import type { LetheOptions } from "./options.js"
import { defaultConfig } from "./options.js"
import type { LetheService } from "./service.js"

/** One Lethe instance's shared dependencies. */
export interface ServiceContext {
  readonly store: LetheStore
  readonly keyring: Keyring
  readonly config: LetheConfig
  /** Epoch milliseconds, from the given clock or Effect's `Clock`. */
  readonly now: Effect.Effect<number>
  readonly newId: () => string
  readonly sealer: ReturnType<typeof sealingCodec>
}

/** The context of an instance built with `options`. */
export const serviceContext = (options: LetheOptions): ServiceContext => {
  const clock = options.clock
  return {
    store: options.store,
    keyring: options.keyring,
    config: { ...defaultConfig, ...options.config },
    // Whole milliseconds, as events record them: a TestClock moved by a jittered backoff reads fractions.
    now: (clock === undefined ? Clock.currentTimeMillis : Effect.sync(() => clock().getTime())).pipe(
      Effect.map(Math.floor),
    ),
    newId: options.newId ?? newUuid,
    sealer: sealingCodec(options.store.keys, options.keyring),
  }
}

/** Rows per page of a directory query. */
export const pageSize = 500

/**
 * The default page of a retention run's directory queries. Each page of a
 * query selecting many members is sorted by member id from all of them (its
 * index is by date): pages ten times larger make ten times fewer sorts, and
 * a first run over 100,000 members, half of them selected, plans in half the
 * time (docs/performance.md). 5,000 rows are a few megabytes.
 */
export const retentionPageSize = 5_000

/** The operation's caller: who, from where, under which correlation id. */
export interface Call {
  readonly actor: Actor
  readonly source?: Source
  readonly correlationId?: string
}

const anonymous: Actor = { id: "anonymous", roles: [] }

/** A source, from its input form (`"form"` is `{ kind: "form" }`). */
export const toSource = (source: SourceInput): Source =>
  typeof source === "string" ? { kind: source } : source

/** The caller of an operation given `input` (anonymous when it names no actor). */
export const callOf = (input: Acting | undefined, source?: SourceInput): Call => ({
  actor: input?.actor ?? anonymous,
  ...(source === undefined ? {} : { source: toSource(source) }),
  ...(input?.correlationId === undefined ? {} : { correlationId: input.correlationId }),
})

/**
 * Epoch milliseconds of an optional date; NaN for anything that is not a
 * date, so the command's schema refuses it ("must be a valid Date") instead
 * of the operation throwing.
 */
export const millis = (date: Date | undefined): number | undefined => {
  if (date === undefined) return undefined
  const time: unknown =
    typeof (date as { getTime?: unknown } | null)?.getTime === "function" ? date.getTime() : Number.NaN
  return time as number
}

/** What one execution appended, as the operation reports it. */
export const result = (executed: {
  readonly memberId: string
  readonly version: number
  readonly events: ReadonlyArray<MemberEvent>
}): CommandResult => ({
  memberId: executed.memberId,
  version: executed.version,
  recorded: executed.events.map((e) => e._tag),
})

/** A directory row as staff see it in search results. */
export const summary = (row: MemberRow): MemberSummary => ({
  memberId: row.memberId,
  tenantId: row.tenantId,
  status: row.status,
  name: row.name,
  email: row.email,
  restricted: row.restricted,
})

/**
 * The facade operation that runs each command, named in its `InvalidCommand`
 * (`creditWallet: amount must be...`). A command some other operation builds
 * too (`subscribe` gives a consent, `importCsv` registers) is named by that
 * operation, which passes its own name to `validate`.
 */
export const operationOf: Readonly<Record<MemberCommand["_tag"], keyof LetheService>> = {
  Register: "register",
  RecordPersonalData: "recordPersonalData",
  ErasePersonalData: "erasePersonalData",
  GiveConsent: "giveConsent",
  WithdrawConsent: "withdrawConsent",
  Unsubscribe: "unsubscribe",
  // Only an import suppresses an address (R43).
  Suppress: "importCsv",
  DisableProfiling: "disableProfiling",
  EnableProfiling: "enableProfiling",
  SignContract: "signContract",
  EndContract: "endContract",
  CreditWallet: "creditWallet",
  DebitWallet: "debitWallet",
  OpenDebtCase: "openDebtCase",
  CloseDebtCase: "closeDebtCase",
  RecordPurchase: "recordPurchase",
  MarkPurchasePaid: "markPurchasePaid",
  RecordMissedInstalment: "recordMissedInstalment",
  MarkInstalmentPaid: "markInstalmentPaid",
  RecordActivity: "recordActivity",
  SendMessage: "sendMessage",
  RestrictProcessing: "restrictProcessing",
  LiftRestriction: "liftRestriction",
  RequestErasure: "requestErasure",
  RequestAccess: "requestAccess",
  RecordExport: "exportMember",
  ConfirmSystem: "confirmSystem",
  Forget: "forget",
  Restore: "restore",
  Purge: "purge",
  Anonymize: "anonymize",
}

/** Command fields the facade takes as a `Date`. */
const dateFields: Partial<Record<MemberCommand["_tag"], ReadonlyArray<string>>> = {
  Register: ["occurredAt"],
  SignContract: ["startsAt", "endsAt", "occurredAt"],
  EndContract: ["occurredAt"],
  CreditWallet: ["occurredAt"],
  DebitWallet: ["occurredAt"],
  OpenDebtCase: ["occurredAt"],
  CloseDebtCase: ["occurredAt"],
  RecordPurchase: ["occurredAt"],
  MarkPurchasePaid: ["occurredAt"],
  RecordMissedInstalment: ["occurredAt"],
  MarkInstalmentPaid: ["occurredAt"],
  RecordActivity: ["occurredAt"],
  GiveConsent: ["givenAt"],
  RequestErasure: ["receivedAt"],
  RequestAccess: ["receivedAt"],
}

/** Commands that name a purpose of the consent catalogue. */
const purposeCommands: ReadonlySet<string> = new Set<MemberCommand["_tag"]>([
  "GiveConsent",
  "WithdrawConsent",
  "Unsubscribe",
  "SendMessage",
])

/** The `_tag` a member of the command union requires. */
const tagOf = (schema: Schema.Schema.AnyNoContext): string => {
  const tag = SchemaAST.getPropertySignatures(schema.ast).find((p) => p.name === "_tag")?.type
  if (tag === undefined || !SchemaAST.isLiteral(tag))
    throw new Error("a member command without a literal _tag")
  return String(tag.literal)
}

/**
 * Each command's own decoder, by tag: a command is checked against its own
 * schema, never the whole union, so its issues are about its fields only.
 */
const decoders: ReadonlyMap<
  string,
  (input: unknown) => Either.Either<MemberCommand, ParseResult.ParseError>
> = new Map(
  MemberCommandSchema.members.map((schema) => [
    tagOf(schema),
    Schema.decodeUnknownEither(schema as Schema.Schema<MemberCommand>, { errors: "all" }),
  ]),
)

const isId = Schema.is(Id)

/** The purpose `command` names, when it is a well-formed id the catalogue does not hold. */
const unknownPurpose = (command: object, catalogue: ConsentCatalogue): string | undefined => {
  const purpose = "purpose" in command ? command.purpose : undefined
  return isId(purpose) && purposeDefinition(catalogue, purpose) === undefined ? purpose : undefined
}

/** How `validate` names and checks a command. */
export interface ValidateOptions {
  /** The operation named in the refusal; default: the one that runs the command (`operationOf`). */
  readonly operation?: string
  /**
   * The consent catalogue: a command naming a purpose it does not hold is
   * refused with `UnknownPurpose`, whatever else is wrong with it.
   */
  readonly catalogue?: ConsentCatalogue
  /** Command paths reported as the caller's input names them (`personal.email` → `email`). */
  readonly rename?: Readonly<Record<string, string>>
}

/**
 * Validates a raw command against its own Schema (R45), never a throw:
 * `InvalidCommand` naming the operation and each field's problem
 * (`creditWallet: amount must be an integer (got 12.5)`). Given the
 * catalogue, a command naming a purpose it does not hold is `UnknownPurpose`
 * even when other fields are wrong too: for a consent, a withdrawal or an
 * unsubscribe, the refusal the command gets once those are fixed. (A
 * well-formed `SendMessage` for such a purpose is the domain's to refuse:
 * `MessageRefused` with `NoLawfulBasis`.)
 */
export const validate = (
  raw: () => unknown,
  options: ValidateOptions = {},
): Effect.Effect<MemberCommand, InvalidCommand | UnknownPurpose> => {
  let command: unknown
  try {
    command = raw()
  } catch (e) {
    const reason = clip(e instanceof Error ? e.message : String(e), 160)
    return Effect.fail(
      new InvalidCommand({
        command: options.operation ?? "input",
        issues: [{ path: "", message: `cannot be read (${reason})` }],
      }),
    )
  }
  const tag =
    typeof command === "object" && command !== null && "_tag" in command ? String(command._tag) : undefined
  const decode = tag === undefined ? undefined : decoders.get(tag)
  if (tag === undefined || decode === undefined)
    return Effect.fail(
      new InvalidCommand({
        command: options.operation ?? "command",
        issues: [{ path: "_tag", message: `must name a command (got ${clip(String(tag), 40)})` }],
      }),
    )
  const decoded = decode(command)
  if (Either.isRight(decoded)) return Effect.succeed(decoded.right)
  const purpose =
    options.catalogue !== undefined && purposeCommands.has(tag)
      ? unknownPurpose(command as object, options.catalogue)
      : undefined
  if (purpose !== undefined) return Effect.fail(new UnknownPurpose({ purpose }))
  const known = tag as MemberCommand["_tag"]
  return Effect.fail(
    new InvalidCommand({
      command: options.operation ?? operationOf[known],
      issues: issuesOf(decoded.left, command, {
        ...(options.rename === undefined ? {} : { rename: options.rename }),
        ...(dateFields[known] === undefined ? {} : { dates: dateFields[known] }),
      }),
    }),
  )
}

/** The newest wording of a purpose in the catalogue, the default a consent is recorded under. */
export const latestWording = (config: LetheConfig, purpose: string): string | undefined =>
  purposeDefinition(config.consentCatalogue, purpose)?.wordingVersions.at(-1)
