import { runAdapterConformance } from "@lethe/testkit"
import { describe, it } from "vitest"
import { noServerReason, serverDatabase, serverUrl, storeOpener } from "./fixtures.js"

if (serverUrl === undefined) {
  describe("Lethe adapter conformance: postgres (server)", () => {
    it.skip(`every case [skipped: ${noServerReason}]`, () => {})
  })
} else {
  const stores = storeOpener(serverDatabase(serverUrl))
  runAdapterConformance({
    name: "postgres (server)",
    makeStore: stores.fresh,
    reopen: stores.reopen,
    // The same SQL runs every property at its full count on PGlite; on the server, whose commits
    // wait for the disk, fewer runs keep the suite under its time budget.
    properties: { numRuns: 8 },
  })
}
