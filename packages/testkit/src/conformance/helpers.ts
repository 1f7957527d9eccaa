/**
 * What the conformance cases share beyond the fixtures (`../fixtures.ts`):
 * assertions on outcomes (a rejection's tag, a closed store, nothing written
 * for a member), paging through a query, and tampering with what a store
 * handed out.
 *
 * @module
 */
import type { LetheStore } from "@lethe/core"
import type { ExpectedVersion, MemberRow, NewEvent, Page } from "@lethe/core/spi"
import { memberStream } from "@lethe/core/spi"
import { expect } from "vitest"
import { rejection } from "../fixtures.js"

/** Asserts that member `memberId` has no event, no row and none of `keyIds`. */
export const expectNothingOf = async (
  store: LetheStore,
  memberId: string,
  keyIds: ReadonlyArray<string>,
): Promise<void> => {
  expect(await store.events.readStream(memberStream(memberId))).toEqual([])
  expect(await store.directory.get(memberId)).toBeUndefined()
  for (const keyId of keyIds) expect(await store.keys.get(keyId)).toBeUndefined()
}

/** An append of `events` to `streamId` at `expectedVersion`. */
export const append = (
  store: LetheStore,
  streamId: string,
  expectedVersion: ExpectedVersion,
  events: ReadonlyArray<NewEvent>,
) => store.events.append({ streamId, expectedVersion, events })

/** Asserts the promise rejects with an error whose `_tag` is `tag` (and whose data match `fields`). */
export const expectRejection = async (
  promise: Promise<unknown>,
  tag: string,
  fields: Readonly<Record<string, unknown>> = {},
): Promise<void> => {
  const error = await rejection(promise)
  expect({ _tag: error._tag, ...pick(error, Object.keys(fields)) }).toEqual({ _tag: tag, ...fields })
}

/**
 * Asserts that each call, on a store closed before, rejects with an error
 * whose `_tag` is `StoreError`. A synchronous throw counts as a rejection: a
 * caller that awaits sees the same.
 */
export const expectClosed = async (
  calls: Readonly<Record<string, () => Promise<unknown>>>,
): Promise<void> => {
  for (const [operation, call] of Object.entries(calls)) {
    const outcome = await Promise.resolve()
      .then(call)
      .then(
        (value: unknown) => ({ resolved: value }),
        (error: { readonly _tag?: string } | undefined) => ({ _tag: error?._tag }),
      )
    expect(outcome, `${operation} after close`).toEqual({ _tag: "StoreError" })
  }
}

const pick = (value: Readonly<Record<string, unknown>>, keys: ReadonlyArray<string>) =>
  Object.fromEntries(keys.map((key) => [key, value[key]]))

/**
 * Every item of a query paged by member id (keyset: `after` the last id seen),
 * `limit` at a time. Checks that each page holds at most `limit` items, all
 * after the previous page, so an adapter that ignores `after` fails here
 * instead of looping forever.
 */
export const pageThrough = async <A extends { readonly memberId: string }>(
  fetch: (page: Page) => Promise<ReadonlyArray<A>>,
  limit: number,
): Promise<Array<A>> => {
  const items: Array<A> = []
  let after: string | undefined
  for (;;) {
    const page = await fetch({ limit, ...(after === undefined ? {} : { after }) })
    expect(page.length, "a page holds at most `limit` rows").toBeLessThanOrEqual(limit)
    if (after !== undefined) {
      const from = after
      expect(
        page.filter((item) => !(item.memberId > from)).map((item) => item.memberId),
        `rows of the page after "${from}" that are not after it`,
      ).toEqual([])
    }
    items.push(...page)
    if (page.length < limit) return items
    after = page.at(-1)?.memberId
  }
}

/** Every row of a paged directory query, `limit` at a time (see `pageThrough`). */
export const allPages = (
  fetch: (page: Page) => Promise<ReadonlyArray<MemberRow>>,
  limit: number,
): Promise<Array<MemberRow>> => pageThrough(fetch, limit)

/** The member ids of rows, in order. */
export const ids = (rows: ReadonlyArray<MemberRow>): Array<string> => rows.map((row) => row.memberId)

/** Tries to change `target` through each path; frozen objects may refuse, which is fine. */
export const tamper = (changes: ReadonlyArray<() => void>): void => {
  for (const change of changes)
    try {
      change()
    } catch {
      // A frozen object refuses the change; what matters is that the store is unchanged.
    }
}

/** An object as a mutable record, to try changing what a store handed out. */
export const mutable = (value: unknown): Record<string, unknown> => value as Record<string, unknown>
