/**
 * What every capability of one Lethe instance shares: the store, the
 * keyring, the configuration, the clock, the id minter, the sealing codec,
 * and the helpers that turn an operation's input into a caller and a result.
 *
 * @module
 */
import { Clock, Effect, Either, ParseResult, Schema } from "effect"
import { InvalidCommand } from "../errors.js"
import type { MemberCommand } from "../member/commands.js"
import { MemberCommand as MemberCommandSchema } from "../member/commands.js"
import type { Actor } from "../member/config.js"
import type { MemberEvent, Source } from "../member/events.js"
import type { Keyring } from "../sealing/keyring.js"
import { sealingCodec } from "../sealing/sealing-codec.js"
import type { MemberRow } from "../spi/directory.js"
import type { LetheStore } from "../spi/store.js"
import { newUuid } from "./ids.js"
import type { Acting, CommandResult, LetheConfig, MemberSummary, SourceInput } from "./inputs.js"
import type { LetheOptions } from "./options.js"
import { defaultConfig } from "./options.js"

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

/** Rows per page of a directory query, and the default batch of a retention run. */
export const pageSize = 500

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

/** Epoch milliseconds of an optional date. */
export const millis = (date: Date | undefined): number | undefined =>
  date === undefined ? undefined : date.getTime()

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

const decodeCommand = Schema.decodeUnknownEither(MemberCommandSchema)

/** Validates a raw command against its Schema: `InvalidCommand` with the explanation, never a throw. */
export const validate = (raw: () => unknown): Effect.Effect<MemberCommand, InvalidCommand> => {
  let command: unknown
  try {
    command = raw()
  } catch (e) {
    return Effect.fail(
      new InvalidCommand({ command: "input", issues: e instanceof Error ? e.message : String(e) }),
    )
  }
  const decoded = decodeCommand(command)
  if (Either.isRight(decoded)) return Effect.succeed(decoded.right)
  return Effect.fail(
    new InvalidCommand({
      command:
        typeof command === "object" && command !== null && "_tag" in command
          ? String(command._tag)
          : "command",
      issues: ParseResult.TreeFormatter.formatErrorSync(decoded.left),
    }),
  )
}

/** The newest wording of a purpose in the catalogue, the default a consent is recorded under. */
export const latestWording = (config: LetheConfig, purpose: string): string | undefined =>
  config.consentCatalogue[purpose]?.wordingVersions.at(-1)
