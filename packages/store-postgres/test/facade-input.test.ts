/**
 * Issue 5, bad input through `createLethe` on PostgreSQL: names, e-mails and
 * tenant ids with quotes, `%`, `_`, backslashes, emoji and right-to-left text,
 * names of the longest length the domain accepts (10,000 characters), come
 * back as they were and are found by `findByEmail` and `search` and by
 * nothing else; 100 KB search needles and e-mails are parameters like any
 * other; a 100 KB name is refused by the command's schema before any SQL; a
 * NUL character, which PostgreSQL text cannot hold, is refused by the schema (InvalidCommand), with
 * nothing written. The store-level cases (event data and types, message ids,
 * 200 KB values) are in store.test.ts.
 */
import type { LetheClient } from "@lethe/core"
import { createLethe, keyringFromSecret } from "@lethe/core"
import { readAllEvents } from "@lethe/core/spi"
import { postgresStore } from "@lethe/store-postgres"
import { rejection } from "@lethe/testkit/fixtures"
import { describe, expect, it } from "vitest"
import { testDatabases } from "./fixtures.js"

const keyring = keyringFromSecret("store-postgres facade input test secret, long enough")

/** A 10,000-character name (the longest the domain accepts) made of what breaks naive SQL and encoders. */
const longest = `${"O'%_\\😀 العربية ".repeat(625)}`.trim()

/** Names and e-mails that break SQL built by concatenation, LIKE patterns, or a naive encoder. */
const people: ReadonlyArray<{ readonly name: string; readonly email: string }> = [
  { name: "Seán O'Brien'); DROP TABLE events; --", email: "o'brien'--@example.org" },
  { name: "100% _match_ \\ back\\slash", email: "100%_match_\\x@example.org" },
  { name: 'Quote "double" and `back`', email: "it's`back`@example.org" },
  { name: "Łucja Żak 😀 👨‍👩‍👧", email: "łucja.żak+😀@example.org" },
  { name: "مريم العربية עברית", email: "مريم@example.org" },
  { name: "$1 $2 ::jsonb %s %d", email: "dollar$1@example.org" },
  { name: longest, email: `${"y".repeat(64)}@${"z".repeat(170)}.example.org` },
]

/** Tenant ids are SQL parameters too; these differ only where LIKE or quoting would blur them. */
const tenants = ["gym'; --", "gym%", "gym_"] as const

for (const database of testDatabases()) {
  describe(`postgres store on ${database.name}: bad input through createLethe`, () => {
    const open = async (): Promise<LetheClient> =>
      createLethe({
        store: await postgresStore({ pool: database.pool, schema: database.freshSchema() }),
        keyring,
      })

    it("SQL is parameterized: quotes, %, _, backslashes, emoji, RTL and 10,000-character names, odd e-mails and tenant ids are registered, read, found by e-mail and by search as they are", async () => {
      expect(longest.length).toBeLessThanOrEqual(10_000)
      expect(longest.length).toBeGreaterThan(9_900)
      const lethe = await open()
      try {
        const ids = new Map<string, string>()
        for (const tenantId of tenants)
          for (const [i, person] of people.entries()) {
            const { memberId } = await lethe.register({
              tenantId,
              personal: person,
              source: { kind: "import" },
            })
            ids.set(`${tenantId}/${i}`, memberId)
          }
        for (const tenantId of tenants)
          for (const [i, person] of people.entries()) {
            const id = ids.get(`${tenantId}/${i}`)
            const member = await lethe.get(id as string)
            expect(member.tenantId).toBe(tenantId)
            expect(member.personal.name).toBe(person.name)
            expect(member.personal.email).toBe(person.email)
            const found = await lethe.findByEmail(tenantId, person.email)
            expect(found?.memberId, `${tenantId} ${person.email.slice(0, 40)}`).toBe(id)
          }
        const search = async (tenantId: string, text: string) =>
          (await lethe.search(tenantId, text)).map((m) => m.memberId)
        for (const tenantId of tenants) {
          const id = (i: number) => ids.get(`${tenantId}/${i}`)
          // LIKE's wildcards match themselves only: '%' and '_' find the one name holding them.
          expect(await search(tenantId, "100% _match_")).toEqual([id(1)])
          expect(await search(tenantId, "O'Brien'); DROP")).toEqual([id(0)])
          expect(await search(tenantId, "back\\slash")).toEqual([id(1)])
          expect(await search(tenantId, "😀")).toEqual(expect.arrayContaining([id(3), id(6)]))
          expect(await search(tenantId, "😀")).toHaveLength(2)
          expect(await search(tenantId, "العربية")).toEqual(expect.arrayContaining([id(4), id(6)]))
          expect(await search(tenantId, "zzz%")).toEqual([])
          expect(await lethe.findByEmail(tenantId, "%@example.org")).toBeNull()
          expect(await lethe.findByEmail(tenantId, "o'brien'--@example.org' OR '1'='1")).toBeNull()
          expect(await lethe.findByEmail(tenantId, `${"q".repeat(100_000)}@example.org`)).toBeNull()
        }
        // A 100 KB needle is a parameter like any other: no match, no error.
        expect(await search(tenants[0], "x%_'".repeat(25_000))).toEqual([])
        // No tenant sees another's members, though their ids differ only by a quote or a wildcard.
        expect(await search("gym", "Brien")).toEqual([])
        expect(await lethe.findByEmail("gym", people[0]?.email ?? "")).toBeNull()
      } finally {
        await lethe.close()
      }
    })

    it("a 100 KB name and an over-long e-mail are refused by the command's schema (InvalidCommand) before any SQL, and nothing is written", async () => {
      const store = await postgresStore({ pool: database.pool, schema: database.freshSchema() })
      const lethe = await createLethe({ store, keyring })
      try {
        for (const personal of [
          { name: `Long ${"x".repeat(100_000)}` },
          { name: "Long E-mail", email: `${"y".repeat(100_000)}@example.org` },
        ]) {
          const error = await rejection(
            lethe.register({ tenantId: "gym", personal, source: { kind: "import" } }),
          )
          expect(error._tag).toBe("InvalidCommand")
        }
        expect((await store.events.readAll()).events).toEqual([])
      } finally {
        await lethe.close()
      }
    })

    it("R45: a NUL character in a name or an e-mail is InvalidCommand, as on every adapter, and nothing is written", async () => {
      const store = await postgresStore({ pool: database.pool, schema: database.freshSchema() })
      const lethe = await createLethe({ store, keyring })
      try {
        for (const personal of [
          { name: "Nul\u0000Name" },
          { name: "Nul E-mail", email: "nul\u0000@example.org" },
        ]) {
          const error = await rejection(
            lethe.register({ tenantId: "gym", personal, source: { kind: "import" } }),
          )
          // The command's schema refuses it, as on every other adapter: PostgreSQL never sees it.
          expect(error).toMatchObject({ _tag: "InvalidCommand" })
        }
        const written: Array<unknown> = []
        for await (const event of readAllEvents(store.events)) written.push(event)
        expect(written).toEqual([])
        // The store is still usable afterwards.
        const { memberId } = await lethe.register({
          tenantId: "gym",
          personal: { name: "After Nul" },
          source: { kind: "import" },
        })
        expect((await lethe.get(memberId)).personal.name).toBe("After Nul")
      } finally {
        await lethe.close()
      }
    })
  })
}
