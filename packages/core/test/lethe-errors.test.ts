/**
 * Each operation's error channel is narrowed to what it can fail with
 * (`LetheService.Errors`), and `exportMember`'s result to its `format`.
 * Type tests (`expectTypeOf`, compiled by `tsc -b` and checked by vitest)
 * pin the unions; the runtime tests check that refusals met on the way fall
 * inside the union their operation declares.
 */
import type {
  AnonymizationBlocked,
  ConcurrencyConflict,
  ErasureIncomplete,
  ExportLinkInvalid,
  ExportResult,
  IntegrityError,
  InvalidCommand,
  KeyDestroyed,
  KeyExists,
  LetheClient,
  LetheError,
  LetheService,
  MemberErased,
  MemberNotFound,
  NotPermitted,
  StoreError,
  StoreUnavailable,
  UnknownReference,
  WalletLimitExceeded,
} from "@lethe/core"
import { keyringFromSecret, Lethe } from "@lethe/core"
import { MemoryStore, memoryStore } from "@lethe/store-memory"
import { Effect, Exit, Layer } from "effect"
import { describe, expect, expectTypeOf, it } from "vitest"
import { operationErrors } from "./operation-errors.js"
import { admin, clerk, rejection, setup } from "./rights-setup.js"

const keyring = keyringFromSecret("error unions test secret, at least 32 bytes")

type Errors = LetheService.Errors
type Operation = keyof Errors
type ErrorOf<K extends Operation> = LetheService[K] extends (
  ...args: infer _A
) => Effect.Effect<infer _R, infer E>
  ? E
  : never

describe("each operation's error union (issue 20)", () => {
  it("the run-time table and LetheService.Errors list the same tags, operation by operation", () => {
    expectTypeOf<{ [K in Operation]: (typeof operationErrors)[K][number] }>().toEqualTypeOf<{
      [K in Operation]: Errors[K]["_tag"]
    }>()
    expectTypeOf<Operation>().toEqualTypeOf<Exclude<keyof LetheService, "config">>()
    expect(Object.keys(operationErrors).length).toBe(Object.keys(operationErrors).length)
  })

  it("each method's error channel is its entry of LetheService.Errors, narrower than LetheError", () => {
    expectTypeOf<ErrorOf<"creditWallet">>().toEqualTypeOf<Errors["creditWallet"]>()
    expectTypeOf<ErrorOf<"anonymize">>().toEqualTypeOf<Errors["anonymize"]>()
    expectTypeOf<ErrorOf<"forgetMany">>().toEqualTypeOf<InvalidCommand>()
    expectTypeOf<ErrorOf<"dataMap">>().toEqualTypeOf<InvalidCommand>()
    expectTypeOf<Errors["creditWallet"]>().toEqualTypeOf<
      | InvalidCommand
      | StoreError
      | StoreUnavailable
      | IntegrityError
      | MemberNotFound
      | ConcurrencyConflict
      | KeyExists
      | KeyDestroyed
      | MemberErased
      | WalletLimitExceeded
    >()
    expectTypeOf<Errors["get"]>().toEqualTypeOf<
      InvalidCommand | StoreError | StoreUnavailable | IntegrityError | MemberNotFound
    >()
    expectTypeOf<Errors["anonymize"]>().toEqualTypeOf<
      LetheService.LiveError | NotPermitted | AnonymizationBlocked | UnknownReference | ErasureIncomplete
    >()
    expectTypeOf<Errors["redeemExportLink"]>().toEqualTypeOf<LetheService.ExportError | ExportLinkInvalid>()
    // Narrower: a wallet credit cannot fail with AnonymizationBlocked, so catching it is a type error.
    expectTypeOf<AnonymizationBlocked>().not.toMatchTypeOf<Errors["creditWallet"]>()
    expectTypeOf<Errors["creditWallet"]>().toMatchTypeOf<LetheError>()
  })

  it("catchTag removes a handled refusal from the narrowed union", () => {
    const credit = (lethe: LetheService) =>
      lethe
        .creditWallet("m-1", { amount: 5 })
        .pipe(Effect.catchTag("WalletLimitExceeded", () => Effect.succeed("limit" as const)))
    expectTypeOf<Effect.Effect.Error<ReturnType<typeof credit>>>().toEqualTypeOf<
      Exclude<Errors["creditWallet"], WalletLimitExceeded>
    >()
  })

  it("refusals met through the service fall inside their operation's declared union", async () => {
    const seen: Array<{ readonly operation: string; readonly tag: string }> = []
    const exit = await Effect.runPromiseExit(
      Effect.gen(function* () {
        const service = yield* Lethe
        const lethe = new Proxy(service, {
          get: (target, name: string) => {
            const member = (target as unknown as Record<string, unknown>)[name]
            if (typeof member !== "function") return member
            return (...args: ReadonlyArray<unknown>) =>
              (member as (...a: ReadonlyArray<unknown>) => Effect.Effect<unknown, { _tag: string }>)(
                ...args,
              ).pipe(Effect.tapError((e) => Effect.sync(() => seen.push({ operation: name, tag: e._tag }))))
          },
        })
        const attempt = <A, E>(effect: Effect.Effect<A, E>) => Effect.either(effect)
        const { memberId } = yield* lethe.register({
          tenantId: "gym",
          personal: { name: "Ola", email: "ola@example.org" },
          source: "staff",
        })
        yield* lethe.creditWallet(memberId, { amount: 500 })
        yield* attempt(lethe.creditWallet(memberId, { amount: Number.MAX_SAFE_INTEGER }))
        yield* attempt(lethe.creditWallet(memberId, { amount: 12.5 }))
        yield* attempt(lethe.debitWallet(memberId, { amount: 5_000 }))
        yield* attempt(lethe.creditWallet("nobody", { amount: 1 }))
        yield* attempt(lethe.get("nobody"))
        yield* attempt(lethe.anonymize(memberId, { actor: admin, confirmEmail: "ola@example.org" }))
        yield* attempt(lethe.anonymize(memberId, { actor: clerk, confirmEmail: "ola@example.org" }))
        yield* attempt(lethe.forget(memberId, { actor: clerk }))
        yield* attempt(lethe.endContract(memberId, { contractId: "none" }))
        yield* attempt(lethe.sendMessage(memberId, { purpose: "newsletter", channel: "email", sentBy: "x" }))
        yield* attempt(lethe.giveConsent(memberId, { purpose: "no-such-purpose", method: "form" } as never))
        yield* attempt(lethe.restore(memberId, { actor: admin }))
        yield* attempt(lethe.purge(memberId, { actor: admin }))
        yield* attempt(lethe.erasureReceipt(memberId))
        yield* attempt(lethe.proveMessage("no-such-message"))
        yield* attempt(lethe.redeemExportLink("not a link"))
        yield* attempt(lethe.exportMember(memberId, { actor: clerk, format: "json" }))
        yield* attempt(lethe.exportMember(memberId, { actor: admin, format: "json", requestId: "none" }))
        yield* attempt(lethe.forgetMany("not a list" as never, { actor: admin }))
        yield* attempt(lethe.search("gym", "x", { limit: 0 }))
        yield* lethe.forget(memberId, { actor: admin })
        yield* attempt(lethe.recordActivity(memberId, { kind: "visit" } as never))
        yield* attempt(lethe.signContract(memberId, { contractId: "c", clubId: "k", startsAt: new Date() }))
      }).pipe(Effect.provide(Lethe.layerFromStore({ keyring }).pipe(Layer.provide(MemoryStore.layer())))),
    )
    expect(Exit.isSuccess(exit)).toBe(true)
    const tags = new Set(seen.map((s) => s.tag))
    // The sample covers a good part of the refusals, not one or two.
    for (const tag of [
      "WalletLimitExceeded",
      "InsufficientFunds",
      "MemberNotFound",
      "AnonymizationBlocked",
      "NotPermitted",
      "UnknownReference",
      "NothingToRestore",
      "NotPurgeable",
      "NotErased",
      "MessageNotFound",
      "ExportLinkInvalid",
      "InvalidCommand",
      "MemberErased",
    ])
      expect(tags, tag).toContain(tag)
    const outside = seen.filter(
      ({ operation, tag }) =>
        !(operationErrors[operation as Operation] as ReadonlyArray<string> | undefined)?.includes(tag),
    )
    expect(outside).toEqual([])
  })
})

describe("exportMember's result is narrowed by format (issue 20)", () => {
  it("on the Effect service: csv gives files, json and html a file", () => {
    const exports = (lethe: LetheService) => ({
      csv: lethe.exportMember("m", { actor: admin, format: "csv" }),
      json: lethe.exportMember("m", { actor: admin, format: "json" }),
      html: lethe.exportMember("m", { actor: admin, format: "html" }),
      any: lethe.exportMember("m", { actor: admin, format: "json" as "json" | "csv" | "html" | "pdf" }),
    })
    type Of<K extends keyof ReturnType<typeof exports>> = Effect.Effect.Success<ReturnType<typeof exports>[K]>
    expectTypeOf<Of<"csv">>().toEqualTypeOf<Extract<ExportResult, { format: "csv" }>>()
    expectTypeOf<Of<"csv">["files"]>().toEqualTypeOf<Readonly<Record<string, string>>>()
    expectTypeOf<Of<"json">>().toEqualTypeOf<Extract<ExportResult, { format: "json" }>>()
    expectTypeOf<Of<"json">["content"]>().toEqualTypeOf<string>()
    expectTypeOf<Of<"html">["mediaType"]>().toEqualTypeOf<"text/html; charset=utf-8">()
    expectTypeOf<Of<"any">>().toEqualTypeOf<ExportResult>()
    expectTypeOf<Effect.Effect.Error<ReturnType<typeof exports>["csv"]>>().toEqualTypeOf<
      Errors["exportMember"]
    >()
  })

  it("on the Promise facade, with no narrowing by hand", async () => {
    const { lethe } = await setup()
    const { memberId } = await lethe.register({
      tenantId: "gym",
      personal: { name: "Ola", email: "ola@example.org" },
      source: "staff",
    })
    const csv = await lethe.exportMember(memberId, { actor: admin, format: "csv" })
    expectTypeOf(csv.files).toEqualTypeOf<Readonly<Record<string, string>>>()
    expect(Object.keys(csv.files).length).toBeGreaterThan(0)
    const json = await lethe.exportMember(memberId, { actor: admin, format: "json" })
    expectTypeOf(json.content).toEqualTypeOf<string>()
    expect(json.format).toBe("json")
    expect(JSON.parse(json.content)).toEqual(JSON.parse(JSON.stringify(json.document)))
    const html = await lethe.exportMember(memberId, { actor: admin, format: "html" })
    expect(html.content).toContain("<html")
    expectTypeOf<LetheClient["exportMember"]>().toBeFunction()
    // The facade still rejects with the same tagged errors.
    expect((await rejection(lethe.exportMember("nobody", { actor: admin, format: "csv" })))._tag).toBe(
      "MemberNotFound",
    )
  })
})

describe("Lethe.layerFromStore over a store's layer (issue 20)", () => {
  it("the store is opened with the layer and closed when its scope ends", async () => {
    // A store the layer did not open stays open: Lethe leaves the store to the layer that provided it.
    const given = memoryStore()
    const over = (store: Layer.Layer<Lethe.Store>) =>
      Effect.gen(function* () {
        const lethe = yield* Lethe
        yield* lethe.register({ tenantId: "gym", personal: { name: "Kim" }, source: "api" })
        return yield* Lethe.Store
      }).pipe(Effect.provide(Lethe.layerFromStore({ keyring }).pipe(Layer.provideMerge(store))))
    const layer = Lethe.layerFromStore({ keyring }).pipe(Layer.provide(MemoryStore.layer()))
    expectTypeOf(layer).toEqualTypeOf<Layer.Layer<Lethe, LetheError>>()
    await Effect.runPromise(over(Layer.succeed(Lethe.Store, given)))
    expect(await given.directory.get("nobody")).toBeUndefined()
    // MemoryStore.layer opened it, so its scope's end closed it: every call then rejects with StoreError.
    const opened = await Effect.runPromise(over(MemoryStore.layer()))
    expect((await rejection(opened.directory.get("nobody")))._tag).toBe("StoreError")
    const made = await Effect.runPromise(Effect.scoped(MemoryStore.make()))
    expect((await rejection(made.directory.get("nobody")))._tag).toBe("StoreError")
  })

  it("a store refused by the keyring check fails the layer with KeyringMismatch, typed", async () => {
    const store = memoryStore()
    await Effect.runPromise(
      Effect.provide(
        Effect.flatMap(Lethe, (lethe) =>
          lethe.register({ tenantId: "gym", personal: { name: "Kim" }, source: "api" }),
        ),
        Lethe.layerFromStore({ keyring }).pipe(Layer.provide(Layer.succeed(Lethe.Store, store))),
      ),
    )
    const other = keyringFromSecret("another secret, at least thirty-two bytes long")
    const exit = await Effect.runPromiseExit(
      Effect.provide(
        Lethe,
        Lethe.layerFromStore({ keyring: other }).pipe(Layer.provide(Layer.succeed(Lethe.Store, store))),
      ),
    )
    expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error._tag : "none").toBe(
      "KeyringMismatch",
    )
  })
})
