import { defineConfig } from "tsup"

export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  // The tsconfig is a composite project for `tsc -b`; the bundled .d.ts is built on its own.
  dts: { compilerOptions: { composite: false, declarationMap: false } },
  clean: true,
  sourcemap: true,
  target: "node20",
})
