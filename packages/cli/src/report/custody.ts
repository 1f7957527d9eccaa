/**
 * The chain of custody of an audit report (issue 20): which tool made it,
 * when, and from which input, named so that someone else can check it was
 * that input: a file's size and SHA-256 (a SQLite database with its WAL, a
 * log file), or a masked PostgreSQL URL and schema. Amounts are said in
 * their unit.
 *
 * @module
 */
import { createHash } from "node:crypto"
import { createReadStream, existsSync, statSync } from "node:fs"
import type { SourceKind } from "../source.js"

/** One file the audit read, as it was when the audit began. */
export interface CustodyFile {
  readonly path: string
  readonly bytes: number
  /** Hex SHA-256 of the file's bytes. */
  readonly sha256: string
}

/** Who made a report, when, from what. */
export interface Custody {
  readonly tool: { readonly name: "lethe"; readonly version: string }
  /** When the audit ran (ISO 8601), as opposed to the date it judges deadlines at (`asOf`). */
  readonly auditedAt: string
  readonly input: {
    readonly kind: SourceKind
    /** The file path, or the URL with its password masked, and the schema. */
    readonly name: string
    /** The files read, hashed before the audit read them; none for a database server. */
    readonly files: ReadonlyArray<CustodyFile>
    /** What the hashes do not cover, in a sentence; null when they cover the whole input. */
    readonly note: string | null
  }
  /** The unit of every amount in the report (wallet balances, credits, debits). */
  readonly amounts: string
}

const hashFile = (path: string): Promise<CustodyFile> =>
  new Promise((resolve, reject) => {
    const hash = createHash("sha256")
    let bytes = 0
    createReadStream(path)
      .on("data", (chunk: Buffer | string) => {
        const buffer = typeof chunk === "string" ? Buffer.from(chunk) : chunk
        bytes += buffer.length
        hash.update(buffer)
      })
      .on("error", reject)
      .on("end", () => resolve({ path, bytes, sha256: hash.digest("hex") }))
  })

/**
 * The custody of an audit of `source` (its path or URL), `name` as the report
 * shows it, by `version` of the CLI, run at `auditedAt`.
 */
export const custodyOf = async (options: {
  readonly source: string
  readonly kind: SourceKind
  readonly name: string
  readonly keys?: string | undefined
  readonly version: string
  readonly auditedAt: Date
  readonly currency?: string | undefined
}): Promise<Custody> => {
  const { source, kind } = options
  const paths =
    kind === "postgres"
      ? []
      : [
          source,
          ...(kind === "sqlite" ? [`${source}-wal`] : []),
          ...(kind === "sqlite" && options.keys !== undefined ? [options.keys, `${options.keys}-wal`] : []),
        ].filter((path) => existsSync(path) && statSync(path).isFile())
  const files = await Promise.all(paths.map(hashFile))
  return {
    tool: { name: "lethe", version: options.version },
    auditedAt: options.auditedAt.toISOString(),
    input: {
      kind,
      name: options.name,
      files,
      note:
        kind === "postgres"
          ? "a database server: no file to hash; the signed checkpoints verified below attest what the log held"
          : kind === "sqlite"
            ? "hashed before the audit opened it read-only; a process writing meanwhile would change it"
            : null,
    },
    amounts: options.currency === undefined ? "minor units" : `minor units of ${options.currency}`,
  }
}

/** Evidence keys that hold an amount of money. */
export const isAmountKey = (key: string): boolean => /balance|amount|credit|debit/i.test(key)

/** The custody as lines of text (for the text report). */
export const custodyLines = (custody: Custody): ReadonlyArray<string> => [
  `Tool:     ${custody.tool.name} ${custody.tool.version}; audited at ${custody.auditedAt}`,
  `Input:    ${custody.input.kind} ${custody.input.name}`,
  ...custody.input.files.map((f) => `          ${f.path}: ${f.bytes} bytes, sha256 ${f.sha256}`),
  ...(custody.input.note === null ? [] : [`          (${custody.input.note})`]),
  `Amounts:  in ${custody.amounts}`,
]
