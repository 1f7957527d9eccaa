import path from "node:path"
import type { LetheStore } from "@lethe/core"
import { sqliteStore } from "@lethe/store-sqlite"
import { runAdapterConformance } from "@lethe/testkit"
import { freshFile } from "./fixtures.js"

// The keys in a file of their own, beside the log: one transaction over both (ATTACH), so the
// whole suite holds as it does for one file.
const filenames = new WeakMap<LetheStore, string>()
const openPair = (filename: string): LetheStore => {
  const store = sqliteStore({ filename, keys: { filename: path.join(path.dirname(filename), "keys.db") } })
  filenames.set(store, filename)
  return store
}

runAdapterConformance({
  name: "sqlite (keys apart)",
  makeStore: () => openPair(freshFile()),
  reopen: async (store) => {
    await store.close()
    return openPair(filenames.get(store) ?? freshFile())
  },
})
