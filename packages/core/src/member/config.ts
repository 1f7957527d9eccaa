/**
 * What `decide` is told besides the state and the command: the time, who acts,
 * and the tenant's configuration (consent catalogue, permissions, deadlines).
 *
 * @module
 */
import type { LawfulBasis, PersonalCategory } from "./events.js"

/** Privileged operations (R8, R26). */
export type Permission = "member:forget" | "member:anonymize" | "member:restore" | "member:export"

/** Every permission, in a stable order. */
export const allPermissions: ReadonlyArray<Permission> = [
  "member:forget",
  "member:anonymize",
  "member:restore",
  "member:export",
]

/** Who acts: the embedding application's user (or a system job), with its roles. */
export interface Actor {
  readonly id: string
  readonly roles: ReadonlyArray<string>
}

/** The role Lethe's own jobs (retention runs) act under; it holds every permission. */
export const systemRole = "lethe:system"

/** One purpose of the consent catalogue (R16, R17, R31, R33). */
export interface PurposeDefinition {
  readonly purpose: string
  readonly description: string
  /** Lawful bases a consent record for this purpose may cite; the first is the default. */
  readonly bases: ReadonlyArray<LawfulBasis>
  /**
   * A basis that allows messaging without a consent record (R16), e.g. legitimate
   * interest for marketing to own customers. Unsubscribing still stops it (R4).
   */
  readonly standingBasis?: {
    readonly basis: Exclude<LawfulBasis, "consent">
    /** Only members who are customers (signed a contract or bought) are covered. */
    readonly customersOnly: boolean
  }
  /** Wording versions shown to people; a consent cites one of them. */
  readonly wordingVersions: ReadonlyArray<string>
  /** The consent must be explicit (art. 9). */
  readonly explicit: boolean
  /** Special categories of data this purpose's consent allows recording (R17). */
  readonly covers: ReadonlyArray<PersonalCategory>
  /** Depends on profiling: refused while profiling is disabled for the member (R31). */
  readonly profiling: boolean
}

/** The consent catalogue, by purpose. */
export type ConsentCatalogue = Readonly<Record<string, PurposeDefinition>>

/**
 * The catalogue's definition of `purpose`, or undefined when it has none
 * (R33). Own entries only: "constructor" or "__proto__" is an unknown purpose,
 * not a property every object inherits.
 */
export const purposeDefinition = (
  catalogue: ConsentCatalogue,
  purpose: string,
): PurposeDefinition | undefined => (Object.hasOwn(catalogue, purpose) ? catalogue[purpose] : undefined)

/** Per-club settings the guards need. */
export interface ClubSettings {
  /** Whether the club hands unpaid instalments to debt collection (R27). */
  readonly debtCollection: boolean
}

/** The tenant's configuration as `decide` sees it. */
export interface DomainConfig {
  /** Days after `Forgotten` during which the member can be restored (R5). Default 7. */
  readonly restoreWindowDays: number
  /** Days to fulfil an erasure request (R11). Default 30. */
  readonly erasureDeadlineDays: number
  /** Days to fulfil an access request (art. 12(3)). Default 30. */
  readonly accessDeadlineDays: number
  readonly consentCatalogue: ConsentCatalogue
  /** Permissions granted to each role (R26). */
  readonly permissions: Readonly<Record<string, ReadonlyArray<Permission>>>
  /** Clubs not listed use debt collection. */
  readonly clubs: Readonly<Record<string, ClubSettings>>
}

/** Everything `decide` needs besides state and command. */
export interface DecideContext {
  /** Epoch milliseconds. */
  readonly now: number
  readonly actor: Actor
  readonly config: DomainConfig
}

const purpose = (
  definition: Pick<PurposeDefinition, "purpose" | "description"> & Partial<PurposeDefinition>,
): PurposeDefinition => ({
  bases: ["consent"],
  wordingVersions: ["v1"],
  explicit: false,
  covers: [],
  profiling: false,
  ...definition,
})

/** A catalogue that covers common purposes; applications replace it with their own. */
export const defaultConsentCatalogue: ConsentCatalogue = Object.fromEntries(
  [
    purpose({ purpose: "newsletter", description: "E-mail newsletter" }),
    purpose({
      purpose: "marketing",
      description: "Offers to customers, by e-mail",
      bases: ["consent", "legitimate-interest"],
      standingBasis: { basis: "legitimate-interest", customersOnly: true },
    }),
    purpose({ purpose: "sms", description: "Text messages" }),
    purpose({ purpose: "profiling", description: "Personalised offers from behaviour", profiling: true }),
    purpose({
      purpose: "service",
      description: "Messages about the member's contract and purchases",
      bases: ["contract"],
      standingBasis: { basis: "contract", customersOnly: true },
    }),
    purpose({
      purpose: "health-data",
      description: "Training and health measurements",
      explicit: true,
      covers: ["health"],
    }),
    purpose({
      purpose: "sensitive-data",
      description: "Ethnic origin, political opinions or religious beliefs, where the service needs them",
      explicit: true,
      covers: ["ethnicOrigin", "politicalOpinions", "religiousBeliefs"],
    }),
  ].map((p) => [p.purpose, p]),
)

/** Defaults of docs/design.md §2b: 7-day restore window, 30-day deadlines, admins hold every permission. */
export const defaultDomainConfig: DomainConfig = {
  restoreWindowDays: 7,
  erasureDeadlineDays: 30,
  accessDeadlineDays: 30,
  consentCatalogue: defaultConsentCatalogue,
  permissions: { admin: allPermissions },
  clubs: {},
}

/** Milliseconds in a day. */
export const dayMs = 86_400_000

/**
 * How far ahead of the clock a date a command carries may lie (the clocks of two machines differ): 5
 * minutes. A request's `receivedAt` and a fact's `occurredAt` (R38) beyond it are refused.
 */
export const clockSkew = 5 * 60 * 1000
