/**
 * A suppressed address (R43): `Suppress` records `ContactSuppressed` once, the messaging guard refuses
 * marketing to it (consent or legitimate interest) but not messages a contract calls for, and an
 * unsubscribe carries the date it happened in the tool a list came from.
 */
import type { EventOf } from "@lethe/core/domain"
import {
  consentGiven,
  contractSigned,
  days,
  defaultNow,
  emailRecorded,
  given,
  registered,
  sendMessage,
} from "@lethe/testkit"
import { describe, it } from "vitest"

const start = defaultNow - days(60)
const member = [registered({ at: start }), emailRecorded("anna@example.org", start)]
const bounced = (occurredAt?: number): EventOf<"ContactSuppressed"> => ({
  _tag: "ContactSuppressed",
  at: defaultNow,
  ...(occurredAt === undefined ? {} : { occurredAt }),
  reason: "bounced",
  source: { kind: "import", tag: "cleaned.csv" },
})

describe("R43: suppressed addresses", () => {
  it("R43: Suppress records ContactSuppressed with its own date, once", () => {
    given(member)
      .when({
        _tag: "Suppress",
        reason: "bounced",
        source: { kind: "import", tag: "cleaned.csv" },
        occurredAt: start + days(1),
      })
      .thenEvents([bounced(start + days(1))])
      .thenState({ suppression: { since: start + days(1), reason: "bounced" } })
    given([...member, bounced()])
      .when({ _tag: "Suppress", reason: "blocklisted", source: { kind: "import" } })
      .thenNothing()
  })

  it("R43: a suppression is refused a date in the future or before the registration", () => {
    given(member)
      .when({ _tag: "Suppress", reason: "cleaned", source: { kind: "import" }, occurredAt: start - days(1) })
      .thenRejects("InvalidCommand")
    given(member)
      .when({
        _tag: "Suppress",
        reason: "cleaned",
        source: { kind: "import" },
        occurredAt: defaultNow + days(1),
      })
      .thenRejects("InvalidCommand")
  })

  it("R43: the messaging guard refuses marketing to a suppressed address, consent or legitimate interest", () => {
    given([...member, consentGiven({ at: start, purpose: "newsletter" }), bounced()])
      .when(sendMessage({ purpose: "newsletter" }))
      .thenRejects("MessageRefused", { reasons: ["Suppressed"] })
    // A customer's standing legitimate interest for marketing stops too.
    given([...member, contractSigned({ at: start }), bounced()])
      .when(sendMessage({ purpose: "marketing" }))
      .thenRejects("MessageRefused", { reasons: ["Suppressed"] })
  })

  it("R43: messages a contract calls for still go to a suppressed customer", () => {
    given([...member, contractSigned({ at: start }), bounced()])
      .when(sendMessage({ purpose: "service" }))
      .thenState((state) => {
        if (state.counts.messages !== 1) throw new Error("the service message was not sent")
      })
  })

  it("R43: an imported unsubscribe is dated when it happened", () => {
    given(member)
      .when({ _tag: "Unsubscribe", purpose: "newsletter", via: "staff", occurredAt: start + days(2) })
      .thenState((state) => {
        if (state.unsubscribed.newsletter?.at !== start + days(2)) throw new Error("not dated at occurredAt")
      })
  })
})
