import type { Actor, ErasureReceipt, LetheStore } from "@lethe/core"
import { createLethe, keyringFromSecret, verifyReceipt } from "@lethe/core"
import type { FinalErasureReceipt } from "@lethe/core/audit"
import { hashEvent, verifyStream } from "@lethe/core/audit"
import type { SealedValue } from "@lethe/core/spi"
import { digestOf, memberStream, readAllEvents } from "@lethe/core/spi"
import { memoryStore } from "@lethe/store-memory"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { dataKeyId, seal, unseal } from "../src/sealing/seal.js"

const day = 86_400_000
const keyring = keyringFromSecret("sealing test secret of at least 32 bytes")
const admin: Actor = { id: "staff:admin", roles: ["admin"] }

const clockAt = (start = "2026-02-01T08:00:00Z") => {
  let now = new Date(start).getTime()
  return {
    now: () => new Date(now),
    advance: (ms: number) => {
      now += ms
    },
  }
}

/** Everything the store holds about these members, as one string to search. */
const dump = async (store: LetheStore, memberIds: ReadonlyArray<string>) => {
  const parts: Array<unknown> = []
  for await (const event of readAllEvents(store.events)) parts.push(event)
  for (const id of memberIds) {
    parts.push(await store.keys.listForMember(id))
    parts.push(await store.directory.get(id))
  }
  return JSON.stringify(parts)
}

const rejection = async (promise: Promise<unknown>) => {
  try {
    await promise
  } catch (error) {
    return error as { _tag: string; [k: string]: unknown }
  }
  throw new Error("expected a rejection")
}

/** A personal string no other part of the test can produce by chance. */
const personal = fc
  .tuple(fc.string({ minLength: 3, maxLength: 12, unit: "grapheme" }), fc.uuid())
  .map(([text, id]) => `${text.replace(/\s/g, "x")}#${id.slice(0, 8)}`)

const place = { streamId: "member-1", version: 3, path: "fields.name" }

describe("sealing a value (AES-256-GCM, bound to its place)", () => {
  const key = new Uint8Array(32).fill(7)

  it("R29: unseal(seal(x)) = x for any text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (text) => {
        expect(unseal(key, seal(key, "k", "identity", text, place), place)).toBe(text)
      }),
    )
  })

  it("R35: any flipped byte of a sealed value is detected, never silent garbage", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, unit: "grapheme" }),
        fc.constantFrom("ciphertext", "iv"),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (text, field, at, flip) => {
          const sealed = seal(key, "k", "identity", text, place)
          const bytes = Buffer.from(sealed[field], "base64")
          const i = at % bytes.length
          bytes[i] = (bytes[i] ?? 0) ^ flip
          const tampered = { ...sealed, [field]: bytes.toString("base64") }
          const consistent = { ...tampered, digest: digestOf(tampered.ciphertext) }
          expect(() => unseal(key, tampered, place)).toThrow()
          expect(() => unseal(key, consistent, place)).toThrow()
        },
      ),
    )
  })

  it("R35: a sealed value moved to another event or field does not open", () => {
    const sealed = seal(key, "k", "contact", "anna@example.org", place)
    expect(() => unseal(key, sealed, { ...place, version: 4 })).toThrow()
    expect(() => unseal(key, sealed, { ...place, path: "fields.email" })).toThrow()
    expect(() => unseal(key, sealed, { ...place, streamId: "member-2" })).toThrow()
    expect(() => unseal(new Uint8Array(32).fill(8), sealed, place)).toThrow()
  })
})

describe("crypto-shredding through the facade (memory store)", () => {
  const setup = async (store: LetheStore = memoryStore()) => {
    const clock = clockAt()
    const lethe = await createLethe({ store, keyring, clock: clock.now })
    return { lethe, store, clock }
  }

  it("R29: personal values are stored only sealed; the directory holds them only while active", async () => {
    const { lethe, store } = await setup()
    const { memberId } = await lethe.register({
      tenantId: "shop",
      personal: { name: "Zoë Quill", email: "zoe.quill@example.org", phone: "+46 70 555 01 02" },
      source: "form",
    })
    await lethe.recordPersonalData(memberId, {
      category: "address",
      fields: { street: "Storgatan 9" },
      source: "staff",
    })
    await lethe.recordActivity(memberId, { kind: "page-view", details: { url: "/secret-offer-page" } })
    const events: Array<unknown> = []
    for await (const e of readAllEvents(store.events)) events.push(e)
    const log = JSON.stringify(events)
    for (const secret of [
      "Zoë Quill",
      "zoe.quill@example.org",
      "+46 70 555 01 02",
      "Storgatan 9",
      "/secret-offer-page",
    ])
      expect(log).not.toContain(secret)
    expect(log).toContain('"_tag":"Sealed"')
    const row = await store.directory.get(memberId)
    expect(row?.emailKey).toMatch(/^[0-9a-f]{64}$/)
    expect(row?.emailKey).not.toContain("zoe")
    expect((await lethe.get(memberId)).data.address).toEqual({ street: "Storgatan 9" })
  })

  it("R29, R1, R5: for any personal strings, after forget + purge nothing personal is left anywhere in the store", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ name: personal, note: personal, detail: personal }), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.integer({ min: 0, max: 3 }),
        async (people, extraDays) => {
          const { lethe, store, clock } = await setup()
          const ids: Array<string> = []
          for (const [i, p] of people.entries()) {
            const { memberId } = await lethe.register({
              tenantId: "shop",
              personal: { name: p.name, email: `person${i}@example.org` },
              source: "form",
            })
            await lethe.recordPersonalData(memberId, {
              category: "notes",
              fields: { note: p.note },
              source: "staff",
            })
            await lethe.recordActivity(memberId, { kind: "visit", details: { where: p.detail } })
            await lethe.forget(memberId, { actor: admin })
            ids.push(memberId)
          }
          // Within the window the profile can still come back...
          expect((await lethe.restore(ids[0] as string, { actor: admin })).recorded).toEqual(["Restored"])
          expect((await lethe.get(ids[0] as string)).personal.name).toBe(people[0]?.name)
          await lethe.forget(ids[0] as string, { actor: admin })
          clock.advance((7 + extraDays) * day)
          const report = await lethe.runRetention()
          expect(report.executed.map((e) => e.memberId).sort()).toEqual([...ids].sort())
          expect(report.failed).toEqual([])
          const everything = await dump(store, ids)
          for (const p of people)
            for (const secret of [p.name, p.note, p.detail]) expect(everything).not.toContain(secret)
          expect(everything).not.toContain("@example.org")
          // ...and replay still works: the members are there, pseudonymous, their chains intact.
          for (const id of ids) {
            const view = await lethe.get(id)
            expect(view.status).toBe("purged")
            expect(view.personal).toEqual({})
            const events = await store.events.readStream(memberStream(id))
            expect(verifyStream(memberStream(id), events).ok).toBe(true)
          }
          const again = await lethe.runRetention()
          expect(again.planned).toEqual([])
          await lethe.close()
        },
      ),
      { numRuns: 15 },
    )
  })

  it("R24, R19: anonymize erases every category but invoices at once; invoices go when their retention ends", async () => {
    const { lethe, store, clock } = await setup()
    const { memberId } = await lethe.register({
      tenantId: "gym",
      personal: { name: "Marta Wiśniewska", email: "marta@example.pl" },
      source: "staff",
    })
    await lethe.recordPersonalData(memberId, {
      category: "invoice",
      fields: { name: "Marta Wiśniewska", address: "ul. Prosta 5, Kraków" },
      source: "staff",
    })
    await lethe.recordPersonalData(memberId, {
      category: "photo",
      fields: { ref: "photos/marta-2026.jpg" },
      source: "staff",
    })
    await lethe.recordActivity(memberId, {
      kind: "class",
      clubId: "krk",
      details: { class: "Pilates with Ewa" },
    })
    const done = await lethe.anonymize(memberId, { actor: admin, confirmEmail: "marta@example.pl" })
    expect(done.erasure?.categories).toEqual(["activity", "contact", "identity", "photo"])
    expect(done.erasure?.keyIdsDestroyed).toHaveLength(4)
    expect(done.erasure?.sealedValuesRemoved).toBe(4)
    const during = await dump(store, [memberId])
    for (const gone of ["marta@example.pl", "photos/marta-2026.jpg", "Pilates with Ewa"])
      expect(during).not.toContain(gone)
    const view = await lethe.get(memberId)
    expect(view.displayName).toBe("Anonymized member")
    expect(view.data.invoice).toEqual({ name: "Marta Wiśniewska", address: "ul. Prosta 5, Kraków" })
    expect(view.counts.class).toBe(1)

    clock.advance(4 * 365 * day)
    expect((await lethe.runRetention()).planned).toEqual([])
    clock.advance(367 * day) // five calendar years (with 29 February 2028) and a day
    const report = await lethe.runRetention()
    expect(report.executed).toMatchObject([{ memberId, rule: "end-invoice-retention" }])
    expect(report.executed[0]?.erasure?.keyIdsDestroyed).toEqual([dataKeyId(memberId, "invoice")])
    expect(await dump(store, [memberId])).not.toContain("Prosta")
    expect((await lethe.get(memberId)).data).toEqual({})
    expect((await lethe.runRetention()).planned).toEqual([])
  })

  it("R3: a message is proven after purge: sender, time, purpose, basis and when consent was given", async () => {
    const { lethe, clock } = await setup()
    const { memberId } = await lethe.register({
      tenantId: "shop",
      personal: { name: "Jan", email: "jan@example.org" },
      source: "form",
    })
    const consentAt = clock.now()
    await lethe.giveConsent(memberId, { purpose: "newsletter", method: "double-opt-in", source: "form" })
    clock.advance(day)
    const { messageId } = await lethe.sendMessage(memberId, {
      purpose: "newsletter",
      channel: "email",
      sentBy: "campaign:may",
    })
    await lethe.forget(memberId, { actor: admin })
    clock.advance(365 * day)
    await lethe.runRetention()
    const proof = await lethe.proveMessage(messageId)
    expect(proof).toMatchObject({
      messageId,
      memberId,
      purpose: "newsletter",
      channel: "email",
      sentBy: "campaign:may",
      test: false,
      memberStatus: "purged",
      lawfulBasis: { basis: "consent", method: "double-opt-in", wordingVersion: "v1" },
    })
    expect(proof.lawfulBasis.consentGivenAt?.getTime()).toBe(consentAt.getTime())
    expect(JSON.stringify(proof)).not.toContain("jan@example.org")
    expect((await rejection(lethe.proveMessage("no-such-message")))._tag).toBe("MessageNotFound")
  })

  it("R3: a message id is used once: a second send under it, to the same member or another, is DuplicateReference and writes nothing; the proof stays the first message's", async () => {
    const { lethe, store } = await setup()
    const member = async (name: string, email: string) => {
      const { memberId } = await lethe.register({
        tenantId: "shop",
        personal: { name, email },
        source: "form",
      })
      await lethe.giveConsent(memberId, { purpose: "newsletter", method: "double-opt-in", source: "form" })
      return memberId
    }
    const jan = await member("Jan", "jan@example.org")
    const eva = await member("Eva", "eva@example.org")
    const sent = await lethe.sendMessage(jan, {
      messageId: "campaign-7:jan",
      purpose: "newsletter",
      channel: "email",
      sentBy: "campaign:may",
    })
    expect(sent.messageId).toBe("campaign-7:jan")
    const events = async () => {
      let n = 0
      for await (const _ of readAllEvents(store.events)) n += 1
      return n
    }
    const before = await events()
    for (const [to, channel] of [
      [jan, "email"],
      [jan, "sms"],
      [eva, "email"],
    ] as const) {
      const refused = await rejection(
        lethe.sendMessage(to, {
          messageId: "campaign-7:jan",
          purpose: "newsletter",
          channel,
          sentBy: "campaign:june",
        }),
      )
      expect(refused).toMatchObject({
        _tag: "DuplicateReference",
        memberId: jan,
        kind: "message",
        id: "campaign-7:jan",
      })
    }
    expect(await events()).toBe(before)
    expect(await lethe.proveMessage("campaign-7:jan")).toMatchObject({
      memberId: jan,
      channel: "email",
      sentBy: "campaign:may",
      event: { version: sent.version },
    })
  })

  it("R10: the erasure receipt verifies, and any changed field fails verification", async () => {
    const { lethe, clock } = await setup()
    const { memberId } = await lethe.register({
      tenantId: "shop",
      personal: { name: "Ola", email: "ola@example.org" },
      source: "form",
    })
    expect((await rejection(lethe.erasureReceipt(memberId)))._tag).toBe("NotErased")
    await lethe.forget(memberId, { actor: admin })
    // Forgotten: the "erasure scheduled" receipt (R10, issue 19), no longer NotErased.
    expect((await lethe.erasureReceipt(memberId)).status).toBe("scheduled")
    clock.advance(8 * day)
    await lethe.runRetention()
    const receipt = await lethe.erasureReceipt(memberId)
    if (receipt.format !== "lethe-erasure-receipt/2" || receipt.status === "scheduled")
      throw new Error(`not a final receipt: ${receipt.status}`)
    const publicKey = await keyring.receiptPublicKey()
    expect(verifyReceipt(receipt, publicKey)).toBe(true)
    expect(receipt).toMatchObject({
      memberId,
      status: "purged",
      erasedBy: "lethe:retention",
      sealedValuesRemoved: 2,
    })
    expect(receipt.keys.map((k) => k.category).sort()).toEqual(["contact", "identity"])
    const other = await keyringFromSecret("another secret, also thirty-two bytes long").receiptPublicKey()
    expect(verifyReceipt(receipt, other)).toBe(false)
    const tamper = (r: FinalErasureReceipt): Array<ErasureReceipt> => [
      { ...r, memberId: `${r.memberId}x` },
      { ...r, erasedAt: new Date(0).toISOString() },
      { ...r, erasedBy: "someone-else" },
      { ...r, sealedValuesRemoved: r.sealedValuesRemoved + 1 },
      { ...r, keys: r.keys.slice(1) },
      { ...r, keptCategories: ["invoice"] },
      { ...r, streamHead: { ...r.streamHead, version: r.streamHead.version + 1 } },
      { ...r, status: "anonymized" },
      { ...r, keptUntil: new Date(0).toISOString() },
      { ...r, keyFingerprint: "0".repeat(64) },
      { ...r, signature: Buffer.from("forged").toString("base64") },
    ]
    for (const changed of tamper(receipt)) expect(verifyReceipt(changed, publicKey)).toBe(false)
  })

  it("R35: a flipped byte in a stored event is detected: the chain breaks, a sealed value refuses to open", async () => {
    const store = memoryStore()
    const { lethe } = await setup(store)
    const { memberId } = await lethe.register({ tenantId: "shop", personal: { name: "Eve" }, source: "form" })
    const stream = memberStream(memberId)
    const events = await store.events.readStream(stream)
    const recorded = events[1]
    if (recorded === undefined) throw new Error("no PersonalDataRecorded")
    const sealed = (recorded.data as { fields: { name: SealedValue } }).fields.name
    const bytes = Buffer.from(sealed.ciphertext, "base64")
    bytes[0] = (bytes[0] ?? 0) ^ 1
    const tampered = [
      events[0],
      {
        ...recorded,
        data: {
          ...(recorded.data as object),
          fields: { name: { ...sealed, ciphertext: bytes.toString("base64") } },
        },
      },
    ]
    expect(verifyStream(stream, tampered as typeof events)).toMatchObject({
      ok: false,
      version: 2,
      problem: "digest-mismatch",
    })

    // A store that hands back a tampered value: get refuses rather than showing garbage.
    const lying: LetheStore = {
      ...store,
      events: { ...store.events, readStream: async () => tampered as typeof events },
    }
    const reader = await createLethe({ store: lying, keyring })
    expect(await rejection(reader.get(memberId))).toMatchObject({ _tag: "IntegrityError", version: 2 })
  })

  it("R35: a stored event whose type names a property of every object (constructor, __proto__, toString) is an IntegrityError, not a crash", async () => {
    for (const type of ["constructor", "__proto__", "toString"]) {
      const store = memoryStore()
      const { lethe } = await setup(store)
      const { memberId, version } = await lethe.register({
        tenantId: "shop",
        personal: { name: "Eve" },
        source: "form",
      })
      const stream = memberStream(memberId)
      const last = (await store.events.readStream(stream)).at(-1)
      if (last === undefined) throw new Error("no event")
      const event = {
        streamId: stream,
        version: version + 1,
        type,
        data: { at: 1 },
        metadata: last.metadata,
        recordedAt: 1,
      }
      // Appended through the SPI as a writer with database access could, correctly chained.
      await store.events.append({
        streamId: stream,
        expectedVersion: version,
        events: [{ ...event, prevHash: last.hash, hash: hashEvent(last.hash, event) }],
      })
      const reader = await createLethe({ store, keyring })
      expect(await rejection(reader.get(memberId))).toMatchObject({
        _tag: "IntegrityError",
        version: version + 1,
      })
    }
  })

  it("R29: no key resurrection: a key destroyed by one instance is never reused by another", async () => {
    const store = memoryStore()
    const clock = clockAt()
    const a = await createLethe({ store, keyring, clock: clock.now })
    const b = await createLethe({ store, keyring, clock: clock.now })
    const { memberId } = await a.register({ tenantId: "gym", personal: { name: "Kim" }, source: "staff" })
    await b.recordPersonalData(memberId, {
      category: "photo",
      fields: { ref: "photos/kim-1.jpg" },
      source: "staff",
    })
    const erased = await a.erasePersonalData(memberId, {
      categories: ["photo"],
      reason: "member asked",
      actor: admin,
    })
    expect(erased.recorded).toEqual(["PersonalDataErased"])
    expect(
      await rejection(
        b.recordPersonalData(memberId, {
          category: "photo",
          fields: { ref: "photos/kim-2.jpg" },
          source: "staff",
        }),
      ),
    ).toMatchObject({
      _tag: "KeyDestroyed",
      keyId: dataKeyId(memberId, "photo"),
    })
    expect(await store.keys.get(dataKeyId(memberId, "photo"))).toMatchObject({ _tag: "Destroyed" })
    expect((await b.get(memberId)).data.photo).toBeUndefined()
  })

  it("R29: erasure in one tenant never touches another tenant's events, keys or directory rows", async () => {
    const { lethe, store, clock } = await setup()
    const a = await lethe.register({
      tenantId: "tenant-a",
      personal: { name: "Ana", email: "same@example.org" },
      source: "form",
    })
    const b = await lethe.register({
      tenantId: "tenant-b",
      personal: { name: "Bo", email: "same@example.org" },
      source: "form",
    })
    const rowA = await store.directory.get(a.memberId)
    const rowB = await store.directory.get(b.memberId)
    expect(rowA?.emailKey).not.toBe(rowB?.emailKey)
    const before = JSON.stringify({
      events: await store.events.readStream(memberStream(b.memberId)),
      keys: await store.keys.listForMember(b.memberId),
      row: await store.directory.get(b.memberId),
    })
    await lethe.forget(a.memberId, { actor: admin })
    clock.advance(8 * day)
    await lethe.runRetention()
    const after = JSON.stringify({
      events: await store.events.readStream(memberStream(b.memberId)),
      keys: await store.keys.listForMember(b.memberId),
      row: await store.directory.get(b.memberId),
    })
    expect(after).toBe(before)
    expect((await lethe.findByEmail("tenant-b", "same@example.org"))?.memberId).toBe(b.memberId)
  })

  it("R29: a partial erasure is an error, never a success", async () => {
    const inner = memoryStore()
    const forgetful: LetheStore = { ...inner, keys: { ...inner.keys, destroy: async () => undefined } }
    const { lethe, clock } = await setup(forgetful)
    const { memberId } = await lethe.register({
      tenantId: "shop",
      personal: { name: "Nils" },
      source: "form",
    })
    await lethe.forget(memberId, { actor: admin })
    clock.advance(8 * day)
    const report = await lethe.runRetention()
    expect(report.executed).toEqual([])
    expect(report.failed).toMatchObject([
      { memberId, rule: "purge-forgotten", error: { _tag: "ErasureIncomplete" } },
    ])
    expect((await rejection(lethe.purge(memberId, { actor: admin })))._tag).toBe("ErasureIncomplete")
  })
})
