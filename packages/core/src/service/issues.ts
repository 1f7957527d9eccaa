/**
 * Readable refusals (R45): what a Schema found wrong with an operation's
 * input, as short issues a person can act on, one per field:
 * `{ path: "amount", message: "must be an integer (got 12.5)" }`.
 *
 * Built on Effect's `ParseResult.ArrayFormatter` (one issue per failed check,
 * with its path), then made short: the alternatives of a union are merged
 * into one issue ("must be one of link, staff"), the schema's own wording is
 * rephrased to follow the path ("Expected an integer, actual 12.5" becomes
 * "must be an integer (got 12.5)"), and what was given is echoed at most
 * {@link echoLength} characters long. A personal value (`personal.*`,
 * `fields.*`, `details.*`, a reason, a confirmed e-mail) is never echoed:
 * only its kind or its length, so a refusal can be logged without copying
 * personal data into the log.
 *
 * @module
 */
import { ParseResult } from "effect"
import type { CommandIssue } from "../errors.js"

/** The most characters of a given value an issue repeats. */
export const echoLength = 40

/** The most characters of one issue's message. */
const issueLength = 200

/** Command fields whose values are personal data: never echoed. */
const personalFields: ReadonlySet<string> = new Set([
  "personal",
  "fields",
  "details",
  "reason",
  "confirmEmail",
])

/** How `issuesOf` reads a command's paths. */
export interface IssueOptions {
  /** Command paths reported under the name the caller knows (`personal.email` → `email` for `subscribe`). */
  readonly rename?: Readonly<Record<string, string>>
  /** Paths the caller gave as a `Date` (the command holds epoch milliseconds): NaN reads "must be a valid Date". */
  readonly dates?: ReadonlyArray<string>
}

/** `text` cut to `max` characters, the cut marked with "…"; control characters become spaces. */
export const clip = (text: string, max: number): string => {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, " ")
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`
}

/** What kind of value this is, without its content: "a number", "a list", "an object"... */
export const kindOf = (value: unknown): string => {
  if (value === null) return "null"
  if (Array.isArray(value)) return "a list"
  if (value instanceof Date) return "a Date"
  switch (typeof value) {
    case "string":
      return `a text of ${value.length} characters`
    case "number":
      return "a number"
    case "boolean":
      return "a boolean"
    case "bigint":
      return "a bigint"
    case "symbol":
      return "a symbol"
    case "function":
      return "a function"
    case "undefined":
      return "undefined"
    default:
      return "an object"
  }
}

/** A value as an issue repeats it: numbers as they print, anything else as (cut) JSON, or its kind. */
export const describeValue = (value: unknown): string => {
  switch (typeof value) {
    case "number":
    case "boolean":
    case "undefined":
      return String(value)
    case "bigint":
      return `${value}n`
    case "symbol":
    case "function":
      return kindOf(value)
    case "string":
      // Cut before quoting, so the quotes stay; escapes may lengthen it, never past twice the length.
      return clip(
        JSON.stringify(value.length > echoLength ? `${value.slice(0, echoLength - 1)}…` : value),
        echoLength * 2,
      )
    default: {
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString()
      try {
        const json = JSON.stringify(value)
        return json === undefined ? kindOf(value) : clip(json, echoLength)
      } catch {
        return kindOf(value)
      }
    }
  }
}

/** A path as a person writes it: `amount`, `personal.email`, `categories[1]`, `fields["first name"]`. */
export const pathText = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>((text, key) => {
    if (typeof key === "number") return `${text}[${key}]`
    const name = String(key)
    if (/^[A-Za-z_$][\w$]*$/.test(name) && name.length <= echoLength)
      return text === "" ? name : `${text}.${name}`
    return `${text}[${clip(JSON.stringify(name), echoLength)}]`
  }, "")

/** The value at `path` in `input`, if there is one (own properties only). */
const valueAt = (
  input: unknown,
  path: ReadonlyArray<PropertyKey>,
): { readonly value: unknown } | undefined => {
  let value = input
  for (const key of path) {
    if (typeof value !== "object" || value === null || !Object.hasOwn(value, key)) return undefined
    value = (value as Record<PropertyKey, unknown>)[key]
  }
  return { value }
}

/** "Expected X, actual Y" → X; undefined for a message of another shape (a schema's own message). */
const expectation = (message: string): string | undefined => {
  if (!message.startsWith("Expected ")) return undefined
  const end = message.indexOf(", actual ")
  return end < 0 ? undefined : message.slice("Expected ".length, end)
}

const isLiteral = (expected: string): boolean => expected.startsWith('"') && expected.endsWith('"')

/** A schema's description as a noun phrase: "number" → "a number", a struct → "an object". */
const noun = (expected: string): string => {
  if (isLiteral(expected)) return expected
  if (/^(string|number|boolean|bigint|symbol)$/.test(expected)) return `a ${expected}`
  if (expected === "object") return "an object"
  if (expected.startsWith("{")) return "an object"
  if (expected.startsWith("readonly [") || expected.startsWith("ReadonlyArray<")) return "a list"
  return clip(expected, 80)
}

/** Alternatives as one phrase: "one of link, staff", "a string or null". */
const alternatives = (expected: ReadonlyArray<string>): string => {
  // A union of literals may come as one description: "\"a\" | \"b\"".
  const unique = [
    ...new Set(
      expected.flatMap((e) => {
        const literals = e.split(" | ")
        return literals.length > 1 && literals.every(isLiteral) ? literals : [e]
      }),
    ),
  ]
  if (unique.length > 1 && unique.every(isLiteral))
    return `one of ${unique.map((e) => e.slice(1, -1)).join(", ")}`
  const phrases = unique.map(noun)
  return phrases.length <= 1
    ? (phrases[0] ?? "valid")
    : `${phrases.slice(0, -1).join(", ")} or ${phrases.at(-1)}`
}

interface Given {
  /** The value at the issue's path, when the input has one. */
  readonly found: { readonly value: unknown } | undefined
  readonly personal: boolean
  readonly date: boolean
}

/** "(got 12.5)", or the value's kind for a personal value, or nothing when there is no value to show. */
const got = ({ found, personal }: Given): string => {
  if (found === undefined) return ""
  const { value } = found
  if (personal) return typeof value === "string" ? "" : ` (got ${kindOf(value)})`
  return ` (got ${describeValue(value)})`
}

const lengthOf = ({ found }: Given): string =>
  typeof found?.value === "string" ? ` (got ${found.value.length})` : ` (got ${kindOf(found?.value)})`

const emptyList = "must not be empty"

/** One failed check, said after its path. */
const phrase = (message: string, given: Given): string => {
  const expected = expectation(message)
  // A schema's own message ("must be an e-mail address") is kept; an old-style "expected ..." reads as "must be ...".
  if (expected === undefined) return message.replace(/^expected /i, "must be ")
  const value = given.found?.value
  if (given.date && typeof value === "number") {
    if (Number.isNaN(value)) return "must be a valid Date"
    if (value < 0) return `must not be before 1970 (got ${new Date(value).toISOString()})`
  }
  const atLeast = /^a string at least (\d+) character\(s\) long$/.exec(expected)
  if (atLeast !== null)
    return value === "" ? "must not be empty" : `must be at least ${atLeast[1]} characters${lengthOf(given)}`
  const atMost = /^a string at most (\d+) character\(s\) long$/.exec(expected)
  if (atMost !== null) return `must be at most ${atMost[1]} characters${lengthOf(given)}`
  if (expected === "a string with no leading or trailing whitespace")
    return `must not start or end with a space${got(given)}`
  return `must be ${noun(expected)}${got(given)}`
}

/** The issues of every check on one path, as one message. */
const messageOf = (issues: ReadonlyArray<ParseResult.ArrayFormatterIssue>, given: Given): string => {
  if (issues.some((issue) => issue._tag === "Missing")) return "is missing"
  // A check of a refinement means the value had the right type: the union's other members are noise.
  const checks = issues.filter((issue) => issue._tag !== "Type")
  const [first] = checks
  if (first !== undefined) return phrase(first.message, given)
  const expected = issues.flatMap((issue) => {
    const e = expectation(issue.message)
    return e === undefined ? [] : [e]
  })
  if (expected.length < issues.length) return phrase(issues[0]?.message ?? "is invalid", given)
  // A required field left out (or given as undefined).
  if (given.found?.value === undefined && !expected.includes("undefined")) return "is missing"
  // An optional field accepts undefined as well: not worth saying.
  const wanted = expected.length > 1 ? expected.filter((e) => e !== "undefined") : expected
  return `must be ${alternatives(wanted)}${got(given)}`
}

/**
 * The issues of a failed decode of `input`, one per path, in the order the
 * schema met them. Decode with `{ errors: "all" }` to have every field's.
 *
 * @example
 * ```ts
 * issuesOf(error, { _tag: "CreditWallet", amount: 12.5 })
 * // [{ path: "amount", message: "must be an integer (got 12.5)" }]
 * ```
 */
export const issuesOf = (
  error: ParseResult.ParseError,
  input: unknown,
  options: IssueOptions = {},
): ReadonlyArray<CommandIssue> => {
  const groups = new Map<
    string,
    { readonly path: ReadonlyArray<PropertyKey>; readonly issues: Array<ParseResult.ArrayFormatterIssue> }
  >()
  for (const issue of ParseResult.ArrayFormatter.formatErrorSync(error)) {
    // The first element of a non-empty list is missing: the list is empty, which is said of the list.
    const parent = issue.path.slice(0, -1)
    const list =
      issue._tag === "Missing" && issue.path.at(-1) === 0 ? valueAt(input, parent)?.value : undefined
    const [path, said] =
      Array.isArray(list) && list.length === 0
        ? [parent, { ...issue, _tag: "Refinement" as const, path: parent, message: emptyList }]
        : [issue.path, issue]
    const key = pathText(path)
    const group = groups.get(key)
    if (group === undefined) groups.set(key, { path, issues: [said] })
    else group.issues.push(said)
  }
  return [...groups].map(([key, { path, issues }]) => {
    const given: Given = {
      found: valueAt(input, path),
      personal: typeof path[0] === "string" && personalFields.has(path[0]),
      date: options.dates?.includes(key) === true,
    }
    return { path: options.rename?.[key] ?? key, message: clip(messageOf(issues, given), issueLength) }
  })
}
