// Mutation testing of the pure member domain (packages/core/src/member): does
// the suite find the bugs it claims to? Run from the repository root with
// `npm run mutation`; docs/mutation.md has the last score and the survivors.
// Not part of CI: a run takes minutes.

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  plugins: ["@stryker-mutator/vitest-runner"],
  vitest: { configFile: "packages/core/vitest.mutation.config.ts", related: false },
  mutate: ["packages/core/src/member/**/*.ts"],
  // The tests that exercise member/; vitest.mutation.config.ts includes the same files.
  testFiles: ["packages/core/test/member-*.test.ts"],
  coverageAnalysis: "perTest",
  // Mutants in code that runs when a module loads (schemas, the default catalogue) need every
  // test file re-imported for each of them; vitest.mutation.config.ts loads modules once per run.
  ignoreStatic: true,
  concurrency: 2,
  timeoutMS: 10_000,
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/member.html" },
  jsonReporter: { fileName: "reports/mutation/member.json" },
  thresholds: { high: 90, low: 80, break: null },
  // The sandbox needs the packages (for their tsconfig.json) and the root configs, not the rest.
  ignorePatterns: ["/bench", "/examples", "/docs", "/scripts", "/reports"],
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
}
