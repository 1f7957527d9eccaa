/**
 * How an operation's input becomes a domain command: the commands built in
 * more than one capability (a registration, a consent), and the shape of an
 * operation that runs one command and reports what it recorded.
 *
 * @module
 */
import { Effect } from "effect"
import type { LetheError } from "../errors.js"
import { callOf, latestWording, result, toSource } from "./context.js"
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

/** An operation on one member that runs the command `build` makes of its input. */
export const simple =
  (pipeline: Pipeline) =>
  <I extends Acting>(build: (input: I) => unknown, source?: (input: I) => SourceInput | undefined) =>
  (memberId: string, input: I): Effect.Effect<CommandResult, LetheError> =>
    pipeline.run(memberId, () => build(input), callOf(input, source?.(input))).pipe(Effect.map(result))

/** The `Register` command of a new member's input, its personal values trimmed. */
export const registerCommand = (memberId: string, input: RegisterInput) => ({
  _tag: "Register" as const,
  memberId,
  tenantId: input.tenantId,
  personal: {
    ...(input.personal.name === undefined ? {} : { name: input.personal.name.trim() }),
    ...(input.personal.email === undefined ? {} : { email: input.personal.email.trim() }),
    ...(input.personal.phone === undefined ? {} : { phone: input.personal.phone.trim() }),
  },
  source: toSource(input.source),
})

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
