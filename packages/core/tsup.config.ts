import { defineConfig } from "tsup"
import { packageBuild } from "../../tsup.shared"

// One entry per user (embedders, adapter authors, auditors, the domain). The ESM build shares chunks
// between them (tsup's default), so each class (the errors above all) exists once whichever entries a
// program imports. The CommonJS build bundles each entry alone: tsup's CommonJS code splitting rewrites
// `yield*` inside `??` into an arrow function, which breaks the generators Effect.gen runs.
// `shims`: the PDF export finds its fonts from `import.meta.url`, which the CommonJS build then shims.
export default defineConfig(
  packageBuild({ entry: ["src/index.ts", "src/spi.ts", "src/audit.ts", "src/domain.ts"], shims: true }),
)
