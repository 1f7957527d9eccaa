/**
 * Conformance of `Directory.findManyByEmail` and `Directory.findManyRestorable`,
 * the optional look-ups of many keys in one query: exactly the rows the
 * single look-ups (`findByEmail`, `findRestorable`) give for the keys
 * together, each once, in memberId order; keys matched exactly; at most
 * `maxLookupKeys` string keys, anything else refused with `StoreError`.
 *
 * An adapter without either method passes nothing here: every case is
 * skipped when it runs, with the reason `noManyLookupsReason`. An adapter
 * with one of them is checked on that one.
 *
 * @module
 */
import type { LetheStore, MemberStatus } from "@lethe/core"
import type { MemberRow } from "@lethe/core/spi"
import { maxLookupKeys } from "@lethe/core/spi"
import fc from "fast-check"
import { expect } from "vitest"
import { forgottenRow, memberRow, writeRow, writeRows } from "../fixtures.js"
import type { CaseContext, CaseGroup } from "./case.js"
import { expectClosed, ids } from "./helpers.js"

/** The reason the `directory-many/*` cases give when they skip an adapter without either look-up of many keys. */
export const noManyLookupsReason = "no findManyByEmail or findManyRestorable (an optional part of the SPI)"

/** A look-up of many keys, with the single look-up and the plain rule it must agree with. */
interface ManyLookup {
  /** The operation, e.g. "directory.findManyByEmail". */
  readonly operation: string
  readonly many: (tenantId: string, keys: ReadonlyArray<string>) => Promise<ReadonlyArray<MemberRow>>
  readonly single: (tenantId: string, key: string) => Promise<ReadonlyArray<MemberRow>>
  /** The row's key this look-up matches. */
  readonly keyOf: (row: MemberRow) => string | null
  /** The only status it finds. */
  readonly status: MemberStatus
  /** A row of `tenantId` found under `key`, for the fixed cases. */
  readonly found: (memberId: string, key: string, tenantId?: string) => MemberRow
}

/** The store's look-ups of many keys; ends the case as skipped when it has neither. */
const lookupsOf = (store: LetheStore, skip: CaseContext["skip"]): ReadonlyArray<ManyLookup> => {
  const { directory } = store
  const lookups: Array<ManyLookup> = []
  if (directory.findManyByEmail !== undefined)
    lookups.push({
      operation: "directory.findManyByEmail",
      many: directory.findManyByEmail.bind(directory),
      single: (tenantId, key) => directory.findByEmail(tenantId, key),
      keyOf: (row) => row.emailKey,
      status: "active",
      found: (memberId, key, tenantId = "t1") => memberRow(memberId, { emailKey: key, tenantId }),
    })
  if (directory.findManyRestorable !== undefined)
    lookups.push({
      operation: "directory.findManyRestorable",
      many: directory.findManyRestorable.bind(directory),
      single: (tenantId, key) => directory.findRestorable(tenantId, key),
      keyOf: (row) => row.restoreKey,
      status: "forgotten",
      found: (memberId, key, tenantId = "t1") => forgottenRow(memberId, { restoreKey: key, tenantId }),
    })
  return lookups.length === 0 ? skip(noManyLookupsReason) : lookups
}

/** Opens a fresh store, runs `use` with it and its look-ups of many keys, and closes it; skipped without any. */
const withLookups = <A>(
  { withStore, skip }: CaseContext,
  use: (store: LetheStore, lookups: ReadonlyArray<ManyLookup>) => Promise<A>,
): Promise<A> => withStore((store) => use(store, lookupsOf(store, skip)))

/** Rows by memberId, each once, ascending (the ids here are ASCII: code units and bytes agree). */
const inMemberIdOrder = (rows: ReadonlyArray<MemberRow>): Array<MemberRow> =>
  [...new Map(rows.map((row) => [row.memberId, row])).values()].sort((a, b) =>
    a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0,
  )

/** How a call ended: a synchronous throw counts as a rejection, as it does for a caller that awaits. */
const outcomeOf = (call: () => Promise<unknown>) =>
  Promise.resolve()
    .then(call)
    .then(
      (value: unknown) => ({ resolved: value }),
      (error: { readonly _tag?: string } | undefined) => ({ _tag: error?._tag }),
    )

/** Keys that look alike to a careless match (case, wildcards, quotes, escapes, unicode, length), each distinct. */
const trickyKeys: ReadonlyArray<string> = [
  "Anna@Example.org",
  "anna@example.org",
  "50%",
  "5_0",
  "o'neil",
  'say "hi"',
  "back\\slash",
  "a,b",
  "{a}",
  "NULL",
  "",
  " padded ",
  "żółw 😀",
  "é",
  "e\u0301",
  "x".repeat(10_000),
]

/** Keys no tricky key equals, though a careless match (LIKE, case or unicode folding, trimming, prefixes) would take them. */
const lookAlikes: ReadonlyArray<string> = [
  "ANNA@EXAMPLE.ORG",
  "anna@example.or_",
  "anna@example.org%",
  "%",
  "_",
  "50x",
  "5x0",
  "oneil",
  "o''neil",
  "back\\\\slash",
  "a",
  "null",
  "padded",
  " ",
  "żółw",
  "ZÓŁW 😀",
  "e",
  "x".repeat(9_999),
  "x".repeat(10_001),
]

const time = fc.integer({ min: 0, max: 100 })

/** Keys the rows and the queries draw from: shared by tenants and members, some differing by case only. */
const keyPool = ["k1", "k2", "k3", "K1", "k4"] as const

/**
 * Any row the look-ups must handle: of two tenants, any status, with or
 * without an e-mail key and a restore key (whatever its status: the look-ups
 * must filter by status themselves), with or without a restore window.
 */
const anyRow = fc
  .record({
    memberId: fc.constantFrom(...Array.from({ length: 12 }, (_, i) => `m${String(i).padStart(2, "0")}`)),
    tenantId: fc.constantFrom("t1", "t2"),
    status: fc.constantFrom<MemberStatus>(
      "active",
      "active",
      "forgotten",
      "forgotten",
      "anonymized",
      "purged",
    ),
    emailKey: fc.option(fc.constantFrom(...keyPool), { nil: null }),
    restoreKey: fc.option(fc.constantFrom(...keyPool), { nil: null }),
    restorableUntil: fc.option(time, { nil: null }),
    version: fc.nat({ max: 5 }),
  })
  .map((fields) => memberRow(fields.memberId, fields))

/** A query: a tenant (also one without members) and keys with repeats, unknown keys and other tenants' keys. */
const anyQuery = fc.record({
  tenantId: fc.constantFrom("t1", "t2", "t3"),
  keys: fc.array(fc.constantFrom<string>(...keyPool, "unknown", "k"), { maxLength: 8 }),
})

/**
 * Writes `rows` in order; a row refused with `EmailTaken` (its tenant holds
 * its key already) is left out. Returns the rows stored, by member id.
 */
const writeWhatFits = async (
  store: LetheStore,
  rows: ReadonlyArray<MemberRow>,
): Promise<ReadonlyMap<string, MemberRow>> => {
  const stored = new Map<string, MemberRow>()
  for (const row of rows) {
    const outcome = await outcomeOf(() => writeRow(store, row))
    if ("_tag" in outcome) expect(outcome._tag, `writing ${JSON.stringify(row)}`).toBe("EmailTaken")
    else stored.set(row.memberId, row)
  }
  return stored
}

/** Look-ups of many keys, by stable name. */
export const directoryManyCases = {
  "directory-many/same-as-singles": {
    title:
      "for any directory and keys, a look-up of many keys returns the union of the single look-ups, each row once, in memberId order",
    run: async (context) => {
      // Skips before the property, which would catch the skip as a failure.
      await withLookups(context, async () => undefined)
      await context.check(
        fc.asyncProperty(
          fc.array(anyRow, { minLength: 4, maxLength: 24 }),
          // Several queries per directory: a run's cost is mostly in writing its rows.
          fc.array(anyQuery, { minLength: 4, maxLength: 10 }),
          (rows, queries) =>
            withLookups(context, async (store, lookups) => {
              const stored = [...(await writeWhatFits(store, rows)).values()]
              for (const lookup of lookups)
                for (const { tenantId, keys } of queries) {
                  const what = `${lookup.operation}(${tenantId}, ${JSON.stringify(keys)})`
                  const found = await lookup.many(tenantId, keys)
                  const singles = await Promise.all(keys.map((key) => lookup.single(tenantId, key)))
                  expect(found, `${what}, against the single look-ups`).toEqual(
                    inMemberIdOrder(singles.flat()),
                  )
                  const model = stored.filter((row) => {
                    const key = lookup.keyOf(row)
                    return (
                      row.tenantId === tenantId &&
                      row.status === lookup.status &&
                      key !== null &&
                      keys.includes(key)
                    )
                  })
                  expect(found, `${what}, against the rows written`).toEqual(inMemberIdOrder(model))
                }
            }),
        ),
        25,
      )
    },
  },

  "directory-many/fixed": {
    title:
      "a look-up of many keys finds the members of the tenant with the right status under any of the keys, in memberId order",
    run: async (context) =>
      withLookups(context, async (store, lookups) => {
        for (const lookup of lookups) {
          const prefix = lookup.status === "active" ? "e" : "r"
          const key = (name: string) => `${prefix}-${name}`
          const member = (id: string) => `${prefix}${id}`
          const other = lookup.status === "active" ? forgottenRow : memberRow
          await writeRows(store, [
            lookup.found(member("9"), key("a")),
            lookup.found(member("1"), key("b")),
            lookup.found(member("5"), key("c")),
            lookup.found(member("3"), key("a"), "t2"),
            // The key on a row of another status: not found.
            other(member("2"), { emailKey: key("x"), restoreKey: key("x") }),
            memberRow(member("4"), { status: "anonymized", emailKey: key("y"), restoreKey: key("y") }),
            memberRow(member("6"), { status: "purged", emailKey: null, restoreKey: key("y") }),
          ])
          const found = async (tenantId: string, keys: ReadonlyArray<string>) =>
            ids(await lookup.many(tenantId, keys))
          expect(await found("t1", [key("a"), key("b"), key("c")])).toEqual([
            member("1"),
            member("5"),
            member("9"),
          ])
          expect(await found("t1", [key("c"), key("a"), key("c"), key("a")])).toEqual([
            member("5"),
            member("9"),
          ])
          expect(await found("t1", [key("nobody"), key("b")])).toEqual([member("1")])
          expect(await found("t2", [key("a"), key("b")])).toEqual([member("3")])
          expect(await found("t3", [key("a"), key("b")])).toEqual([])
          expect(await found("t1", [key("x"), key("y")])).toEqual([])
          expect(await lookup.many("t1", [key("b")])).toEqual([lookup.found(member("1"), key("b"))])
        }
      }),
  },

  "directory-many/no-keys": {
    title: "a look-up of no keys returns no rows",
    run: async (context) =>
      withLookups(context, async (store, lookups) => {
        for (const lookup of lookups) {
          await writeRow(store, lookup.found(`${lookup.status}-m1`, ""))
          expect(await lookup.many("t1", []), lookup.operation).toEqual([])
        }
      }),
  },

  "directory-many/key-limits": {
    title: `${maxLookupKeys} keys are taken; more, a key that is not a string, or keys that are not an array reject with StoreError, and the store works on`,
    run: async (context) =>
      withLookups(context, async (store, lookups) => {
        for (const lookup of lookups) {
          const prefix = lookup.operation
          const keys = Array.from({ length: maxLookupKeys }, (_, i) => `${prefix}-${i}`)
          const first = lookup.found(`${lookup.status}-m1`, keys[0] as string)
          const last = lookup.found(`${lookup.status}-m2`, keys.at(-1) as string)
          await writeRows(store, [first, last])
          expect(await lookup.many("t1", keys), `${maxLookupKeys} keys`).toEqual([first, last])
          const same = Array.from({ length: maxLookupKeys }, () => keys.at(-1) as string)
          expect(await lookup.many("t1", same), `${maxLookupKeys} times one key`).toEqual([last])
          const refused: ReadonlyArray<readonly [string, unknown]> = [
            [`${maxLookupKeys + 1} keys`, [...keys, `${prefix}-more`]],
            [`${maxLookupKeys + 1} times one key`, [...same, keys.at(-1)]],
            ["a number among the keys", [keys[0], 42]],
            ["null among the keys", [null]],
            ["undefined among the keys", [keys[0], undefined]],
            ["an array among the keys", [[keys[0]]]],
            ["a string instead of an array", keys[0]],
            ["an array-like object", { length: 1, 0: keys[0] }],
            ["undefined", undefined],
          ]
          for (const [what, bad] of refused)
            expect(
              await outcomeOf(() => lookup.many("t1", bad as ReadonlyArray<string>)),
              `${lookup.operation}: ${what}`,
            ).toEqual({ _tag: "StoreError" })
          expect(await lookup.many("t1", [keys[0] as string]), "after the refusals").toEqual([first])
        }
        // Writing works on too.
        await writeRow(store, memberRow("after", { emailKey: "after" }))
        expect(ids(await store.directory.findByEmail("t1", "after"))).toEqual(["after"])
      }),
  },

  "directory-many/exact-keys": {
    title:
      "keys match exactly: case, %, _, quotes, backslashes, array punctuation, unicode (unnormalized) and very long keys",
    run: async (context) =>
      withLookups(context, async (store, lookups) => {
        for (const lookup of lookups) {
          // Member ids in the keys' order, so all of them come back in that order.
          const rows = trickyKeys.map((key, i) =>
            lookup.found(`${lookup.status}-${String(i).padStart(2, "0")}`, key),
          )
          await writeRows(store, rows)
          for (const [i, key] of trickyKeys.entries())
            expect(await lookup.many("t1", [key]), `${lookup.operation} ${JSON.stringify(key)}`).toEqual([
              rows[i],
            ])
          expect(await lookup.many("t1", lookAlikes), `${lookup.operation}: look-alikes`).toEqual([])
          for (const key of lookAlikes)
            expect(await lookup.many("t1", [key]), `${lookup.operation} ${JSON.stringify(key)}`).toEqual([])
          expect(await lookup.many("t1", [...lookAlikes, ...trickyKeys].reverse())).toEqual(rows)
        }
      }),
  },

  "directory-many/closed-rejects": {
    title: "after close, the look-ups of many keys reject with StoreError, also for no keys",
    run: async (context) => {
      const store = await context.open()
      const lookups = lookupsOf(store, context.skip)
      await writeRow(store, memberRow("m1"))
      await store.close()
      await expectClosed(
        Object.fromEntries(
          lookups.flatMap((lookup) => [
            [lookup.operation, () => lookup.many("t1", ["ek-m1"])],
            [`${lookup.operation} (no keys)`, () => lookup.many("t1", [])],
          ]),
        ),
      )
    },
  },
} satisfies CaseGroup
