import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { defineProject, mergeConfig } from "vitest/config"
import core from "./vitest.config"

/** The tests that exercise src/member, and only they: Stryker runs these for every mutant. */
const memberTests = ["test/member-*.test.ts"]

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url))

/** `@lethe/core` and each of its subpaths, resolved to the source file its "@lethe/source" export names. */
const exportsMap: Record<string, { readonly "@lethe/source"?: string }> = JSON.parse(
  readFileSync(here("./package.json"), "utf8"),
).exports
const sourceAliases = Object.entries(exportsMap).flatMap(([subpath, conditions]) => {
  const source = conditions["@lethe/source"]
  if (source === undefined) return []
  const specifier = `@lethe/core${subpath.slice(1)}`
  return [{ find: new RegExp(`^${specifier.replaceAll("/", "\\/")}$`), replacement: here(source) }]
})

const merged = mergeConfig(
  core,
  defineProject({
    // Stryker starts vitest from the sandbox's root, not from this package.
    root: here("."),
    resolve: { alias: sourceAliases },
  }),
)

/**
 * The vitest project Stryker runs (`npm run mutation`, see docs/mutation.md):
 * core's, narrowed to the tests of the member domain, with `@lethe/core` (and
 * its subpaths) resolved to the sources beside this file. Stryker copies the
 * repository into a sandbox whose node_modules links back to the original
 * packages, so without the aliases the tests (and @lethe/testkit) would import
 * the unmutated sources.
 */
export default { ...merged, test: { ...merged.test, include: memberTests, isolate: false } }
