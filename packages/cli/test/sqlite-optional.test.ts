/**
 * `@lethe/store-sqlite` is an optional peer of the CLI: when it is missing,
 * opening a SQLite file stops with one line saying to install it, and any
 * other failure keeps its own reason. The pack check runs the real case: the
 * CLI installed without it (scripts/pack-check.ts).
 */
import { describe, expect, it } from "vitest"
import { isSqliteMissing, sqliteMissing } from "../src/sqlite.js"

const notFound = (message: string, code: string) => Object.assign(new Error(message), { code })

describe("the optional SQLite store", () => {
  it.each([
    [
      "ESM: the package",
      "Cannot find package '@lethe/store-sqlite' imported from /app/dist/bin.js",
      "ERR_MODULE_NOT_FOUND",
    ],
    [
      "ESM: its native driver",
      "Cannot find package 'better-sqlite3' imported from /app/store-sqlite/dist/index.js",
      "ERR_MODULE_NOT_FOUND",
    ],
    [
      "CommonJS: the package",
      "Cannot find module '@lethe/store-sqlite'\nRequire stack:\n- /app/dist/index.cjs",
      "MODULE_NOT_FOUND",
    ],
  ])("%s not found: the install hint", (_, message, code) => {
    expect(isSqliteMissing(notFound(message, code))).toBe(true)
  })

  it("another package not found, or another failure, is not mistaken for it", () => {
    expect(
      isSqliteMissing(
        notFound("Cannot find package 'pg' imported from /app/dist/bin.js", "ERR_MODULE_NOT_FOUND"),
      ),
    ).toBe(false)
    expect(isSqliteMissing(notFound("@lethe/store-sqlite: SyntaxError", "ERR_INVALID_ARG_VALUE"))).toBe(false)
    expect(isSqliteMissing("Cannot find package '@lethe/store-sqlite'")).toBe(false)
  })

  it("the hint is one line naming the file and the package to install", () => {
    const hint = sqliteMissing("lethe.db")
    expect(hint).not.toContain("\n")
    expect(hint).toMatch(/^lethe\.db: .*@lethe\/store-sqlite.*install it/)
  })
})
