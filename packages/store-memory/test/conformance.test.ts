import { memoryStore } from "@lethe/store-memory"
import { runAdapterConformance } from "@lethe/testkit"

runAdapterConformance({ name: "memory", makeStore: () => memoryStore() })
