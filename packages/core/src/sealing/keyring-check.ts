/**
 * The key check: proof, kept in the store, of which keyring wrote it. For
 * every key-encryption key (KEK) a store is written under, it holds one
 * check: a value derived from the keyring's blind-index key, wrapped under
 * that KEK. A keyring opens the store when one of the checks unwraps with it
 * to the value its own blind-index key gives: the same secret, or a rotation
 * that still holds an old KEK (docs/design.md §3.1). Checks are stored as
 * keys of a reserved member, so every adapter keeps them without a new table.
 *
 * @module
 */
import { createHmac, timingSafeEqual } from "node:crypto"
import { Effect } from "effect"
import type { LetheError } from "../errors.js"
import { KeyringMismatch } from "../errors.js"
import type { KeyEntry, StoredKey } from "../spi/key-store.js"
import type { LetheStore } from "../spi/store.js"
import { fromStore } from "../spi/store-call.js"
import type { Keyring } from "./keyring.js"

/** The reserved member whose "keys" are the store's key checks; no stream, no directory row. */
export const keyCheckMember = "lethe:keyring"

/** The key id of the check wrapped under `kekId`. */
export const keyCheckId = (kekId: string): string => `${keyCheckMember}:check:${kekId}`

/** What every check wraps: fixed for a given blind-index key, another for any other. */
const checkValue = (keyring: Keyring): Effect.Effect<Buffer, LetheError> =>
  fromStore("keyring.blindIndexKey", () => keyring.blindIndexKey(keyCheckMember)).pipe(
    Effect.map((key) => createHmac("sha256", key).update("lethe/keyring-check/v1").digest()),
  )

/** Whether a recorded check opens with `keyring` to `expected`; a check it cannot unwrap does not. */
const opens = (keyring: Keyring, key: StoredKey, expected: Buffer): Effect.Effect<boolean> =>
  Effect.tryPromise(() => keyring.unwrapKey({ kekId: key.kekId, wrapped: key.wrappedKey }, key.keyId)).pipe(
    Effect.map((value) => value.byteLength === expected.byteLength && timingSafeEqual(value, expected)),
    Effect.orElseSucceed(() => false),
  )

/**
 * A store written before key checks existed has none: its first data key
 * found in the log must unwrap with `keyring`, or the store was written
 * with another secret. A store with no data key yet is anyone's.
 */
const opensLegacyKey = (store: LetheStore, keyring: Keyring): Effect.Effect<boolean, LetheError> =>
  Effect.gen(function* () {
    const page = yield* fromStore("events.readAll", () => store.events.readAll({ limit: 50 }))
    const members = [...new Set(page.events.map((event) => event.streamId.replace(/^member-/, "")))]
    for (const memberId of members) {
      const entries = yield* fromStore("keys.listForMember", () => store.keys.listForMember(memberId))
      const live = entries.find(
        (entry): entry is Extract<KeyEntry, { _tag: "Live" }> => entry._tag === "Live",
      )
      if (live === undefined) continue
      return yield* Effect.tryPromise(() =>
        keyring.unwrapKey({ kekId: live.key.kekId, wrapped: live.key.wrappedKey }, live.key.keyId),
      ).pipe(
        Effect.as(true),
        Effect.orElseSucceed(() => false),
      )
    }
    return true
  })

/**
 * Checks that `keyring` opens `store`, then (with `record`) records a check
 * for the KEK the keyring wraps under if the store has none for it yet (the
 * first open, or the first after a rotation). Fails with `KeyringMismatch`, writing
 * nothing, when the store's checks (or, in a store written before checks,
 * its first data key) do not open with the keyring.
 */
export const checkKeyring = (
  store: LetheStore,
  keyring: Keyring,
  now: number,
  record = true,
): Effect.Effect<void, LetheError> =>
  Effect.gen(function* () {
    const expected = yield* checkValue(keyring)
    const recorded = (yield* fromStore("keys.listForMember", () => store.keys.listForMember(keyCheckMember)))
      .filter((entry): entry is Extract<KeyEntry, { _tag: "Live" }> => entry._tag === "Live")
      .map((entry) => entry.key)
    let opened = false
    for (const key of recorded) if (!opened) opened = yield* opens(keyring, key, expected)
    if (!opened && (recorded.length > 0 || !(yield* opensLegacyKey(store, keyring))))
      return yield* Effect.fail(
        new KeyringMismatch({
          recorded: recorded.length > 0 ? recorded.map((key) => key.kekId) : ["a data key"],
        }),
      )
    if (!record) return
    // Which KEK the keyring wraps under is known only by wrapping: once to learn it, once bound to its check's id.
    const probe = yield* fromStore("keyring.wrapKey", () => keyring.wrapKey(expected, keyCheckMember))
    if (recorded.some((key) => key.kekId === probe.kekId)) return
    const keyId = keyCheckId(probe.kekId)
    const wrapped = yield* fromStore("keyring.wrapKey", () => keyring.wrapKey(expected, keyId))
    yield* fromStore("keys.put", () =>
      store.keys.put({
        keyId,
        tenantId: keyCheckMember,
        memberId: keyCheckMember,
        category: "key-check",
        wrappedKey: wrapped.wrapped,
        kekId: wrapped.kekId,
        createdAt: now,
      }),
    ).pipe(
      // Another process recorded the same check first: it wrapped the same value under the same KEK.
      Effect.catchIf(
        (error) => error._tag === "KeyExists",
        () => Effect.void,
      ),
    )
  })
