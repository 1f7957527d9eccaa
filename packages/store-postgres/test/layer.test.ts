/**
 * `PostgresStore.make` and `PostgresStore.layer` (issue 20): the store is a
 * scoped resource, created and migrated when the scope starts and closed
 * (never the pool) when it ends; a server that refuses the connection fails
 * the layer with a typed error, not a defect.
 */
import type { LetheError, LetheStore, StoreError, StoreUnavailable } from "@lethe/core"
import { keyringFromSecret, Lethe } from "@lethe/core"
import { Effect, Exit, Layer, type Scope } from "effect"
import pg from "pg"
import { describe, expect, expectTypeOf, it } from "vitest"
import { PostgresStore } from "../src/index.js"
import { testDatabases } from "./fixtures.js"

const keyring = keyringFromSecret("postgres layer test secret, at least 32 bytes")

/** The tag an Effect failed with, or "defect"/"success" when it did not fail in its error channel. */
const failureTag = (exit: Exit.Exit<unknown, { readonly _tag: string }>): string =>
  Exit.isSuccess(exit) ? "success" : exit.cause._tag === "Fail" ? exit.cause.error._tag : "defect"

describe("PostgresStore as an Effect resource (issue 20)", () => {
  it("the types: make needs a Scope, layer provides Lethe.Store, both fail with store errors only", () => {
    const pool = new pg.Pool()
    expectTypeOf(PostgresStore.make({ pool })).toEqualTypeOf<
      Effect.Effect<LetheStore, StoreError | StoreUnavailable, Scope.Scope>
    >()
    expectTypeOf(PostgresStore.layer({ pool })).toEqualTypeOf<
      Layer.Layer<Lethe.Store, StoreError | StoreUnavailable>
    >()
    expectTypeOf(
      Lethe.layerFromStore({ keyring }).pipe(Layer.provide(PostgresStore.layer({ pool }))),
    ).toEqualTypeOf<Layer.Layer<Lethe, LetheError>>()
    return pool.end()
  })

  for (const database of testDatabases()) {
    describe(database.name, () => {
      it("Lethe over PostgresStore.layer; the store is closed when the scope ends, the pool stays open", async () => {
        const schema = database.freshSchema()
        const layer = PostgresStore.layer({ pool: database.pool, schema })
        const memberId = await Effect.runPromise(
          Effect.flatMap(Lethe, (lethe) =>
            lethe.register({ tenantId: "gym", personal: { name: "Ada" }, source: "api" }),
          ).pipe(
            Effect.map((r) => r.memberId),
            Effect.provide(Lethe.layerFromStore({ keyring }).pipe(Layer.provide(layer))),
          ),
        )
        const store = await Effect.runPromise(
          Effect.scoped(PostgresStore.make({ pool: database.pool, schema })),
        )
        await expect(store.directory.get(memberId)).rejects.toMatchObject({ _tag: "StoreError" })
        // The pool is the caller's: still usable.
        const rows = await database.query(`SELECT count(*)::int AS n FROM "${schema}".events`)
        expect(rows[0]?.n).toBeGreaterThan(0)
      })
    })
  }

  it("a server that refuses the connection fails the layer with StoreUnavailable, not a defect", async () => {
    const pool = new pg.Pool({ connectionString: "postgresql://postgres@127.0.0.1:1/none", max: 1 })
    try {
      const exit = await Effect.runPromiseExit(
        Effect.provide(
          Lethe,
          Lethe.layerFromStore({ keyring }).pipe(Layer.provide(PostgresStore.layer({ pool }))),
        ),
      )
      expect(failureTag(exit)).toBe("StoreUnavailable")
    } finally {
      await pool.end()
    }
  })
})
