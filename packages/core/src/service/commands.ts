/**
 * How an operation's input becomes a domain command: the commands built in
 * more than one capability (a registration, a consent), and the shape of an
 * operation that runs one command and reports what it recorded.
 *
 * @module
 */
import { Effect } from "effect"
import type { LetheError } from "../errors.js"
import { callOf, latestWording, millis, result, toSource } from "./context.js"
import type {
  Acting,
  CommandResult,
  GiveConsentInput,
  LetheConfig,
  RegisterInput,
  SourceInput,
  SubscribeInput,
} from "./inputs.js"
import type { Pipeline } from "./pipeline.js"

/**
 * An operation on one member that runs the command `build` makes of its
 * input. A missing input reads as an empty one, so its refusal names the
 * fields it lacks.
 */
export const simple =
  (pipeline: Pipeline) =>
  <I extends Acting>(build: (input: I) => unknown, source?: (input: I) => SourceInput | undefined) =>
  (memberId: string, given: I): Effect.Effect<CommandResult, LetheError> => {
    const input = given ?? ({} as I)
    return pipeline.run(memberId, () => build(input), callOf(input, source?.(input))).pipe(Effect.map(result))
  }

const trimmed = (value: unknown): unknown => (typeof value === "string" ? value.trim() : value)

/**
 * The `Register` command of a new member's input, its personal values
 * trimmed. Values of the wrong type are passed on as they are, for the
 * command's schema to refuse.
 */
export const registerCommand = (memberId: string, input: RegisterInput) => {
  const personal: unknown = input.personal
  return {
    _tag: "Register" as const,
    memberId,
    tenantId: input.tenantId,
    personal:
      typeof personal === "object" && personal !== null
        ? {
            ...(input.personal.name === undefined ? {} : { name: trimmed(input.personal.name) }),
            ...(input.personal.email === undefined ? {} : { email: trimmed(input.personal.email) }),
            ...(input.personal.phone === undefined ? {} : { phone: trimmed(input.personal.phone) }),
          }
        : personal,
    source: toSource(input.source),
    ...(input.occurredAt === undefined ? {} : { occurredAt: millis(input.occurredAt) }),
  }
}

/** The `GiveConsent` command of a consent or subscription, under the purpose's latest wording by default. */
export const consentCommand = (
  config: LetheConfig,
  input: GiveConsentInput | SubscribeInput,
  now: number | undefined,
) => ({
  _tag: "GiveConsent" as const,
  purpose: input.purpose,
  ...("basis" in input && input.basis !== undefined ? { basis: input.basis } : {}),
  explicit: "explicit" in input ? (input.explicit ?? false) : false,
  method: input.method ?? "checkbox",
  wordingVersion: input.wordingVersion ?? latestWording(config, input.purpose) ?? "",
  source: toSource(input.source),
  ...(now === undefined ? {} : { givenAt: now }),
})

/**
 * Why a person leaves (R44), from an input's `leaving` (an object, or absent: `guarded` refuses anything
 * else), as command fields. Junk fields are passed on, for the command's Schema to refuse.
 */
export const leavingCommand = (leaving: unknown): Readonly<Record<string, unknown>> => {
  if (leaving === null || typeof leaving !== "object") return {}
  const { why, note } = leaving as { readonly why?: unknown; readonly note?: unknown }
  return { why, ...(note === undefined ? {} : { note }) }
}
