/**
 * Conformance of erasure as stored: after forget the directory answers hold
 * none of the member's personal strings (R1); after the restore window and a
 * retention run (purge: keys destroyed, sealed values redacted) nothing the
 * adapter stores holds them, anywhere (R29).
 *
 * @module
 */
import type { LetheClient, LetheStore } from "@lethe/core"
import fc from "fast-check"
import { expect } from "vitest"
import { wholeLog } from "../fixtures.js"
import { adminActor, days, hours } from "../given-when-then.js"
import type { CaseGroup } from "./case.js"
import { openLethe, testClock } from "./world.js"

/** A generated person: every personal string carries the person's random marker, or is random itself. */
interface Person {
  readonly marker: string
  readonly name: string
  readonly email: string
  readonly phone: string
  readonly address: string
  readonly note: string
  readonly page: string
}

const personArb: fc.Arbitrary<Person> = fc
  .record({
    marker: fc.stringMatching(/^[a-z]{5}[0-9]{3}[a-z]{4}$/),
    first: fc.constantFrom("Anna", "Łucja", "Zoë", "Bob", "Mirosław"),
    digits: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 9, maxLength: 9 }).map((d) => d.join("")),
    house: fc.integer({ min: 1, max: 999 }),
  })
  .map(({ marker, first, digits, house }) => ({
    marker,
    name: `${first} ${marker.charAt(0).toUpperCase()}${marker.slice(1)}`,
    email: `${marker}@example.org`,
    phone: `+48 ${digits.slice(0, 3)} ${digits.slice(3, 6)} ${digits.slice(6)}`,
    address: `${house} ${marker} Street`,
    note: `prefers ${marker} classes`,
    page: `/profile/${marker}`,
  }))

/** The strings of a person that must vanish with it. */
const personalStrings = (person: Person): ReadonlyArray<string> => [
  person.marker,
  person.name,
  person.email,
  person.phone,
  person.address,
  person.note,
  person.page,
]

/** People, the first of whom is always forgotten; the others are forgotten or kept at random. */
const peopleArb = fc
  .tuple(
    fc.uniqueArray(personArb, { minLength: 2, maxLength: 4, selector: (p) => p.marker }),
    fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
  )
  .map(([people, forget]) => people.map((person, i) => ({ person, forget: i === 0 || forget[i] === true })))

interface Registered {
  readonly person: Person
  readonly forget: boolean
  readonly memberId: string
  readonly emailKey: string | null
  readonly messageId: string
}

/** Registers each person with personal data, consent, activity and a message. */
const registerAll = async (
  lethe: LetheClient,
  store: LetheStore,
  people: ReadonlyArray<{ readonly person: Person; readonly forget: boolean }>,
): Promise<Array<Registered>> => {
  const registered: Array<Registered> = []
  for (const { person, forget } of people) {
    const { memberId } = await lethe.register({
      tenantId: "t1",
      personal: { name: person.name, email: person.email, phone: person.phone },
      source: "form",
    })
    await lethe.recordPersonalData(memberId, {
      category: "address",
      fields: { street: person.address },
      source: "staff",
    })
    await lethe.recordPersonalData(memberId, {
      category: "notes",
      fields: { note: person.note },
      source: "staff",
    })
    await lethe.giveConsent(memberId, { purpose: "newsletter", method: "checkbox", source: "form" })
    await lethe.recordActivity(memberId, { kind: "page-view", details: { page: person.page } })
    const { messageId } = await lethe.sendMessage(memberId, {
      purpose: "newsletter",
      channel: "email",
      sentBy: "campaign-1",
    })
    const emailKey = (await store.directory.get(memberId))?.emailKey ?? null
    registered.push({ person, forget, memberId, emailKey, messageId })
  }
  return registered
}

/** Everything the directory answers about these members, by question, as JSON. */
const directoryAnswers = async (
  lethe: LetheClient,
  store: LetheStore,
  members: ReadonlyArray<Registered>,
): Promise<Record<string, string>> => {
  const answers: Record<string, unknown> = {}
  const max = Number.MAX_SAFE_INTEGER
  for (const { person, memberId, emailKey, messageId } of members) {
    answers[`directory.get ${memberId}`] = await store.directory.get(memberId)
    answers[`directory.messageOwner ${messageId}`] = await store.directory.messageOwner(messageId)
    answers[`findByEmail ${person.email}`] = await lethe.findByEmail("t1", person.email)
    if (emailKey !== null) {
      answers[`directory.findByEmail ${emailKey}`] = await store.directory.findByEmail("t1", emailKey)
      answers[`directory.findRestorable ${emailKey}`] = await store.directory.findRestorable("t1", emailKey)
    }
    for (const text of [person.marker, person.name.toLowerCase(), person.email])
      answers[`directory.search ${text}`] = await store.directory.search("t1", text, { limit: 100 })
  }
  const query = { before: max, limit: 100 }
  answers.contractsEndedBefore = await store.directory.contractsEndedBefore(query)
  answers.inactiveSince = await store.directory.inactiveSince(query)
  answers.coldLeadsSince = await store.directory.coldLeadsSince(query)
  answers.restoreWindowEndedBefore = await store.directory.restoreWindowEndedBefore(query)
  answers.invoicesHeldSince = await store.directory.invoicesHeldSince(query)
  answers.requestsDueBefore = await store.directory.requestsDueBefore(query)
  return Object.fromEntries(
    Object.entries(answers).map(([question, answer]) => [question, JSON.stringify(answer) ?? ""]),
  )
}

/** Everything the adapter stores, as JSON by where it was read: the log, keys, and every directory answer. */
const everythingStored = async (
  lethe: LetheClient,
  store: LetheStore,
  members: ReadonlyArray<Registered>,
): Promise<Record<string, string>> => {
  const stored: Record<string, string> = await directoryAnswers(lethe, store, members)
  for (const event of await wholeLog(store))
    stored[`event ${event.streamId}@${event.version} (position ${event.position})`] = JSON.stringify(event)
  for (const { memberId } of members)
    stored[`keys.listForMember ${memberId}`] = JSON.stringify(await store.keys.listForMember(memberId))
  return stored
}

/** Where (by label) each string occurs, ignoring case; empty when nowhere. */
const occurrences = (
  haystacks: Readonly<Record<string, string>>,
  needles: ReadonlyArray<string>,
): Array<{ readonly text: string; readonly foundIn: Array<string> }> => {
  const lowered = Object.entries(haystacks).map(([label, text]) => [label, text.toLowerCase()] as const)
  return needles.flatMap((needle) => {
    const foundIn = lowered.filter(([, text]) => text.includes(needle.toLowerCase())).map(([label]) => label)
    return foundIn.length === 0 ? [] : [{ text: needle, foundIn }]
  })
}

/** Asserts every kept member is still found (so the search above could have failed) and no forgotten one is. */
const expectOnlyKeptFound = (
  haystacks: Readonly<Record<string, string>>,
  members: ReadonlyArray<Registered>,
) => {
  const forgotten = members.filter((m) => m.forget).flatMap((m) => personalStrings(m.person))
  expect(occurrences(haystacks, forgotten), "personal strings of forgotten members still stored").toEqual([])
  for (const { person } of members.filter((m) => !m.forget))
    expect(
      occurrences(haystacks, [person.name]).length,
      `a kept member (${person.name}) is still found: the check can see stored data`,
    ).toBe(1)
}

/** Erasure cases, by stable name. */
export const erasureCases = {
  "erasure/forget-scrubs-directory": {
    title: "R1: after forget, no directory answer holds any personal string of the forgotten members",
    run: async ({ open, check }) =>
      check(
        fc.asyncProperty(peopleArb, async (people) => {
          const store = await open()
          const lethe = await openLethe(store, testClock())
          try {
            const members = await registerAll(lethe, store, people)
            expect(
              occurrences(await directoryAnswers(lethe, store, members), [members[0]?.person.name ?? ""])
                .length,
              "before forget, the directory holds the member's name (the check can fail)",
            ).toBe(1)
            for (const { memberId } of members.filter((m) => m.forget))
              await lethe.forget(memberId, { actor: adminActor })
            expectOnlyKeptFound(await directoryAnswers(lethe, store, members), members)
          } finally {
            await lethe.close()
          }
        }),
        5,
      ),
  },

  "erasure/purge-leaves-nothing": {
    title:
      "R29: after forget, the restore window and a retention run, no generated personal string is stored anywhere",
    run: async ({ open, check }) =>
      check(
        fc.asyncProperty(peopleArb, async (people) => {
          const store = await open()
          const clock = testClock()
          const lethe = await openLethe(store, clock)
          try {
            const members = await registerAll(lethe, store, people)
            const forgotten = members.filter((m) => m.forget).map((m) => m.memberId)
            for (const memberId of forgotten) await lethe.forget(memberId, { actor: adminActor })
            clock.advance(days(lethe.config.restoreWindowDays) + hours(1))
            const report = await lethe.runRetention({})
            expect(report.failed, "retention failures").toEqual([])
            expect(
              report.executed.filter((e) => e.rule === "purge-forgotten").map((e) => e.memberId),
              "runRetention purges every forgotten member past the window",
            ).toEqual([...forgotten].sort())
            expectOnlyKeptFound(await everythingStored(lethe, store, members), members)
          } finally {
            await lethe.close()
          }
        }),
        5,
      ),
  },
} satisfies CaseGroup
