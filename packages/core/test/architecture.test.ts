/**
 * The shape of `@lethe/core` (docs/design.md §1): its folders are layers that
 * import only from the layers below them, the pure domain imports no I/O, and
 * the root entry stays small enough to read.
 */
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"
import { describe, expect, it } from "vitest"

const src = resolve(dirname(fileURLToPath(import.meta.url)), "../src")

/** What each folder may import from, besides itself (`errors.ts` is the vocabulary under all of them). */
const allowed: Readonly<Record<string, ReadonlyArray<string>>> = {
  member: ["errors"],
  spi: ["errors", "member"],
  sealing: ["errors", "member", "spi"],
  audit: ["errors", "member", "spi", "sealing"],
  export: ["errors", "member", "spi", "sealing"],
  retention: ["errors", "member", "spi", "sealing"],
  import: ["errors", "member", "spi", "sealing"],
  service: ["errors", "member", "spi", "sealing", "audit", "export", "retention", "import"],
}

/** The public entries, one per user, at the top of `src`. */
const entries = ["index.ts", "spi.ts", "audit.ts", "domain.ts"]

const filesIn = (folder: string): ReadonlyArray<string> =>
  readdirSync(join(src, folder), { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts"))
    .map((file) => join(src, folder, file))

const importsOf = (file: string): ReadonlyArray<string> =>
  [...readFileSync(file, "utf8").matchAll(/(?:import|export)[^"']*?from\s+["']([^"']+)["']/g)].map(
    (match) => match[1] as string,
  )

/** The layer a relative import lands in: its first folder under `src`, or the file's own name at the top. */
const layerOf = (from: string, specifier: string): string => {
  const target = relative(src, resolve(dirname(from), specifier))
  const [first = ""] = target.split("/")
  return first.replace(/\.js$/, "")
}

describe("C5: the layers of @lethe/core point down only", () => {
  it("C5: src holds the layers' folders, errors.ts and the public entries, nothing else", () => {
    const top = readdirSync(src).sort()
    expect(top).toEqual([...Object.keys(allowed), "errors.ts", ...entries].sort())
  })

  for (const [folder, below] of Object.entries(allowed))
    it(`C5: ${folder}/ imports only from ${below.join(", ")}`, () => {
      const offending = filesIn(folder).flatMap((file) =>
        importsOf(file)
          .filter((specifier) => specifier.startsWith("."))
          .map((specifier) => ({ file: relative(src, file), layer: layerOf(file, specifier) }))
          .filter(({ layer }) => layer !== folder && !below.includes(layer)),
      )
      expect(offending).toEqual([])
    })

  it("C1: the pure domain (member/) imports nothing but effect and itself: no node:*, no clock, no adapter", () => {
    const outside = filesIn("member").flatMap((file) =>
      importsOf(file)
        .filter((specifier) => !specifier.startsWith(".") && specifier !== "effect")
        .map((specifier) => `${relative(src, file)}: ${specifier}`),
    )
    expect(outside).toEqual([])
  })

  it("C5: nothing below the entries imports an entry", () => {
    const offending = Object.keys(allowed).flatMap((folder) =>
      filesIn(folder).filter((file) =>
        importsOf(file)
          .filter((specifier) => specifier.startsWith("."))
          .some((specifier) =>
            entries.includes(relative(src, resolve(dirname(file), specifier)).replace(/\.js$/, ".ts")),
          ),
      ),
    )
    expect(offending).toEqual([])
  })
})

describe("C5: a public surface per user", () => {
  const program = ts.createProgram(
    entries.map((entry) => join(src, entry)),
    { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, strict: true },
  )
  const checker = program.getTypeChecker()
  const namesOf = (entry: string): ReadonlyArray<string> => {
    const file = program.getSourceFile(join(src, entry))
    const module = file === undefined ? undefined : checker.getSymbolAtLocation(file)
    return module === undefined ? [] : checker.getExportsOfModule(module).map((symbol) => symbol.name)
  }

  it("C5: the root entry, for embedders, has at most 120 names, types included", () => {
    const names = namesOf("index.ts")
    expect(names.length).toBeGreaterThan(50)
    expect(names.length).toBeLessThanOrEqual(120)
  })

  it("C5: the root entry offers one way to each thing: policies by their factories, chains by the audit", () => {
    const names = namesOf("index.ts")
    for (const name of [
      "AnonymizeAfterContractEnd",
      "AnonymizeInactive",
      "ForgetColdLeads",
      "checkLink",
      "verifyStream",
      "escapeHtml",
    ])
      expect(names).not.toContain(name)
    expect(names).toEqual(
      expect.arrayContaining(["createLethe", "Lethe", "anonymizeAfterContractEnd", "LetheError"]),
    )
  })

  it("C5: the adapter, audit and domain entries hold what their users need, and not the service", () => {
    expect(namesOf("spi.ts")).toEqual(
      expect.arrayContaining(["LetheStore", "EventStore", "ConcurrencyConflict", "checkPageLimit"]),
    )
    expect(namesOf("audit.ts")).toEqual(
      expect.arrayContaining(["auditLog", "verifyStream", "hashEvent", "verifyReceipt"]),
    )
    expect(namesOf("domain.ts")).toEqual(
      expect.arrayContaining(["decide", "evolve", "initialState", "anonymizationBlockers"]),
    )
    for (const entry of ["spi.ts", "audit.ts", "domain.ts"]) {
      expect(namesOf(entry)).not.toContain("createLethe")
      expect(namesOf(entry)).not.toContain("Lethe")
    }
  })
})
