/**
 * `@lethe/core/spi`, for authors of storage adapters: the contract a store
 * implements (`LetheStore`: events, keys, directory, snapshots), the errors
 * it may reject with, and the helpers every adapter needs (expected
 * versions, sealed values, the input checks all adapters share). Run
 * `@lethe/testkit`'s conformance suite against your adapter.
 *
 * @module
 */

export {
  ConcurrencyConflict,
  EmailTaken,
  KeyDestroyed,
  KeyExists,
  MemberStatus,
  StoreError,
  StoreUnavailable,
} from "./errors.js"
export { digestOf } from "./sealing/seal.js"
export {
  checkLookupKeys,
  checkPageLimit,
  checkSnapshotFloor,
  type MemberColumnReader,
  type MemberColumns,
  maxLookupKeys,
  memberColumns,
  memberRowFromColumns,
  memberRowToColumns,
  readStoredJson,
  snapshotStateJson,
  toStoredJson,
} from "./spi/adapter-helpers.js"
export {
  type BeforeQuery,
  type Directory,
  type DirectoryUpdate,
  type MemberRow,
  type MessageEntry,
  type OpenRequest,
  type Page,
  type RetentionQueryName,
  retentionMemberIds,
} from "./spi/directory.js"
export {
  type AppendRequest,
  type AppendResult,
  checkpointStream,
  type EventMetadata,
  type EventStore,
  type ExpectedVersion,
  matchesExpectedVersion,
  memberStream,
  type NewEvent,
  type ReadAllPage,
  type ReadStreamOptions,
  readAllEvents,
  type StoredEvent,
} from "./spi/event-store.js"
export type { KeyEntry, KeyStore, KeyTombstone, StoredKey } from "./spi/key-store.js"
export {
  type CommitOptions,
  checkSynchronous,
  type InlineProjections,
  type ProjectionStore,
  type ProjectionWork,
} from "./spi/projection-store.js"
export {
  type ErasedSealedValue,
  isSealedValue,
  redactSealedValues,
  type SealedValue,
  sealedKeyIds,
} from "./spi/sealed-value.js"
export type { SnapshotStore, StoredSnapshot } from "./spi/snapshot-store.js"
export type { LetheStore } from "./spi/store.js"
export { isLetheStoreError } from "./spi/store-call.js"
export {
  acquireStore,
  LetheStoreTag,
  type StoreOpenError,
  storeLayer,
} from "./spi/store-layer.js"
