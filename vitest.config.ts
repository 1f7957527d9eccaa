import { defineConfig } from "vitest/config"

// One project per package; each resolves sibling packages to their sources
// through the "@lethe/source" export condition (see each package.json).
export default defineConfig({
  test: { projects: ["packages/*/vitest.config.ts", "examples/*/vitest.config.ts"] },
})
