/**
 * Every failure Lethe reports is a tagged error class: match on `_tag`
 * (`Effect.catchTag`, or `error._tag` after a rejected Promise), never on the
 * message. Each carries the data a caller needs to explain the refusal.
 *
 * @module
 */
import { Schema } from "effect"

/** Why an anonymization is refused (R25, R9). */
export const AnonymizationBlocker = Schema.Literal(
  "ActiveContract",
  "FutureContract",
  "OpenDebtCase",
  "WalletNotEmpty",
  "ProcessingRestricted",
  "AlreadyAnonymized",
  "SubjectNotConfirmed",
)
export type AnonymizationBlocker = typeof AnonymizationBlocker.Type

/** Reminders returned with a successful anonymization; they never block it (R27). */
export const AnonymizationWarning = Schema.Literal("UnpaidPurchases", "ArrearsWithoutDebtCollection")
export type AnonymizationWarning = typeof AnonymizationWarning.Type

/** Why a message may not be sent (R2, R4, R16, R23, R31). */
export const MessagingBlocker = Schema.Literal(
  "NoLawfulBasis",
  "Unsubscribed",
  "ProcessingRestricted",
  "ProfilingDisabled",
  "Suppressed",
)
export type MessagingBlocker = typeof MessagingBlocker.Type

/** Member statuses (docs/design.md §2). */
export const MemberStatus = Schema.Literal("active", "forgotten", "purged", "anonymized")
export type MemberStatus = typeof MemberStatus.Type

/**
 * Anonymization refused; `reasons` lists every blocker that holds, at once (R25).
 *
 * @example
 * ```ts
 * lethe.anonymize(id, { actor, confirmEmail }).catch((e) => {
 *   if (e._tag === "AnonymizationBlocked") console.log(e.reasons) // ["ActiveContract", "WalletNotEmpty"]
 * })
 * ```
 */
export class AnonymizationBlocked extends Schema.TaggedError<AnonymizationBlocked>()("AnonymizationBlocked", {
  memberId: Schema.String,
  reasons: Schema.NonEmptyArray(AnonymizationBlocker),
}) {
  override get message() {
    return `Member ${this.memberId} cannot be anonymized: ${this.reasons.join(", ")}`
  }
}

/** Why a member's data may not be erased now (art. 18 GDPR: restricted data is kept, R23). */
export const ErasureBlocker = Schema.Literal("ProcessingRestricted")
export type ErasureBlocker = typeof ErasureBlocker.Type

/**
 * An erasure refused (`forget`, `forgetMany`, `erasePersonalData`, `purge`, and retention's purge):
 * `reasons` lists every blocker that holds. Processing of the member's data is restricted, and
 * restricted data is neither deleted nor anonymized until the restriction is lifted (R23).
 */
export class ErasureBlocked extends Schema.TaggedError<ErasureBlocked>()("ErasureBlocked", {
  memberId: Schema.String,
  attempted: Schema.String,
  reasons: Schema.NonEmptyArray(ErasureBlocker),
}) {
  override get message() {
    return `${this.attempted} of member ${this.memberId} refused: ${this.reasons.join(", ")}`
  }
}

/** A message (test ones included) refused; `reasons` lists every blocker that holds. */
export class MessageRefused extends Schema.TaggedError<MessageRefused>()("MessageRefused", {
  memberId: Schema.String,
  purpose: Schema.String,
  reasons: Schema.NonEmptyArray(MessagingBlocker),
}) {
  override get message() {
    return `No message for purpose "${this.purpose}" may be sent to member ${this.memberId}: ${this.reasons.join(", ")}`
  }
}

/** The member was forgotten, purged or anonymized: nothing more is recorded or sent (R2). */
export class MemberErased extends Schema.TaggedError<MemberErased>()("MemberErased", {
  memberId: Schema.String,
  status: MemberStatus,
  attempted: Schema.String,
}) {
  override get message() {
    return `Member ${this.memberId} is ${this.status}: ${this.attempted} refused`
  }
}

/** No member with this id exists (in this store, or in this tenant). */
export class MemberNotFound extends Schema.TaggedError<MemberNotFound>()("MemberNotFound", {
  memberId: Schema.String,
}) {
  override get message() {
    return `No member ${this.memberId}`
  }
}

/** The actor's roles do not grant the permission the command needs (R8, R26). */
export class NotPermitted extends Schema.TaggedError<NotPermitted>()("NotPermitted", {
  actorId: Schema.String,
  permission: Schema.String,
}) {
  override get message() {
    return `Actor ${this.actorId} lacks the permission ${this.permission}`
  }
}

/** Restore refused: the window is over, or the member was anonymized or purged (R5, R22). */
export class RestoreWindowExpired extends Schema.TaggedError<RestoreWindowExpired>()("RestoreWindowExpired", {
  memberId: Schema.String,
  status: MemberStatus,
  restorableUntil: Schema.NullOr(Schema.Number),
}) {
  override get message() {
    const until = this.restorableUntil === null ? "never" : new Date(this.restorableUntil).toISOString()
    return `Member ${this.memberId} (${this.status}) can no longer be restored (restorable until: ${until})`
  }
}

/** Restore asked for a member that is not forgotten. */
export class NothingToRestore extends Schema.TaggedError<NothingToRestore>()("NothingToRestore", {
  memberId: Schema.String,
}) {
  override get message() {
    return `Member ${this.memberId} is not forgotten: nothing to restore`
  }
}

/** Purge asked before the restore window ended, or for a member that is not forgotten. */
export class NotPurgeable extends Schema.TaggedError<NotPurgeable>()("NotPurgeable", {
  memberId: Schema.String,
  status: MemberStatus,
  restorableUntil: Schema.NullOr(Schema.Number),
}) {
  override get message() {
    return `Member ${this.memberId} (${this.status}) cannot be purged yet`
  }
}

/** Special-category data needs an explicit consent for a purpose that covers it (R17). */
export class ExplicitConsentRequired extends Schema.TaggedError<ExplicitConsentRequired>()(
  "ExplicitConsentRequired",
  { memberId: Schema.String, category: Schema.String, purposes: Schema.Array(Schema.String) },
) {
  override get message() {
    const hint = this.purposes.length > 0 ? ` (one of: ${this.purposes.join(", ")})` : ""
    return `Recording ${this.category} data for member ${this.memberId} needs an explicit consent${hint}`
  }
}

/** The purpose is not in the consent catalogue (R33). */
export class UnknownPurpose extends Schema.TaggedError<UnknownPurpose>()("UnknownPurpose", {
  purpose: Schema.String,
}) {
  override get message() {
    return `Purpose "${this.purpose}" is not in the consent catalogue`
  }
}

/** The consent's wording version is not one the catalogue knows for its purpose (R33). */
export class UnknownWordingVersion extends Schema.TaggedError<UnknownWordingVersion>()(
  "UnknownWordingVersion",
  {
    purpose: Schema.String,
    wordingVersion: Schema.String,
    known: Schema.Array(Schema.String),
  },
) {
  override get message() {
    return `Wording version "${this.wordingVersion}" is unknown for purpose "${this.purpose}" (known: ${this.known.join(", ")})`
  }
}

/** The purpose requires an explicit consent and the one given was not (R17). */
export class ExplicitFlagRequired extends Schema.TaggedError<ExplicitFlagRequired>()("ExplicitFlagRequired", {
  purpose: Schema.String,
}) {
  override get message() {
    return `Consent for purpose "${this.purpose}" must be explicit`
  }
}

/** The consent's lawful basis is not one the catalogue allows for its purpose (R16). */
export class BasisNotAllowed extends Schema.TaggedError<BasisNotAllowed>()("BasisNotAllowed", {
  purpose: Schema.String,
  basis: Schema.String,
  allowed: Schema.Array(Schema.String),
}) {
  override get message() {
    return `Basis "${this.basis}" is not allowed for purpose "${this.purpose}" (allowed: ${this.allowed.join(", ")})`
  }
}

/** A debit larger than the wallet's balance. */
export class InsufficientFunds extends Schema.TaggedError<InsufficientFunds>()("InsufficientFunds", {
  memberId: Schema.String,
  balance: Schema.Number,
  amount: Schema.Number,
}) {
  override get message() {
    return `Wallet of member ${this.memberId} holds ${this.balance}, cannot debit ${this.amount}`
  }
}

/**
 * A credit that would take the wallet's balance past `Number.MAX_SAFE_INTEGER` minor units, beyond which
 * sums are no longer exact: refused rather than rounded.
 */
export class WalletLimitExceeded extends Schema.TaggedError<WalletLimitExceeded>()("WalletLimitExceeded", {
  memberId: Schema.String,
  balance: Schema.Number,
  amount: Schema.Number,
  limit: Schema.Number,
}) {
  override get message() {
    return `Wallet of member ${this.memberId} holds ${this.balance}; crediting ${this.amount} would pass the limit of ${this.limit}`
  }
}

/** The command names a contract, case, purchase, instalment or request the member does not have. */
export class UnknownReference extends Schema.TaggedError<UnknownReference>()("UnknownReference", {
  memberId: Schema.String,
  kind: Schema.String,
  id: Schema.String,
}) {
  override get message() {
    return `Member ${this.memberId} has no ${this.kind} ${this.id}`
  }
}

/** The command would create a contract, case, purchase, instalment or request whose id is taken. */
export class DuplicateReference extends Schema.TaggedError<DuplicateReference>()("DuplicateReference", {
  memberId: Schema.String,
  kind: Schema.String,
  id: Schema.String,
}) {
  override get message() {
    return `Member ${this.memberId} already has a ${this.kind} ${this.id}`
  }
}

/** A member with this e-mail already exists in the tenant. */
export class EmailTaken extends Schema.TaggedError<EmailTaken>()("EmailTaken", {
  tenantId: Schema.String,
  memberId: Schema.String,
}) {
  override get message() {
    return `Tenant ${this.tenantId} already has a member with this e-mail (${this.memberId})`
  }
}

/**
 * One thing wrong with an input: where (`path`, as the caller wrote the
 * input: `amount`, `personal.email`, `categories[1]`, `fields.phone`; `""`
 * for the input as a whole) and what (`message`, said after the path: "must
 * be an integer (got 12.5)", "is missing").
 */
export const CommandIssue = Schema.Struct({ path: Schema.String, message: Schema.String })
export type CommandIssue = typeof CommandIssue.Type

/** The longest `InvalidCommand.message`, in characters (R45). */
export const maxInvalidCommandMessage = 299

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
const oneLine = (text: string) => text.replace(/[\u0000-\u001f\u007f]+/g, " ")

/**
 * Input that fails its schema; nothing was read or written. `command` is the
 * operation refused, as the facade names it (`creditWallet`, `importCsv`);
 * `issues` lists each field's problem. The message is one line under 300
 * characters (R45): the operation, then the issues (those that do not fit
 * are counted). A value given is echoed cut to 40 characters, and a personal
 * value (a name, an e-mail, a field) never.
 *
 * @example
 * ```ts
 * lethe.creditWallet(memberId, { amount: 12.5 }).catch((e) => {
 *   if (e._tag !== "InvalidCommand") throw e
 *   e.message // "creditWallet: amount must be an integer (got 12.5)"
 *   e.issues // [{ path: "amount", message: "must be an integer (got 12.5)" }]
 * })
 * ```
 */
export class InvalidCommand extends Schema.TaggedError<InvalidCommand>()("InvalidCommand", {
  command: Schema.String,
  issues: Schema.Array(CommandIssue),
}) {
  override get message() {
    const parts = this.issues.map((i) => oneLine(i.path === "" ? i.message : `${i.path} ${i.message}`))
    const head = `${oneLine(this.command).slice(0, 60)}: `
    const cut = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`)
    if (parts.length === 0) return `${head}invalid input`
    let line = head
    for (const [i, part] of parts.entries()) {
      const left = parts.length - i - 1
      const more = left === 0 ? "" : `; and ${left} more`
      const next = `${line}${i === 0 ? "" : "; "}${part}`
      if (next.length + more.length <= maxInvalidCommandMessage) {
        line = next
        continue
      }
      // The first issue is always said, cut to fit; the others that do not fit are counted.
      if (i === 0) return cut(line + part, maxInvalidCommandMessage - more.length) + more
      return `${line}; and ${parts.length - i} more`
    }
    return line
  }
}

/** The stream moved since it was read (optimistic concurrency). */
export class ConcurrencyConflict extends Schema.TaggedError<ConcurrencyConflict>()("ConcurrencyConflict", {
  streamId: Schema.String,
  expected: Schema.Union(Schema.Number, Schema.String),
  actual: Schema.Number,
}) {
  override get message() {
    return `Stream ${this.streamId} is at version ${this.actual}, expected ${this.expected}`
  }
}

/** A storage adapter failed for a reason that is not a domain refusal. */
export class StoreError extends Schema.TaggedError<StoreError>()("StoreError", {
  operation: Schema.String,
  detail: Schema.String,
}) {
  override get message() {
    return `Store failed during ${this.operation}: ${this.detail}`
  }
}

/**
 * The store cannot be reached: the database server refused or dropped the
 * connection, timed out, is shutting down or starting up, has no connection
 * slot left (PostgreSQL), or the database file cannot be opened or stayed
 * locked by another writer past the busy timeout (SQLite). A fault of the
 * moment, not of the command: the same call may succeed later, and a `pg`
 * Pool reconnects by itself.
 *
 * What was written:
 * - A read (`get`, `search`, `findByEmail`, an export, an audit) and opening
 *   a store wrote nothing (a migration is one transaction: all or nothing).
 *   Retrying is safe.
 * - SQLite: nothing was written either. `SQLITE_BUSY` comes before the write
 *   transaction starts, and a file that cannot be opened was never written.
 * - PostgreSQL, a command that appends: in doubt. If the connection was lost
 *   before the server committed the append's transaction, it was rolled back
 *   and nothing was written; if it was lost after, while the reply was on its
 *   way, the append committed. The client cannot tell which. Never partly:
 *   the events, the directory row and the new data keys of one append commit
 *   together or not at all.
 *
 * Retrying a command after an in-doubt failure is *not* made safe by the
 * version check. The check refuses the same append sent again (it expects
 * the version the first one already moved, so it fails with
 * `ConcurrencyConflict`), but `createLethe` does not resend an append: a
 * command run again reads the stream afresh and decides on what it finds. So:
 * - a command that carries its own id (`signContract`, `openDebtCase`,
 *   `recordPurchase`, ...) is refused with `DuplicateReference` if its first
 *   run committed; `register` with an e-mail is refused with `EmailTaken`;
 *   status changes (`forget`, `anonymize`, `restrictProcessing`...) are
 *   refused or do nothing the second time, and an interrupted erasure is
 *   finished by running it again;
 * - a command that adds to a history (`recordActivity`, `creditWallet`,
 *   `debitWallet`, `sendMessage`, `register` without an e-mail) is applied
 *   twice if its first run committed. Read the member (`get`, its history)
 *   before running such a command again.
 *
 * `createLethe` never retries this error by itself (it retries only
 * `ConcurrencyConflict`).
 *
 * @example
 * ```ts
 * lethe.get(memberId).catch((e) => {
 *   if (e._tag === "StoreUnavailable") return retryLater() // a read: safe to retry
 *   throw e
 * })
 * ```
 */
export class StoreUnavailable extends Schema.TaggedError<StoreUnavailable>()("StoreUnavailable", {
  /** The adapter's name (`LetheStore.name`): "postgres", "sqlite"... */
  store: Schema.String,
  operation: Schema.String,
  detail: Schema.String,
}) {
  override get message() {
    return `The ${this.store} store is unavailable during ${this.operation} (retry later): ${this.detail}`
  }
}

/**
 * The keyring does not open this store: the store records a key check for
 * every key-encryption key it was written under (docs/design.md §3.1), and
 * none of them opens with this keyring, or opens to what this keyring's
 * blind-index key gives. Most often `LETHE_SECRET` is not the secret the
 * store was written with. Raised when Lethe is built over the store, before
 * anything is read or written: a store opened under the wrong secret would
 * otherwise find no one by e-mail and let a second member take a held one.
 *
 * @example
 * ```ts
 * await createLethe({ store, keyring }).catch((e) => {
 *   if (e._tag === "KeyringMismatch") console.error(e.message) // "this store was written with another secret ..."
 * })
 * ```
 */
export class KeyringMismatch extends Schema.TaggedError<KeyringMismatch>()("KeyringMismatch", {
  /** The key-encryption keys the store has key checks for. */
  recorded: Schema.Array(Schema.String),
}) {
  override get message() {
    return `this store was written with another secret: none of its key checks (${this.recorded.join(", ")}) opens with this keyring; nothing was written`
  }
}

/** A data key was destroyed: nothing can be sealed under (member, category) again. */
export class KeyDestroyed extends Schema.TaggedError<KeyDestroyed>()("KeyDestroyed", {
  keyId: Schema.String,
}) {
  override get message() {
    return `Key ${this.keyId} was destroyed`
  }
}

/** A key with this id is already stored (two writers minted it at once; the loser re-reads). */
export class KeyExists extends Schema.TaggedError<KeyExists>()("KeyExists", {
  keyId: Schema.String,
}) {
  override get message() {
    return `Key ${this.keyId} already exists`
  }
}

/** A stored event or sealed value was changed: it fails its authentication or its hash chain. */
export class IntegrityError extends Schema.TaggedError<IntegrityError>()("IntegrityError", {
  streamId: Schema.String,
  version: Schema.Number,
  detail: Schema.String,
}) {
  override get message() {
    return `Event ${this.streamId}@${this.version} was tampered with: ${this.detail}`
  }
}

/** An erasure did not leave the member's data unreadable; it is reported, never passed off as done. */
export class ErasureIncomplete extends Schema.TaggedError<ErasureIncomplete>()("ErasureIncomplete", {
  memberId: Schema.String,
  detail: Schema.String,
}) {
  override get message() {
    return `Erasure of member ${this.memberId} is incomplete: ${this.detail}`
  }
}

/** A receipt was asked for a member whose data is not erased (yet). */
export class NotErased extends Schema.TaggedError<NotErased>()("NotErased", {
  memberId: Schema.String,
  status: MemberStatus,
}) {
  override get message() {
    return `Member ${this.memberId} is ${this.status}: no erasure to prove yet`
  }
}

/** A message id that no member received. */
export class MessageNotFound extends Schema.TaggedError<MessageNotFound>()("MessageNotFound", {
  messageId: Schema.String,
}) {
  override get message() {
    return `No message ${this.messageId}`
  }
}

/** Why an export link is refused (R13). */
export const ExportLinkProblem = Schema.Literal("expired", "tampered", "malformed")
export type ExportLinkProblem = typeof ExportLinkProblem.Type

/**
 * An export link that is past its expiry, was changed, or is not a link at all (R13).
 * Nothing is exported and nothing is written.
 *
 * @example
 * ```ts
 * lethe.redeemExportLink(token).catch((e) => {
 *   if (e._tag === "ExportLinkInvalid" && e.reason === "expired") askForANewLink()
 * })
 * ```
 */
export class ExportLinkInvalid extends Schema.TaggedError<ExportLinkInvalid>()("ExportLinkInvalid", {
  reason: ExportLinkProblem,
}) {
  override get message() {
    return `Export link refused: ${this.reason}`
  }
}

/** Why a retention policy leaves a member alone although its directory query selected it. */
export const RetentionBlocker = Schema.Literal("ProcessingRestricted")
export type RetentionBlocker = typeof RetentionBlocker.Type

/**
 * A retention policy skipped a member: processing is restricted (art. 18, R23),
 * so no policy forgets or anonymizes it. Staff can still act on the member.
 */
export class RetentionBlocked extends Schema.TaggedError<RetentionBlocked>()("RetentionBlocked", {
  memberId: Schema.String,
  policyId: Schema.String,
  reasons: Schema.NonEmptyArray(RetentionBlocker),
}) {
  override get message() {
    return `Policy ${this.policyId} leaves member ${this.memberId} alone: ${this.reasons.join(", ")}`
  }
}

/**
 * Refusals `decide` can return. `InvalidCommand` is among them for what only the member's state can tell
 * wrong, e.g. an `occurredAt` before the member's registration (R38).
 */
export type DomainError =
  | AnonymizationBlocked
  | ErasureBlocked
  | MessageRefused
  | MemberErased
  | MemberNotFound
  | NotPermitted
  | RestoreWindowExpired
  | NothingToRestore
  | NotPurgeable
  | ExplicitConsentRequired
  | UnknownPurpose
  | UnknownWordingVersion
  | ExplicitFlagRequired
  | BasisNotAllowed
  | InsufficientFunds
  | WalletLimitExceeded
  | UnknownReference
  | DuplicateReference
  | InvalidCommand

/** Everything a Lethe operation can fail with. */
export type LetheError =
  | DomainError
  | EmailTaken
  | InvalidCommand
  | ConcurrencyConflict
  | StoreError
  | StoreUnavailable
  | KeyDestroyed
  | KeyExists
  | IntegrityError
  | ErasureIncomplete
  | NotErased
  | MessageNotFound
  | ExportLinkInvalid
  | RetentionBlocked
  | KeyringMismatch
