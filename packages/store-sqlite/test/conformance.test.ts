import type { LetheStore } from "@lethe/core"
import { sqliteStore } from "@lethe/store-sqlite"
import { runAdapterConformance } from "@lethe/testkit"
import { freshFile } from "./fixtures.js"

const filenames = new WeakMap<LetheStore, string>()
const openFile = (filename: string): LetheStore => {
  const store = sqliteStore({ filename })
  filenames.set(store, filename)
  return store
}

runAdapterConformance({
  name: "sqlite",
  makeStore: () => openFile(freshFile()),
  reopen: async (store) => {
    await store.close()
    return openFile(filenames.get(store) ?? freshFile())
  },
})
