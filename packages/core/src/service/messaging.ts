/**
 * Consent and messaging: giving and withdrawing consent, subscribing and
 * unsubscribing, sending a message through the domain's messaging guard,
 * and proving from the log who sent a message under which basis (R3).
 *
 * @module
 */
import { Effect, Schema } from "effect"
import { DuplicateReference, MessageNotFound, UnknownPurpose } from "../errors.js"
import { Id } from "../member/commands.js"
import { purposeDefinition } from "../member/config.js"
import { fromStore } from "../spi/store-call.js"
import { consentCommand, leavingCommand, registerCommand, simple } from "./commands.js"
import { callOf, millis, result, toSource, validate } from "./context.js"
import type { MessageProof } from "./inputs.js"
import type { Pipeline } from "./pipeline.js"
import type { LetheImplementation } from "./service.js"

const isId = Schema.is(Id)

/** The consent and messaging operations. */
export type Messaging = Pick<
  LetheImplementation,
  "giveConsent" | "withdrawConsent" | "unsubscribe" | "subscribe" | "sendMessage" | "proveMessage"
>

/** The consent and messaging operations of one instance. */
export const messaging = (pipeline: Pipeline): Messaging => {
  const { ctx, execute, run, lookups, loader } = pipeline
  const one = simple(pipeline)
  return {
    giveConsent: one(
      (input) => consentCommand(ctx.config, input, millis(input.givenAt)),
      (input) => input.source,
    ),
    withdrawConsent: one(
      (input) => ({
        _tag: "WithdrawConsent",
        purpose: input.purpose,
        source: toSource(input.source ?? "api"),
        ...leavingCommand(input.leaving),
      }),
      (input) => input.source,
    ),
    unsubscribe: (memberId, input) =>
      run(
        memberId,
        () => ({
          _tag: "Unsubscribe",
          purpose: input.purpose,
          via: input.via,
          ...leavingCommand(input.leaving),
        }),
        callOf(input, input.via === "link" ? "subject" : "staff"),
      ).pipe(Effect.map(result)),
    subscribe: (input) =>
      Effect.gen(function* () {
        const catalogue = ctx.config.consentCatalogue
        const consent = yield* validate(() => consentCommand(ctx.config, input, undefined), {
          operation: "subscribe",
          catalogue,
        })
        // An unknown purpose is the refusal, whatever else is wrong (the e-mail is checked below).
        if (consent._tag === "GiveConsent" && purposeDefinition(catalogue, consent.purpose) === undefined)
          return yield* Effect.fail(new UnknownPurpose({ purpose: consent.purpose }))
        const registration = (memberId: string) =>
          validate(
            () =>
              registerCommand(memberId, {
                tenantId: input.tenantId,
                personal: { email: input.email, ...(input.name === undefined ? {} : { name: input.name }) },
                source: input.source,
              }),
            { operation: "subscribe", rename: { "personal.email": "email", "personal.name": "name" } },
          )
        // Checked before the e-mail is looked up, whoever holds it: the same input gets the same refusal.
        yield* registration("subscriber")
        const call = callOf(input, input.source)
        const owner = yield* lookups.ownerOfEmail(input.tenantId, input.email)
        if (owner._tag === "Active") {
          const executed = yield* execute(owner.memberId, () => Effect.succeed([consent]), call)
          return { ...result(executed), outcome: "subscribed" as const }
        }
        if (owner._tag === "Restorable") {
          const executed = yield* execute(
            owner.memberId,
            () => Effect.succeed([{ _tag: "Restore", by: "subject" } as const, consent]),
            call,
          )
          return { ...result(executed), outcome: "restored" as const }
        }
        const memberId = ctx.newId()
        const register = yield* registration(memberId)
        const executed = yield* execute(memberId, () => Effect.succeed([register, consent]), call, {
          create: true,
        })
        return { ...result(executed), outcome: "created" as const }
      }),
    sendMessage: (memberId, input) => {
      const given = input?.messageId
      const messageId = given ?? ctx.newId()
      const send = run(
        memberId,
        () => ({
          _tag: "SendMessage",
          messageId,
          purpose: input.purpose,
          channel: input.channel,
          sentBy: input.sentBy,
          test: input.test ?? false,
        }),
        callOf(input),
      ).pipe(Effect.map((executed) => ({ ...result(executed), messageId })))
      // A message id the caller chose is refused once the store has it, whoever received it: its proof
      // stays the first message's. An id that is not a valid one is left to the command's validation.
      if (given === undefined || !isId(given)) return send
      return fromStore("messageOwner", () => ctx.store.directory.messageOwner(given)).pipe(
        Effect.flatMap((owner) =>
          owner === undefined
            ? send
            : Effect.fail(new DuplicateReference({ memberId: owner.memberId, kind: "message", id: given })),
        ),
      )
    },
    proveMessage: (messageId) =>
      Effect.gen(function* () {
        const owner = yield* fromStore("messageOwner", () => ctx.store.directory.messageOwner(messageId))
        if (owner === undefined) return yield* Effect.fail(new MessageNotFound({ messageId }))
        const { history = [], state } = yield* loader.load(owner.memberId, undefined, { history: true })
        let proof: Omit<MessageProof, "memberStatus"> | undefined
        for (const { event: decoded, stored: event } of history) {
          // The first message sent under the id is the one the directory names (ids are refused once used;
          // two sends racing to one member could still both land).
          if (decoded._tag === "MessageSent" && decoded.messageId === messageId && proof === undefined)
            proof = {
              messageId,
              memberId: owner.memberId,
              tenantId: owner.tenantId,
              sentAt: new Date(decoded.at),
              purpose: decoded.purpose,
              channel: decoded.channel,
              sentBy: decoded.sentBy,
              test: decoded.test,
              lawfulBasis: {
                basis: decoded.lawfulBasis.basis,
                consentGivenAt:
                  decoded.lawfulBasis.consentGivenAt === null
                    ? null
                    : new Date(decoded.lawfulBasis.consentGivenAt),
                method: decoded.lawfulBasis.method,
                wordingVersion: decoded.lawfulBasis.wordingVersion,
              },
              event: { version: event.version, hash: event.hash },
            }
        }
        if (proof === undefined) return yield* Effect.fail(new MessageNotFound({ messageId }))
        return { ...proof, memberStatus: state.status }
      }),
  }
}
