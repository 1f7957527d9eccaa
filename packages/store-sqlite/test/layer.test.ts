/**
 * `SqliteStore.make` and `SqliteStore.layer` (issue 20): the store is a scoped
 * resource, opened when the scope starts and closed when it ends, and a
 * failure to open is a typed error in the error channel, never a defect.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import type { LetheError, LetheStore, StoreError, StoreUnavailable } from "@lethe/core"
import { keyringFromSecret, Lethe } from "@lethe/core"
import { Effect, Exit, Layer } from "effect"
import { describe, expect, expectTypeOf, it } from "vitest"
import { SqliteStore } from "../src/index.js"
import { freshFile } from "./fixtures.js"

const keyring = keyringFromSecret("sqlite layer test secret, at least 32 bytes")

/** The tag an Effect failed with, or "defect"/"success" when it did not fail in its error channel. */
const failureTag = (exit: Exit.Exit<unknown, { readonly _tag: string }>): string =>
  Exit.isSuccess(exit) ? "success" : exit.cause._tag === "Fail" ? exit.cause.error._tag : "defect"

describe("SqliteStore as an Effect resource (issue 20)", () => {
  it("the types: make needs a Scope, layer provides Lethe.Store, both fail with store errors only", () => {
    const options = { filename: "x.db" }
    expectTypeOf(SqliteStore.make(options)).toEqualTypeOf<
      Effect.Effect<LetheStore, StoreError | StoreUnavailable, import("effect").Scope.Scope>
    >()
    expectTypeOf(SqliteStore.layer(options)).toEqualTypeOf<
      Layer.Layer<Lethe.Store, StoreError | StoreUnavailable>
    >()
    expectTypeOf(
      Lethe.layerFromStore({ keyring }).pipe(Layer.provide(SqliteStore.layer(options))),
    ).toEqualTypeOf<Layer.Layer<Lethe, LetheError>>()
  })

  it("make opens and migrates the file; the store is closed when the scope ends", async () => {
    const filename = freshFile()
    const store = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const opened = yield* SqliteStore.make({ filename })
          expect(yield* Effect.promise(() => opened.directory.get("nobody"))).toBeUndefined()
          return opened
        }),
      ),
    )
    expect(fs.existsSync(filename)).toBe(true)
    await expect(store.directory.get("nobody")).rejects.toMatchObject({ _tag: "StoreError" })
  })

  it("Lethe over SqliteStore.layer: data written in one scope is there in the next, the file closed between", async () => {
    const filename = freshFile()
    const live = () => Lethe.layerFromStore({ keyring }).pipe(Layer.provide(SqliteStore.layer({ filename })))
    const memberId = await Effect.runPromise(
      Effect.flatMap(Lethe, (lethe) =>
        lethe.register({ tenantId: "gym", personal: { name: "Ada" }, source: "api" }),
      ).pipe(
        Effect.map((r) => r.memberId),
        Effect.provide(live()),
      ),
    )
    // Closed: the WAL is checkpointed away on close, and the file opens again.
    expect(fs.existsSync(`${filename}-wal`)).toBe(false)
    const view = await Effect.runPromise(
      Effect.flatMap(Lethe, (lethe) => lethe.get(memberId)).pipe(Effect.provide(live())),
    )
    expect(view.status).toBe("active")
  })

  it("a file in a missing directory fails the layer with StoreUnavailable, not a defect", async () => {
    const filename = path.join(path.dirname(freshFile()), "no", "such", "dir", "lethe.db")
    const exit = await Effect.runPromiseExit(
      Effect.provide(
        Lethe,
        Lethe.layerFromStore({ keyring }).pipe(Layer.provide(SqliteStore.layer({ filename }))),
      ),
    )
    expect(failureTag(exit)).toBe("StoreUnavailable")
  })

  it("a file of another program fails make with StoreError and leaves it untouched", async () => {
    const filename = freshFile()
    fs.writeFileSync(filename, "not a database at all, just text")
    const exit = await Effect.runPromiseExit(Effect.scoped(SqliteStore.make({ filename })))
    expect(failureTag(exit)).toBe("StoreError")
    expect(fs.readFileSync(filename, "utf8")).toBe("not a database at all, just text")
  })
})
