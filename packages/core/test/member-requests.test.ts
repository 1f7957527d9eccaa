import {
  accessRequested,
  anonymize,
  anonymized,
  dataExported,
  days,
  defaultNow,
  emailRecorded,
  erasureRequested,
  forget,
  forgotten,
  given,
  registered,
} from "@lethe/testkit"
import { describe, expect, it } from "vitest"

const member = [
  registered({ at: defaultNow - days(30) }),
  emailRecorded("anna@example.org", defaultNow - days(30)),
]
const receivedAt = defaultNow - days(2)

describe("R11: requests and their due dates", () => {
  it("R11: an erasure request is due 30 days after it was received, by default", () => {
    given(member)
      .when({ _tag: "RequestErasure", requestId: "request-1", receivedAt, via: "letter" })
      .thenEvents([
        erasureRequested({ at: defaultNow, receivedAt, dueBy: receivedAt + days(30), via: "letter" }),
      ])
      .thenState((state) =>
        expect(state.requests["request-1"]).toEqual({
          requestId: "request-1",
          kind: "erasure",
          receivedAt,
          dueBy: receivedAt + days(30),
          systems: [],
          confirmations: [],
          handledAt: null,
          fulfilledAt: null,
        }),
      )
  })

  it("R11: the erasure deadline is configurable", () => {
    given(member)
      .when(
        { _tag: "RequestErasure", requestId: "request-1", receivedAt, via: "email" },
        {
          config: { erasureDeadlineDays: 14 },
        },
      )
      .thenEvents([erasureRequested({ receivedAt, dueBy: receivedAt + days(14) })])
  })

  it("R13: an access request is due 30 days after receipt by default, and configurable", () => {
    given(member)
      .when({ _tag: "RequestAccess", requestId: "request-2", receivedAt, via: "form" })
      .thenEvents([
        accessRequested({ requestId: "request-2", receivedAt, dueBy: receivedAt + days(30), via: "form" }),
      ])
    given(member)
      .when(
        { _tag: "RequestAccess", requestId: "request-2", receivedAt, via: "form" },
        {
          config: { accessDeadlineDays: 10, erasureDeadlineDays: 60 },
        },
      )
      .thenEvents([
        accessRequested({ requestId: "request-2", receivedAt, dueBy: receivedAt + days(10), via: "form" }),
      ])
  })

  it("R11: a request id is used once", () => {
    given([...member, accessRequested({ requestId: "request-1" })])
      .when({ _tag: "RequestErasure", requestId: "request-1", receivedAt, via: "email" })
      .thenRejects("DuplicateReference", { kind: "request", id: "request-1" })
  })

  it("R11: anonymizing on an erasure request fulfils it and every other open request", () => {
    given([...member, erasureRequested(), accessRequested({ requestId: "request-2" })])
      .when(anonymize({ confirmEmail: "anna@example.org", requestId: "request-1" }))
      .thenEvents([anonymized({ erasedCategories: ["contact"], requestId: "request-1" })])
      .thenState((state) => {
        expect(state.requests["request-1"]?.fulfilledAt).toBe(defaultNow)
        expect(state.requests["request-2"]?.fulfilledAt).toBe(defaultNow)
      })
  })

  it("R11: forget or anonymize naming a request that is not an erasure request is UnknownReference", () => {
    const history = [...member, accessRequested({ requestId: "request-2" })]
    given(history)
      .when(forget({ requestId: "request-2" }))
      .thenRejects("UnknownReference", { kind: "erasure request", id: "request-2" })
    given(history)
      .when(anonymize({ confirmEmail: "anna@example.org", requestId: "request-9" }))
      .thenRejects("UnknownReference", { kind: "erasure request", id: "request-9" })
  })

  it("R13/R21: an export on an access request fulfils it; naming an erasure request is UnknownReference", () => {
    given([...member, accessRequested({ requestId: "request-2" })])
      .when({ _tag: "RecordExport", format: "json", requestId: "request-2" })
      .thenEvents([dataExported({ requestId: "request-2" })])
      .thenState((state) => {
        expect(state.requests["request-2"]?.fulfilledAt).toBe(defaultNow)
        expect(state.counts.exports).toBe(1)
      })
    given([...member, erasureRequested()])
      .when({ _tag: "RecordExport", format: "json", requestId: "request-1" })
      .thenRejects("UnknownReference", { kind: "access request", id: "request-1" })
  })

  it("R21: staff can export before anonymizing, not after forgetting", () => {
    given([...member, forgotten({ at: defaultNow - days(1) })])
      .when({ _tag: "RecordExport", format: "csv", requestId: null })
      .thenRejects("MemberErased", { status: "forgotten" })
  })
})
