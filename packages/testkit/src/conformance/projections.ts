/**
 * Conformance of `ProjectionStore`, the optional part of the SPI that keeps
 * applications' own projections (R36): a projection applies every member
 * event once, in global order, its writes and checkpoint committed together
 * (a failing batch leaves both as they were, a reopened store resumes where
 * it stopped), catch-up equals a fold of the log for any appends and batch
 * size, rebuild gives the same again, an inline projection never lags, the
 * reserved streams reach no projection, and after a purge the projection
 * holds none of the purged member's personal values (R29).
 *
 * Projections here write through a {@link ProjectionTable}: a key-value table
 * over the store's transaction handle. The suite knows the handles of the
 * memory, SQLite and PostgreSQL stores; another adapter gives its own
 * (`runAdapterConformance({ projectionTable })`).
 *
 * @module
 */
import type { LetheClient, LetheStore, Projection } from "@lethe/core"
import type { ProjectionStore, StoredEvent } from "@lethe/core/spi"
import { readAllEvents } from "@lethe/core/spi"
import fc from "fast-check"
import { expect } from "vitest"
import { adminActor, days, hours } from "../given-when-then.js"
import type { CaseContext, CaseGroup } from "./case.js"
import type { TestClock } from "./world.js"
import { counterIds, openLethe, testClock } from "./world.js"

/** The reason the `projections/*` cases give when they skip an adapter without `projections`. */
export const noProjectionsReason = "no projections (an optional part of the SPI)"

type Step<A> = A | Promise<A>

/**
 * A key-value table a conformance projection writes through the store's
 * transaction handle `tx`: one table per name, created by `setup`. Each
 * method is synchronous on a store whose transactions are (memory, SQLite),
 * and may return a promise on one whose transactions are not.
 */
export interface ProjectionTable {
  /** Creates table `table` (text keys, text values) if missing. */
  setup(tx: unknown, table: string): void | Promise<void>
  /** The value under `key`, or undefined. */
  get(tx: unknown, table: string, key: string): string | undefined | Promise<string | undefined>
  /** Sets the value under `key`. */
  put(tx: unknown, table: string, key: string, value: string): void | Promise<void>
  /** Deletes the value under `key`, if any. */
  remove(tx: unknown, table: string, key: string): void | Promise<void>
  /** Deletes every value of the table. */
  clear(tx: unknown, table: string): void | Promise<void>
  /** Every key and value of the table. */
  all(
    tx: unknown,
    table: string,
  ): Readonly<Record<string, string>> | Promise<Readonly<Record<string, string>>>
}

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof (value as { readonly then?: unknown } | null)?.then === "function"

/** `f` of what `value` is or resolves to: synchronous when `value` is. */
const then = <A, B>(value: Step<A>, f: (a: A) => Step<B>): Step<B> =>
  isThenable(value) ? Promise.resolve(value).then(f) : f(value as A)

/** The memory store's handle: the projection's own `Map`, holding one table per key prefix. */
const mapTable: ProjectionTable = {
  setup: () => undefined,
  get: (tx, table, key) => (tx as Map<string, string>).get(`${table}/${key}`),
  put: (tx, table, key, value) => {
    ;(tx as Map<string, string>).set(`${table}/${key}`, value)
  },
  remove: (tx, table, key) => {
    ;(tx as Map<string, string>).delete(`${table}/${key}`)
  },
  clear: (tx, table) => {
    const map = tx as Map<string, string>
    for (const key of [...map.keys()]) if (key.startsWith(`${table}/`)) map.delete(key)
  },
  all: (tx, table) =>
    Object.fromEntries(
      [...(tx as Map<string, string>)]
        .filter(([key]) => key.startsWith(`${table}/`))
        .map(([key, value]) => [key.slice(table.length + 1), value]),
    ),
}

interface SqliteLike {
  prepare(sql: string): {
    get(...params: Array<unknown>): unknown
    run(...params: Array<unknown>): unknown
    all(...params: Array<unknown>): Array<unknown>
  }
  exec(sql: string): unknown
}

/** The schema of a better-sqlite3 database holding the log (`log` beside a key store, else `main`). */
const sqliteSchema = (db: SqliteLike): string => {
  const names = db.prepare("SELECT name FROM pragma_database_list").all() as Array<{ name: string }>
  return names.some(({ name }) => name === "log") ? "log" : "main"
}

/** The SQLite store's handle: a better-sqlite3 `Database`. */
const sqliteTable: ProjectionTable = {
  setup: (tx, table) => {
    const db = tx as SqliteLike
    db.exec(
      `CREATE TABLE IF NOT EXISTS "${sqliteSchema(db)}"."${table}" (k TEXT PRIMARY KEY, v TEXT NOT NULL)`,
    )
  },
  get: (tx, table, key) =>
    ((tx as SqliteLike).prepare(`SELECT v FROM "${table}" WHERE k = ?`).get(key) as { v: string } | undefined)
      ?.v,
  put: (tx, table, key, value) => {
    ;(tx as SqliteLike)
      .prepare(`INSERT INTO "${table}" (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v`)
      .run(key, value)
  },
  remove: (tx, table, key) => {
    ;(tx as SqliteLike).prepare(`DELETE FROM "${table}" WHERE k = ?`).run(key)
  },
  clear: (tx, table) => {
    ;(tx as SqliteLike).prepare(`DELETE FROM "${table}"`).run()
  },
  all: (tx, table) =>
    Object.fromEntries(
      (
        (tx as SqliteLike).prepare(`SELECT k, v FROM "${table}" ORDER BY k`).all() as Array<{
          k: string
          v: string
        }>
      ).map(({ k, v }) => [k, v]),
    ),
}

interface SqlClientLike {
  query(
    text: string,
    params?: ReadonlyArray<unknown>,
  ): Promise<{ readonly rows: ReadonlyArray<Record<string, unknown>> }>
}

/** The PostgreSQL store's handle: a client inside the transaction (tables in `public`). */
const postgresTable: ProjectionTable = {
  setup: async (tx, table) => {
    await (tx as SqlClientLike).query(
      `CREATE TABLE IF NOT EXISTS public."${table}" (k text PRIMARY KEY, v text NOT NULL)`,
    )
  },
  get: async (tx, table, key) => {
    const { rows } = await (tx as SqlClientLike).query(`SELECT v FROM public."${table}" WHERE k = $1`, [key])
    return rows[0] === undefined ? undefined : String(rows[0].v)
  },
  put: async (tx, table, key, value) => {
    await (tx as SqlClientLike).query(
      `INSERT INTO public."${table}" (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v`,
      [key, value],
    )
  },
  remove: async (tx, table, key) => {
    await (tx as SqlClientLike).query(`DELETE FROM public."${table}" WHERE k = $1`, [key])
  },
  clear: async (tx, table) => {
    await (tx as SqlClientLike).query(`DELETE FROM public."${table}"`)
  },
  all: async (tx, table) => {
    const { rows } = await (tx as SqlClientLike).query(`SELECT k, v FROM public."${table}" ORDER BY k`)
    return Object.fromEntries(rows.map((row) => [String(row.k), String(row.v)]))
  },
}

/**
 * The table for a store's transaction handle, found by its shape: a `Map`
 * (memory), a better-sqlite3 `Database` (SQLite), a client with `query`
 * (PostgreSQL).
 */
export const defaultProjectionTable: ProjectionTable = {
  setup: (tx, table) => tableFor(tx).setup(tx, table),
  get: (tx, table, key) => tableFor(tx).get(tx, table, key),
  put: (tx, table, key, value) => tableFor(tx).put(tx, table, key, value),
  remove: (tx, table, key) => tableFor(tx).remove(tx, table, key),
  clear: (tx, table) => tableFor(tx).clear(tx, table),
  all: (tx, table) => tableFor(tx).all(tx, table),
}

const tableFor = (tx: unknown): ProjectionTable => {
  if (tx instanceof Map) return mapTable
  const handle = tx as Partial<SqliteLike & SqlClientLike> | null
  if (typeof handle?.prepare === "function" && typeof handle.exec === "function") return sqliteTable
  if (typeof handle?.query === "function") return postgresTable
  throw new Error(
    "the projections/* cases do not know this store's transaction handle: pass runAdapterConformance({ projectionTable })",
  )
}

/** A table name no other store of the run uses (PostgreSQL runs share a database). */
let tables = 0
const freshTable = (): string =>
  `lethe_conf_${process.pid}_${Date.now().toString(36)}_${(tables++).toString(36)}`

/** What the fold projection records of one member event. */
const entryOf = (memberId: string, version: number, type: string) => `${memberId}@${version} ${type}`

/**
 * A projection recording every member event it applies, under its
 * position, and the last position applied: it throws on an event at or
 * before the last (so an event applied twice, or out of order, fails the
 * case), and, while `failAt` says so, at one position (a crash in a batch).
 */
const foldProjection = (
  kit: ProjectionTable,
  options: { readonly inline?: boolean; readonly failAt?: () => number | undefined } = {},
): Projection & { readonly table: string } => {
  const table = freshTable()
  return {
    name: `fold-${table}`,
    table,
    ...(options.inline === true ? { inline: true } : {}),
    setup: (tx) => kit.setup(tx, table),
    apply: (event, tx) => {
      if (options.failAt?.() === event.position) throw new Error(`failing at ${event.position} on purpose`)
      return then(kit.get(tx, table, "last"), (last) => {
        if (last !== undefined && Number(last) >= event.position)
          throw new Error(`position ${event.position} applied after ${last}`)
        return then(kit.put(tx, table, "last", String(event.position)), () =>
          kit.put(
            tx,
            table,
            `e:${String(event.position).padStart(9, "0")}`,
            entryOf(event.memberId, event.version, event.event._tag),
          ),
        )
      })
    },
    reset: (tx) => kit.clear(tx, table),
  }
}

/** The fold projection's expected table, folded from the log: every member event, and the last position. */
const foldOfLog = async (store: LetheStore): Promise<Record<string, string>> => {
  const expected: Record<string, string> = {}
  let last: StoredEvent | undefined
  for await (const event of readAllEvents(store.events)) {
    if (!event.streamId.startsWith("member-")) continue
    expected[`e:${String(event.position).padStart(9, "0")}`] = entryOf(
      event.streamId.slice("member-".length),
      event.version,
      event.type,
    )
    last = event
  }
  if (last !== undefined) expected.last = String(last.position)
  return expected
}

const projectionsOf = (store: LetheStore, skip: CaseContext["skip"]): ProjectionStore =>
  store.projections ?? skip(noProjectionsReason)

/** What a projection's table holds now, read through the facade. */
const tableOf = (lethe: LetheClient, kit: ProjectionTable, projection: { name: string; table: string }) =>
  lethe.readProjection(projection.name, (tx) => kit.all(tx, projection.table))

/** Opens a Lethe over `store` with `projections`, on the suite's clock. */
const openWith = (
  store: LetheStore,
  projections: ReadonlyArray<Projection>,
  clock: TestClock = testClock(),
  newId: () => string = counterIds(),
) => openLethe(store, clock, { projections, newId })

/** One thing a member can do, for the generated histories. */
type Act =
  | { readonly _tag: "register"; readonly n: number }
  | { readonly _tag: "visit"; readonly who: number; readonly club: number }
  | { readonly _tag: "credit"; readonly who: number; readonly amount: number }
  | { readonly _tag: "catchUp" }

const actArb: fc.Arbitrary<Act> = fc.oneof(
  fc.record({ _tag: fc.constant("register" as const), n: fc.nat(999) }),
  fc.record({ _tag: fc.constant("visit" as const), who: fc.nat(20), club: fc.nat(3) }),
  fc.record({
    _tag: fc.constant("credit" as const),
    who: fc.nat(20),
    amount: fc.integer({ min: 1, max: 5000 }),
  }),
  fc.constant({ _tag: "catchUp" as const }),
)

/** Runs `acts` through `lethe`; `catchUp` acts catch `name` up with `batchSize` when given. */
/** Registrations so far in this process: every generated e-mail is new. */
let registrations = 0

/**
 * Runs `acts` through `lethe`, then `afterEach` after each; `catchUp` acts
 * catch `catchUp.name` up with its batch size when given.
 */
const play = async (
  lethe: LetheClient,
  acts: ReadonlyArray<Act>,
  catchUp?: { readonly name: string; readonly batchSize: number },
  afterEach: () => Promise<void> = async () => {},
): Promise<ReadonlyArray<string>> => {
  const members: Array<string> = []
  for (const act of acts) {
    if (act._tag === "register" || members.length === 0) {
      const n = act._tag === "register" ? act.n : 0
      registrations += 1
      const { memberId } = await lethe.register({
        tenantId: "t1",
        personal: { name: `Member ${n}`, email: `m${n}-${registrations}@example.org` },
        source: "form",
      })
      members.push(memberId)
    } else {
      const memberId = members[("who" in act ? act.who : 0) % members.length] as string
      if (act._tag === "visit")
        await lethe.recordActivity(memberId, { kind: "visit", clubId: `club-${act.club}`, details: {} })
      else if (act._tag === "credit") await lethe.creditWallet(memberId, { amount: act.amount })
      else if (catchUp !== undefined)
        await lethe.catchUpProjection(catchUp.name, { batchSize: catchUp.batchSize })
    }
    await afterEach()
  }
  return members
}

/** Projection cases, by stable name. */
export const projectionCases = {
  "projections/catch-up-equals-fold": {
    title:
      "R36: for any appends and any batch size, a caught-up projection holds exactly the fold of the log, each member event once, in order",
    run: async ({ open, check, skip, projectionTable }) => {
      await open().then((store) => projectionsOf(store, skip))
      await check(
        fc.asyncProperty(
          fc.array(actArb, { minLength: 1, maxLength: 14 }),
          fc.integer({ min: 1, max: 7 }),
          async (acts, batchSize) => {
            const store = await open()
            const kit = projectionTable ?? defaultProjectionTable
            const projection = foldProjection(kit)
            const lethe = await openWith(store, [projection])
            try {
              await play(lethe, acts, { name: projection.name, batchSize })
              const status = await lethe.catchUpProjection(projection.name, { batchSize })
              expect(await tableOf(lethe, kit, projection)).toEqual(await foldOfLog(store))
              expect(status.lag).toBe(0)
              expect(status.checkpoint).toBe(status.head)
            } finally {
              await lethe.close()
            }
          },
        ),
        6,
      )
    },
  },

  "projections/batch-atomic": {
    title:
      "R36: an apply failing in the middle of a batch leaves the projection's writes and checkpoint of that batch unapplied; the next catch-up applies each event once",
    run: async ({ withStore, skip, projectionTable }) =>
      withStore(async (store) => {
        const projections = projectionsOf(store, skip)
        const kit = projectionTable ?? defaultProjectionTable
        let failAt: number | undefined
        const projection = foldProjection(kit, { failAt: () => failAt })
        const lethe = await openWith(store, [projection])
        try {
          await play(lethe, [
            { _tag: "register", n: 1 },
            { _tag: "visit", who: 0, club: 1 },
            { _tag: "register", n: 2 },
          ])
          const first = await lethe.catchUpProjection(projection.name, { batchSize: 2 })
          const before = await tableOf(lethe, kit, projection)
          await play(lethe, [
            { _tag: "visit", who: 0, club: 1 },
            { _tag: "credit", who: 1, amount: 10 },
            { _tag: "visit", who: 1, club: 2 },
          ])
          const head = await projections.head()
          failAt = head - 1
          await expect(lethe.catchUpProjection(projection.name, { batchSize: 10 })).rejects.toMatchObject({
            _tag: "StoreError",
          })
          expect(await projections.checkpoint(projection.name), "the checkpoint of the failed batch").toBe(
            first.checkpoint,
          )
          expect(await tableOf(lethe, kit, projection), "the writes of the failed batch").toEqual(before)
          failAt = undefined
          await lethe.catchUpProjection(projection.name, { batchSize: 10 })
          expect(await tableOf(lethe, kit, projection)).toEqual(await foldOfLog(store))
        } finally {
          await lethe.close()
        }
      }),
  },

  "projections/compare-and-set": {
    title:
      "R36: two instances catching one projection up at once apply each event once (commit compares the checkpoint)",
    run: async ({ withStore, skip, projectionTable }) =>
      withStore(async (store) => {
        projectionsOf(store, skip)
        const kit = projectionTable ?? defaultProjectionTable
        const projection = foldProjection(kit)
        const ids = counterIds()
        const one = await openWith(store, [projection], testClock(), ids)
        const two = await openWith(store, [projection], testClock(), ids)
        try {
          await play(
            one,
            Array.from(
              { length: 12 },
              (_, i): Act => (i % 3 === 0 ? { _tag: "register", n: i } : { _tag: "visit", who: i, club: i }),
            ),
          )
          await Promise.all([
            one.catchUpProjection(projection.name, { batchSize: 2 }),
            two.catchUpProjection(projection.name, { batchSize: 3 }),
            one.catchUpProjection(projection.name, { batchSize: 5 }),
          ])
          expect(await tableOf(one, kit, projection)).toEqual(await foldOfLog(store))
        } finally {
          await one.close()
          await two.close()
        }
      }),
  },

  "projections/resume-after-reopen": {
    title:
      "R36: after the store is closed and reopened mid-way, a catch-up resumes from the stored checkpoint, applying each event once",
    needsReopen: true,
    run: async ({ open, reopen, skip, projectionTable }) => {
      const store = await open()
      projectionsOf(store, skip)
      const kit = projectionTable ?? defaultProjectionTable
      const projection = foldProjection(kit)
      const ids = counterIds()
      const lethe = await openWith(store, [projection], testClock(), ids)
      await play(lethe, [
        { _tag: "register", n: 1 },
        { _tag: "visit", who: 0, club: 1 },
        { _tag: "register", n: 2 },
        { _tag: "visit", who: 1, club: 1 },
      ])
      await lethe.catchUpProjection(projection.name, { batchSize: 3 })
      await play(lethe, [{ _tag: "register", n: 3 }])
      await lethe.close()
      const again = await reopen(store)
      const reopened = await openWith(again, [projection], testClock(), ids)
      try {
        const before = await reopened.projectionStatus(projection.name)
        expect(before.checkpoint, "the checkpoint survived").toBeGreaterThan(0)
        expect(before.lag).toBeGreaterThan(0)
        await reopened.catchUpProjection(projection.name)
        expect(await tableOf(reopened, kit, projection)).toEqual(await foldOfLog(again))
      } finally {
        await reopened.close()
      }
    },
  },

  "projections/rebuild": {
    title:
      "R36: a rebuild drops the projection's data and checkpoint and applies the whole log again, to the same fold",
    run: async ({ withStore, skip, projectionTable }) =>
      withStore(async (store) => {
        projectionsOf(store, skip)
        const kit = projectionTable ?? defaultProjectionTable
        const projection = foldProjection(kit)
        const lethe = await openWith(store, [projection])
        try {
          await play(lethe, [
            { _tag: "register", n: 1 },
            { _tag: "visit", who: 0, club: 1 },
            { _tag: "register", n: 2 },
          ])
          await lethe.catchUpProjection(projection.name)
          const caughtUp = await tableOf(lethe, kit, projection)
          const status = await lethe.rebuildProjection(projection.name, { batchSize: 2 })
          expect(await tableOf(lethe, kit, projection)).toEqual(caughtUp)
          expect(status).toMatchObject({ checkpoint: status.head, lag: 0 })
        } finally {
          await lethe.close()
        }
      }),
  },

  "projections/inline-never-lags": {
    title:
      "R36: an inline projection holds every member event as soon as the operation appending it returns, and one another writer skipped is caught up by the next append",
    run: async ({ withStore, skip, projectionTable }) =>
      withStore(async (store) => {
        projectionsOf(store, skip)
        const kit = projectionTable ?? defaultProjectionTable
        const projection = foldProjection(kit, { inline: true })
        const ids = counterIds()
        const lethe = await openWith(store, [projection], testClock(), ids)
        const other = await openWith(store, [], testClock(), ids)
        try {
          const acts: ReadonlyArray<Act> = [
            { _tag: "register", n: 1 },
            { _tag: "visit", who: 0, club: 1 },
            { _tag: "credit", who: 0, amount: 50 },
            { _tag: "register", n: 2 },
          ]
          await play(lethe, acts, undefined, async () => {
            expect(await tableOf(lethe, kit, projection)).toEqual(await foldOfLog(store))
          })
          // Another writer, without the projection, appends: the next append catches it up, in order.
          await play(other, [{ _tag: "register", n: 3 }])
          await play(lethe, [{ _tag: "register", n: 4 }])
          expect(await tableOf(lethe, kit, projection)).toEqual(await foldOfLog(store))
          expect((await lethe.projectionStatus(projection.name)).lag).toBe(0)
        } finally {
          await lethe.close()
          await other.close()
        }
      }),
  },

  "projections/reserved-streams-skipped": {
    title: "R36: events of streams that are not members' move the checkpoint and reach no projection",
    run: async ({ withStore, skip, projectionTable }) =>
      withStore(async (store) => {
        projectionsOf(store, skip)
        const kit = projectionTable ?? defaultProjectionTable
        const projection = foldProjection(kit)
        const lethe = await openWith(store, [projection])
        try {
          await play(lethe, [{ _tag: "register", n: 1 }])
          await store.events.append({
            streamId: "lethe:conformance",
            expectedVersion: "no_stream",
            events: [
              {
                type: "Reserved",
                data: { n: 1 },
                metadata: { actor: "lethe:system", source: "test", tenantId: "lethe", correlationId: "c1" },
                recordedAt: 1,
                prevHash: "",
                hash: "h",
              },
            ],
          })
          const status = await lethe.catchUpProjection(projection.name)
          expect(status).toMatchObject({ checkpoint: status.head, lag: 0 })
          expect(await tableOf(lethe, kit, projection)).toEqual(await foldOfLog(store))
        } finally {
          await lethe.close()
        }
      }),
  },

  "projections/purge-leaves-nothing": {
    title:
      "R36, R29: a projection receives Forgotten and Purged, and after a purge its tables hold none of the purged member's personal values (async and inline)",
    run: async ({ withStore, skip, projectionTable }) =>
      withStore(async (store) => {
        projectionsOf(store, skip)
        const kit = projectionTable ?? defaultProjectionTable
        const people = (inline: boolean): Projection & { readonly table: string } => {
          const table = freshTable()
          /** Keeps each member's name and e-mail while active; drops them on forget, purge, anonymization. */
          return {
            name: `people-${table}`,
            table,
            ...(inline ? { inline: true } : {}),
            setup: (tx) => kit.setup(tx, table),
            apply: ({ memberId, event }, tx) => {
              switch (event._tag) {
                case "PersonalDataRecorded": {
                  const kept = Object.entries(event.fields).filter(
                    (entry): entry is [string, string] => typeof entry[1] === "string",
                  )
                  if (kept.length === 0) return
                  return then(kit.get(tx, table, memberId), (current) =>
                    kit.put(
                      tx,
                      table,
                      memberId,
                      JSON.stringify({ ...JSON.parse(current ?? "{}"), ...Object.fromEntries(kept) }),
                    ),
                  )
                }
                case "Forgotten":
                case "Purged":
                case "Anonymized":
                  return then(kit.remove(tx, table, memberId), () =>
                    kit.put(tx, table, `${event._tag}:${memberId}`, "seen"),
                  )
                default:
                  return
              }
            },
            reset: (tx) => kit.clear(tx, table),
          }
        }
        const later = people(false)
        const inline = people(true)
        const clock = testClock()
        const lethe = await openWith(store, [later, inline], clock)
        try {
          const person = (n: number) => ({ name: `Zofia Quellmark${n}`, email: `quellmark${n}@example.org` })
          const { memberId: gone } = await lethe.register({
            tenantId: "t1",
            personal: person(1),
            source: "form",
          })
          const { memberId: kept } = await lethe.register({
            tenantId: "t1",
            personal: person(2),
            source: "form",
          })
          await lethe.catchUpProjection(later.name)
          for (const projection of [later, inline])
            expect(
              JSON.stringify(await tableOf(lethe, kit, projection)),
              "the check can see names",
            ).toContain(person(1).name)
          await lethe.forget(gone, { actor: adminActor })
          clock.advance(days(lethe.config.restoreWindowDays) + hours(1))
          const report = await lethe.runRetention({})
          expect(report.executed.map((e) => e.memberId)).toContain(gone)
          await lethe.catchUpProjection(later.name)
          for (const projection of [later, inline]) {
            const held = await tableOf(lethe, kit, projection)
            const text = JSON.stringify(held)
            for (const value of Object.values(person(1))) expect(text, projection.name).not.toContain(value)
            expect(text, "the kept member stays").toContain(person(2).name)
            expect(held[`Forgotten:${gone}`], "Forgotten reached the projection").toBe("seen")
            expect(held[`Purged:${gone}`], "Purged reached the projection").toBe("seen")
            expect(held[kept]).toBeDefined()
          }
          // A rebuild after the purge finds the purged member's values erased in the log.
          await lethe.rebuildProjection(later.name)
          const rebuilt = JSON.stringify(await tableOf(lethe, kit, later))
          for (const value of Object.values(person(1))) expect(rebuilt).not.toContain(value)
        } finally {
          await lethe.close()
        }
      }),
  },
} satisfies CaseGroup
