import { defineConfig } from "tsup"
import { packageBuild } from "../../tsup.shared"

// Besides the library entry, the `lethe` binary (dist/bin.js keeps the shebang of src/bin.ts).
export default defineConfig(
  packageBuild({
    entry: ["src/index.ts", "src/bin.ts"],
    dts: { entry: "src/index.ts", compilerOptions: { composite: false, declarationMap: false } },
  }),
)
