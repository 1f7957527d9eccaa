/**
 * The event codec that seals every personal value before it reaches a store
 * and opens it on the way back (docs/design.md §3). A value whose key was destroyed,
 * or that a store redacted, comes back as an `Erased` marker of its category.
 *
 * @module
 */
import { Effect, Either, ParseResult, Schema } from "effect"
import type { LetheError } from "../errors.js"
import { IntegrityError, KeyDestroyed, StoreError } from "../errors.js"
import type { PersonalCategory, PersonalFields } from "../member/events.js"
import {
  freeTextCategory,
  freeTextFields,
  MemberEvent,
  PersonalCategory as PersonalCategorySchema,
} from "../member/events.js"
import type { StoredEvent } from "../spi/event-store.js"
import type { KeyEntry, KeyStore, StoredKey } from "../spi/key-store.js"
import type { SealedValue } from "../spi/sealed-value.js"
import { isSealedValue } from "../spi/sealed-value.js"
import { fromStore } from "../spi/store-call.js"
import type { EventCodec, EventPlace, PersonalByCategory } from "./codec.js"
import type { Keyring } from "./keyring.js"
import { randomBytesPooled } from "./random.js"
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

/** Where a personal value sits in a member snapshot: never a path of an event's value. */
const snapshotPath = (category: PersonalCategory, name: string): string =>
  `snapshot.personal.${category}.${name}`

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  value !== null && typeof value === "object" && !Array.isArray(value)

const encodeEvent = Schema.encodeEither(MemberEvent)
const decodeEvent = Schema.decodeUnknownEither(MemberEvent)
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
    /** Key entries `prefetch` listed, by id, not unwrapped yet. */
    const listed = new Map<string, KeyEntry>()

    /** The key `entry` holds, unwrapped and cached; null when it was destroyed or never existed. */
    const unwrapped = (
      keyId: string,
      entry: KeyEntry | undefined,
    ): Effect.Effect<Uint8Array | null, LetheError> =>
      entry?._tag === "Live"
        ? fromStore("unwrapKey", () =>
            keyring.unwrapKey({ kekId: entry.key.kekId, wrapped: entry.key.wrappedKey }, keyId),
          ).pipe(Effect.tap((key) => Effect.sync(() => cache.set(keyId, key))))
        : Effect.sync(() => {
            cache.set(keyId, null)
            return null
          })

    /** The key to open values under `keyId`, or null when it was destroyed or never existed. */
    const openingKey = (keyId: string): Effect.Effect<Uint8Array | null, LetheError> =>
      Effect.suspend(() => {
        const cached = cache.get(keyId)
        if (cached !== undefined) return Effect.succeed(cached)
        const entry = listed.get(keyId)
        if (entry !== undefined) return unwrapped(keyId, entry)
        return Effect.flatMap(
          fromStore("keys.get", () => keys.get(keyId)),
          (entry) => unwrapped(keyId, entry),
        )
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
          const key = yield* unwrapped(keyId, entry)
          if (key !== null) return { keyId, key }
        }
        const key = new Uint8Array(randomBytesPooled(32))
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

    /** The personal record of `data` sealed under `key`; a value that is not clear text fails. */
    const sealRecord = (
      data: Record<string, unknown>,
      personal: { readonly field: "fields" | "details"; readonly category: PersonalCategory },
      values: Record<string, unknown>,
      place: EventPlace,
      sealing: { readonly keyId: string; readonly key: Uint8Array },
    ): Effect.Effect<unknown, LetheError> => {
      const sealed: Record<string, unknown> = {}
      for (const name of Object.keys(values)) {
        const value = values[name]
        if (typeof value !== "string")
          return Effect.fail(
            new StoreError({ operation: "encode", detail: `${personal.field}.${name} is not a clear value` }),
          )
        sealed[name] = seal(sealing.key, sealing.keyId, personal.category, value, {
          streamId: place.streamId,
          version: place.version,
          path: `${personal.field}.${name}`,
        })
      }
      return Effect.succeed({ ...data, [personal.field]: sealed })
    }

    /**
     * The free-text fields `names` of `data` (a restriction's reason...) sealed under the member's
     * `notes` key at their own path, as personal values are (R29). Once that key is destroyed no new
     * one may replace it (§3.4): the text is then not kept at all, and stored as the `Erased` marker
     * it would have become. A value that is no clear text (already sealed or erased) is left as it is.
     */
    const sealFreeText = (
      data: Record<string, unknown>,
      names: ReadonlyArray<string>,
      place: EventPlace,
    ): Effect.Effect<Record<string, unknown>, LetheError> => {
      const clear = names.filter((name) => typeof data[name] === "string")
      if (clear.length === 0) return Effect.succeed(data)
      return sealingKey(place, freeTextCategory).pipe(
        Effect.map((sealing) => {
          const out = { ...data }
          for (const name of clear)
            out[name] = seal(sealing.key, sealing.keyId, freeTextCategory, data[name] as string, {
              streamId: place.streamId,
              version: place.version,
              path: name,
            })
          return out
        }),
        Effect.catchTag("KeyDestroyed", () => {
          const out = { ...data }
          for (const name of clear) out[name] = { _tag: "Erased", category: freeTextCategory }
          return Effect.succeed(out)
        }),
      )
    }

    /** `encodePersonal`, then the event's free text sealed (see `sealFreeText`). */
    const encodeSealed = (event: MemberEvent, place: EventPlace): Effect.Effect<unknown, LetheError> => {
      const names = freeTextFields[event._tag]
      const personal = encodePersonal(event, place)
      return names === undefined
        ? personal
        : Effect.flatMap(personal, (data) => sealFreeText(data as Record<string, unknown>, names, place))
    }

    /** The event encoded, its personal record (if any) sealed. */
    const encodePersonal = (event: MemberEvent, place: EventPlace): Effect.Effect<unknown, LetheError> => {
      const encoded = encodeEvent(event)
      if (Either.isLeft(encoded))
        return Effect.fail(
          new StoreError({
            operation: "encode",
            detail: ParseResult.TreeFormatter.formatErrorSync(encoded.left),
          }),
        )
      const { _tag, ...data } = encoded.right as Record<string, unknown>
      const personal = personalRecord(event)
      if (personal === undefined) return Effect.succeed(data)
      const values = (data[personal.field] ?? {}) as Record<string, unknown>
      if (Object.keys(values).length === 0) return Effect.succeed(data)
      const keyId = dataKeyId(place.memberId, personal.category)
      const cached = cache.get(keyId)
      if (cached !== undefined && cached !== null)
        return sealRecord(data, personal, values, place, { keyId, key: cached })
      return Effect.flatMap(sealingKey(place, personal.category), (sealing) =>
        sealRecord(data, personal, values, place, sealing),
      )
    }

    return {
      newKeys: () => [...minted.values()],
      prefetch: (memberId) =>
        fromStore("keys.listForMember", () => keys.listForMember(memberId)).pipe(
          Effect.tap((entries) =>
            Effect.sync(() => {
              for (const entry of entries)
                listed.set(entry._tag === "Live" ? entry.key.keyId : entry.tombstone.keyId, entry)
            }),
          ),
          Effect.asVoid,
        ),
      // Synchronous wherever the key is at hand: one Effect per event, not one per step.
      encode: encodeSealed,
      decode: (stored: StoredEvent) => {
        if (stored.unreadable !== undefined)
          return Effect.fail(
            new IntegrityError({
              streamId: stored.streamId,
              version: stored.version,
              detail: stored.unreadable,
            }),
          )
        const data = { ...(stored.data as Record<string, unknown>) }
        const pending: Array<Effect.Effect<void, LetheError>> = []
        for (const field of ["fields", "details"] as const) {
          const values = data[field]
          if (values === null || typeof values !== "object") continue
          const opened: Record<string, unknown> = {}
          for (const [name, value] of Object.entries(values)) {
            const now = openValueNow(stored, `${field}.${name}`, value)
            if (now === undefined)
              pending.push(
                Effect.map(openValue(stored, `${field}.${name}`, value), (v) => {
                  opened[name] = v
                }),
              )
            else if (Either.isLeft(now)) return Effect.fail(now.left)
            else opened[name] = now.right
          }
          data[field] = opened
        }
        // Free text: sealed, erased, or (in a log written before it was sealed) still in clear.
        // A stored type is data: one named after an object's property (constructor) has no free text.
        const texts = Object.hasOwn(freeTextFields, stored.type) ? freeTextFields[stored.type] : undefined
        for (const name of texts ?? []) {
          const value = data[name]
          if (typeof value === "string" || value === undefined) continue
          const now = openValueNow(stored, name, value)
          if (now === undefined)
            pending.push(
              Effect.map(openValue(stored, name, value), (v) => {
                data[name] = v
              }),
            )
          else if (Either.isLeft(now)) return Effect.fail(now.left)
          else data[name] = now.right
        }
        const finish = () => {
          const decoded = decodeEvent({ ...data, _tag: stored.type })
          return Either.isRight(decoded)
            ? Effect.succeed(decoded.right)
            : Effect.fail(
                new IntegrityError({
                  streamId: stored.streamId,
                  version: stored.version,
                  detail: ParseResult.TreeFormatter.formatErrorSync(decoded.left),
                }),
              )
        }
        return pending.length === 0 ? finish() : Effect.flatMap(Effect.all(pending), finish)
      },
      sealPersonal: (personal, place) =>
        Effect.gen(function* () {
          const sealed: Record<string, Record<string, unknown>> = {}
          for (const [category, fields] of Object.entries(personal) as Array<
            [PersonalCategory, PersonalFields]
          >) {
            const keyId = dataKeyId(place.memberId, category)
            let key: Uint8Array | null | undefined
            const out: Record<string, unknown> = {}
            for (const [name, value] of Object.entries(fields)) {
              // An Erased marker holds nothing personal: it is kept as it is.
              if (typeof value !== "string") {
                out[name] = value
                continue
              }
              if (key === undefined) key = yield* openingKey(keyId)
              if (key === null) return undefined
              out[name] = seal(key, keyId, category, value, {
                streamId: place.streamId,
                version: place.version,
                path: snapshotPath(category, name),
              })
            }
            sealed[category] = out
          }
          return sealed
        }),
      openPersonal: (sealed, place) =>
        Effect.gen(function* () {
          const broken = (detail: string) =>
            new IntegrityError({
              streamId: place.streamId,
              version: place.version,
              detail: `snapshot: ${detail}`,
            })
          if (!isRecord(sealed)) return yield* Effect.fail(broken("personal is not a record"))
          const opened: Partial<Record<PersonalCategory, PersonalFields>> = {}
          for (const [category, fields] of Object.entries(sealed)) {
            if (!isCategory(category) || !isRecord(fields))
              return yield* Effect.fail(broken(`personal.${category} is not a category of values`))
            const out: Record<string, PersonalFields[string]> = {}
            for (const [name, value] of Object.entries(fields)) {
              const path = snapshotPath(category, name)
              if (isSealedValue(value)) {
                if (value.keyId !== dataKeyId(place.memberId, category) || value.category !== category)
                  return yield* Effect.fail(
                    broken(`${path} is sealed under another member's or category's key`),
                  )
                const key = yield* openingKey(value.keyId)
                if (key === null) out[name] = { _tag: "Erased", category }
                else
                  try {
                    out[name] = unseal(key, value, { streamId: place.streamId, version: place.version, path })
                  } catch (e) {
                    return yield* Effect.fail(
                      broken(`${path}: ${e instanceof Error ? e.message : String(e)}`),
                    )
                  }
              } else if (isRecord(value) && value._tag === "Erased" && value.category === category)
                out[name] = { _tag: "Erased", category }
              else return yield* Effect.fail(broken(`${path} is not a personal value`))
            }
            opened[category] = out
          }
          return opened satisfies PersonalByCategory
        }),
    }

    /**
     * A personal value opened without waiting, or undefined when its key must
     * be fetched first (then `openValue` does it).
     */
    function openValueNow(
      stored: StoredEvent,
      path: string,
      value: unknown,
    ): Either.Either<unknown, LetheError> | undefined {
      if (isSealedValue(value)) {
        const key = cache.get(value.keyId)
        if (key === undefined) return undefined
        return key === null
          ? Either.right({ _tag: "Erased", category: value.category })
          : unsealed(stored, path, key, value)
      }
      if (value !== null && typeof value === "object" && "_tag" in value && value._tag === "Erased") {
        const category = "category" in value ? value.category : undefined
        if (isCategory(category)) return Either.right({ _tag: "Erased", category })
      }
      return Either.left(
        new IntegrityError({
          streamId: stored.streamId,
          version: stored.version,
          detail: `${path}: not a personal value`,
        }),
      )
    }

    function unsealed(
      stored: StoredEvent,
      path: string,
      key: Uint8Array,
      value: SealedValue,
    ): Either.Either<unknown, LetheError> {
      try {
        return Either.right(unseal(key, value, { streamId: stored.streamId, version: stored.version, path }))
      } catch (e) {
        return Either.left(
          new IntegrityError({
            streamId: stored.streamId,
            version: stored.version,
            detail: `${path}: ${e instanceof Error ? e.message : String(e)}`,
          }),
        )
      }
    }

    /** A personal value opened once its key is fetched (or known destroyed). */
    function openValue(
      stored: StoredEvent,
      path: string,
      value: unknown,
    ): Effect.Effect<unknown, LetheError> {
      if (!isSealedValue(value))
        return Effect.suspend(() => openValueNow(stored, path, value) ?? Effect.die("unreachable"))
      return Effect.flatMap(openingKey(value.keyId), (key) =>
        key === null
          ? Effect.succeed({ _tag: "Erased", category: value.category })
          : unsealed(stored, path, key, value),
      )
    }
  },
})
