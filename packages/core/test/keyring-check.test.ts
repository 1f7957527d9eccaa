/**
 * The key check (docs/design.md §3.1): a store opened with a keyring that did
 * not write it is refused at once, before anything is read or written, and
 * key rotation keeps opening it.
 */
import type { Actor, Keyring, LetheStore } from "@lethe/core"
import { createLethe, keyringFromSecret } from "@lethe/core"
import { readAllEvents } from "@lethe/core/spi"
import { memoryStore } from "@lethe/store-memory"
import { describe, expect, it } from "vitest"
import { keyCheckMember } from "../src/sealing/keyring-check.js"

const admin: Actor = { id: "staff:admin", roles: ["admin"] }
const secretA = "the secret this store was written with, 32+ bytes"
const secretB = "another secret that is also at least 32 bytes long"

/** A memory store that outlives the Lethe instances built over it, as a database file does. */
const lasting = (): LetheStore => ({ ...memoryStore(), close: async () => {} })

/** A keyring whose blind index and signing come from `base`, and whose KEKs are `keks` (the first wraps). */
const rotated = (base: string, keks: ReadonlyArray<readonly [string, string]>): Keyring => {
  const byId = new Map(keks.map(([id, secret]) => [id, keyringFromSecret(secret, id)]))
  const [current] = keks
  if (current === undefined) throw new Error("no KEK")
  return {
    ...keyringFromSecret(base),
    wrapKey: (dataKey, keyId) => (byId.get(current[0]) as Keyring).wrapKey(dataKey, keyId),
    unwrapKey: (wrapped, keyId) => {
      const kek = byId.get(wrapped.kekId)
      return kek === undefined
        ? Promise.reject(new Error(`KEK ${wrapped.kekId} is retired`))
        : kek.unwrapKey(wrapped, keyId)
    },
  }
}

const register = (store: LetheStore, keyring: Keyring, email: string) =>
  createLethe({ store, keyring }).then(async (lethe) => {
    const { memberId } = await lethe.register({
      tenantId: "gym",
      personal: { name: "Ada", email },
      source: "staff",
    })
    await lethe.close()
    return memberId
  })

/** Everything the store holds that a refused open could have changed. */
const contents = async (store: LetheStore) => {
  let events = 0
  for await (const _ of readAllEvents(store.events)) events++
  return { events, checks: await store.keys.listForMember(keyCheckMember) }
}

describe("R39: a store opened with another secret is refused, and nothing is written", () => {
  it("R39: another secret gets KeyringMismatch at once: no look-up that finds nobody, no second member with a held e-mail", async () => {
    const store = lasting()
    await register(store, keyringFromSecret(secretA), "ada@example.org")
    const before = await contents(store)
    const refused = await createLethe({ store, keyring: keyringFromSecret(secretB) }).then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(refused).toMatchObject({ _tag: "KeyringMismatch", recorded: ["secret-v1"] })
    expect(String((refused as Error).message)).toMatch(/^this store was written with another secret/)
    expect(await contents(store)).toEqual(before)
    // The right secret still opens it, and still finds the member by e-mail.
    const lethe = await createLethe({ store, keyring: keyringFromSecret(secretA) })
    expect(await lethe.findByEmail("gym", "ada@example.org")).toMatchObject({ name: "Ada" })
    const taken = await lethe
      .register({ tenantId: "gym", personal: { email: "ada@example.org" }, source: "staff" })
      .catch((error: { _tag: string }) => error._tag)
    expect(taken).toBe("EmailTaken")
  })

  it("R39: the first open records one check for the keyring's KEK; opening again records none", async () => {
    const store = lasting()
    const keyring = keyringFromSecret(secretA)
    await (await createLethe({ store, keyring })).close()
    await (await createLethe({ store, keyring })).close()
    const checks = await store.keys.listForMember(keyCheckMember)
    expect(checks.map((entry) => entry._tag === "Live" && entry.key.kekId)).toEqual(["secret-v1"])
  })

  it("R39: a KEK rotation opens the store: the new KEK gets its check while the old one still opens, and opens alone once the old is retired", async () => {
    const store = lasting()
    const first = rotated(secretA, [["kek-1", "first key-encryption secret, 32 bytes+"]])
    const memberId = await register(store, first, "ada@example.org")
    const both = rotated(secretA, [
      ["kek-2", "second key-encryption secret, 32 bytes+"],
      ["kek-1", "first key-encryption secret, 32 bytes+"],
    ])
    const lethe = await createLethe({ store, keyring: both })
    expect((await lethe.get(memberId)).personal.name).toBe("Ada")
    await lethe.close()
    const kekIds = (await store.keys.listForMember(keyCheckMember)).map(
      (e) => e._tag === "Live" && e.key.kekId,
    )
    expect(kekIds.sort()).toEqual(["kek-1", "kek-2"])
    // kek-1 retired (its keys rewrapped, here: none but the check): kek-2's check opens.
    const second = rotated(secretA, [["kek-2", "second key-encryption secret, 32 bytes+"]])
    await expect(createLethe({ store, keyring: second }).then((l) => l.close())).resolves.toBeUndefined()
    // A KEK the store never saw, and no old one: refused.
    const stranger = rotated(secretA, [["kek-3", "a third key-encryption secret, 32 bytes"]])
    await expect(createLethe({ store, keyring: stranger })).rejects.toMatchObject({ _tag: "KeyringMismatch" })
    // The right KEKs under another blind-index secret: refused too (its e-mail look-ups would find nobody).
    const otherBase = rotated(secretB, [["kek-2", "second key-encryption secret, 32 bytes+"]])
    await expect(createLethe({ store, keyring: otherBase })).rejects.toMatchObject({
      _tag: "KeyringMismatch",
    })
  })

  it("R39: a store written before key checks is checked against its first data key", async () => {
    const store = lasting()
    const a = keyringFromSecret(secretA)
    const old = await createLethe({ store, keyring: a, keyCheck: "skip" })
    await old.register({
      tenantId: "gym",
      personal: { name: "Ada", email: "ada@example.org" },
      source: "staff",
    })
    await old.close()
    expect(await store.keys.listForMember(keyCheckMember)).toEqual([])
    await expect(createLethe({ store, keyring: keyringFromSecret(secretB) })).rejects.toMatchObject({
      _tag: "KeyringMismatch",
    })
    expect(await store.keys.listForMember(keyCheckMember)).toEqual([])
    await (await createLethe({ store, keyring: a })).close()
    expect(await store.keys.listForMember(keyCheckMember)).toHaveLength(1)
  })

  it("R39: keyCheck 'verify' refuses another secret and records nothing; an empty store is anyone's", async () => {
    const store = lasting()
    await (await createLethe({ store, keyring: keyringFromSecret(secretA), keyCheck: "verify" })).close()
    expect(await store.keys.listForMember(keyCheckMember)).toEqual([])
    await register(store, keyringFromSecret(secretA), "ada@example.org")
    await expect(
      createLethe({ store, keyring: keyringFromSecret(secretB), keyCheck: "verify" }),
    ).rejects.toMatchObject({ _tag: "KeyringMismatch" })
    const lethe = await createLethe({ store, keyring: keyringFromSecret(secretA), keyCheck: "verify" })
    await lethe.anonymize((await lethe.search("gym", "ada"))[0]?.memberId ?? "", {
      actor: admin,
      confirmEmail: "ada@example.org",
    })
    await lethe.close()
  })
})
