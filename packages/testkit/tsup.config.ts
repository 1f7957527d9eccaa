import { defineConfig } from "tsup"
import { packageBuild } from "../../tsup.shared"

// Two entries: the conformance suite and Given/When/Then (`.`), and the fixtures adapters' tests
// build their inputs with (`./fixtures`), sharing chunks in both formats so each exists once.
export default defineConfig(packageBuild({ entry: ["src/index.ts", "src/fixtures.ts"], splitting: true }))
