/**
 * `createLethe`: Lethe's operations as Promises, for applications that do not
 * use Effect. A failed operation rejects with the same tagged error the Effect
 * API fails with (`error._tag` is public).
 *
 * @module
 */
import { Cause, Effect, Exit, ManagedRuntime } from "effect"
import { StoreError } from "../errors.js"
import type { ExportFormat } from "../export/member-export.js"
import type { ExportResult } from "../export/render.js"
import type { ExportInput } from "./inputs.js"
import { Lethe } from "./lethe.js"
import type { LetheOptions } from "./options.js"
import type { LetheService } from "./service.js"

type Promised<T> = {
  readonly [K in keyof T]: T[K] extends (...args: infer A) => Effect.Effect<infer R, infer _E, never>
    ? (...args: A) => Promise<R>
    : T[K]
}

/** Lethe as Promises: every operation of `LetheService`, plus `close`. */
export type LetheClient = Omit<Promised<LetheService>, "readProjection" | "exportMember"> & {
  /** `LetheService.exportMember`, its result narrowed by `format` (`"csv"` gives `files`). */
  exportMember<F extends ExportFormat>(
    memberId: string,
    input: ExportInput & { readonly format: F },
  ): Promise<LetheService.ExportOf<F>>
  /** `exportMember` for a format known only at run time: any `ExportResult`. */
  exportMember(memberId: string, input: ExportInput): Promise<ExportResult>
  /** `LetheService.readProjection`, as a Promise of what `read` returns. */
  readProjection<A, Tx = unknown>(name: string, read: (tx: Tx) => A | Promise<A>): Promise<A>
  /** Releases what Lethe opened (the store's connections); never ends a pool the caller passed in. */
  close(): Promise<void>
}

/**
 * Builds Lethe over a store.
 *
 * @example
 * ```ts
 * const lethe = await createLethe({ store: memoryStore(), keyring: keyringFromSecret(secret) })
 * const { memberId } = await lethe.register({ tenantId: "gym", personal: { name: "Ada", email: "ada@example.org" }, source: "staff" })
 * await lethe.anonymize(memberId, { actor: admin, confirmEmail: "ada@example.org" })
 * ```
 */
export const createLethe = async (options: LetheOptions): Promise<LetheClient> => {
  const runtime = ManagedRuntime.make(Lethe.layer(options))
  const built = await runtime.runPromiseExit(Lethe)
  if (Exit.isFailure(built)) {
    await runtime.dispose()
    const failure = Cause.failureOption(built.cause)
    throw failure._tag === "Some" ? failure.value : Cause.squash(built.cause)
  }
  const service = built.value
  let closed: Promise<void> | undefined
  // An operation runs inside the promise: whatever its arguments, the client never throws synchronously.
  const run = async <A, E>(effect: () => Effect.Effect<A, E>): Promise<A> => {
    if (closed !== undefined) throw new StoreError({ operation: "call", detail: "Lethe is closed" })
    const exit = await runtime.runPromiseExit(Effect.suspend(effect))
    if (Exit.isSuccess(exit)) return exit.value
    const failure = Cause.failureOption(exit.cause)
    throw failure._tag === "Some" ? failure.value : Cause.squash(exit.cause)
  }
  const client: Record<string, unknown> = {}
  for (const [name, member] of Object.entries(service)) {
    client[name] =
      typeof member === "function"
        ? (...args: ReadonlyArray<unknown>) =>
            run(() => (member as (...a: ReadonlyArray<unknown>) => Effect.Effect<unknown, unknown>)(...args))
        : member
  }
  client.close = () => {
    closed ??= runtime.dispose()
    return closed
  }
  return client as LetheClient
}
