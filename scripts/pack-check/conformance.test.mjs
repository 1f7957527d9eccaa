// @lethe/testkit from its tarball, as an adapter author uses it: the whole
// conformance suite, here on the packed memory store, under the consumer's vitest.
import { memoryStore } from "@lethe/store-memory"
import { runAdapterConformance } from "@lethe/testkit"

runAdapterConformance({ name: "memory (packed)", makeStore: () => memoryStore() })
