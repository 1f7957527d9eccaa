/**
 * `@lethe/testkit`: Given/When/Then specifications for Lethe's member decider
 * (and any other decider), with a context helper and event and command
 * builders. Assertions use vitest's `expect` (a peer dependency).
 *
 * @example
 * ```ts
 * import { anonymize, contractSigned, given, registered } from "@lethe/testkit"
 *
 * given([registered(), contractSigned()])
 *   .when(anonymize())
 *   .thenRejects("AnonymizationBlocked", { reasons: ["ActiveContract"] })
 * ```
 *
 * @module
 */
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
  unsubscribed,
  walletCredited,
  walletDebited,
} from "./given-when-then.js"
