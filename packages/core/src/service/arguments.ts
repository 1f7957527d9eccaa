/**
 * The shape of every operation's arguments, checked in one place before the
 * operation runs (R45): an id or a text where one is expected, an object
 * (never null, a list or a string) for an input or options, and a
 * well-formed actor (`id` a non-empty string, `roles` a list of strings).
 * Anything else is `InvalidCommand` naming the argument, never a throw.
 * Ids are the domain's `Id` (trimmed, 1 to 200 characters) wherever given.
 * The fields inside an input are each command's Schema's to check.
 *
 * @module
 */
import { Effect, Schema } from "effect"
import type { CommandIssue } from "../errors.js"
import { InvalidCommand } from "../errors.js"
import { Id, maxTokenLength, Token } from "../member/events.js"
import { clip, describeValue, kindOf } from "./issues.js"
import type { LetheImplementation, LetheService } from "./service.js"

/**
 * One argument: `id` a non-empty text (a member, message or tenant id, a
 * tenant), `token` an export link's token, `text` any text, `content` a text or its bytes (a file), `ids` a
 * list, `input` an object, `options` an object or nothing.
 */
type Argument = "id" | "token" | "text" | "content" | "ids" | "input" | "options"

const isId = Schema.is(Id)
const isToken = Schema.is(Token)

/** What a token must look like, said after its path. */
const tokenRule = `must be a token: a letter or digit, then letters, digits and _ . : / - (at most ${maxTokenLength} characters)`

/**
 * The problem of a token stored in clear in every event's metadata or data (an actor id, a correlation
 * id, a source tag): absent, or a {@link Token} (docs/design.md §2.1). A longer or freer text is refused,
 * never cut, so nothing personal and nothing unbounded reaches the log (R29).
 */
export const tokenIssues = (path: string, value: unknown): ReadonlyArray<CommandIssue> =>
  value === undefined || isToken(value)
    ? []
    : [
        {
          path,
          message: `${tokenRule} ${typeof value === "string" ? `(got ${value.length} characters)` : got(value)}`,
        },
      ]

type Operations = Exclude<keyof LetheService, "config">

/** Each operation's arguments, by name and kind. */
const signatures: Readonly<Record<Operations, ReadonlyArray<readonly [string, Argument]>>> = {
  register: [["input", "input"]],
  subscribe: [["input", "input"]],
  recordPersonalData: [
    ["memberId", "id"],
    ["input", "input"],
  ],
  erasePersonalData: [
    ["memberId", "id"],
    ["input", "input"],
  ],
  giveConsent: [
    ["memberId", "id"],
    ["input", "input"],
  ],
  withdrawConsent: [
    ["memberId", "id"],
    ["input", "input"],
  ],
  unsubscribe: [
    ["memberId", "id"],
    ["input", "input"],
  ],
  disableProfiling: [
    ["memberId", "id"],
    ["input", "options"],
  ],
  enableProfiling: [
    ["memberId", "id"],
    ["input", "options"],
  ],
  signContract: [
    ["memberId", "id"],
    ["input", "input"],
  ],
  endContract: [
    ["memberId", "id"],
    ["input", "input"],
  ],
  creditWallet: [
    ["memberId", "id"],
    ["input", "input"],
  ],
  debitWallet: [
    ["memberId", "id"],
    ["input", "input"],
  ],
  openDebtCase: [
    ["memberId", "id"],
    ["input", "input"],
  ],
  closeDebtCase: [
    ["memberId", "id"],
    ["input", "input"],
  ],
  recordPurchase: [
    ["memberId", "id"],
    ["input", "input"],
  ],
  markPurchasePaid: [
    ["memberId", "id"],
    ["input", "input"],
  ],
  recordMissedInstalment: [
    ["memberId", "id"],
    ["input", "input"],
  ],
  markInstalmentPaid: [
    ["memberId", "id"],
    ["input", "input"],
  ],
  recordActivity: [
    ["memberId", "id"],
    ["input", "input"],
  ],
  sendMessage: [
    ["memberId", "id"],
    ["input", "input"],
  ],
  restrictProcessing: [
    ["memberId", "id"],
    ["input", "input"],
  ],
  liftRestriction: [
    ["memberId", "id"],
    ["input", "options"],
  ],
  requestErasure: [
    ["memberId", "id"],
    ["input", "input"],
  ],
  requestAccess: [
    ["memberId", "id"],
    ["input", "input"],
  ],
  confirmSystem: [
    ["memberId", "id"],
    ["input", "input"],
  ],
  forget: [
    ["memberId", "id"],
    ["input", "input"],
  ],
  forgetMany: [
    ["memberIds", "ids"],
    ["input", "input"],
  ],
  restore: [
    ["memberId", "id"],
    ["input", "input"],
  ],
  anonymize: [
    ["memberId", "id"],
    ["input", "input"],
  ],
  purge: [
    ["memberId", "id"],
    ["input", "input"],
  ],
  exportMember: [
    ["memberId", "id"],
    ["input", "input"],
  ],
  createExportLink: [
    ["memberId", "id"],
    ["input", "input"],
  ],
  get: [["memberId", "id"]],
  findByEmail: [
    ["tenantId", "id"],
    ["email", "text"],
  ],
  search: [
    ["tenantId", "id"],
    ["text", "text"],
    ["options", "options"],
  ],
  proveMessage: [["messageId", "id"]],
  erasureReceipt: [["memberId", "id"]],
  redeemExportLink: [["token", "token"]],
  importCsv: [
    ["csvText", "content"],
    ["input", "input"],
  ],
  runRetention: [["options", "options"]],
  dataMap: [["options", "options"]],
  overdueErasureRequests: [],
  openRequests: [],
  checkpoint: [],
  catchUpProjection: [
    ["name", "id"],
    ["options", "options"],
  ],
  followProjection: [
    ["name", "id"],
    ["options", "options"],
  ],
  rebuildProjection: [
    ["name", "id"],
    ["options", "options"],
  ],
  projectionStatus: [["name", "id"]],
  readProjection: [["name", "id"]],
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date)

const got = (value: unknown) => `(got ${describeValue(value)})`

/** The problems of an actor: it must be `{ id: non-empty text, roles: list of texts }`. */
export const actorIssues = (actor: unknown, path = "actor"): ReadonlyArray<CommandIssue> => {
  if (!isObject(actor)) return [{ path, message: `must be an object with an id and roles ${got(actor)}` }]
  const issues: Array<CommandIssue> = []
  const id = actor.id
  if (typeof id !== "string" || id.trim() === "")
    issues.push({ path: `${path}.id`, message: `must be a non-empty text ${got(id)}` })
  else issues.push(...tokenIssues(`${path}.id`, id))
  const roles = actor.roles
  if (!Array.isArray(roles))
    issues.push({ path: `${path}.roles`, message: `must be a list of texts ${got(roles)}` })
  else {
    const bad = roles.findIndex((role) => typeof role !== "string")
    if (bad >= 0) issues.push({ path: `${path}.roles[${bad}]`, message: `must be a text ${got(roles[bad])}` })
  }
  return issues
}

const argumentIssues = (name: string, kind: Argument, value: unknown): ReadonlyArray<CommandIssue> => {
  switch (kind) {
    case "id":
      return isId(value)
        ? []
        : [{ path: name, message: `must be an id, a trimmed text of 1 to 200 characters ${got(value)}` }]
    case "token":
      // Any text: one that is no token is the link's to refuse (`ExportLinkInvalid`, malformed).
      return typeof value === "string"
        ? []
        : [{ path: name, message: `must be a link's token ${got(value)}` }]
    case "text":
      return typeof value === "string" ? [] : [{ path: name, message: `must be a text ${got(value)}` }]
    case "content":
      return typeof value === "string" || value instanceof Uint8Array
        ? []
        : [{ path: name, message: `must be a text or its bytes (a Uint8Array) ${got(value)}` }]
    case "ids": {
      if (!Array.isArray(value)) return [{ path: name, message: `must be a list of ids ${got(value)}` }]
      const bad = value.findIndex((id) => !isId(id))
      return bad < 0 ? [] : [{ path: `${name}[${bad}]`, message: `must be an id ${got(value[bad])}` }]
    }
    case "input":
    case "options": {
      if (value === undefined && kind === "options") return []
      if (!isObject(value)) return [{ path: name, message: `must be an object (got ${kindOf(value)})` }]
      return [
        ...("actor" in value && value.actor !== undefined ? actorIssues(value.actor) : []),
        ...tokenIssues("correlationId", value.correlationId),
      ]
    }
  }
}

/** The most results one search returns, and the largest batch of a retention run. */
export const maxSearchLimit = 1000
export const maxBatchSize = 10_000
/** The longest pause of `followProjection` between two looks at the log: one hour. */
export const maxFollowIntervalMs = 3_600_000

/** The problems of a count option: absent, or an integer from 1 to `max`. */
const countIssues = (path: string, value: unknown, max: number): ReadonlyArray<CommandIssue> =>
  value === undefined || (Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= max)
    ? []
    : [{ path, message: `must be an integer from 1 to ${max} ${got(value)}` }]

/** The problems of the options of the operations that take some, beyond their being an object. */
const optionIssues: Partial<
  Record<Operations, (options: Record<string, unknown>) => ReadonlyArray<CommandIssue>>
> = {
  search: (options) => [
    ...countIssues("options.limit", options.limit, maxSearchLimit),
    ...(options.after === undefined || typeof options.after === "string"
      ? []
      : [{ path: "options.after", message: `must be a text ${got(options.after)}` }]),
  ],
  runRetention: (options) => [
    ...countIssues("options.batchSize", options.batchSize, maxBatchSize),
    ...(options.dryRun === undefined || typeof options.dryRun === "boolean"
      ? []
      : [{ path: "options.dryRun", message: `must be a boolean ${got(options.dryRun)}` }]),
    ...(options.onProgress === undefined || typeof options.onProgress === "function"
      ? []
      : [{ path: "options.onProgress", message: `must be a function ${got(options.onProgress)}` }]),
    ...policiesIssues(options.policies),
  ],
  dataMap: (options) => policiesIssues(options.policies),
  catchUpProjection: (options) => countIssues("options.batchSize", options.batchSize, maxBatchSize),
  rebuildProjection: (options) => countIssues("options.batchSize", options.batchSize, maxBatchSize),
  followProjection: (options) => [
    ...countIssues("options.batchSize", options.batchSize, maxBatchSize),
    ...countIssues("options.intervalMs", options.intervalMs, maxFollowIntervalMs),
    ...(options.signal === undefined ||
    typeof (options.signal as { readonly addEventListener?: unknown } | null)?.addEventListener === "function"
      ? []
      : [{ path: "options.signal", message: `must be an AbortSignal ${got(options.signal)}` }]),
  ],
  importCsv: (input) => [
    ...tokenIssues("source", input.source),
    ...(["purpose", "timeZone", "separator", "encoding"] as const).flatMap((key) =>
      input[key] === undefined || typeof input[key] === "string"
        ? []
        : [{ path: key, message: `must be a text ${got(input[key])}` }],
    ),
    ...(input.dateFormat === undefined ||
    typeof input.dateFormat === "string" ||
    (Array.isArray(input.dateFormat) && input.dateFormat.every((f) => typeof f === "string"))
      ? []
      : [
          {
            path: "dateFormat",
            message: `must be a date-fns pattern or a list of them ${got(input.dateFormat)}`,
          },
        ]),
    ...(input.mapping === undefined || typeof input.mapping === "string" || isObject(input.mapping)
      ? []
      : [{ path: "mapping", message: `must be a preset's name or a column map ${got(input.mapping)}` }]),
  ],
  unsubscribe: (input) => leavingIssues(input.leaving),
  withdrawConsent: (input) => leavingIssues(input.leaving),
  forget: (input) => leavingIssues(input.leaving),
  forgetMany: (input) => leavingIssues(input.leaving),
}

/** Why a person leaves, when given, is an object (its fields are the command Schema's to check). */
const leavingIssues = (leaving: unknown): ReadonlyArray<CommandIssue> =>
  leaving === undefined || isObject(leaving)
    ? []
    : [{ path: "leaving", message: `must be an object with why and, optionally, note ${got(leaving)}` }]

/** Policies, when given, are a list (each policy is the retention Schema's to check). */
const policiesIssues = (policies: unknown): ReadonlyArray<CommandIssue> =>
  policies === undefined || Array.isArray(policies)
    ? []
    : [{ path: "options.policies", message: `must be a list of policies ${got(policies)}` }]

/** The problems of an operation's arguments, or a reason they cannot be read. */
const issuesOfArguments = (
  operation: Operations,
  args: ReadonlyArray<unknown>,
): ReadonlyArray<CommandIssue> => {
  try {
    const issues = signatures[operation].flatMap(([name, kind], i) => argumentIssues(name, kind, args[i]))
    const options = optionIssues[operation]
    const last = args[signatures[operation].length - 1]
    return issues.length === 0 && options !== undefined && isObject(last) ? options(last) : issues
  } catch (e) {
    return [
      { path: "", message: `cannot be read (${clip(e instanceof Error ? e.message : String(e), 160)})` },
    ]
  }
}

/**
 * The service, each operation checking its arguments first: bad ones are
 * `InvalidCommand` naming the operation; and an operation that throws while
 * reading its input fails the same way instead of throwing. The result has
 * the public type, each operation's errors narrowed to
 * `LetheService.Errors` (docs/design.md §2b.5).
 */
export const guarded = (service: LetheImplementation): LetheService => {
  const out: Record<string, unknown> = { config: service.config }
  for (const operation of Object.keys(signatures) as ReadonlyArray<Operations>) {
    const method = service[operation] as (...args: ReadonlyArray<unknown>) => Effect.Effect<unknown, unknown>
    out[operation] = (...args: ReadonlyArray<unknown>) =>
      Effect.suspend(() => {
        const issues = issuesOfArguments(operation, args)
        if (issues.length > 0) return Effect.fail(new InvalidCommand({ command: operation, issues }))
        try {
          return method(...args)
        } catch (e) {
          return Effect.fail(
            new InvalidCommand({
              command: operation,
              issues: [
                {
                  path: "",
                  message: `cannot be read (${clip(e instanceof Error ? e.message : String(e), 160)})`,
                },
              ],
            }),
          )
        }
      })
  }
  return out as unknown as LetheService
}
