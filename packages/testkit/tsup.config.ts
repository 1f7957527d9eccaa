import { defineConfig } from "tsup"
import { packageBuild } from "../../tsup.shared"

// Two entries: the conformance suite and Given/When/Then (`.`), and the fixtures adapters' tests
// build their inputs with (`./fixtures`). ESM shares chunks between them; CommonJS bundles each alone
// (see packages/core/tsup.config.ts for why).
export default defineConfig(packageBuild({ entry: ["src/index.ts", "src/fixtures.ts"] }))
