/**
 * The event codec that seals every personal value before it reaches a store
 * and opens it on the way back (DESIGN §3). A value whose key was destroyed,
 * or that a store redacted, comes back as an `Erased` marker of its category.
 *
 * @module
 */
import { randomBytes } from "node:crypto"
import { Effect, ParseResult, Schema } from "effect"
import type { EventCodec, EventPlace } from "../app/codec.js"
import { fromStore } from "../app/store-call.js"
import type { LetheError } from "../errors.js"
import { IntegrityError, KeyDestroyed, StoreError } from "../errors.js"
import type { PersonalCategory } from "../member/events.js"
import { MemberEvent, PersonalCategory as PersonalCategorySchema } from "../member/events.js"
import type { StoredEvent } from "../spi/event-store.js"
import type { KeyStore, StoredKey } from "../spi/key-store.js"
import { isSealedValue } from "../spi/sealed-value.js"
import type { Keyring } from "./keyring.js"
import { dataKeyId, seal, unseal } from "./seal.js"

/** Where an event type keeps personal values: a record of fields, all of one category. */
const personalRecord = (
  event: MemberEvent,
): { readonly field: "fields" | "details"; readonly category: PersonalCategory } | undefined => {
  switch (event._tag) {
    case "PersonalDataRecorded":
      return { field: "fields", category: event.category }
    case "ActivityRecorded":
      return { field: "details", category: "activity" }
    default:
      return undefined
  }
}

const encodeEvent = Schema.encode(MemberEvent)
const decodeEvent = Schema.decodeUnknown(MemberEvent)
const isCategory = Schema.is(PersonalCategorySchema)

/**
 * A codec that seals with per-(member, category) data keys from `keys`,
 * wrapped by `keyring`. Call `session()` once per operation: unwrapped keys are
 * cached for that operation only, so no cache outlives a key's destruction by
 * another process for longer than one command.
 */
export const sealingCodec = (keys: KeyStore, keyring: Keyring) => ({
  /**
   * `newMember`: the member's stream was empty when read, so it has no key
   * yet; keys are minted without asking the store first. Were one there after
   * all, the append storing the new key fails with `KeyExists`, and the
   * command runs again with a fresh session.
   */
  session: (options: { readonly newMember?: boolean } = {}): EventCodec => {
    const cache = new Map<string, Uint8Array | null>()
    /** Keys minted by this session, by id, not stored yet. */
    const minted = new Map<string, StoredKey>()

    /** The key to open values under `keyId`, or null when it was destroyed or never existed. */
    const openingKey = (keyId: string): Effect.Effect<Uint8Array | null, LetheError> =>
      Effect.gen(function* () {
        const cached = cache.get(keyId)
        if (cached !== undefined) return cached
        const entry = yield* fromStore("keys.get", () => keys.get(keyId))
        const key =
          entry?._tag === "Live"
            ? yield* fromStore("unwrapKey", () =>
                keyring.unwrapKey({ kekId: entry.key.kekId, wrapped: entry.key.wrappedKey }, keyId),
              )
            : null
        cache.set(keyId, key)
        return key
      })

    /**
     * The key to seal with: the live one, or a new one minted now and kept in
     * `minted` for the append to store; never one replacing a destroyed key.
     */
    const sealingKey = (
      place: EventPlace,
      category: PersonalCategory,
    ): Effect.Effect<{ readonly keyId: string; readonly key: Uint8Array }, LetheError> =>
      Effect.gen(function* () {
        const keyId = dataKeyId(place.memberId, category)
        const cached = cache.get(keyId)
        if (cached !== undefined && cached !== null) return { keyId, key: cached }
        const entry =
          options.newMember === true ? undefined : yield* fromStore("keys.get", () => keys.get(keyId))
        if (entry?._tag === "Destroyed") return yield* Effect.fail(new KeyDestroyed({ keyId }))
        if (entry?._tag === "Live") {
          cache.delete(keyId)
          const key = yield* openingKey(keyId)
          if (key !== null) return { keyId, key }
        }
        const key = new Uint8Array(randomBytes(32))
        const wrapped = yield* fromStore("wrapKey", () => keyring.wrapKey(key, keyId))
        minted.set(keyId, {
          keyId,
          tenantId: place.tenantId,
          memberId: place.memberId,
          category,
          wrappedKey: wrapped.wrapped,
          kekId: wrapped.kekId,
          createdAt: place.recordedAt,
        })
        cache.set(keyId, key)
        return { keyId, key }
      })

    return {
      newKeys: () => [...minted.values()],
      encode: (event, place) =>
        Effect.gen(function* () {
          const encoded = yield* encodeEvent(event).pipe(
            Effect.mapError(
              (e) =>
                new StoreError({ operation: "encode", detail: ParseResult.TreeFormatter.formatErrorSync(e) }),
            ),
          )
          const { _tag, ...data } = encoded as Record<string, unknown>
          const personal = personalRecord(event)
          if (personal === undefined) return data
          const values = (data[personal.field] ?? {}) as Record<string, unknown>
          if (Object.keys(values).length === 0) return data
          const { keyId, key } = yield* sealingKey(place, personal.category)
          const sealed: Record<string, unknown> = {}
          for (const [name, value] of Object.entries(values)) {
            if (typeof value !== "string")
              return yield* Effect.fail(
                new StoreError({
                  operation: "encode",
                  detail: `${personal.field}.${name} is not a clear value`,
                }),
              )
            sealed[name] = seal(key, keyId, personal.category, value, {
              streamId: place.streamId,
              version: place.version,
              path: `${personal.field}.${name}`,
            })
          }
          return { ...data, [personal.field]: sealed }
        }),
      decode: (stored: StoredEvent) =>
        Effect.gen(function* () {
          const data = { ...(stored.data as Record<string, unknown>) }
          for (const field of ["fields", "details"] as const) {
            const values = data[field]
            if (values === null || typeof values !== "object") continue
            const opened: Record<string, unknown> = {}
            for (const [name, value] of Object.entries(values)) {
              opened[name] = yield* openValue(stored, `${field}.${name}`, value)
            }
            data[field] = opened
          }
          return yield* decodeEvent({ ...data, _tag: stored.type }).pipe(
            Effect.mapError(
              (e) =>
                new IntegrityError({
                  streamId: stored.streamId,
                  version: stored.version,
                  detail: ParseResult.TreeFormatter.formatErrorSync(e),
                }),
            ),
          )
        }),
    }

    function openValue(
      stored: StoredEvent,
      path: string,
      value: unknown,
    ): Effect.Effect<unknown, LetheError> {
      if (isSealedValue(value)) {
        return openingKey(value.keyId).pipe(
          Effect.flatMap((key): Effect.Effect<unknown, LetheError> => {
            if (key === null) return Effect.succeed({ _tag: "Erased", category: value.category })
            return Effect.try({
              try: () => unseal(key, value, { streamId: stored.streamId, version: stored.version, path }),
              catch: (e) =>
                new IntegrityError({
                  streamId: stored.streamId,
                  version: stored.version,
                  detail: `${path}: ${e instanceof Error ? e.message : String(e)}`,
                }),
            })
          }),
        )
      }
      if (value !== null && typeof value === "object" && "_tag" in value && value._tag === "Erased") {
        const category = "category" in value ? value.category : undefined
        if (isCategory(category)) return Effect.succeed({ _tag: "Erased", category })
      }
      return Effect.fail(
        new IntegrityError({
          streamId: stored.streamId,
          version: stored.version,
          detail: `${path}: not a personal value`,
        }),
      )
    }
  },
})
