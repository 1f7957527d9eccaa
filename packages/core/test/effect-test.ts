// Runs a test written as an Effect, under Effect's test services (TestClock starts at 0 and moves only
// when the test moves it). The few lines @effect/vitest's `it.effect` would give, kept here because that
// package pins vitest 3, whose worker RPC times out after 60 s on a loaded CI machine.
import { Cause, Effect, Exit, TestContext } from "effect"
import { it } from "vitest"

/** `it`, for a test that is an Effect needing no services but Effect's test ones. */
export const itEffect = <E>(name: string, self: () => Effect.Effect<void, E>, timeout?: number): void =>
  it(
    name,
    async () => {
      const exit = await Effect.runPromiseExit(self().pipe(Effect.provide(TestContext.TestContext)))
      if (Exit.isFailure(exit)) throw Cause.squash(exit.cause)
    },
    timeout,
  )
