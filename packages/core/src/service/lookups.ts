/**
 * Finding members by e-mail through the blind index: the tenant's index
 * key (asked of the keyring once), and who holds an e-mail in a tenant, one
 * at a time or a whole import chunk's e-mails in two queries (R1, R5).
 *
 * @module
 */
import { Effect, Either } from "effect"
import type { LetheError } from "../errors.js"
import { isRestorable, storedEmail } from "../member/guards.js"
import type { MemberState } from "../member/state.js"
import { emailIndex } from "../sealing/blind-index.js"
import { fromStore } from "../spi/store-call.js"
import type { ServiceContext } from "./context.js"

/** Who holds an e-mail in a tenant: an active member, a forgotten one still restorable, or nobody (R1, R5). */
export type EmailOwner =
  | { readonly _tag: "Active" | "Restorable"; readonly memberId: string }
  | { readonly _tag: "Nobody" }

/** E-mail look-ups of one instance. */
export interface Lookups {
  /** The blind-index key of an e-mail in a tenant. */
  lookupKey(tenantId: string, email: string): Effect.Effect<string, LetheError>
  /** The blind-index key of the e-mail a member's state holds, or null. */
  emailKeyOf(state: MemberState): Effect.Effect<string | null, LetheError>
  /** Who an e-mail belongs to in a tenant now. */
  ownerOfEmail(tenantId: string, email: string): Effect.Effect<EmailOwner, LetheError>
  /**
   * Who holds each e-mail (by its key in `emails`) in `tenantId` at `at`, as
   * `ownerOfEmail` decides. Two queries when the directory has the many-key
   * look-ups; otherwise one `ownerOfEmail` per e-mail, side by side, an
   * e-mail whose look-up failed left out.
   */
  emailOwners(
    tenantId: string,
    emails: ReadonlyMap<string, string>,
    at: number,
  ): Effect.Effect<ReadonlyMap<string, EmailOwner>, LetheError>
}

/** The look-ups of one instance. */
export const makeLookups = ({ store, keyring, now }: ServiceContext): Lookups => {
  // The keyring derives the same key each time, so it is asked once per tenant.
  const blindKeys = new Map<string, Uint8Array>()
  const blindIndexKey = (tenantId: string): Effect.Effect<Uint8Array, LetheError> => {
    const known = blindKeys.get(tenantId)
    if (known !== undefined) return Effect.succeed(known)
    return fromStore("blindIndexKey", () => keyring.blindIndexKey(tenantId)).pipe(
      Effect.tap((key) => Effect.sync(() => blindKeys.set(tenantId, key))),
    )
  }

  const lookupKey = (tenantId: string, email: string): Effect.Effect<string, LetheError> =>
    blindIndexKey(tenantId).pipe(Effect.map((key) => emailIndex(key, email)))

  const ownerOfEmail = (tenantId: string, email: string): Effect.Effect<EmailOwner, LetheError> =>
    Effect.gen(function* () {
      const key = yield* lookupKey(tenantId, email)
      const [active] = yield* fromStore("findByEmail", () => store.directory.findByEmail(tenantId, key))
      if (active !== undefined) return { _tag: "Active", memberId: active.memberId } as const
      const at = yield* now
      const restorable = (yield* fromStore("findRestorable", () =>
        store.directory.findRestorable(tenantId, key),
      )).find((row) => isRestorable(row, at))
      return restorable === undefined
        ? ({ _tag: "Nobody" } as const)
        : ({ _tag: "Restorable", memberId: restorable.memberId } as const)
    })

  const emailOwners: Lookups["emailOwners"] = (tenantId, emails, at) =>
    Effect.gen(function* () {
      const keys = [...emails.keys()]
      const owners = new Map<string, EmailOwner>()
      const byEmail = store.directory.findManyByEmail?.bind(store.directory)
      const restorable = store.directory.findManyRestorable?.bind(store.directory)
      if (byEmail === undefined || restorable === undefined) {
        const found = yield* Effect.forEach(
          emails.values(),
          (email) => Effect.either(ownerOfEmail(tenantId, email)),
          { concurrency: 8 },
        )
        for (const [i, key] of keys.entries()) {
          const owner = found[i]
          if (owner !== undefined && Either.isRight(owner)) owners.set(key, owner.right)
        }
        return owners
      }
      // Rows come in memberId order: the first of a key is the one `ownerOfEmail` would take.
      for (const row of yield* fromStore("findManyByEmail", () => byEmail(tenantId, keys)))
        if (row.emailKey !== null && !owners.has(row.emailKey))
          owners.set(row.emailKey, { _tag: "Active", memberId: row.memberId })
      const rest = keys.filter((key) => !owners.has(key))
      if (rest.length > 0)
        for (const row of yield* fromStore("findManyRestorable", () => restorable(tenantId, rest)))
          if (row.restoreKey !== null && !owners.has(row.restoreKey) && isRestorable(row, at))
            owners.set(row.restoreKey, { _tag: "Restorable", memberId: row.memberId })
      for (const key of rest) if (!owners.has(key)) owners.set(key, { _tag: "Nobody" })
      return owners
    })

  return {
    lookupKey,
    emailKeyOf: (state) => {
      const email = storedEmail(state)
      return email === undefined ? Effect.succeed(null) : lookupKey(state.tenantId, email)
    },
    ownerOfEmail,
    emailOwners,
  }
}
