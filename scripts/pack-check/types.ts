// The TypeScript consumer. The pack check copies this file to types.mts (an
// ES module) and types.cts (a CommonJS module) and type-checks both with
// `module: nodenext`: the first resolves each package's "import" types
// (dist/index.d.ts), the second its "require" types (dist/index.d.cts).
// Every `@ts-expect-error` fails the check if the types it guards were `any`.
import { PGlite } from "@electric-sql/pglite"
import { openLogFile, renderText } from "@lethe/cli"
import {
  createLethe,
  keyringFromSecret,
  type LetheClient,
  type LetheStore,
  type MemberView,
  verifyReceipt,
} from "@lethe/core"
import type { AuditReport } from "@lethe/core/audit"
import { memoryStore } from "@lethe/store-memory"
import { type PostgresStoreOptions, postgresStore } from "@lethe/store-postgres"
import { type SqliteStoreOptions, sqliteStore } from "@lethe/store-sqlite"
import { runAdapterConformance } from "@lethe/testkit"

export const stores = async (): Promise<ReadonlyArray<LetheStore>> => {
  const sqlite: SqliteStoreOptions = { filename: "types.db" }
  const postgres: PostgresStoreOptions = { pool: new PGlite() }
  return [memoryStore(), sqliteStore(sqlite), await postgresStore(postgres)]
}

export const forgetAndPurge = async (store: LetheStore): Promise<MemberView["status"]> => {
  const keyring = keyringFromSecret("a secret of at least thirty-two bytes")
  const lethe: LetheClient = await createLethe({ store, keyring })
  const { memberId } = await lethe.register({ tenantId: "club", personal: { name: "Ada" }, source: "staff" })
  await lethe.forget(memberId, { actor: { id: "staff:1", roles: ["admin"] } })
  // @ts-expect-error forget needs an actor (R8)
  await lethe.forget(memberId, {})
  // @ts-expect-error there is no such operation
  await lethe.forgetForever(memberId)
  const receipt = await lethe.erasureReceipt(memberId)
  const verified: boolean = verifyReceipt(receipt, await keyring.receiptPublicKey())
  // @ts-expect-error a status is one of the known ones
  const wrong: MemberView["status"] = "deleted"
  await lethe.close()
  return verified ? (await lethe.get(memberId)).status : wrong
}

export const report = async (path: string): Promise<string> => {
  const log = await openLogFile(path)
  const render: (report: AuditReport, context: { readonly source: string }) => string = renderText
  return `${typeof log.header} ${typeof render}`
}

export const conformance = (): void =>
  runAdapterConformance({ name: "memory (packed)", makeStore: () => memoryStore() })
