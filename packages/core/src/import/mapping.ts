/**
 * Which column of a contact file says what (R43): Lethe's own layout, the presets for the exports other
 * marketing tools document (Mailchimp's audience export, HubSpot's contacts export, Brevo's contacts
 * export), or a column map given by the caller. A column no field maps is ignored and listed in the
 * import's report.
 *
 * @module
 */
import { Schema } from "effect"

/**
 * What a column can say about a contact. `firstName` and `lastName` are joined into the name; `status` holds
 * a status word (`subscribed`, `unsubscribed`, `cleaned`, `bounced`, `blocklisted`, `complained`) and
 * `statusAt` its date.
 */
export const ContactField = Schema.Literal(
  "email",
  "name",
  "firstName",
  "lastName",
  "phone",
  "purpose",
  "givenAt",
  "sourceTag",
  "wordingVersion",
  "basis",
  "status",
  "statusAt",
)
export type ContactField = typeof ContactField.Type

/**
 * What an opt-out row becomes: `unsubscribed`, an unsubscribe from the purpose; the others, a suppression of
 * the address (`ContactSuppressed`). Never a consent.
 */
export const OptOutStatus = Schema.Literal("unsubscribed", "bounced", "cleaned", "blocklisted", "complained")
export type OptOutStatus = typeof OptOutStatus.Type

/** The columns a field may be read from: the first that holds a value, row by row. Names ignore case. */
const Columns = Schema.Union(
  Schema.String.pipe(Schema.minLength(1)),
  Schema.NonEmptyArray(Schema.String.pipe(Schema.minLength(1))),
)

/**
 * A column that gives a row an opt-out status when it holds a value: a `date` (the status's date, e.g.
 * Mailchimp's `UNSUB_TIME`), a `flag` (`true`, `yes`, `1`: HubSpot's "Unsubscribed from all email"), or
 * `any` text (HubSpot's "Email hard bounce reason"). With `marksFile`, the column's presence in the header
 * marks every row, even one whose cell is empty: Mailchimp's unsubscribed and cleaned files are opt-outs
 * through and through, and a row that lost its date must not become a consent.
 */
export const StatusColumn = Schema.Struct({
  column: Columns,
  status: OptOutStatus,
  holds: Schema.Literal("date", "flag", "any"),
  marksFile: Schema.optional(Schema.Boolean),
})
export type StatusColumn = typeof StatusColumn.Type

/**
 * How a file's columns map onto a contact (R43).
 *
 * @example
 * ```ts
 * const mapping: ColumnMapping = {
 *   columns: { email: "E-mail", firstName: "Imię", lastName: "Nazwisko", givenAt: "Data zapisu" },
 *   statusColumns: [{ column: "Wypisany", status: "unsubscribed", holds: "date" }],
 *   dateFormats: ["dd.MM.yyyy HH:mm"],
 * }
 * ```
 */
export const ColumnMapping = Schema.Struct({
  /** For each field, its column or columns (the first holding a value wins, row by row). */
  columns: Schema.partial(Schema.Record({ key: ContactField, value: Columns })),
  /** Columns that mark a row unsubscribed or suppressed when they hold a value. */
  statusColumns: Schema.optional(Schema.Array(StatusColumn)),
  /** date-fns patterns of the file's dates, tried in order; absent: ISO 8601. */
  dateFormats: Schema.optional(Schema.Array(Schema.String)),
  /** The zone the tool writes its times in, when it documents one; the `timeZone` option overrides it. */
  timeZone: Schema.optional(Schema.String),
})
export type ColumnMapping = typeof ColumnMapping.Type

/** The exports Lethe reads as they come (R43). */
export const MappingPreset = Schema.Literal("mailchimp", "hubspot", "brevo")
export type MappingPreset = typeof MappingPreset.Type

/** Lethe's own layout (docs/contacts-import.md): lower-case, snake_case columns, ISO 8601 dates. */
export const nativeMapping: ColumnMapping = {
  columns: {
    email: "email",
    name: "name",
    phone: "phone",
    purpose: "purpose",
    givenAt: "given_at",
    sourceTag: "source_tag",
    wordingVersion: "wording_version",
    basis: "basis",
    status: "status",
    statusAt: "status_at",
  },
}

/**
 * The presets, from the tools' documented exports. Mailchimp exports an audience as three files
 * (subscribed, unsubscribed, cleaned) of the same columns, the last two with `UNSUB_TIME` or `CLEAN_TIME`,
 * its times `yyyy-MM-dd HH:mm:ss` in UTC. HubSpot writes times in the account's zone, which the caller
 * must name. Brevo writes `dd-MM-yyyy HH:mm:ss` (its French-, German- and Spanish-language accounts name
 * the columns in their language) in the account's zone.
 */
export const presets: Readonly<Record<MappingPreset, ColumnMapping>> = {
  mailchimp: {
    columns: {
      email: "Email Address",
      firstName: "First Name",
      lastName: "Last Name",
      phone: "Phone Number",
      // Double opt-in: consent is given when the person confirms; single opt-in leaves CONFIRM_TIME empty.
      givenAt: ["CONFIRM_TIME", "OPTIN_TIME"],
    },
    statusColumns: [
      { column: "UNSUB_TIME", status: "unsubscribed", holds: "date", marksFile: true },
      { column: "CLEAN_TIME", status: "cleaned", holds: "date", marksFile: true },
    ],
    dateFormats: ["yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-dd"],
    timeZone: "UTC",
  },
  hubspot: {
    columns: {
      email: "Email",
      firstName: "First Name",
      lastName: "Last Name",
      phone: ["Phone Number", "Mobile Phone Number"],
      givenAt: "Create Date",
      basis: "Legal basis for processing contact's data",
    },
    statusColumns: [
      { column: "Unsubscribed from all email", status: "unsubscribed", holds: "flag" },
      { column: "Email hard bounce reason", status: "bounced", holds: "any" },
      { column: "Email address quarantined", status: "blocklisted", holds: "flag" },
    ],
    dateFormats: ["yyyy-MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd"],
  },
  brevo: {
    columns: {
      email: "EMAIL",
      firstName: ["FIRSTNAME", "PRENOM", "VORNAME", "NOMBRE"],
      lastName: ["LASTNAME", "NOM", "NACHNAME", "APELLIDOS"],
      phone: ["SMS", "WHATSAPP"],
      givenAt: ["OPT_IN_DATE", "ADDED_TIME"],
    },
    statusColumns: [
      {
        column: ["EMAIL_BLACKLISTED", "EMAIL_BLOCKLISTED", "BLACKLISTED"],
        status: "blocklisted",
        holds: "flag",
      },
      { column: ["HARD_BOUNCE", "HARDBOUNCE"], status: "bounced", holds: "flag" },
    ],
    dateFormats: [
      "dd-MM-yyyy HH:mm:ss",
      "dd-MM-yyyy HH:mm",
      "dd-MM-yyyy",
      "yyyy-MM-dd HH:mm:ss",
      "yyyy-MM-dd",
    ],
  },
}

/** A field's columns as a list. */
export const columnsOf = (columns: string | ReadonlyArray<string> | undefined): ReadonlyArray<string> =>
  columns === undefined ? [] : typeof columns === "string" ? [columns] : columns

/** A status word of a `status` column, as the tools write it; undefined for one Lethe does not know. */
export const statusWord = (text: string): "subscribed" | OptOutStatus | undefined => {
  const word = text
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, " ")
  switch (word) {
    case "subscribed":
    case "active":
    case "opted in":
    case "opt in":
      return "subscribed"
    case "unsubscribed":
    case "opted out":
    case "opt out":
      return "unsubscribed"
    case "cleaned":
      return "cleaned"
    case "bounced":
    case "hard bounce":
    case "hard bounced":
      return "bounced"
    case "blocklisted":
    case "blacklisted":
    case "blocked":
      return "blocklisted"
    case "complained":
    case "spam":
    case "spam complaint":
    case "spam report":
      return "complained"
    default:
      return undefined
  }
}

/** Whether a flag column says yes. */
export const isYes = (text: string): boolean =>
  ["true", "yes", "y", "1", "x"].includes(text.trim().toLowerCase())

/**
 * A lawful basis as a `basis` column writes it: Lethe's own tokens, spaces for hyphens, and HubSpot's
 * phrases ("Freely given consent from contact", "Legitimate interest – existing customer", "Performance of a
 * contract"); null for an empty cell or "Not applicable" (the purpose's default), undefined for anything else.
 */
export const basisWord = (
  text: string,
): "consent" | "legitimate-interest" | "contract" | null | undefined => {
  const word = text
    .trim()
    .toLowerCase()
    .replace(/[\s_–—-]+/g, " ")
  if (word === "" || word === "not applicable") return null
  if (word === "consent" || word === "freely given consent from contact") return "consent"
  if (word === "legitimate interest" || word.startsWith("legitimate interest ")) return "legitimate-interest"
  if (word === "contract" || word === "performance of a contract") return "contract"
  return undefined
}
