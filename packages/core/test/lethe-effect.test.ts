import { describe, expect, it } from "@effect/vitest"
import type { Actor } from "@lethe/core"
import { keyringFromSecret, Lethe } from "@lethe/core"
import { memoryStore } from "@lethe/store-memory"
import { Duration, Effect, TestClock } from "effect"

const keyring = keyringFromSecret("effect test secret, at least thirty-two bytes")
const admin: Actor = { id: "staff:admin", roles: ["admin"] }
const layer = () => Lethe.layer({ store: memoryStore(), keyring })

describe("Lethe as an Effect service", () => {
  it.effect("R25: failures are typed and caught by tag", () =>
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

  it.effect("R5: the restore window follows Effect's Clock (TestClock)", () =>
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
})
