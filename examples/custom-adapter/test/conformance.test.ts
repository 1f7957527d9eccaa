// The adapter's whole conformance test: the same suite the memory, SQLite and PostgreSQL adapters run.
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import type { LetheStore } from "@lethe/core"
import { runAdapterConformance } from "@lethe/testkit"
import { afterAll } from "vitest"
import { type JsonFilesStore, jsonFilesStore } from "../src/index.js"

const root = fs.mkdtempSync(path.join(os.tmpdir(), "lethe-json-files-"))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

runAdapterConformance({
  name: "json-files",
  // A fresh, empty folder for every store.
  makeStore: () => jsonFilesStore({ folder: fs.mkdtempSync(path.join(root, "store-")) }),
  // The same folder again, after closing (closing twice is harmless).
  reopen: async (store: LetheStore) => {
    await store.close()
    return jsonFilesStore({ folder: (store as JsonFilesStore).folder })
  },
})
