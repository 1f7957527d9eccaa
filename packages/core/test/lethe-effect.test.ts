import type { Actor, LetheStore } from "@lethe/core"
import { ConcurrencyConflict, keyringFromSecret, Lethe } from "@lethe/core"
import { memoryStore } from "@lethe/store-memory"
import { Duration, Effect, Fiber, Option, TestClock } from "effect"
import { describe, expect } from "vitest"
import { itEffect } from "./effect-test"

const keyring = keyringFromSecret("effect test secret, at least thirty-two bytes")
const admin: Actor = { id: "staff:admin", roles: ["admin"] }
const layer = () => Lethe.layer({ store: memoryStore(), keyring })

describe("Lethe as an Effect service", () => {
  itEffect("R25: failures are typed and caught by tag", () =>
    Effect.gen(function* () {
      const lethe = yield* Lethe
      const { memberId } = yield* lethe.register({
        tenantId: "gym",
        personal: { name: "Ola", email: "ola@example.org" },
        source: "staff",
      })
      yield* lethe.creditWallet(memberId, { amount: 500 })
      const reasons = yield* lethe
        .anonymize(memberId, { actor: admin, confirmEmail: "ola@example.org" })
        .pipe(
          Effect.map(() => [] as ReadonlyArray<string>),
          Effect.catchTag("AnonymizationBlocked", (e) => Effect.succeed(e.reasons)),
        )
      expect(reasons).toEqual(["WalletNotEmpty"])
    }).pipe(Effect.provide(layer())),
  )

  itEffect("R5: the restore window follows Effect's Clock (TestClock)", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(new Date("2026-05-01T00:00:00Z").getTime())
      const lethe = yield* Lethe
      const { memberId } = yield* lethe.register({ tenantId: "t", personal: { name: "Kim" }, source: "api" })
      yield* lethe.forget(memberId, { actor: admin })
      yield* TestClock.adjust(Duration.days(6))
      yield* lethe.restore(memberId, { actor: admin })
      expect((yield* lethe.get(memberId)).status).toBe("active")
      yield* lethe.forget(memberId, { actor: admin })
      yield* TestClock.adjust(Duration.days(7))
      const error = yield* Effect.flip(lethe.restore(memberId, { actor: admin }))
      expect(error._tag).toBe("RestoreWindowExpired")
    }).pipe(Effect.provide(layer())),
  )

  /** A memory store whose appends conflict, as if another writer got there first, the first `times` times. */
  const conflicting = (times: number): { readonly store: LetheStore; readonly attempts: () => number } => {
    const store = memoryStore()
    let attempts = 0
    const append = store.events.append.bind(store.events)
    store.events.append = (request) => {
      attempts++
      return attempts <= times
        ? Promise.reject(
            new ConcurrencyConflict({ streamId: request.streamId, expected: "no_stream", actual: 1 }),
          )
        : append(request)
    }
    return { store, attempts: () => attempts }
  }

  /** Real time for the adapter's promises to settle, while the TestClock stands still. */
  const settle = (until: () => boolean) =>
    Effect.gen(function* () {
      for (let i = 0; i < 200 && !until(); i++)
        yield* Effect.promise(() => new Promise((r) => setTimeout(r, 10)))
    })

  itEffect(
    "C2: a conflicting writer backs off on Effect's Clock before it tries again, and then succeeds",
    () => {
      const { store, attempts } = conflicting(2)
      return Effect.gen(function* () {
        const lethe = yield* Lethe
        const register = yield* Effect.fork(
          lethe.register({ tenantId: "t", personal: { name: "Kim" }, source: "api" }),
        )
        yield* settle(() => attempts() >= 1)
        // The first attempt conflicted; the next waits for the clock, which the TestClock holds still.
        yield* Effect.promise(() => new Promise((r) => setTimeout(r, 100)))
        expect(attempts()).toBe(1)
        expect(Option.isNone(yield* Fiber.poll(register))).toBe(true)
        for (let attempt = 2; attempt <= 3; attempt++) {
          yield* TestClock.adjust(Duration.seconds(1))
          yield* settle(() => attempts() >= attempt)
        }
        const { memberId } = yield* Fiber.join(register)
        expect(attempts()).toBe(3)
        expect((yield* lethe.get(memberId)).status).toBe("active")
      }).pipe(Effect.provide(Lethe.layer({ store, keyring })))
    },
  )

  itEffect(
    "C2: a writer that keeps conflicting gives up after `retries` attempts with ConcurrencyConflict",
    () => {
      const { store, attempts } = conflicting(Number.POSITIVE_INFINITY)
      return Effect.gen(function* () {
        const lethe = yield* Lethe
        const register = yield* Effect.fork(
          Effect.flip(lethe.register({ tenantId: "t", personal: { name: "Kim" }, source: "api" })),
        )
        for (let attempt = 1; attempt <= 4; attempt++) {
          yield* settle(() => attempts() >= attempt)
          yield* TestClock.adjust(Duration.seconds(1))
        }
        const error = yield* Fiber.join(register)
        expect(error._tag).toBe("ConcurrencyConflict")
        expect(attempts()).toBe(4)
      }).pipe(Effect.provide(Lethe.layer({ store, keyring, retries: 3 })))
    },
  )
})
