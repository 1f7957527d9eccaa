/**
 * Bulk: an import of contacts, `events` events in batches of 100 (25
 * contacts of 4 events each: registered, identity, contact, consent). The raw
 * driver writes a batch as one multi-row INSERT (one transaction); Emmett
 * appends each contact's 4 events to its new stream (25 transactions, as it
 * has no multi-stream append); Lethe imports the batch as one contacts CSV
 * file with `importCsv` (each row sealed, chained and applied whole, with
 * its directory row). Each run imports into a new, empty database.
 *
 * @module
 */
import type { Backend } from "../backends.js"
import { postgresBackend, sqliteBackend } from "../backends.js"
import type { Sampler } from "../compare.js"
import { compareOn } from "../compare.js"
import type { BenchContext } from "../context.js"
import { admin, contactEvents, contactsCsv, eventsPerContact, nextKey, tenantId } from "../fixtures.js"
import { perSecond } from "../measure.js"
import type { Figure } from "../results.js"
import { rowsOf } from "../subjects/event-log.js"

/** Imports one batch of contacts into a database of its own. */
interface Importer {
  importBatch(keys: ReadonlyArray<string>): Promise<void>
  close(): Promise<void>
}

const importers = (backend: Backend): Record<"raw" | "emmett" | "lethe", () => Promise<Importer>> => ({
  raw: async () => {
    const log = await backend.openRaw()
    return {
      importBatch: (keys) =>
        log.insertRows(keys.flatMap((key) => rowsOf(`member-${key}`, 0, contactEvents(key)))),
      close: () => log.close(),
    }
  },
  emmett: async () => {
    const log = await backend.openEmmett()
    return {
      importBatch: async (keys) => {
        for (const key of keys) await log.append(`member-${key}`, 0, contactEvents(key))
      },
      close: () => log.close(),
    }
  },
  lethe: async () => {
    const opened = await backend.openLethe()
    return {
      importBatch: async (keys) => {
        const report = await opened.lethe.importCsv(contactsCsv(keys), {
          tenantId,
          restoreForgotten: false,
          actor: admin,
        })
        if (report.applied.length !== keys.length)
          throw new Error(`import applied ${report.applied.length} of ${keys.length} rows`)
      },
      close: () => opened.close(),
    }
  },
})

/**
 * Each round: a new database, then batches until `events` are imported or
 * `capSeconds` have passed; the rate counts the events imported.
 */
const importSampler =
  (open: () => Promise<Importer>, events: number, batch: number, capSeconds: number) =>
  async (): Promise<Sampler> => {
    const contacts = batch / eventsPerContact
    let fewest = events
    return {
      sample: async () => {
        const importer = await open()
        try {
          const start = process.hrtime.bigint()
          const elapsedMs = () => Number(process.hrtime.bigint() - start) / 1e6
          let imported = 0
          while (imported < events && elapsedMs() < capSeconds * 1000) {
            await importer.importBatch(Array.from({ length: contacts }, nextKey))
            imported += batch
          }
          fewest = Math.min(fewest, imported)
          return perSecond(imported, elapsedMs())
        } finally {
          await importer.close()
        }
      },
      note: () =>
        fewest < events
          ? `a run stops after ${capSeconds} s: the slowest imported ${fewest.toLocaleString("en-US")} of ${events.toLocaleString("en-US")} events`
          : undefined,
      close: async () => {},
    }
  }

/** The case name. */
export const bulkCase = "bulk import, batches of 100"

const bulkOn = (context: BenchContext, backend: Backend): Promise<ReadonlyArray<Figure>> => {
  const { runs, events, batch, capSeconds } = context.settings.bulk
  const open = importers(backend)
  return compareOn(
    backend,
    { case: bulkCase, unit: "events/s", runs },
    (contender) => importSampler(open[contender], events, batch, capSeconds),
    context.progress,
  )
}

/** The import on SQLite (FULL) and PostgreSQL. */
export const runBulk = async (context: BenchContext): Promise<ReadonlyArray<Figure>> => [
  ...(await bulkOn(context, sqliteBackend(context, "full"))),
  ...(await bulkOn(context, postgresBackend(context))),
]
