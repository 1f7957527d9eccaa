/**
 * The Lethe application service: loads a member's stream, asks the pure core
 * to decide, and appends the result with its directory row in one
 * transaction, retrying on optimistic-concurrency conflicts.
 *
 * @module
 */
import { Clock, Context, Duration, Effect, Either, Layer, ParseResult, Schema } from "effect"
import { hashEvent } from "../audit/hash-chain.js"
import type { AnonymizationWarning, DomainError, LetheError } from "../errors.js"
import {
  ErasureIncomplete,
  InvalidCommand,
  MemberNotFound,
  MessageNotFound,
  NotErased,
  RetentionBlocked,
  StoreError,
} from "../errors.js"
import { defaultExportLinkValidity, openExportLink, signExportLink } from "../export/link.js"
import { ExportFormat, memberExport } from "../export/member-export.js"
import type { ExportResult } from "../export/render.js"
import { renderExport } from "../export/render.js"
import type { ContactRow, RejectedRow } from "../import/contacts-csv.js"
import { importedConsent, parseContactsCsv } from "../import/contacts-csv.js"
import type { MemberCommand } from "../member/commands.js"
import { MemberCommand as MemberCommandSchema } from "../member/commands.js"
import type { Actor, DecideContext } from "../member/config.js"
import { defaultDomainConfig, systemRole } from "../member/config.js"
import { decide } from "../member/decide.js"
import type { MemberEvent, PersonalCategory, Source } from "../member/events.js"
import { PersonalCategory as PersonalCategorySchema, retainedOnAnonymization } from "../member/events.js"
import { isRestorable, storedEmail } from "../member/guards.js"
import type { MemberState } from "../member/state.js"
import { absurd, evolve, fold, initialState } from "../member/state.js"
import type { MemberView } from "../member/view.js"
import { memberView } from "../member/view.js"
import type { RetentionAction } from "../retention/plan.js"
import { builtInRetentionRules, retentionSteps } from "../retention/plan.js"
import { RetentionPolicy } from "../retention/policies.js"
import type { RetentionOptions, RetentionReport } from "../retention/run.js"
import { runRetentionSteps } from "../retention/run.js"
import { emailIndex } from "../sealing/blind-index.js"
import type { Keyring } from "../sealing/keyring.js"
import { sealingCodec } from "../sealing/sealing-codec.js"
import type { MemberRow, MessageEntry } from "../spi/directory.js"
import type { AppendRequest, AppendResult, EventMetadata, NewEvent, StoredEvent } from "../spi/event-store.js"
import type { KeyEntry } from "../spi/key-store.js"
import { redactSealedValues } from "../spi/sealed-value.js"
import type { LetheStore } from "../spi/store.js"
import type { EventCodec, RecordedEvent } from "./codec.js"
import type { DataMap } from "./data-map.js"
import { dataMap } from "./data-map.js"
import { memberRow } from "./directory-row.js"
import { newUuid } from "./ids.js"
import type {
  Acting,
  ActivityInput,
  AmountInput,
  AnonymizeInput,
  AnonymizeResult,
  BulkOutcome,
  CloseDebtCaseInput,
  CommandResult,
  ContractInput,
  DebtCaseInput,
  DueRequest,
  ErasePersonalDataInput,
  ErasureReport,
  ExportInput,
  ExportLink,
  ExportLinkInput,
  ForgetInput,
  ForgetManyInput,
  GiveConsentInput,
  ImportCsvInput,
  ImportOutcome,
  ImportReport,
  InstalmentInput,
  InstalmentRefInput,
  LetheConfig,
  MemberSummary,
  MessageProof,
  MessageResult,
  Privileged,
  PurchaseInput,
  PurchaseRefInput,
  RecordPersonalDataInput,
  RegisterInput,
  RequestInput,
  RequestResult,
  RestrictInput,
  SendMessageInput,
  SignContractInput,
  SourceInput,
  SubscribeInput,
  SubscribeResult,
  UnsubscribeInput,
  WithdrawConsentInput,
} from "./inputs.js"
import { MemberCache } from "./member-cache.js"
import type { ErasureReceipt } from "./receipt.js"
import { receiptPayload } from "./receipt.js"
import { fromEnvelope, toEnvelope } from "./snapshots.js"
import { fromStore } from "./store-call.js"

/** How to build Lethe. */
export interface LetheOptions {
  /** The storage adapter: `memoryStore()`, `sqliteStore(...)`, `postgresStore(...)` or your own. */
  readonly store: LetheStore
  /** Where keys come from: `keyringFromSecret(secret)` or your own (a KMS). */
  readonly keyring: Keyring
  /** Default: real time (Effect's `Clock`, so `TestClock` works in tests). */
  readonly clock?: () => Date
  /** Overrides of the defaults (7-day restore window, 30-day deadlines, default catalogue...). */
  readonly config?: Partial<LetheConfig>
  /** Attempts after an optimistic-concurrency conflict before it is reported. Default 5. */
  readonly retries?: number
  /**
   * Mints member, message, request and correlation ids. Default: UUIDv7. Give
   * a deterministic one in tests that compare two stores run side by side.
   */
  readonly newId?: () => string
  /**
   * How many members' states this instance keeps between operations, most
   * recently used first (default 5,000; 0 keeps none). A kept state is never
   * trusted as it is: each operation reads the events appended since (by any
   * process) and folds them in, so deciding costs the same however long the
   * member's history is. Kept states hold opened personal values in memory;
   * erasure events remove them from the state as from the log.
   */
  readonly memberCache?: number
  /**
   * Every how many events a member's snapshot is taken, when the store keeps
   * snapshots (`LetheStore.snapshots`; default 100; 0 takes none and reads
   * none). The first operation on a member after start-up then reads its
   * snapshot and the events after it, not its whole history. A snapshot's
   * personal values are sealed under the member's data keys like the
   * events'; an erasure removes the member's snapshot.
   */
  readonly snapshotEvery?: number
}

/** Lethe's operations as Effects. The Promise facade (`createLethe`) offers the same. */
export interface LetheService {
  readonly config: LetheConfig
  register(input: RegisterInput): Effect.Effect<CommandResult, LetheError>
  recordPersonalData(
    memberId: string,
    input: RecordPersonalDataInput,
  ): Effect.Effect<CommandResult, LetheError>
  erasePersonalData(memberId: string, input: ErasePersonalDataInput): Effect.Effect<CommandResult, LetheError>
  giveConsent(memberId: string, input: GiveConsentInput): Effect.Effect<CommandResult, LetheError>
  withdrawConsent(memberId: string, input: WithdrawConsentInput): Effect.Effect<CommandResult, LetheError>
  unsubscribe(memberId: string, input: UnsubscribeInput): Effect.Effect<CommandResult, LetheError>
  /** New member, consent on an existing one, or restore of a member forgotten within the window (R4, R5). */
  subscribe(input: SubscribeInput): Effect.Effect<SubscribeResult, LetheError>
  disableProfiling(memberId: string, input?: Acting): Effect.Effect<CommandResult, LetheError>
  enableProfiling(memberId: string, input?: Acting): Effect.Effect<CommandResult, LetheError>
  signContract(memberId: string, input: SignContractInput): Effect.Effect<CommandResult, LetheError>
  endContract(memberId: string, input: ContractInput): Effect.Effect<CommandResult, LetheError>
  creditWallet(memberId: string, input: AmountInput): Effect.Effect<CommandResult, LetheError>
  debitWallet(memberId: string, input: AmountInput): Effect.Effect<CommandResult, LetheError>
  openDebtCase(memberId: string, input: DebtCaseInput): Effect.Effect<CommandResult, LetheError>
  closeDebtCase(memberId: string, input: CloseDebtCaseInput): Effect.Effect<CommandResult, LetheError>
  recordPurchase(memberId: string, input: PurchaseInput): Effect.Effect<CommandResult, LetheError>
  markPurchasePaid(memberId: string, input: PurchaseRefInput): Effect.Effect<CommandResult, LetheError>
  recordMissedInstalment(memberId: string, input: InstalmentInput): Effect.Effect<CommandResult, LetheError>
  markInstalmentPaid(memberId: string, input: InstalmentRefInput): Effect.Effect<CommandResult, LetheError>
  recordActivity(memberId: string, input: ActivityInput): Effect.Effect<CommandResult, LetheError>
  sendMessage(memberId: string, input: SendMessageInput): Effect.Effect<MessageResult, LetheError>
  restrictProcessing(memberId: string, input: RestrictInput): Effect.Effect<CommandResult, LetheError>
  liftRestriction(memberId: string, input?: Acting): Effect.Effect<CommandResult, LetheError>
  requestErasure(memberId: string, input: RequestInput): Effect.Effect<RequestResult, LetheError>
  requestAccess(memberId: string, input: RequestInput): Effect.Effect<RequestResult, LetheError>
  forget(memberId: string, input: ForgetInput): Effect.Effect<CommandResult, LetheError>
  /** Forgets each member; one refusal does not stop the others (R7). Never fails as a whole. */
  forgetMany(
    memberIds: ReadonlyArray<string>,
    input: ForgetManyInput,
  ): Effect.Effect<ReadonlyArray<BulkOutcome<CommandResult>>>
  restore(memberId: string, input: Privileged): Effect.Effect<CommandResult, LetheError>
  anonymize(memberId: string, input: AnonymizeInput): Effect.Effect<AnonymizeResult, LetheError>
  /** The member as staff see it; personal data only while active (R1, R19, R24). */
  get(memberId: string): Effect.Effect<MemberView, LetheError>
  /** The active member with this e-mail in the tenant, if any (R1: never a forgotten one). */
  findByEmail(tenantId: string, email: string): Effect.Effect<MemberSummary | null, LetheError>
  /** Active members whose name or e-mail contains `text`, case-insensitively (R1). */
  search(
    tenantId: string,
    text: string,
    options?: { readonly limit?: number; readonly after?: string },
  ): Effect.Effect<ReadonlyArray<MemberSummary>, LetheError>
  /** Purges a forgotten member after the window: keys destroyed, sealed values redacted, checked. */
  purge(
    memberId: string,
    input: Privileged,
  ): Effect.Effect<CommandResult & { readonly erasure: ErasureReport | null }, LetheError>
  /** Who sent a message, when, for which purpose, under which basis; also after erasure (R3). */
  proveMessage(messageId: string): Effect.Effect<MessageProof, LetheError>
  /** A signed receipt of a purged or anonymized member's erasure (R10); check it with `verifyReceipt`. */
  erasureReceipt(memberId: string): Effect.Effect<ErasureReceipt, LetheError>
  /**
   * Runs the built-in retention rules (purge forgotten members whose window
   * ended, erase invoice data whose retention ended: R24, R29), then the
   * given policies (R12, R15, R20), planned from directory queries and
   * executed in batches through the domain's guards (R23, R25). Members a
   * guard refuses are reported with their reasons and left untouched.
   */
  runRetention(options?: RetentionOptions): Effect.Effect<RetentionReport, LetheError>
  /**
   * Everything held about a member, as a document in `format` (R13, R21, R30),
   * including the systems staff must handle by hand (R14). Records
   * `DataExported` (permission `member:export`); a `requestId` fulfils that
   * access request (R11).
   */
  exportMember(memberId: string, input: ExportInput): Effect.Effect<ExportResult, LetheError>
  /**
   * A signed download link for a member's export, valid 24 hours by default
   * (R13). Checks now what the export will check (permission, member, request);
   * records nothing until the link is redeemed.
   */
  createExportLink(memberId: string, input: ExportLinkInput): Effect.Effect<ExportLink, LetheError>
  /**
   * The export a link grants, recorded as `DataExported` on the authority of
   * whoever created the link. Refused with `ExportLinkInvalid` once expired,
   * or if the token was changed.
   */
  redeemExportLink(token: string): Effect.Effect<ExportResult, LetheError>
  /**
   * Imports contacts from CSV (R6, R32): new members with their consent,
   * consents on existing members, and (with `restoreForgotten`) forgotten
   * members restored within the window. Each row is applied whole or not at
   * all; bad rows are reported with their row number and reason. Fails with
   * `InvalidCommand`, applying nothing, when the file cannot be read or its
   * header names unknown columns.
   */
  importCsv(csvText: string, input: ImportCsvInput): Effect.Effect<ImportReport, LetheError>
  /** Open erasure requests past their due date (R11). */
  overdueErasureRequests(): Effect.Effect<ReadonlyArray<DueRequest>, LetheError>
  /** Every open request with its due date (R11). */
  openRequests(): Effect.Effect<ReadonlyArray<DueRequest>, LetheError>
  /**
   * The data map for the controller's records of processing (R18, R34, art.
   * 30): every category of personal data Lethe holds (what it contains,
   * whether it is a special category, where it is stored), the purposes of
   * the consent catalogue with their lawful bases, the retention rules and
   * deadlines with the given `policies`, the storage, and the other systems
   * handled by hand (R14). Computed from the configuration alone: it reads
   * nothing from the store and records nothing. Plain, JSON-serializable data.
   * Fails with `InvalidCommand` when a policy is malformed, exactly as
   * `runRetention` would.
   *
   * @example
   * ```ts
   * const map = await lethe.dataMap({ policies: [anonymizeAfterContractEnd({ months: 24 })] })
   * await writeFile("data-map.json", JSON.stringify(map, null, 2))
   * ```
   */
  dataMap(options?: {
    readonly policies?: ReadonlyArray<RetentionPolicy>
  }): Effect.Effect<DataMap, LetheError>
}

/**
 * The Lethe service tag. Build it with `Lethe.layer(options)`.
 *
 * @example
 * ```ts
 * const program = Effect.gen(function* () {
 *   const lethe = yield* Lethe
 *   const { memberId } = yield* lethe.register({ tenantId: "club", personal: { name: "Ada" }, source: "staff" })
 *   return yield* lethe.get(memberId)
 * })
 * Effect.runPromise(program.pipe(Effect.provide(Lethe.layer({ store: memoryStore(), keyring }))))
 * ```
 */
export class Lethe extends Context.Tag("@lethe/core/Lethe")<Lethe, LetheService>() {
  /** Builds the service; the store is closed when the layer's scope ends. */
  static layer(options: LetheOptions): Layer.Layer<Lethe> {
    return Layer.scoped(
      Lethe,
      Effect.acquireRelease(
        Effect.sync(() => makeLethe(options)),
        () => Effect.promise(() => options.store.close()).pipe(Effect.ignore),
      ),
    )
  }
}

/** The default configuration of DESIGN §2b. */
export const defaultConfig: LetheConfig = {
  ...defaultDomainConfig,
  otherSystems: [],
  invoiceRetentionYears: 5,
}

/** The stream of a member. */
export const memberStream = (memberId: string): string => `member-${memberId}`

const anonymous: Actor = { id: "anonymous", roles: [] }

/** The actor Lethe's own retention jobs act as. */
export const retentionActor: Actor = { id: "lethe:retention", roles: [systemRole] }

const iso = (ms: number) => new Date(ms).toISOString()

/** How many values of a stored event's data are in erased form. */
const countErased = (data: unknown): number => {
  if (data === null || typeof data !== "object") return 0
  if ("_tag" in data && data._tag === "Erased") return 1
  return Object.values(data).reduce((n: number, inner) => n + countErased(inner), 0)
}

const toSource = (source: SourceInput): Source => (typeof source === "string" ? { kind: source } : source)

const sourceLabel = (source: Source | undefined): string =>
  source === undefined ? "api" : source.tag === undefined ? source.kind : `${source.kind}:${source.tag}`

const decodeCommand = Schema.decodeUnknownEither(MemberCommandSchema)

/** Validates a raw command against its Schema: `InvalidCommand` with the explanation, never a throw. */
const validate = (raw: () => unknown): Effect.Effect<MemberCommand, InvalidCommand> => {
  let command: unknown
  try {
    command = raw()
  } catch (e) {
    return Effect.fail(
      new InvalidCommand({ command: "input", issues: e instanceof Error ? e.message : String(e) }),
    )
  }
  const decoded = decodeCommand(command)
  if (Either.isRight(decoded)) return Effect.succeed(decoded.right)
  return Effect.fail(
    new InvalidCommand({
      command:
        typeof command === "object" && command !== null && "_tag" in command
          ? String(command._tag)
          : "command",
      issues: ParseResult.TreeFormatter.formatErrorSync(decoded.left),
    }),
  )
}

const millis = (date: Date | undefined): number | undefined =>
  date === undefined ? undefined : date.getTime()

/** A member as of a read: the state its events fold to, its version and the hash of its last event. */
interface Current {
  readonly state: MemberState
  readonly version: number
  readonly head: string
  /** The version of the member's latest snapshot this instance knows of; 0 for none. */
  readonly snapshotAt: number
}

/** A loaded member, with its decoded history when the operation asked for it. */
interface Loaded extends Current {
  readonly history?: ReadonlyArray<RecordedEvent>
}

/** An append ready to go: the request (events encoded, sealed and chained, the directory row) and where it leaves the member. */
interface PreparedAppend {
  readonly memberId: string
  readonly loaded: Loaded
  readonly state: MemberState
  readonly events: ReadonlyArray<MemberEvent>
  readonly request: AppendRequest
  readonly head: string
  readonly codec: EventCodec
}

/** Who holds an e-mail in a tenant: an active member, a forgotten one still restorable, or nobody (R1, R5). */
type EmailOwner =
  | { readonly _tag: "Active" | "Restorable"; readonly memberId: string }
  | { readonly _tag: "Nobody" }

/** What one execution appended, and erased. */
interface Executed {
  readonly memberId: string
  readonly state: MemberState
  readonly version: number
  readonly events: ReadonlyArray<MemberEvent>
  /** The member's history up to and including what this execution appended, when asked for. */
  readonly history?: ReadonlyArray<RecordedEvent>
  readonly warnings: ReadonlyArray<AnonymizationWarning>
  readonly erasure: ErasureReport | null
}

const entryKeyId = (entry: KeyEntry): string =>
  entry._tag === "Live" ? entry.key.keyId : entry.tombstone.keyId
const entryCategory = (entry: KeyEntry): PersonalCategory =>
  (entry._tag === "Live" ? entry.key.category : entry.tombstone.category) as PersonalCategory

/** The operation's caller: who, from where, under which correlation id. */
interface Call {
  readonly actor: Actor
  readonly source?: Source
  readonly correlationId?: string
}

const callOf = (input: Acting | undefined, source?: SourceInput): Call => ({
  actor: input?.actor ?? anonymous,
  ...(source === undefined ? {} : { source: toSource(source) }),
  ...(input?.correlationId === undefined ? {} : { correlationId: input.correlationId }),
})

const result = (executed: Executed): CommandResult => ({
  memberId: executed.memberId,
  version: executed.version,
  recorded: executed.events.map((e) => e._tag),
})

const summary = (row: MemberRow): MemberSummary => ({
  memberId: row.memberId,
  tenantId: row.tenantId,
  status: row.status,
  name: row.name,
  email: row.email,
  restricted: row.restricted,
})

const pageSize = 500

/** Rows of an import appended in one transaction, at most (see `EventStore.appendBatch`). */
const importBatchRows = 200

const allCategories: ReadonlyArray<PersonalCategory> = PersonalCategorySchema.literals

/** Builds the service over a store (used by `Lethe.layer`). */
export const makeLethe = (options: LetheOptions): LetheService => {
  const { store, keyring } = options
  const config: LetheConfig = { ...defaultConfig, ...options.config }
  const retries = options.retries ?? 5
  const newId = options.newId ?? newUuid
  const clock = options.clock
  const now: Effect.Effect<number> =
    clock === undefined ? Clock.currentTimeMillis : Effect.sync(() => clock().getTime())

  const sealer = sealingCodec(store.keys, keyring)

  const kept = new MemberCache<Current>(options.memberCache ?? 5_000)

  const snapshotEvery = options.snapshotEvery ?? 100
  const snapshotKeyOf = keyring.snapshotKey?.bind(keyring)
  // Snapshots are taken and read only when the store keeps them and the keyring can authenticate them.
  const snapshots = snapshotEvery > 0 && snapshotKeyOf !== undefined ? store.snapshots : undefined
  let snapshotKeyHeld: Uint8Array | undefined
  const snapshotKey: Effect.Effect<Uint8Array, LetheError> = Effect.suspend(() =>
    snapshotKeyHeld !== undefined
      ? Effect.succeed(snapshotKeyHeld)
      : fromStore("snapshotKey", () =>
          snapshotKeyOf === undefined
            ? Promise.reject(new Error("the keyring has no snapshot key"))
            : snapshotKeyOf(),
        ).pipe(
          Effect.tap((key) =>
            Effect.sync(() => {
              snapshotKeyHeld = key
            }),
          ),
        ),
  )

  /**
   * The member's stored snapshot, opened, when there is one this fold can use
   * (its MAC verifies, it has a state's shape, its personal values open);
   * whether the log still holds the event it was folded to is the caller's check.
   */
  const readSnapshot = (
    memberId: string,
    codec: EventCodec,
  ): Effect.Effect<Current | undefined, LetheError> =>
    snapshots === undefined
      ? Effect.succeed(undefined)
      : Effect.gen(function* () {
          const stored = yield* fromStore("snapshots.read", () => snapshots.read(memberId))
          if (stored === undefined) return undefined
          const binding = { memberId, version: stored.version, head: stored.head }
          const envelope = fromEnvelope(yield* snapshotKey, binding, stored.state)
          if (envelope === undefined) return undefined
          const place = { streamId: memberStream(memberId), memberId, version: stored.version }
          const personal = yield* codec.openPersonal(envelope.state.personal, place)
          return {
            state: { ...envelope.state, personal },
            version: stored.version,
            head: stored.head,
            snapshotAt: stored.version,
          }
        }).pipe(
          // A snapshot that cannot be read is a cache miss: the stream is read whole.
          Effect.catchAll(() => Effect.succeed(undefined)),
          Effect.catchAllDefect(() => Effect.succeed(undefined)),
        )

  /**
   * `current`, after taking a snapshot of it when the last one is
   * `snapshotEvery` events behind. A snapshot is a cache: failing to take
   * one fails nothing.
   */
  const snapshotted = (memberId: string, current: Current, codec: EventCodec): Effect.Effect<Current> => {
    if (snapshots === undefined || current.version - current.snapshotAt < snapshotEvery)
      return Effect.succeed(current)
    const place = { streamId: memberStream(memberId), memberId, version: current.version }
    const binding = { memberId, version: current.version, head: current.head }
    return Effect.all([codec.sealPersonal(current.state.personal, place), snapshotKey, now]).pipe(
      Effect.flatMap(([sealed, key, takenAt]) =>
        sealed === undefined
          ? Effect.succeed(current)
          : fromStore("snapshots.write", () =>
              snapshots.write({
                ...binding,
                tenantId: current.state.tenantId,
                state: toEnvelope(key, binding, current.state, sealed),
                takenAt,
              }),
            ).pipe(Effect.as({ ...current, snapshotAt: current.version })),
      ),
      // Nothing that goes wrong here fails the command, which has already been appended.
      Effect.catchAll(() => Effect.succeed(current)),
      Effect.catchAllDefect(() => Effect.succeed(current)),
    )
  }

  const readEvents = (memberId: string, fromVersion: number) =>
    fromStore("readStream", () => store.events.readStream(memberStream(memberId), { fromVersion }))

  /**
   * A member's current state: the kept one with the events appended since
   * folded in, or the whole stream read and folded. With `history`, the
   * whole stream is read and every event returned decoded beside its stored form.
   */
  const load = (
    memberId: string,
    codec: EventCodec = sealer.session(),
    options: { readonly history?: boolean } = {},
  ): Effect.Effect<Loaded, LetheError> =>
    Effect.gen(function* () {
      let base = options.history === true ? undefined : kept.get(memberId)
      let stored: ReadonlyArray<StoredEvent> | undefined
      if (base === undefined && options.history !== true) {
        const snapshot = yield* readSnapshot(memberId, codec)
        if (snapshot !== undefined) {
          // From the snapshot's own event: the log must still hold it, with the hash folded to.
          const since = yield* readEvents(memberId, snapshot.version)
          if (since[0]?.version === snapshot.version && since[0].hash === snapshot.head) {
            base = snapshot
            stored = since.slice(1)
          }
        }
      }
      stored ??= yield* readEvents(memberId, (base?.version ?? 0) + 1)
      const history: Array<RecordedEvent> = []
      let state = base?.state ?? initialState
      for (const event of stored) {
        const decoded = yield* codec.decode(event)
        if (options.history === true) history.push({ event: decoded, stored: event })
        state = evolve(state, decoded)
      }
      const last = stored.at(-1)
      const folded: Current = {
        state,
        version: last?.version ?? base?.version ?? 0,
        head: last?.hash ?? base?.head ?? "",
        snapshotAt: base?.snapshotAt ?? 0,
      }
      const current = state.exists ? yield* snapshotted(memberId, folded, codec) : folded
      if (state.exists) kept.set(memberId, current)
      return options.history === true ? { ...current, history } : current
    })

  const loadExisting = (
    memberId: string,
    codec?: EventCodec,
    options?: { readonly history?: boolean },
  ): Effect.Effect<Loaded, LetheError> =>
    load(memberId, codec, options).pipe(
      Effect.filterOrFail(
        (loaded) => loaded.state.exists,
        () => new MemberNotFound({ memberId }),
      ),
    )

  /** Blind-index keys by tenant: the keyring derives the same key each time, so it is asked once. */
  const blindKeys = new Map<string, Uint8Array>()
  const blindIndexKey = (tenantId: string): Effect.Effect<Uint8Array, LetheError> => {
    const known = blindKeys.get(tenantId)
    if (known !== undefined) return Effect.succeed(known)
    return fromStore("blindIndexKey", () => keyring.blindIndexKey(tenantId)).pipe(
      Effect.tap((key) => Effect.sync(() => blindKeys.set(tenantId, key))),
    )
  }

  const emailKeyOf = (state: MemberState): Effect.Effect<string | null, LetheError> => {
    const email = storedEmail(state)
    if (email === undefined) return Effect.succeed(null)
    return blindIndexKey(state.tenantId).pipe(Effect.map((key) => emailIndex(key, email)))
  }

  const lookupKey = (tenantId: string, email: string): Effect.Effect<string, LetheError> =>
    blindIndexKey(tenantId).pipe(Effect.map((key) => emailIndex(key, email)))

  /** Decides each command on the state the previous one left; all or nothing. */
  const decideAll = (
    loaded: Loaded,
    commands: ReadonlyArray<MemberCommand>,
    ctx: DecideContext,
  ): Either.Either<
    { state: MemberState; events: Array<MemberEvent>; warnings: Array<AnonymizationWarning> },
    DomainError
  > => {
    let state = loaded.state
    const events: Array<MemberEvent> = []
    const warnings: Array<AnonymizationWarning> = []
    for (const command of commands) {
      const decided = decide(state, command, ctx)
      if (Either.isLeft(decided)) return Either.left(decided.left)
      events.push(...decided.right.events)
      warnings.push(...decided.right.warnings)
      state = fold(decided.right.events, state)
    }
    return Either.right({ state, events, warnings })
  }

  /** Encodes, seals and chains the events, with the member's new directory row and the keys minted. */
  const prepareAppend = (
    memberId: string,
    loaded: Loaded,
    state: MemberState,
    events: ReadonlyArray<MemberEvent>,
    call: Call,
    at: number,
    codec: EventCodec,
  ): Effect.Effect<PreparedAppend, LetheError> =>
    Effect.gen(function* () {
      const streamId = memberStream(memberId)
      const metadata: EventMetadata = {
        actor: call.actor.id,
        source: sourceLabel(call.source),
        tenantId: state.tenantId,
        correlationId: call.correlationId ?? newId(),
      }
      const prepared: Array<NewEvent> = []
      let prevHash = loaded.head
      for (const [i, event] of events.entries()) {
        const version = loaded.version + i + 1
        const data = yield* codec.encode(event, {
          streamId,
          version,
          tenantId: state.tenantId,
          memberId,
          recordedAt: at,
        })
        const hash = hashEvent(prevHash, {
          streamId,
          version,
          type: event._tag,
          data,
          metadata,
          recordedAt: at,
        })
        prepared.push({ type: event._tag, data, metadata, recordedAt: at, prevHash, hash })
        prevHash = hash
      }
      const version = loaded.version + events.length
      const messages: Array<MessageEntry> = events.flatMap((e) =>
        e._tag === "MessageSent"
          ? [{ messageId: e.messageId, memberId, tenantId: state.tenantId, sentAt: e.at }]
          : [],
      )
      const member = memberRow(state, version, yield* emailKeyOf(state))
      const keys = codec.newKeys()
      const request: AppendRequest = {
        streamId,
        expectedVersion: loaded.version === 0 ? "no_stream" : loaded.version,
        events: prepared,
        directory: { member, messages },
        ...(keys.length === 0 ? {} : { keys }),
      }
      return { memberId, loaded, state, events, request, head: prevHash, codec }
    })

  /** Keeps the member's state after its append landed; returns the events as stored. */
  const landed = (
    prepared: PreparedAppend,
    result: AppendResult,
  ): Effect.Effect<ReadonlyArray<RecordedEvent>> => {
    const { memberId, loaded, state, events, request, head, codec } = prepared
    const version = loaded.version + events.length
    return snapshotted(memberId, { state, version, head, snapshotAt: loaded.snapshotAt }, codec).pipe(
      Effect.map((current) => {
        kept.set(memberId, current)
        const firstPosition = result.position - request.events.length + 1
        return request.events.map(
          (event, i): RecordedEvent => ({
            event: events[i] as MemberEvent,
            stored: {
              ...event,
              streamId: request.streamId,
              version: loaded.version + i + 1,
              position: firstPosition + i,
            },
          }),
        )
      }),
    )
  }

  /** Appends a prepared append and keeps the member's state; returns the events as stored. */
  const append = (prepared: PreparedAppend): Effect.Effect<ReadonlyArray<RecordedEvent>, LetheError> =>
    fromStore("append", () => store.events.append(prepared.request)).pipe(
      Effect.flatMap((result) => landed(prepared, result)),
    )

  /**
   * Runs commands on one member: load, decide, append; again from a fresh read
   * when another writer moved the stream in between (optimistic concurrency),
   * or minted the same key first.
   * - `create`: the member may not exist yet (register, subscribe, import);
   * - `fresh`: its id was minted just now, so its stream is not read (were it
   *   there after all, the append conflicts and the retry reads it);
   * - `check`: decides only: it refuses exactly as the real run would, and writes nothing;
   * - `history`: the result carries the member's whole decoded history.
   */
  const execute = (
    memberId: string,
    commands: (loaded: Loaded) => Effect.Effect<ReadonlyArray<MemberCommand>, LetheError>,
    call: Call,
    options: {
      readonly create?: boolean
      readonly fresh?: boolean
      readonly check?: boolean
      readonly history?: boolean
    } = {},
  ): Effect.Effect<Executed, LetheError> => {
    let attempts = 0
    return Effect.gen(function* () {
      const first = attempts++ === 0
      const reading = sealer.session()
      const wanted = { history: options.history === true }
      const loaded: Loaded =
        options.fresh === true && first
          ? {
              state: initialState,
              version: 0,
              head: "",
              snapshotAt: 0,
              ...(wanted.history ? { history: [] } : {}),
            }
          : options.create === true || options.fresh === true
            ? yield* load(memberId, reading, wanted)
            : yield* loadExisting(memberId, reading, wanted)
      // A member with no event has no key: new keys are minted without asking the store first.
      const codec = loaded.version === 0 ? sealer.session({ newMember: first }) : reading
      const at = yield* now
      const batch = yield* commands(loaded)
      const decided = decideAll(loaded, batch, { now: at, actor: call.actor, config })
      if (Either.isLeft(decided)) return yield* Effect.fail(decided.left)
      const { state, events, warnings } = decided.right
      const unchanged = { memberId, version: loaded.version, warnings }
      if (options.check === true)
        return {
          ...unchanged,
          ...(loaded.history === undefined ? {} : { history: loaded.history }),
          state,
          events,
          erasure: null,
        }
      const appended =
        events.length === 0
          ? []
          : yield* prepareAppend(memberId, loaded, state, events, call, at, codec).pipe(
              Effect.flatMap(append),
            )
      const erasure = yield* shredAfter(memberId, state, batch, events, at, loaded.version + appended.length)
      return {
        ...unchanged,
        ...(loaded.history === undefined ? {} : { history: [...loaded.history, ...appended] }),
        state,
        version: loaded.version + appended.length,
        events,
        erasure,
      }
    }).pipe(
      Effect.retry({
        times: retries,
        while: (error) => error._tag === "ConcurrencyConflict" || error._tag === "KeyExists",
      }),
    )
  }

  /**
   * Destroys the data keys an erasure calls for, redacts what they sealed, and
   * checks nothing readable is left (DESIGN §3). Runs after the erasure event is
   * appended, and again when the same command is repeated, so an interrupted
   * erasure is finished by running it again.
   */
  const shredAfter = (
    memberId: string,
    state: MemberState,
    commands: ReadonlyArray<MemberCommand>,
    events: ReadonlyArray<MemberEvent>,
    at: number,
    version: number,
  ): Effect.Effect<ErasureReport | null, LetheError> => {
    const wanted = new Set<PersonalCategory>()
    let all = false
    for (const event of events) {
      if (event._tag === "Anonymized")
        for (const c of allCategories) if (!retainedOnAnonymization.has(c)) wanted.add(c)
      if (event._tag === "PersonalDataErased") for (const c of event.categories) wanted.add(c)
    }
    for (const command of commands) {
      if (command._tag === "Purge" && state.status === "purged") all = true
      if (command._tag === "ErasePersonalData") for (const c of command.categories) wanted.add(c)
    }
    if (!all && wanted.size === 0) return Effect.succeed(null)
    return shred(memberId, (category) => all || wanted.has(category), at, version)
  }

  /** `version`: the stream's version, its erasure event included. */
  const shred = (
    memberId: string,
    include: (category: PersonalCategory) => boolean,
    at: number,
    version: number,
  ): Effect.Effect<ErasureReport, LetheError> =>
    Effect.gen(function* () {
      const streamId = memberStream(memberId)
      const entries = yield* fromStore("keys.listForMember", () => store.keys.listForMember(memberId))
      const targets = entries.filter((entry) => include(entryCategory(entry)))
      const keyIds = targets.map(entryKeyId)
      const destroyed: Array<string> = []
      for (const entry of targets)
        if (entry._tag === "Live") {
          yield* fromStore("keys.destroy", () => store.keys.destroy(entry.key.keyId, at))
          destroyed.push(entry.key.keyId)
        }
      const sealedValuesRemoved =
        keyIds.length === 0 ? 0 : yield* fromStore("redact", () => store.events.redact(streamId, keyIds))
      // The snapshot's values under these keys are unreadable now; its bytes go too, and no
      // snapshot taken before the erasure event may come back. The next one is taken from the
      // state after it, which holds nothing of the erased categories.
      const snapshotStore = store.snapshots
      if (snapshotStore !== undefined && keyIds.length > 0) {
        yield* fromStore("snapshots.remove", () => snapshotStore.remove(memberId, version))
        const current = kept.get(memberId)
        if (current !== undefined) kept.set(memberId, { ...current, snapshotAt: 0 })
      }
      // Check, do not trust: every key gone, no value sealed under them left.
      const after = yield* fromStore("keys.listForMember", () => store.keys.listForMember(memberId))
      const stillLive = after.filter((e) => e._tag === "Live" && keyIds.includes(e.key.keyId)).map(entryKeyId)
      if (stillLive.length > 0)
        return yield* Effect.fail(
          new ErasureIncomplete({ memberId, detail: `keys still live: ${stillLive.join(", ")}` }),
        )
      // Only the events holding values sealed under these keys: the check costs the same
      // however long the member's activity history is.
      const stored =
        keyIds.length === 0
          ? []
          : yield* fromStore("readStream", () => store.events.readStream(streamId, { sealedUnder: keyIds }))
      const wanted = new Set(keyIds)
      const leftover = stored
        .filter((e) => redactSealedValues(e.data, wanted).redacted > 0)
        .map((e) => e.version)
      if (leftover.length > 0)
        return yield* Effect.fail(
          new ErasureIncomplete({
            memberId,
            detail: `sealed values left in versions ${leftover.join(", ")}`,
          }),
        )
      return {
        categories: [...new Set(targets.map(entryCategory))].sort(),
        keyIdsDestroyed: destroyed,
        sealedValuesRemoved,
      }
    })

  /** One command, validated before anything is read. */
  const run = (memberId: string, raw: () => unknown, call: Call): Effect.Effect<Executed, LetheError> =>
    validate(raw).pipe(Effect.flatMap((command) => execute(memberId, () => Effect.succeed([command]), call)))

  const simple =
    <I extends Acting>(build: (input: I) => unknown, source?: (input: I) => SourceInput | undefined) =>
    (memberId: string, input: I): Effect.Effect<CommandResult, LetheError> =>
      run(memberId, () => build(input), callOf(input, source?.(input))).pipe(Effect.map(result))

  const latestWording = (purpose: string): string | undefined =>
    config.consentCatalogue[purpose]?.wordingVersions.at(-1)

  const consentCommand = (input: GiveConsentInput | SubscribeInput, now: number | undefined) => ({
    _tag: "GiveConsent" as const,
    purpose: input.purpose,
    ...("basis" in input && input.basis !== undefined ? { basis: input.basis } : {}),
    explicit: "explicit" in input ? (input.explicit ?? false) : false,
    method: input.method ?? "checkbox",
    wordingVersion: input.wordingVersion ?? latestWording(input.purpose) ?? "",
    source: toSource(input.source),
    ...(now === undefined ? {} : { givenAt: now }),
  })

  const registerCommand = (memberId: string, input: RegisterInput) => ({
    _tag: "Register" as const,
    memberId,
    tenantId: input.tenantId,
    personal: {
      ...(input.personal.name === undefined ? {} : { name: input.personal.name.trim() }),
      ...(input.personal.email === undefined ? {} : { email: input.personal.email.trim() }),
      ...(input.personal.phone === undefined ? {} : { phone: input.personal.phone.trim() }),
    },
    source: toSource(input.source),
  })

  const request =
    (tag: "RequestErasure" | "RequestAccess") =>
    (memberId: string, input: RequestInput): Effect.Effect<RequestResult, LetheError> =>
      Effect.gen(function* () {
        const requestId = input.requestId ?? newId()
        const receivedAt = millis(input.receivedAt) ?? (yield* now)
        const executed = yield* run(
          memberId,
          () => ({ _tag: tag, requestId, receivedAt, via: input.via }),
          callOf(input),
        )
        const dueBy = executed.state.requests[requestId]?.dueBy ?? receivedAt
        return { ...result(executed), requestId, dueBy: new Date(dueBy), otherSystems: config.otherSystems }
      })

  const forget = (memberId: string, input: ForgetInput) =>
    run(memberId, () => ({ _tag: "Forget", requestId: input.requestId ?? null }), callOf(input)).pipe(
      Effect.map(result),
    )

  /** Every row a paged directory query returns. */
  const allRows = (
    query: (after: string | undefined) => Promise<ReadonlyArray<MemberRow>>,
    limit = pageSize,
  ): Effect.Effect<ReadonlyArray<MemberRow>, LetheError> =>
    Effect.gen(function* () {
      const rows: Array<MemberRow> = []
      let after: string | undefined
      for (;;) {
        const page = yield* fromStore("directory", () => query(after))
        rows.push(...page)
        if (page.length < limit) return rows
        after = page.at(-1)?.memberId
      }
    })

  const dueRequests = (
    before: number,
    kinds: ReadonlyArray<DueRequest["kind"]>,
  ): Effect.Effect<ReadonlyArray<DueRequest>, LetheError> =>
    allRows((after) =>
      store.directory.requestsDueBefore({
        before,
        limit: pageSize,
        ...(after === undefined ? {} : { after }),
      }),
    ).pipe(
      Effect.map((rows) =>
        rows.flatMap((row) =>
          row.openRequests
            .filter((r) => r.dueBy < before && kinds.includes(r.kind))
            .map((r) => ({
              memberId: row.memberId,
              tenantId: row.tenantId,
              requestId: r.requestId,
              kind: r.kind,
              receivedAt: new Date(r.receivedAt),
              dueBy: new Date(r.dueBy),
            })),
        ),
      ),
    )

  /** Who an e-mail belongs to in a tenant: an active member, a forgotten one still restorable, or nobody (R1, R5). */
  const ownerOfEmail = (tenantId: string, email: string): Effect.Effect<EmailOwner, LetheError> =>
    Effect.gen(function* () {
      const key = yield* lookupKey(tenantId, email)
      const [active] = yield* fromStore("findByEmail", () => store.directory.findByEmail(tenantId, key))
      if (active !== undefined) return { _tag: "Active", memberId: active.memberId } as const
      const at = yield* now
      const restorable = (yield* fromStore("findRestorable", () =>
        store.directory.findRestorable(tenantId, key),
      )).find((row) => isRestorable(row, at))
      return restorable === undefined
        ? ({ _tag: "Nobody" } as const)
        : ({ _tag: "Restorable", memberId: restorable.memberId } as const)
    })

  const validateFormat = (format: unknown): Effect.Effect<ExportFormat, InvalidCommand> =>
    Schema.decodeUnknown(ExportFormat)(format).pipe(
      Effect.mapError(
        (e) =>
          new InvalidCommand({ command: "export", issues: ParseResult.TreeFormatter.formatErrorSync(e) }),
      ),
    )

  const recordExport = (format: ExportFormat, requestId: string | undefined) =>
    validate(() => ({ _tag: "RecordExport", format, requestId: requestId ?? null })).pipe(
      Effect.map((command) => [command]),
    )

  const exportMember = (memberId: string, input: ExportInput): Effect.Effect<ExportResult, LetheError> =>
    Effect.gen(function* () {
      const format = yield* validateFormat(input.format)
      // Recorded and read in one step: the document shows the log exactly as of its own DataExported.
      const executed = yield* execute(memberId, () => recordExport(format, input.requestId), callOf(input), {
        history: true,
      })
      const exported = executed.events.find((e) => e._tag === "DataExported")
      const document = memberExport(executed.history ?? [], executed.state, {
        exportedAt: exported?.at ?? (yield* now),
        requestId: input.requestId ?? null,
        otherSystems: config.otherSystems,
        catalogue: config.consentCatalogue,
      })
      return renderExport(document, format)
    })

  const validatePolicies = (
    policies: ReadonlyArray<unknown>,
    command = "runRetention",
  ): Effect.Effect<ReadonlyArray<RetentionPolicy>, InvalidCommand> =>
    Schema.decodeUnknown(Schema.Array(RetentionPolicy))(policies).pipe(
      Effect.mapError(
        (e) =>
          new InvalidCommand({
            command,
            issues: ParseResult.TreeFormatter.formatErrorSync(e),
          }),
      ),
      Effect.filterOrFail(
        (decoded) => {
          const ids = [...builtInRetentionRules, ...decoded.map((p) => p.id)]
          return new Set(ids).size === ids.length
        },
        () =>
          new InvalidCommand({
            command,
            issues: "policy ids must be unique and differ from the built-in rules",
          }),
      ),
    )

  /** One member's retention action, through the domain commands and their guards, as Lethe's own actor. */
  const applyRetention = (
    memberId: string,
    action: RetentionAction,
    call: Call,
  ): Effect.Effect<Executed, LetheError> => {
    switch (action._tag) {
      case "Purge":
        return run(memberId, () => ({ _tag: "Purge" }), call)
      case "EraseInvoices":
        return run(
          memberId,
          () => ({ _tag: "ErasePersonalData", categories: ["invoice"], reason: "invoice retention ended" }),
          call,
        )
      case "Anonymize":
        // No subject confirmation: the domain lets Lethe's own actor skip it for a policy (R9, R20).
        return run(
          memberId,
          () => ({ _tag: "Anonymize", confirmEmail: null, policyId: action.policyId, requestId: null }),
          call,
        )
      case "Forget":
        // Staff may forget a restricted member on request; a policy may not (art. 18(1)(b, c), R23).
        return execute(
          memberId,
          (loaded) =>
            loaded.state.restriction !== null
              ? Effect.fail(
                  new RetentionBlocked({
                    memberId,
                    policyId: action.policyId,
                    reasons: ["ProcessingRestricted"],
                  }),
                )
              : validate(() => ({ _tag: "Forget", requestId: null })).pipe(
                  Effect.map((command) => [command]),
                ),
          call,
        )
      default:
        return absurd(action)
    }
  }

  /** Applies one valid import row in one append: all of it, or nothing. */
  /** How an imported row is recorded: its source and call, and the consent it gives. */
  const importCommands = (row: ContactRow, input: ImportCsvInput) =>
    Effect.gen(function* () {
      const tag = row.sourceTag ?? input.source
      const source: Source = { kind: "import", ...(tag === undefined ? {} : { tag }) }
      const consent = yield* validate(() => ({
        _tag: "GiveConsent",
        purpose: row.purpose,
        explicit: false,
        method: "import",
        wordingVersion: row.wordingVersion ?? latestWording(row.purpose) ?? "",
        source,
        givenAt: row.givenAt,
      }))
      return { source, call: callOf(input, source), consent }
    })

  /** The registration of a row's contact as a new member. */
  const contactRegistration = (memberId: string, row: ContactRow, input: ImportCsvInput, source: Source) =>
    validate(() =>
      registerCommand(memberId, {
        tenantId: input.tenantId,
        personal: {
          email: row.email,
          ...(row.name === null ? {} : { name: row.name }),
          ...(row.phone === null ? {} : { phone: row.phone }),
        },
        source,
      }),
    )

  /**
   * A row whose e-mail nobody holds, decided and prepared as a new member's
   * append; `undefined` when a command is refused (the row is then imported
   * alone, which reports why).
   */
  const prepareNewContact = (
    row: ContactRow,
    input: ImportCsvInput,
    at: number,
  ): Effect.Effect<PreparedAppend | undefined, LetheError> =>
    Effect.gen(function* () {
      const { source, call, consent } = yield* importCommands(row, input)
      const memberId = newId()
      const register = yield* contactRegistration(memberId, row, input, source)
      const loaded: Loaded = { state: initialState, version: 0, head: "", snapshotAt: 0 }
      const decided = decideAll(loaded, [register, consent], { now: at, actor: call.actor, config })
      if (Either.isLeft(decided)) return undefined
      const { state, events } = decided.right
      return yield* prepareAppend(
        memberId,
        loaded,
        state,
        events,
        call,
        at,
        sealer.session({ newMember: true }),
      )
    })

  /**
   * Who holds each of `rows`' e-mail keys in `tenantId` at `at`, as
   * `ownerOfEmail` decides: an active member, a forgotten one still
   * restorable, or nobody. Two queries when the directory has the many-key
   * look-ups; otherwise one `ownerOfEmail` per key, side by side, a key whose
   * look-up failed left out (its row then goes alone and reports the failure).
   */
  const emailOwners = (
    tenantId: string,
    rows: ReadonlyMap<string, ContactRow>,
    at: number,
  ): Effect.Effect<ReadonlyMap<string, EmailOwner>, LetheError> =>
    Effect.gen(function* () {
      const keys = [...rows.keys()]
      const owners = new Map<string, EmailOwner>()
      const byEmail = store.directory.findManyByEmail?.bind(store.directory)
      const restorable = store.directory.findManyRestorable?.bind(store.directory)
      if (byEmail === undefined || restorable === undefined) {
        const found = yield* Effect.forEach(
          rows.values(),
          (row) => Effect.either(ownerOfEmail(tenantId, row.email)),
          { concurrency: 8 },
        )
        for (const [i, key] of keys.entries()) {
          const owner = found[i]
          if (owner !== undefined && Either.isRight(owner)) owners.set(key, owner.right)
        }
        return owners
      }
      // Rows come in memberId order: the first of a key is the one `ownerOfEmail` would take.
      for (const row of yield* fromStore("findManyByEmail", () => byEmail(tenantId, keys)))
        if (row.emailKey !== null && !owners.has(row.emailKey))
          owners.set(row.emailKey, { _tag: "Active", memberId: row.memberId })
      const rest = keys.filter((key) => !owners.has(key))
      if (rest.length > 0)
        for (const row of yield* fromStore("findManyRestorable", () => restorable(tenantId, rest)))
          if (row.restoreKey !== null && !owners.has(row.restoreKey) && isRestorable(row, at))
            owners.set(row.restoreKey, { _tag: "Restorable", memberId: row.memberId })
      for (const key of rest) if (!owners.has(key)) owners.set(key, { _tag: "Nobody" })
      return owners
    })

  /**
   * The rows of a chunk whose e-mail nobody holds, registered together by one
   * `appendBatch` (one transaction): the imported rows' member ids, by row
   * number (`created`). Rows it does not take (an owner, an e-mail met earlier
   * in the chunk, a refused command) and every row of a refused batch are left
   * to `importRow`, one by one, which reports them exactly as without
   * batching; for the first row of an e-mail an active member holds, it
   * passes that member on (`active`), so the row is not looked up again. No
   * earlier row of the chunk can change who holds that e-mail: each row
   * touches only the holder of its own e-mail.
   */
  const importNewContacts = (
    rows: ReadonlyArray<ContactRow>,
    input: ImportCsvInput,
  ): Effect.Effect<
    { readonly created: ReadonlyMap<number, string>; readonly active: ReadonlyMap<number, string> },
    LetheError
  > =>
    Effect.gen(function* () {
      const appendBatch = store.events.appendBatch?.bind(store.events)
      const created = new Map<number, string>()
      const active = new Map<number, string>()
      if (appendBatch === undefined || rows.length < 2) return { created, active }
      const at = yield* now
      // A later row with an e-mail met before must find the member the earlier one creates: only
      // each e-mail's first row is a candidate.
      const firsts = new Map<string, ContactRow>()
      for (const row of rows) {
        const emailKey = yield* lookupKey(input.tenantId, row.email)
        if (!firsts.has(emailKey)) firsts.set(emailKey, row)
      }
      const owners = yield* Effect.either(emailOwners(input.tenantId, firsts, at))
      if (Either.isLeft(owners)) return { created, active }
      const batch: Array<{ readonly row: number; readonly prepared: PreparedAppend }> = []
      for (const [emailKey, row] of firsts) {
        const owner = owners.right.get(emailKey)
        if (owner?._tag === "Active") active.set(row.row, owner.memberId)
        if (owner?._tag !== "Nobody") continue
        const prepared = yield* Effect.either(prepareNewContact(row, input, at))
        if (Either.isRight(prepared) && prepared.right !== undefined)
          batch.push({ row: row.row, prepared: prepared.right })
      }
      if (batch.length < 2) return { created, active }
      // Refused as a whole (another writer took an e-mail meanwhile, say): every row goes alone and
      // looks its e-mail up again.
      const results = yield* Effect.either(
        fromStore("appendBatch", () => appendBatch(batch.map(({ prepared }) => prepared.request))),
      )
      if (Either.isLeft(results)) return { created, active: new Map() }
      if (results.right.length !== batch.length)
        return yield* Effect.fail(
          new StoreError({
            operation: "appendBatch",
            detail: `the store returned ${results.right.length} results for ${batch.length} requests`,
          }),
        )
      for (const [i, { row, prepared }] of batch.entries()) {
        yield* landed(prepared, results.right[i] as AppendResult)
        created.set(row, prepared.memberId)
      }
      return { created, active }
    })

  /** Applies one row; `activeOwner`, when given, is the active member known to hold its e-mail. */
  const importRow = (
    row: ContactRow,
    input: ImportCsvInput,
    activeOwner?: string,
  ): Effect.Effect<
    { readonly memberId: string; readonly outcome: ImportOutcome } | Omit<RejectedRow, "row" | "line">,
    LetheError
  > =>
    Effect.gen(function* () {
      const { source, call, consent } = yield* importCommands(row, input)
      const owner: EmailOwner =
        activeOwner === undefined
          ? yield* ownerOfEmail(input.tenantId, row.email)
          : { _tag: "Active", memberId: activeOwner }
      if (owner._tag === "Restorable" && !input.restoreForgotten)
        return {
          reason: "ForgottenMember",
          detail:
            "the e-mail belongs to a member forgotten within the restore window; import with restoreForgotten to restore it",
        }
      switch (owner._tag) {
        case "Active":
        case "Restorable": {
          const restore = owner._tag === "Restorable" ? [{ _tag: "Restore", by: "staff" } as const] : []
          const executed = yield* execute(
            owner.memberId,
            (loaded) => {
              const verdict = importedConsent(loaded.state, row.purpose, row.givenAt)
              // An objection since the consent was given outweighs the old list: no restore either.
              return Effect.succeed(
                verdict === "objected" ? [] : [...restore, ...(verdict === "record" ? [consent] : [])],
              )
            },
            call,
          )
          if (executed.events.length > 0)
            return { memberId: owner.memberId, outcome: restore.length > 0 ? "restored" : "subscribed" }
          if (importedConsent(executed.state, row.purpose, row.givenAt) === "objected")
            return {
              reason: "ConsentObjected",
              detail: `the member unsubscribed from or withdrew "${row.purpose}" after this consent was given`,
            }
          return { memberId: owner.memberId, outcome: "unchanged" }
        }
        case "Nobody": {
          const memberId = newId()
          const register = yield* contactRegistration(memberId, row, input, source)
          yield* execute(memberId, () => Effect.succeed([register, consent]), call, { create: true })
          return { memberId, outcome: "created" }
        }
        default:
          return absurd(owner)
      }
    })

  return {
    config,
    register: (input) =>
      Effect.gen(function* () {
        const memberId = newId()
        const command = yield* validate(() => registerCommand(memberId, input))
        // The e-mail is checked by the store, in the append (EmailTaken names who holds it).
        return result(
          yield* execute(memberId, () => Effect.succeed([command]), callOf(input, input.source), {
            fresh: true,
          }),
        )
      }),
    recordPersonalData: simple(
      (input) => ({
        _tag: "RecordPersonalData",
        category: input.category,
        fields: input.fields,
        source: toSource(input.source),
      }),
      (input) => input.source,
    ),
    erasePersonalData: simple((input) => ({
      _tag: "ErasePersonalData",
      categories: input.categories,
      reason: input.reason,
    })),
    giveConsent: simple(
      (input) => consentCommand(input, millis(input.givenAt)),
      (input) => input.source,
    ),
    withdrawConsent: simple(
      (input) => ({
        _tag: "WithdrawConsent",
        purpose: input.purpose,
        source: toSource(input.source ?? "api"),
      }),
      (input) => input.source,
    ),
    unsubscribe: (memberId, input) =>
      run(
        memberId,
        () => ({ _tag: "Unsubscribe", purpose: input.purpose, via: input.via }),
        callOf(input, input.via === "link" ? "subject" : "staff"),
      ).pipe(Effect.map(result)),
    subscribe: (input) =>
      Effect.gen(function* () {
        const consent = yield* validate(() => consentCommand(input, undefined))
        const call = callOf(input, input.source)
        const owner = yield* ownerOfEmail(input.tenantId, input.email)
        if (owner._tag === "Active") {
          const executed = yield* execute(owner.memberId, () => Effect.succeed([consent]), call)
          return { ...result(executed), outcome: "subscribed" as const }
        }
        if (owner._tag === "Restorable") {
          const executed = yield* execute(
            owner.memberId,
            () => Effect.succeed([{ _tag: "Restore", by: "subject" } as const, consent]),
            call,
          )
          return { ...result(executed), outcome: "restored" as const }
        }
        const memberId = newId()
        const register = yield* validate(() =>
          registerCommand(memberId, {
            tenantId: input.tenantId,
            personal: { email: input.email, ...(input.name === undefined ? {} : { name: input.name }) },
            source: input.source,
          }),
        )
        const executed = yield* execute(memberId, () => Effect.succeed([register, consent]), call, {
          create: true,
        })
        return { ...result(executed), outcome: "created" as const }
      }),
    disableProfiling: simple(() => ({ _tag: "DisableProfiling" })),
    enableProfiling: simple(() => ({ _tag: "EnableProfiling" })),
    signContract: simple((input) => ({
      _tag: "SignContract",
      contractId: input.contractId,
      clubId: input.clubId,
      startsAt: millis(input.startsAt),
      endsAt: input.endsAt === undefined || input.endsAt === null ? null : millis(input.endsAt),
    })),
    endContract: simple((input) => ({ _tag: "EndContract", contractId: input.contractId })),
    creditWallet: simple((input) => ({ _tag: "CreditWallet", amount: input.amount })),
    debitWallet: simple((input) => ({ _tag: "DebitWallet", amount: input.amount })),
    openDebtCase: simple((input) => ({ _tag: "OpenDebtCase", caseId: input.caseId, clubId: input.clubId })),
    closeDebtCase: simple((input) => ({ _tag: "CloseDebtCase", caseId: input.caseId })),
    recordPurchase: simple((input) => ({
      _tag: "RecordPurchase",
      purchaseId: input.purchaseId,
      amount: input.amount,
      paid: input.paid,
    })),
    markPurchasePaid: simple((input) => ({ _tag: "MarkPurchasePaid", purchaseId: input.purchaseId })),
    recordMissedInstalment: simple((input) => ({
      _tag: "RecordMissedInstalment",
      instalmentId: input.instalmentId,
      clubId: input.clubId,
      amount: input.amount,
    })),
    markInstalmentPaid: simple((input) => ({ _tag: "MarkInstalmentPaid", instalmentId: input.instalmentId })),
    recordActivity: simple((input) => ({
      _tag: "RecordActivity",
      kind: input.kind,
      clubId: input.clubId ?? null,
      details: input.details ?? {},
    })),
    sendMessage: (memberId, input) => {
      const messageId = input.messageId ?? newId()
      return run(
        memberId,
        () => ({
          _tag: "SendMessage",
          messageId,
          purpose: input.purpose,
          channel: input.channel,
          sentBy: input.sentBy,
          test: input.test ?? false,
        }),
        callOf(input),
      ).pipe(Effect.map((executed) => ({ ...result(executed), messageId })))
    },
    restrictProcessing: simple((input) => ({ _tag: "RestrictProcessing", reason: input.reason })),
    liftRestriction: simple(() => ({ _tag: "LiftRestriction" })),
    requestErasure: request("RequestErasure"),
    requestAccess: request("RequestAccess"),
    forget,
    forgetMany: (memberIds, input) =>
      Effect.forEach(memberIds, (memberId, i) =>
        forget(memberId, input).pipe(
          Effect.either,
          Effect.map(
            (outcome): BulkOutcome<CommandResult> =>
              Either.isRight(outcome)
                ? { memberId, ok: true, result: outcome.right }
                : { memberId, ok: false, error: outcome.left },
          ),
          Effect.tap((outcome) =>
            Effect.sync(() =>
              input.onProgress?.({ done: i + 1, total: memberIds.length, memberId, ok: outcome.ok }),
            ),
          ),
        ),
      ),
    restore: simple(() => ({ _tag: "Restore", by: "staff" })),
    anonymize: (memberId, input) =>
      run(
        memberId,
        () => ({
          _tag: "Anonymize",
          confirmEmail: input.confirmEmail ?? null,
          policyId: null,
          requestId: input.requestId ?? null,
        }),
        callOf(input),
      ).pipe(
        Effect.map((executed) => {
          const anonymized = executed.events.find((e) => e._tag === "Anonymized")
          return {
            ...result(executed),
            warnings: executed.warnings,
            erasedCategories: anonymized?.erasedCategories ?? [],
            keptCategories: anonymized?.keptCategories ?? [],
            erasure: executed.erasure,
          }
        }),
      ),
    get: (memberId) =>
      Effect.all([loadExisting(memberId), now]).pipe(
        Effect.map(([loaded, at]) => memberView(loaded.state, at)),
      ),
    findByEmail: (tenantId, email) =>
      lookupKey(tenantId, email).pipe(
        Effect.flatMap((key) => fromStore("findByEmail", () => store.directory.findByEmail(tenantId, key))),
        Effect.map((rows) => {
          const row = rows[0]
          return row === undefined ? null : summary(row)
        }),
      ),
    search: (tenantId, text, options = {}) => {
      const needle = text.trim().toLowerCase()
      if (needle.length === 0) return Effect.succeed([])
      return fromStore("search", () =>
        store.directory.search(tenantId, needle, {
          limit: options.limit ?? 50,
          ...(options.after === undefined ? {} : { after: options.after }),
        }),
      ).pipe(Effect.map((rows) => rows.map(summary)))
    },
    purge: (memberId, input) =>
      run(memberId, () => ({ _tag: "Purge" }), callOf(input)).pipe(
        Effect.map((executed) => ({ ...result(executed), erasure: executed.erasure })),
      ),
    proveMessage: (messageId) =>
      Effect.gen(function* () {
        const owner = yield* fromStore("messageOwner", () => store.directory.messageOwner(messageId))
        if (owner === undefined) return yield* Effect.fail(new MessageNotFound({ messageId }))
        const { history = [], state } = yield* load(owner.memberId, undefined, { history: true })
        let proof: Omit<MessageProof, "memberStatus"> | undefined
        for (const { event: decoded, stored: event } of history) {
          if (decoded._tag === "MessageSent" && decoded.messageId === messageId)
            proof = {
              messageId,
              memberId: owner.memberId,
              tenantId: owner.tenantId,
              sentAt: new Date(decoded.at),
              purpose: decoded.purpose,
              channel: decoded.channel,
              sentBy: decoded.sentBy,
              test: decoded.test,
              lawfulBasis: {
                basis: decoded.lawfulBasis.basis,
                consentGivenAt:
                  decoded.lawfulBasis.consentGivenAt === null
                    ? null
                    : new Date(decoded.lawfulBasis.consentGivenAt),
                method: decoded.lawfulBasis.method,
                wordingVersion: decoded.lawfulBasis.wordingVersion,
              },
              event: { version: event.version, hash: event.hash },
            }
        }
        if (proof === undefined) return yield* Effect.fail(new MessageNotFound({ messageId }))
        return { ...proof, memberStatus: state.status }
      }),
    erasureReceipt: (memberId) =>
      Effect.gen(function* () {
        const { history = [], state } = yield* loadExisting(memberId, undefined, { history: true })
        const stored = history.map((recorded) => recorded.stored)
        let erasedAt = 0
        let erasedBy = ""
        for (const event of stored) {
          if (event.type === "Purged" || event.type === "Anonymized") {
            erasedAt = event.recordedAt
            erasedBy = event.metadata.actor
          }
        }
        if (state.status !== "purged" && state.status !== "anonymized")
          return yield* Effect.fail(new NotErased({ memberId, status: state.status }))
        const entries = yield* fromStore("keys.listForMember", () => store.keys.listForMember(memberId))
        const head = stored.at(-1)
        const unsigned: Omit<ErasureReceipt, "signature"> = {
          format: "lethe-erasure-receipt/1",
          memberId,
          tenantId: state.tenantId,
          status: state.status,
          erasedAt: iso(erasedAt),
          erasedBy,
          keys: entries
            .flatMap((e) =>
              e._tag === "Destroyed"
                ? [
                    {
                      keyId: e.tombstone.keyId,
                      category: e.tombstone.category,
                      destroyedAt: iso(e.tombstone.destroyedAt),
                    },
                  ]
                : [],
            )
            .sort((a, b) => (a.keyId < b.keyId ? -1 : 1)),
          keptCategories: entries.flatMap((e) => (e._tag === "Live" ? [e.key.category] : [])).sort(),
          sealedValuesRemoved: stored.reduce((n, e) => n + countErased(e.data), 0),
          streamHead: { version: head?.version ?? 0, hash: head?.hash ?? "" },
          issuedAt: iso(yield* now),
        }
        const signature = yield* fromStore("signReceipt", () => keyring.signReceipt(receiptPayload(unsigned)))
        return { ...unsigned, signature: Buffer.from(signature).toString("base64") }
      }),
    runRetention: (options = {}) =>
      Effect.gen(function* () {
        const policies = yield* validatePolicies(options.policies ?? [])
        const batchSize = options.batchSize ?? pageSize
        const correlationId = newId()
        const call: Call = { actor: retentionActor, correlationId }
        return yield* runRetentionSteps(
          retentionSteps(yield* now, config, policies),
          {
            page: (step, after) =>
              fromStore("directory", () =>
                step.query(store.directory, { limit: batchSize, ...(after === undefined ? {} : { after }) }),
              ),
            apply: (memberId, action) =>
              applyRetention(memberId, action, call).pipe(
                Effect.map((executed) => ({ erasure: executed.erasure, warnings: executed.warnings })),
              ),
          },
          {
            correlationId,
            dryRun: options.dryRun === true,
            batchSize,
            ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
          },
        )
      }),
    exportMember,
    createExportLink: (memberId, input) =>
      Effect.gen(function* () {
        const format = yield* validateFormat(input.format)
        const invalidValidity = new InvalidCommand({
          command: "createExportLink",
          issues: 'validFor must be a positive, finite duration (milliseconds, or e.g. "2 hours")',
        })
        const validFor = yield* Effect.try({
          try: () => Duration.toMillis(input.validFor ?? defaultExportLinkValidity),
          catch: () => invalidValidity,
        })
        if (!(validFor > 0 && Number.isFinite(validFor))) return yield* Effect.fail(invalidValidity)
        // The same decision the export will take, taken now, so a link that cannot work is never handed out.
        yield* execute(memberId, () => recordExport(format, input.requestId), callOf(input), { check: true })
        const expiresAt = (yield* now) + validFor
        const key = yield* fromStore("linkSigningKey", () => keyring.linkSigningKey())
        const token = signExportLink(
          {
            linkId: newId(),
            memberId,
            format,
            actor: { id: input.actor.id, roles: [...input.actor.roles] },
            requestId: input.requestId ?? null,
            expiresAt,
          },
          key,
        )
        return { token, memberId, format, expiresAt: new Date(expiresAt) }
      }),
    redeemExportLink: (token) =>
      Effect.gen(function* () {
        const key = yield* fromStore("linkSigningKey", () => keyring.linkSigningKey())
        const opened = openExportLink(token, key, yield* now)
        if (Either.isLeft(opened)) return yield* Effect.fail(opened.left)
        const claims = opened.right
        return yield* exportMember(claims.memberId, {
          format: claims.format,
          actor: claims.actor,
          ...(claims.requestId === null ? {} : { requestId: claims.requestId }),
        })
      }),
    importCsv: (csvText, input) =>
      Effect.gen(function* () {
        const parsed = parseContactsCsv(csvText, { now: yield* now, catalogue: config.consentCatalogue })
        if (Either.isLeft(parsed)) return yield* Effect.fail(parsed.left)
        const applied: Array<ImportReport["applied"][number]> = []
        const rejected: Array<RejectedRow> = [...parsed.right.rejected]
        const { rows } = parsed.right
        for (let from = 0; from < rows.length; from += importBatchRows) {
          const chunk = rows.slice(from, from + importBatchRows)
          // New contacts of the chunk in one transaction, when the store can; the rest one row after
          // the other: a later row with the same e-mail finds the member an earlier one created.
          const { created, active } = yield* importNewContacts(chunk, input)
          for (const row of chunk) {
            const at = { row: row.row, line: row.line }
            const memberId = created.get(row.row)
            if (memberId !== undefined) {
              applied.push({ ...at, memberId, outcome: "created" })
              continue
            }
            const outcome = yield* Effect.either(importRow(row, input, active.get(row.row)))
            if (Either.isLeft(outcome))
              rejected.push({ ...at, reason: outcome.left._tag, detail: outcome.left.message })
            else if ("reason" in outcome.right) rejected.push({ ...at, ...outcome.right })
            else applied.push({ ...at, ...outcome.right })
          }
        }
        return { applied, rejected: rejected.sort((a, b) => a.row - b.row) }
      }),
    overdueErasureRequests: () => now.pipe(Effect.flatMap((at) => dueRequests(at, ["erasure"]))),
    openRequests: () => dueRequests(Number.MAX_SAFE_INTEGER, ["erasure", "access"]),
    dataMap: (options = {}) =>
      validatePolicies(options.policies ?? [], "dataMap").pipe(
        Effect.map((policies) => dataMap({ config, storeName: store.name, policies })),
      ),
  }
}

/** The service's result type of an operation, e.g. `ResultOf<"anonymize">`. */
export type ResultOf<K extends keyof LetheService> = LetheService[K] extends (
  ...args: ReadonlyArray<never>
) => Effect.Effect<infer A, infer _E>
  ? A
  : never
