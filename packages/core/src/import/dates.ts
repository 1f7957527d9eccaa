/**
 * Reading the dates of a contact import (R6, R43): ISO 8601 as Lethe's own format writes it, the formats
 * other tools export (`13-01-2020 15:56:27`, `05.04.2023`, `4/5/2023`) as date-fns patterns, and the zone
 * a time without one is read in. A time without a zone is never read as UTC unsaid: the caller names the
 * zone, the format declares it (Mailchimp writes UTC), or the reading is counted and reported.
 *
 * @module
 */
import { TZDate, tz } from "@date-fns/tz"
import { isValid, parse } from "date-fns"
import { DateTime, Option } from "effect"

/**
 * The forms an ISO date may take: a date, or a date and a time to the minute, the second or a fraction of
 * it, with an offset (`Z`, `+02:00`, `+0200`) or none. The shape only: `DateTime` reads the value.
 */
const isoShape = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/

/**
 * An ISO 8601 date (`2024-05-25`, midnight UTC) or date and time
 * (`2024-05-25T10:00:00Z`, `2024-05-25 12:00+02:00`; no offset means UTC), as
 * epoch milliseconds; undefined for anything else, including dates that do
 * not exist such as 2024-02-30. Read by Effect's `DateTime`.
 */
export const parseIsoDate = (text: string): number | undefined => {
  const trimmed = text.trim()
  const shape = isoShape.exec(trimmed)
  if (shape === null) return undefined
  const zone = shape[1]
  const local = (zone === undefined ? trimmed : trimmed.slice(0, -zone.length)).replace(" ", "T")
  const offset =
    zone === undefined || zone === "Z"
      ? "+00:00"
      : zone.length === 5
        ? `${zone.slice(0, 3)}:${zone.slice(3)}`
        : zone
  if (Number(offset.slice(1, 3)) > 14) return undefined
  const parsed = DateTime.makeZonedFromString(`${local.length === 10 ? `${local}T00:00` : local}${offset}`)
  if (Option.isNone(parsed)) return undefined
  // A date or a time that does not exist (2024-02-30, 24:00) rolls over to another: read back in
  // the same offset, it no longer starts as it was written.
  if (!DateTime.formatIsoOffset(parsed.value).startsWith(local.slice(0, 19))) return undefined
  return DateTime.toEpochMillis(parsed.value)
}

/** Whether an ISO text carries its own offset (`Z`, `+02:00`): then no zone is needed to read it. */
const hasOffset = (text: string): boolean => /(?:Z|[+-]\d{2}:?\d{2})$/.test(text) && isoShape.test(text)

/** Whether `zone` is an IANA time zone the runtime knows (`Europe/Warsaw`, `UTC`). */
export const isTimeZone = (zone: string): boolean => {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone })
    return zone.trim() !== ""
  } catch {
    return false
  }
}

/** Whether a date-fns pattern reads a time of day (hours), which then needs a zone. */
export const patternHasTime = (pattern: string): boolean => /[HhKkaBb]/.test(pattern.replace(/'[^']*'/g, ""))

/**
 * Whether `pattern` is a date-fns pattern `parse` accepts: an unknown or a week-based token (`YYYY`, `DD`)
 * is refused, for it would read every date wrong.
 */
export const isDatePattern = (pattern: string): boolean => {
  try {
    parse("", pattern, new Date(0))
    return pattern.trim() !== ""
  } catch {
    return false
  }
}

/** How the dates of one file are read. */
export interface DateReading {
  /** date-fns patterns tried in order after ISO with an offset; none: ISO 8601 only. */
  readonly formats: ReadonlyArray<string>
  /** The IANA zone a date or time without an offset is in; undefined: UTC, counted as assumed. */
  readonly timeZone: string | undefined
}

/** A date read: epoch milliseconds, and whether UTC was assumed for want of a zone. */
export interface ReadDate {
  readonly at: number
  readonly utcAssumed: boolean
}

/** A local ISO reading (as if UTC) moved into `zone`: the same wall-clock time there. */
const inZone = (utcReading: number, zone: string): number => {
  const d = new Date(utcReading)
  return new TZDate(
    d.getUTCFullYear(),
    d.getUTCMonth(),
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
    d.getUTCMilliseconds(),
    zone,
  ).getTime()
}

/**
 * A date of the file, or undefined when it is none of the forms `reading` allows or does not exist (31
 * February). ISO 8601 with an offset is always read as written; a date or time without one is in
 * `reading.timeZone`, else UTC (reported as assumed).
 *
 * @example
 * ```ts
 * readDate("13-01-2020 15:56:27", { formats: ["dd-MM-yyyy HH:mm:ss"], timeZone: "Europe/Warsaw" })
 * // { at: Date.UTC(2020, 0, 13, 14, 56, 27), utcAssumed: false }
 * ```
 */
export const readDate = (text: string, reading: DateReading): ReadDate | undefined => {
  const trimmed = text.trim()
  const zone = reading.timeZone
  if (hasOffset(trimmed)) {
    const at = parseIsoDate(trimmed)
    return at === undefined ? undefined : { at, utcAssumed: false }
  }
  if (reading.formats.length === 0) {
    const utc = parseIsoDate(trimmed)
    if (utc === undefined) return undefined
    return zone === undefined ? { at: utc, utcAssumed: true } : { at: inZone(utc, zone), utcAssumed: false }
  }
  for (const format of reading.formats) {
    const parsed = parse(trimmed, format, new Date(0), { in: tz(zone ?? "UTC") })
    if (isValid(parsed)) return { at: parsed.getTime(), utcAssumed: zone === undefined }
  }
  return undefined
}
