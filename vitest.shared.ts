import { defineConfig } from "vitest/config"

// Sibling packages resolve to their sources through the "@lethe/source" export
// condition (see each package.json), so tests need no build. Since Vite 6,
// vitest's server environment reads `ssr.resolve.conditions`, not `resolve.conditions`.
const conditions = ["@lethe/source", "module", "node", "development|production"]

/** Settings every package's vitest project shares. */
export const sharedConfig = defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
