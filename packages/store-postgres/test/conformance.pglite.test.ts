import { runAdapterConformance } from "@lethe/testkit"
import { pgliteDatabase, storeOpener } from "./fixtures.js"

const stores = storeOpener(pgliteDatabase())

runAdapterConformance({ name: "postgres (PGlite)", makeStore: stores.fresh, reopen: stores.reopen })
