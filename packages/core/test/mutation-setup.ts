/**
 * Setup of the mutation run only (vitest.mutation.config.ts): a property that
 * fails under a mutant has done its job, so fast-check stops at the first
 * counterexample instead of shrinking it. The properties are the same, with
 * the same number of runs; only the report of a failure is shorter.
 */
import fc from "fast-check"

fc.configureGlobal({ endOnFailure: true })
