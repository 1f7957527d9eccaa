import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { defineProject, mergeConfig } from "vitest/config"
import { BaseSequencer, type TestSpecification } from "vitest/node"
import core from "./vitest.config.ts"

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

/**
 * Example tests first, properties last: Stryker's runs bail at the first failing test, so a
 * mutant an example kills costs no property run.
 */
class ExamplesFirst extends BaseSequencer {
  override sort(files: Array<TestSpecification>): Promise<Array<TestSpecification>> {
    const isProperty = (file: TestSpecification) => Number(file.moduleId.includes(".property."))
    return Promise.resolve(
      [...files].sort((a, b) => isProperty(a) - isProperty(b) || a.moduleId.localeCompare(b.moduleId)),
    )
  }
}

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
export default {
  ...merged,
  test: {
    ...merged.test,
    include: memberTests,
    setupFiles: ["test/mutation-setup.ts"],
    sequence: { ...merged.test?.sequence, sequencer: ExamplesFirst },
    // Modules load once per run, not once per test file: a mutant's run costs its tests, not
    // seven imports of the core. Stryker activates each mutant at run time, so nothing leaks
    // between runs; mutants in code that runs on import ("static") are ignored (see
    // stryker.config.mjs), since they would need the modules loaded anew.
    isolate: false,
  },
}
