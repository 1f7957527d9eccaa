/**
 * The data every contender writes: members with a name and an e-mail, club
 * visits, and contact imports, the same for the raw drivers, Emmett and Lethe.
 *
 * @module
 */
import type { ActivityInput, Actor } from "@lethe/core"
import type { PlainEvent } from "./subjects/event-log.js"

export const tenantId = "bench"

/** Staff with every permission (forget, purge). */
export const admin: Actor = { id: "staff:bench", roles: ["admin"] }

let keys = 0

/** A key no other member of this process has: members' ids and e-mails never collide. */
export const nextKey = (): string => `${process.pid.toString(36)}-${(++keys).toString(36)}`

/** The personal data of member `key`. */
export const person = (key: string) => ({ name: `Member ${key}`, email: `member-${key}@example.org` })

/** A club visit, without personal details, as Lethe records it. */
export const visit: ActivityInput = { kind: "visit", clubId: "club-1" }

/** The raw and Emmett event of a new member: what a raw append stores, personal data in clear. */
export const registered = (key: string): PlainEvent => ({
  type: "MemberRegistered",
  data: { at: Date.now(), memberId: key, tenantId, source: "import", ...person(key) },
})

/** The raw and Emmett event of a club visit. */
export const visited = (): PlainEvent => ({
  type: "ActivityRecorded",
  data: { at: Date.now(), kind: visit.kind, clubId: visit.clubId },
})

/** The purpose and date every imported consent has. */
const imported = { purpose: "newsletter", givenAt: "2024-05-25" } as const

/** The events a contact import writes for one contact, as Lethe's import does: 4. */
export const contactEvents = (key: string): ReadonlyArray<PlainEvent> => {
  const { name, email } = person(key)
  const at = Date.now()
  return [
    { type: "MemberRegistered", data: { at, memberId: key, tenantId, source: "import" } },
    { type: "PersonalDataRecorded", data: { at, category: "identity", fields: { name } } },
    { type: "PersonalDataRecorded", data: { at, category: "contact", fields: { email } } },
    {
      type: "ConsentGiven",
      data: { at, purpose: imported.purpose, method: "import", givenAt: imported.givenAt },
    },
  ]
}

/** Events per imported contact. */
export const eventsPerContact = 4

/** A contact import file (`lethe.importCsv`) of the members `keys`. */
export const contactsCsv = (keys: ReadonlyArray<string>): string =>
  [
    "email,name,purpose,given_at",
    ...keys.map((key) => {
      const { name, email } = person(key)
      return `${email},${name},${imported.purpose},${imported.givenAt}`
    }),
  ].join("\n")

/** The raw and Emmett events of member `key` with `events` events: its registration, then visits. */
export const memberEvents = (key: string, events: number): ReadonlyArray<PlainEvent> => [
  registered(key),
  ...Array.from({ length: events - 1 }, visited),
]
