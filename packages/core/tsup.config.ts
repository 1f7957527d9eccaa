import { defineConfig } from "tsup"
import { packageBuild } from "../../tsup.shared"

// One entry per user (embedders, adapter authors, auditors, the domain), sharing chunks in both
// formats so each class (the errors above all) exists once whichever entries a program loads.
export default defineConfig(
  packageBuild({ entry: ["src/index.ts", "src/spi.ts", "src/audit.ts", "src/domain.ts"], splitting: true }),
)
