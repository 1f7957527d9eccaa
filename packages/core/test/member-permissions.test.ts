import type { Actor, Permission } from "@lethe/core"
import type { MemberCommand, MemberEvent } from "@lethe/core/domain"
import { allPermissions } from "@lethe/core/domain"
import {
  adminActor,
  anonymize,
  anonymized,
  contractSigned,
  dataExported,
  days,
  defaultNow,
  emailRecorded,
  forget,
  forgotten,
  given,
  personalDataErased,
  purged,
  registered,
  restore,
  restored,
  staff,
  systemActor,
} from "@lethe/testkit"
import { describe, it } from "vitest"

const member = [
  registered({ at: defaultNow - days(30) }),
  emailRecorded("anna@example.org", defaultNow - days(30)),
]
const forgottenMember = [...member, forgotten({ at: defaultNow - days(8) })]

interface Privileged {
  readonly permission: Permission
  readonly command: MemberCommand
  readonly history: ReadonlyArray<MemberEvent>
  readonly recorded: MemberEvent
}

/** Each privileged command, the permission it needs, a history where it succeeds, and what it records. */
const privileged: ReadonlyArray<Privileged> = [
  {
    permission: "member:forget",
    command: forget(),
    history: member,
    recorded: forgotten({ restorableUntil: defaultNow + days(7) }),
  },
  {
    permission: "member:forget",
    command: { _tag: "ErasePersonalData", categories: ["contact"], reason: "request" },
    history: member,
    recorded: personalDataErased({ categories: ["contact"], reason: "request" }),
  },
  { permission: "member:forget", command: { _tag: "Purge" }, history: forgottenMember, recorded: purged() },
  {
    permission: "member:anonymize",
    command: anonymize({ confirmEmail: "anna@example.org" }),
    history: member,
    recorded: anonymized({ erasedCategories: ["contact"] }),
  },
  {
    permission: "member:restore",
    command: restore(),
    history: [...member, forgotten({ at: defaultNow - days(1) })],
    recorded: restored(),
  },
  {
    permission: "member:export",
    command: { _tag: "RecordExport", format: "json", requestId: null },
    history: member,
    recorded: dataExported(),
  },
]
const cases = privileged.map((p) => [p.command._tag, p] as const)

const config = {
  permissions: {
    admin: allPermissions,
    receptionist: ["member:export"] satisfies ReadonlyArray<Permission>,
    dpo: ["member:forget", "member:anonymize", "member:restore"] satisfies ReadonlyArray<Permission>,
  },
}
const granted = (permission: Permission): Actor =>
  staff("ewa", permission === "member:export" ? "receptionist" : "dpo")
const notGranted = (permission: Permission): Actor =>
  staff("ewa", permission === "member:export" ? "dpo" : "receptionist")

describe("R8/R26: privileged operations need the permission", () => {
  it.each(cases)("R8/R26: %s by an actor with no role is refused with NotPermitted", (_, p) => {
    given(p.history)
      .when(p.command, { actor: staff("kasia"), config })
      .thenRejects("NotPermitted", { actorId: "kasia", permission: p.permission })
  })

  it.each(cases)("R26: %s by a role config.permissions does not grant it to is NotPermitted", (_, p) => {
    given(p.history)
      .when(p.command, { actor: notGranted(p.permission), config })
      .thenRejects("NotPermitted", { actorId: "ewa", permission: p.permission })
  })

  it.each(cases)("R26: %s by a role config.permissions grants it to is accepted", (_, p) => {
    given(p.history)
      .when(p.command, { actor: granted(p.permission), config })
      .thenEvents([p.recorded])
  })

  it.each(cases)("R26: %s by admin is accepted with the default configuration", (_, p) => {
    given(p.history).when(p.command, { actor: adminActor }).thenEvents([p.recorded])
  })

  it.each(cases)("R26: %s by the system role is accepted even with no permissions configured", (_, p) => {
    given(p.history)
      .when(p.command, { actor: systemActor, config: { permissions: {} } })
      .thenEvents([p.recorded])
  })

  it("R26: any one of the actor's roles may grant the permission", () => {
    given(member)
      .when(forget(), { actor: staff("ewa", "receptionist", "dpo"), config })
      .thenEvents([forgotten({ restorableUntil: defaultNow + days(7) })])
  })

  it("R26: without the permission the refusal is NotPermitted and reveals no blocker", () => {
    given([...member, contractSigned({ startsAt: defaultNow - days(1) })])
      .when(anonymize({ confirmEmail: "anna@example.org" }), {
        actor: staff("kasia", "receptionist"),
        config,
      })
      .thenRejects("NotPermitted", { permission: "member:anonymize" })
  })

  it.each(["toString", "constructor", "__proto__", "hasOwnProperty"])(
    "R26: a role named %s, as every object answers to, grants nothing",
    (role) => {
      given(member)
        .when(forget(), { actor: staff("ewa", role), config })
        .thenRejects("NotPermitted", { actorId: "ewa", permission: "member:forget" })
    },
  )

  it("R26: a role the configuration does not list grants nothing", () => {
    given(member)
      .when(forget(), { actor: staff("ewa", "auditor"), config })
      .thenRejects("NotPermitted", { actorId: "ewa", permission: "member:forget" })
  })

  it("R5: a restore the subject asks for (subscribing again) needs no permission", () => {
    given([...member, forgotten({ at: defaultNow - days(1) })])
      .when(restore({ by: "subject" }), { actor: staff("web"), config })
      .thenEvents([restored({ by: "subject" })])
  })

  it("R8: ordinary commands need no permission", () => {
    given(member)
      .when({ _tag: "CreditWallet", amount: 100 }, { actor: staff("kasia"), config })
      .thenEvents([{ _tag: "WalletCredited", at: defaultNow, amount: 100 }])
  })
})
