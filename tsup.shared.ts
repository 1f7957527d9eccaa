import type { Options } from "tsup"

/**
 * How every package is built: ESM + CJS + bundled .d.ts for `src/index.ts`.
 * The package tsconfigs are composite projects for `tsc -b`; the bundled .d.ts
 * is built on its own, so `composite` is off here.
 */
export const packageBuild = (overrides: Options = {}): Options => ({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: { compilerOptions: { composite: false, declarationMap: false } },
  clean: true,
  sourcemap: true,
  target: "node20",
  ...overrides,
})
