/**
 * `@lethe/testkit`: the adapter conformance suite (`runAdapterConformance`)
 * that every storage adapter runs, and Given/When/Then specifications for
 * Lethe's member decider (and any other decider), with a context helper and
 * event and command builders. Tests register with vitest and properties run
 * with fast-check (both peer dependencies).
 *
 * The builders of what the core hands a storage adapter (events, sealed
 * values, directory rows, data keys, append requests), which the suite and
 * the adapters' own tests share, are the other entry: `@lethe/testkit/fixtures`.
 *
 * @example
 * ```ts
 * import { anonymize, contractSigned, given, registered, runAdapterConformance } from "@lethe/testkit"
 *
 * // An adapter's whole conformance test file:
 * runAdapterConformance({ name: "my-store", makeStore: () => myStore() })
 *
 * // A domain rule:
 * given([registered(), contractSigned()])
 *   .when(anonymize())
 *   .thenRejects("AnonymizationBlocked", { reasons: ["ActiveContract"] })
 * ```
 *
 * @module
 */
export type { PropertySettings } from "./conformance/case.js"
export type {
  AdapterConformanceOptions,
  ConformanceCaseName,
  ProjectionTable,
} from "./conformance/index.js"
export {
  conformanceCaseNames,
  defaultProjectionTable,
  noAppendBatchReason,
  noManyLookupsReason,
  noProjectionsReason,
  noReopenReason,
  noRetentionIdsReason,
  noSnapshotsReason,
  runAdapterConformance,
} from "./conformance/index.js"
export type {
  CommandFields,
  ContextOptions,
  Decider,
  DecisionOf,
  EventFields,
  Given,
  Outcome,
  RejectionFields,
} from "./given-when-then.js"
export {
  accessRequested,
  activityRecorded,
  adminActor,
  anonymize,
  anonymized,
  consentGiven,
  consentWithdrawn,
  context,
  contractEnded,
  contractSigned,
  DeciderSpecification,
  dataExported,
  days,
  debtCaseClosed,
  debtCaseOpened,
  defaultNow,
  emailRecorded,
  erasureRequested,
  forget,
  forgotten,
  giveConsent,
  given,
  hours,
  instalmentMissed,
  instalmentPaid,
  memberDecider,
  messageSent,
  personalDataErased,
  personalDataRecorded,
  processingRestricted,
  processingRestrictionLifted,
  profilingDisabled,
  profilingEnabled,
  purchasePaid,
  purchaseRecorded,
  purged,
  recordPersonalData,
  registered,
  restore,
  restored,
  sendMessage,
  staff,
  systemActor,
  systemConfirmed,
  unsubscribed,
  walletCredited,
  walletDebited,
} from "./given-when-then.js"
