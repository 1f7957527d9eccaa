/**
 * Conformance of `SnapshotStore`, the optional part of the SPI: at most one
 * snapshot per member, the one of the highest version written (also when
 * writers race), read back equal, refused whole when it is not plain JSON or
 * its version is not a positive integer, gone after `remove`, and not written
 * back at or below the version `remove` was given.
 *
 * An adapter without `snapshots` passes nothing here: every case is skipped
 * when it runs, with the reason `noSnapshotsReason`.
 *
 * @module
 */
import type { LetheStore } from "@lethe/core"
import type { SnapshotStore, StoredSnapshot } from "@lethe/core/spi"
import fc from "fast-check"
import { expect } from "vitest"
import { rejection, sealed } from "../fixtures.js"
import type { CaseContext, CaseGroup } from "./case.js"
import { expectClosed, mutable, tamper } from "./helpers.js"

/** The reason the `snapshots/*` cases give when they skip an adapter without `snapshots`. */
export const noSnapshotsReason = "no snapshots (an optional part of the SPI)"

/** The store's snapshots; ends the case as skipped when the adapter has none. */
const snapshotsOf = (store: LetheStore, skip: CaseContext["skip"]): SnapshotStore =>
  store.snapshots ?? skip(noSnapshotsReason)

/** Opens a fresh store, runs `use` with its snapshots, and closes it; skipped without snapshots. */
const withSnapshots = <A>(
  { withStore, skip }: CaseContext,
  use: (snapshots: SnapshotStore) => Promise<A>,
): Promise<A> => withStore((store) => use(snapshotsOf(store, skip)))

/** A snapshot of `memberId` at `version`, shaped like the core's (a sealed value in its state). */
const snapshot = (
  memberId: string,
  version: number,
  overrides: Partial<StoredSnapshot> = {},
): StoredSnapshot => ({
  memberId,
  tenantId: "t1",
  version,
  head: `head-${memberId}-${version}`,
  state: {
    exists: true,
    status: "active",
    personal: { email: sealed(`k-${memberId}`, "contact", `${memberId}@example.org`) },
    wallet: { balance: 100 * version },
    consents: [{ purpose: "newsletter", givenAt: 1_000 }],
  },
  takenAt: 1_000 + version,
  ...overrides,
})

/**
 * Any state `snapshotStateJson` accepts: strings of any code point (NUL and
 * astral ones included), safe integers, finite doubles, booleans, null,
 * nested arrays and objects (some without a prototype). No -0: JSON has none
 * (`JSON.stringify(-0)` is `"0"`), so an adapter keeping JSON text gives 0 back.
 */
const jsonState = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.oneof(
      fc.string({ unit: "binary", maxLength: 20 }),
      fc.string({ unit: "grapheme", maxLength: 20 }),
      fc.maxSafeInteger(),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (n === 0 ? 0 : n)),
      fc.boolean(),
      fc.constant(null),
    ),
    fc.array(tie("value"), { maxLength: 5 }),
    fc.dictionary(fc.string({ unit: "grapheme", maxLength: 8 }), tie("value"), { maxKeys: 5 }),
  ),
})).value

/**
 * Ids and heads: any printable text. No NUL, which PostgreSQL text cannot
 * hold (an adapter may refuse it); the core's ids are UUIDs and its heads hex.
 */
const text = fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 })

/** Any snapshot `write` must keep and read back equal. */
const anySnapshot = fc.record({
  memberId: text,
  tenantId: text,
  version: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  head: text,
  state: jsonState,
  takenAt: fc.maxSafeInteger(),
})

/** A value `write` must refuse, on its own. */
interface BadInput {
  readonly what: string
  readonly fields: Readonly<Record<string, unknown>>
}

const cycle = (): unknown => {
  const node: Record<string, unknown> = { name: "loop" }
  node.self = { back: node }
  return node
}

/** Snapshots of member `memberId` that break one rule each; the others are at version 5, above what is stored. */
const badInputs = (memberId: string): ReadonlyArray<BadInput> => {
  const good = snapshot(memberId, 5)
  const bad = (what: string, fields: Readonly<Record<string, unknown>>): BadInput => ({
    what,
    fields: { ...good, ...fields },
  })
  return [
    bad("version 0", { version: 0 }),
    bad("version -1", { version: -1 }),
    bad("version 1.5", { version: 1.5 }),
    bad("version NaN", { version: Number.NaN }),
    bad("version Infinity", { version: Number.POSITIVE_INFINITY }),
    bad("version past MAX_SAFE_INTEGER", { version: 2 ** 53 }),
    bad('version "5" (a string)', { version: "5" }),
    bad("a function in the state", { state: { exists: true, compute: () => 1 } }),
    bad("a cycle in the state", { state: cycle() }),
    bad("an undefined state", { state: undefined }),
    bad("undefined in an array of the state", { state: { list: [1, undefined, 3] } }),
    bad("a Date in the state", { state: { exists: true, at: new Date(0) } }),
    bad("Infinity in the state", { state: { exists: true, wallet: { balance: Number.POSITIVE_INFINITY } } }),
    bad("NaN in the state", { state: [Number.NaN] }),
    bad("a bigint in the state", { state: { big: 5n } }),
    bad("a Map in the state", { state: new Map([["a", 1]]) }),
    bad("a non-string head", { head: 42 }),
    bad("a missing head", { head: undefined }),
    bad("a non-string tenant id", { tenantId: null }),
    bad("a takenAt of NaN", { takenAt: Number.NaN }),
    bad("a fractional takenAt", { takenAt: 1.5 }),
    // Refused although its version would not be kept anyway: the check comes first.
    bad("a function in a state of the stored version", { version: 1, state: () => 1 }),
  ]
}

/** Snapshot store cases, by stable name. */
export const snapshotCases = {
  "snapshots/read-missing": {
    title: "a member without a snapshot reads as undefined, also when other members have one",
    run: async (context) =>
      withSnapshots(context, async (snapshots) => {
        expect(await snapshots.read("m1")).toBeUndefined()
        await snapshots.write(snapshot("m1", 1))
        expect(await snapshots.read("m2")).toBeUndefined()
        expect(await snapshots.read("")).toBeUndefined()
        expect(await snapshots.read("M1")).toBeUndefined()
        expect(await snapshots.read("m1")).toEqual(snapshot("m1", 1))
      }),
  },

  "snapshots/round-trip": {
    title:
      "a written snapshot reads back equal, field for field, for any JSON state (unicode, nesting, safe integers, doubles)",
    run: async (context) =>
      withSnapshots(context, async (snapshots) => {
        let run = 0
        await context.check(
          fc.asyncProperty(anySnapshot, async (generated) => {
            // A member of its own per run: the property reuses one store.
            run += 1
            const written = { ...generated, memberId: `${run}:${generated.memberId}` }
            expect(await snapshots.write(written)).toBe(true)
            expect(await snapshots.read(written.memberId)).toEqual(written)
          }),
          30,
        )
      }),
  },

  "snapshots/version-order": {
    title:
      "a write of the same or a lower version is not kept (false) and leaves the stored snapshot; a higher one replaces it (true)",
    run: async (context) =>
      withSnapshots(context, async (snapshots) => {
        const first = snapshot("m1", 3)
        expect(await snapshots.write(first)).toBe(true)
        const sameVersion = snapshot("m1", 3, { head: "another head", state: { other: true }, takenAt: 9 })
        expect(await snapshots.write(sameVersion)).toBe(false)
        expect(await snapshots.read("m1")).toEqual(first)
        expect(await snapshots.write(snapshot("m1", 2))).toBe(false)
        expect(await snapshots.write(snapshot("m1", 1))).toBe(false)
        expect(await snapshots.read("m1")).toEqual(first)
        expect(await snapshots.write(snapshot("m1", 4))).toBe(true)
        expect(await snapshots.read("m1")).toEqual(snapshot("m1", 4))
        expect(await snapshots.write(snapshot("m1", 10_000))).toBe(true)
        expect(await snapshots.write(snapshot("m1", 9_999))).toBe(false)
        expect(await snapshots.read("m1")).toEqual(snapshot("m1", 10_000))
      }),
  },

  "snapshots/latest-version-wins": {
    title:
      "for any sequence of writes, each is kept exactly when its version is above all before it, and the stored one is the first written of the highest version",
    run: async (context) =>
      withSnapshots(context, async (snapshots) => {
        let run = 0
        await context.check(
          fc.asyncProperty(
            fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 15 }),
            async (versions) => {
              run += 1
              const memberId = `member-${run}`
              let kept: StoredSnapshot | undefined
              for (const [i, version] of versions.entries()) {
                // Each write told apart by its head and state, so a replacement by an equal version shows.
                const written = snapshot(memberId, version, { head: `write-${i}`, state: { write: i } })
                const expected = kept === undefined || version > kept.version
                expect(await snapshots.write(written), `write ${i} (version ${version})`).toBe(expected)
                if (expected) kept = written
                expect(await snapshots.read(memberId), `after write ${i}`).toEqual(kept)
              }
            },
          ),
          25,
        )
      }),
  },

  "snapshots/members-independent": {
    title: "writing or removing one member's snapshot leaves every other member's as it was",
    run: async (context) =>
      withSnapshots(context, async (snapshots) => {
        const others = [snapshot("m2", 7), snapshot("m3", 1, { tenantId: "t2" })]
        for (const other of others) await snapshots.write(other)
        await snapshots.write(snapshot("m1", 2))
        await snapshots.write(snapshot("m1", 9))
        // Lower than m2's stored version, and m1's: kept all the same, for m1 has none at 1.
        expect(await snapshots.write(snapshot("m4", 1))).toBe(true)
        expect(await snapshots.read("m1")).toEqual(snapshot("m1", 9))
        expect(await snapshots.remove("m1", 9)).toBe(true)
        expect(await snapshots.read("m1")).toBeUndefined()
        for (const other of [...others, snapshot("m4", 1)])
          expect(await snapshots.read(other.memberId), other.memberId).toEqual(other)
      }),
  },

  "snapshots/remove": {
    title:
      "remove returns true when there was a snapshot, then false; the member then reads as undefined, and no snapshot up to the version removed is kept again (R29)",
    run: async (context) =>
      withSnapshots(context, async (snapshots) => {
        expect(await snapshots.remove("m1", 0)).toBe(false)
        await snapshots.write(snapshot("m1", 5))
        expect(await snapshots.remove("m1", 5)).toBe(true)
        expect(await snapshots.read("m1")).toBeUndefined()
        expect(await snapshots.remove("m1", 5)).toBe(false)
        expect(await snapshots.read("m1")).toBeUndefined()
        // A snapshot taken before the erasure, written late, must not bring its bytes back.
        expect(await snapshots.write(snapshot("m1", 5))).toBe(false)
        expect(await snapshots.write(snapshot("m1", 3))).toBe(false)
        expect(await snapshots.read("m1")).toBeUndefined()
        expect(await snapshots.write(snapshot("m1", 6))).toBe(true)
        expect(await snapshots.read("m1")).toEqual(snapshot("m1", 6))
        // A lower floor does not lower the one in place (5).
        expect(await snapshots.remove("m1", 2)).toBe(true)
        expect(await snapshots.write(snapshot("m1", 4))).toBe(false)
        expect(await snapshots.write(snapshot("m1", 7))).toBe(true)
        // A floor that is not a non-negative integer is refused, and nothing is removed.
        for (const upTo of [-1, 1.5, Number.NaN])
          await expect(snapshots.remove("m1", upTo), String(upTo)).rejects.toMatchObject({
            _tag: "StoreError",
          })
        expect(await snapshots.read("m1")).toEqual(snapshot("m1", 7))
      }),
  },

  "snapshots/bad-input": {
    title:
      "a snapshot whose version is not a positive integer, whose state is not plain JSON or whose head is not a string is refused with StoreError, and nothing is written",
    run: async (context) =>
      withSnapshots(context, async (snapshots) => {
        const stored = snapshot("m1", 1)
        await snapshots.write(stored)
        for (const memberId of ["m1", "m2"])
          for (const { what, fields } of badInputs(memberId)) {
            const outcome = await rejection(snapshots.write(fields as unknown as StoredSnapshot))
            expect(outcome._tag, `${what} (${memberId})`).toBe("StoreError")
          }
        expect(await snapshots.read("m1")).toEqual(stored)
        expect(await snapshots.read("m2")).toBeUndefined()
        // Nothing was half-written either: the next good write goes by the stored version as before.
        expect(await snapshots.write(snapshot("m1", 1, { head: "again" }))).toBe(false)
        expect(await snapshots.write(snapshot("m2", 1))).toBe(true)
      }),
  },

  "snapshots/concurrent-writes": {
    title: "writes of versions 1..20 of one member, all at once in any order, leave version 20",
    run: async (context) =>
      withSnapshots(context, async (snapshots) => {
        const versions = Array.from({ length: 20 }, (_, i) => i + 1)
        let run = 0
        await context.check(
          fc.asyncProperty(fc.shuffledSubarray(versions, { minLength: versions.length }), async (order) => {
            run += 1
            const memberId = `member-${run}`
            const kept = await Promise.all(
              order.map((version) => snapshots.write(snapshot(memberId, version))),
            )
            expect(await snapshots.read(memberId)).toEqual(snapshot(memberId, 20))
            // Nothing can be stored at or above 20 before it: its write is always kept.
            expect(kept[order.indexOf(20)]).toBe(true)
          }),
          10,
        )
      }),
  },

  "snapshots/isolation": {
    title: "changing a state after writing it, or a snapshot a read returned, changes nothing stored",
    run: async (context) =>
      withSnapshots(context, async (snapshots) => {
        const state = { personal: { name: "Anna" }, tags: ["a"], balance: 5 }
        const written = snapshot("m1", 1, { state })
        await snapshots.write(written)
        state.personal.name = "Mallory"
        state.tags.push("b")
        mutable(written).version = 99
        const read = await snapshots.read("m1")
        expect(read).toEqual(
          snapshot("m1", 1, { state: { personal: { name: "Anna" }, tags: ["a"], balance: 5 } }),
        )
        const target = mutable(read)
        const readState = mutable(target.state)
        tamper([
          () => {
            mutable(readState.personal).name = "Eve"
          },
          () => (readState.tags as Array<string>).push("c"),
          () => {
            readState.balance = 0
          },
          () => {
            target.version = 99
          },
          () => {
            target.head = "forged"
          },
        ])
        expect(await snapshots.read("m1")).toEqual(
          snapshot("m1", 1, { state: { personal: { name: "Anna" }, tags: ["a"], balance: 5 } }),
        )
        // A version changed on a returned copy does not block the next write either.
        expect(await snapshots.write(snapshot("m1", 2))).toBe(true)
      }),
  },

  "snapshots/closed-rejects": {
    title: "after close, read, write and remove reject with StoreError",
    run: async (context) => {
      const store = await context.open()
      const snapshots = snapshotsOf(store, context.skip)
      await snapshots.write(snapshot("m1", 1))
      await store.close()
      await expectClosed({
        "snapshots.read": () => snapshots.read("m1"),
        "snapshots.write": () => snapshots.write(snapshot("m1", 2)),
        "snapshots.remove": () => snapshots.remove("m1", 1),
      })
    },
  },

  "snapshots/survives-reopen": {
    title:
      "snapshots survive close and reopen, versions included; a removed one stays removed, its floor too",
    needsReopen: true,
    run: async (context) => {
      const store = await context.open()
      const snapshots = snapshotsOf(store, context.skip)
      const kept = snapshot("m1", 12, { state: { text: "Łucja 😀", n: 0.1 + 0.2, list: [null, true, {}] } })
      await snapshots.write(kept)
      await snapshots.write(snapshot("m2", 3))
      expect(await snapshots.remove("m2", 3)).toBe(true)
      const again = snapshotsOf(await context.reopen(store), context.skip)
      expect(await again.read("m1")).toEqual(kept)
      expect(await again.read("m2")).toBeUndefined()
      expect(await again.write(snapshot("m2", 3))).toBe(false)
      expect(await again.write(snapshot("m2", 4))).toBe(true)
      expect(await again.write(snapshot("m1", 12))).toBe(false)
      expect(await again.write(snapshot("m1", 13))).toBe(true)
      expect(await again.read("m1")).toEqual(snapshot("m1", 13))
    },
  },
} satisfies CaseGroup
