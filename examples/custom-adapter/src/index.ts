/**
 * A third party's Lethe storage adapter on plain JSON files, as a package
 * would publish it: one factory and its options.
 *
 * @module
 */
export type { JsonFilesStore, JsonFilesStoreOptions } from "./json-files-store.js"
export { jsonFilesStore } from "./json-files-store.js"
