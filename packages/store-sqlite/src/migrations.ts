/**
 * The SQLite schema as numbered migrations, applied on open inside one
 * `BEGIN IMMEDIATE` transaction: two processes opening a new file at once
 * take turns (the second waits for the write lock, then finds the schema
 * applied), and a failed migration leaves the file as it was. A file already
 * up to date is opened without taking the write lock.
 *
 * A migration, once released, never changes: a schema change is a new
 * migration at the end of the list.
 *
 * @module
 */
import { StoreError } from "@lethe/core"
import Database from "better-sqlite3"

/** One step of the schema. */
export interface Migration {
  /** 1, 2, 3...: applied in this order, each once. */
  readonly version: number
  readonly name: string
  readonly sql: string
}

/**
 * Every migration, in order. Indexes follow the Directory's queries (see
 * `directory.ts`): each query reads through one of them.
 *
 * @example
 * ```ts
 * migrations.at(-1)?.version // the schema version this code writes
 * ```
 */
export const migrations: ReadonlyArray<Migration> = [
  {
    version: 1,
    name: "events, keys and directory",
    sql: `
      -- AUTOINCREMENT: a position is never handed out twice, even after the last row is gone.
      CREATE TABLE events (
        position INTEGER PRIMARY KEY AUTOINCREMENT,
        stream_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        type TEXT NOT NULL,
        data TEXT NOT NULL,
        metadata TEXT NOT NULL,
        recorded_at INTEGER NOT NULL,
        hash TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        UNIQUE (stream_id, version)
      );

      -- wrapped_key is NULL once the key is destroyed (a tombstone).
      CREATE TABLE keys (
        key_id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL,
        member_id TEXT NOT NULL,
        category TEXT NOT NULL,
        wrapped_key TEXT,
        kek_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        destroyed_at INTEGER,
        CHECK ((wrapped_key IS NULL) = (destroyed_at IS NOT NULL))
      );
      CREATE INDEX keys_by_member ON keys (member_id, key_id);

      CREATE TABLE members (
        member_id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL,
        status TEXT NOT NULL,
        name TEXT,
        email TEXT,
        email_key TEXT,
        restore_key TEXT,
        search_text TEXT,
        restricted INTEGER NOT NULL,
        customer INTEGER NOT NULL,
        registered_at INTEGER NOT NULL,
        last_activity_at INTEGER NOT NULL,
        last_contact_at INTEGER NOT NULL,
        contracts_ended_at INTEGER,
        forgotten_at INTEGER,
        restorable_until INTEGER,
        anonymized_at INTEGER,
        purged_at INTEGER,
        holds_invoice_data INTEGER NOT NULL,
        version INTEGER NOT NULL
      );
      -- findByEmail, findRestorable (status too, so the planner prefers them to the next one)
      CREATE INDEX members_by_email_key ON members (tenant_id, email_key, status, member_id) WHERE email_key IS NOT NULL;
      CREATE INDEX members_by_restore_key ON members (tenant_id, restore_key, status, member_id) WHERE restore_key IS NOT NULL;
      -- search, and every retention query of one tenant, in member_id order from 'after'
      CREATE INDEX members_by_tenant_status ON members (tenant_id, status, member_id);
      -- the retention queries over all tenants
      CREATE INDEX members_by_contracts_ended ON members (status, contracts_ended_at);
      CREATE INDEX members_by_last_activity ON members (status, last_activity_at);
      CREATE INDEX members_by_last_contact ON members (status, customer, last_contact_at);
      CREATE INDEX members_by_restorable_until ON members (status, restorable_until);
      CREATE INDEX members_by_invoices_held ON members (status, holds_invoice_data, anonymized_at);

      -- A member's open requests, in the order of MemberRow.openRequests.
      CREATE TABLE member_requests (
        member_id TEXT NOT NULL REFERENCES members (member_id) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL,
        request_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        due_by INTEGER NOT NULL,
        PRIMARY KEY (member_id, ordinal)
      );
      -- requestsDueBefore
      CREATE INDEX member_requests_by_due ON member_requests (due_by, member_id);

      -- Not tied to members: the first owner of a message id stays, whatever happens to the row (R3).
      CREATE TABLE messages (
        message_id TEXT PRIMARY KEY,
        member_id TEXT NOT NULL,
        tenant_id TEXT NOT NULL,
        sent_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: "sealed key ids per event, one e-mail per tenant",
    sql: `
      -- The key ids of the sealed values an event holds (space-separated), NULL when none:
      -- an erasure reads and rewrites only these rows, however long the activity history.
      ALTER TABLE events ADD COLUMN sealed_keys TEXT;
      UPDATE events SET sealed_keys = (
        SELECT group_concat(DISTINCT json_extract(j.value, '$.keyId'))
        FROM json_tree(events.data) AS j
        WHERE j.type = 'object' AND json_extract(j.value, '$._tag') = 'Sealed'
      );
      UPDATE events SET sealed_keys = replace(sealed_keys, ',', ' ') WHERE sealed_keys IS NOT NULL;
      CREATE INDEX events_sealed ON events (stream_id, version) WHERE sealed_keys IS NOT NULL;

      -- The append checks it first (EmailTaken names the holder); the index makes it hold whatever writes.
      CREATE UNIQUE INDEX members_one_email ON members (tenant_id, email_key) WHERE email_key IS NOT NULL;
    `,
  },
  {
    version: 3,
    name: "no second index on the e-mail key",
    sql: `
      -- members_one_email (migration 2) finds a member by e-mail key as well: the older index only
      -- cost every registration one more b-tree insert (about a fifth of the directory row's).
      DROP INDEX members_by_email_key;
    `,
  },
  {
    version: 4,
    name: "member snapshots",
    sql: `
      -- At most one per member, the latest version written; the state is JSON text, as event data.
      -- A removed snapshot leaves its row with state NULL: its version is then the floor at or
      -- below which no snapshot of the member is kept again.
      CREATE TABLE snapshots (
        member_id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        head TEXT NOT NULL,
        state TEXT,
        taken_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 5,
    name: "retention indexes leave out members without the date",
    sql: `
      -- A member who never had a contract, was never forgotten or anonymized has none of these
      -- dates, and no retention query can find it by them (every one compares the date, which
      -- implies it is not NULL): a registration writes three b-tree entries fewer, three pages
      -- fewer to the WAL (of about 23).
      DROP INDEX members_by_contracts_ended;
      CREATE INDEX members_by_contracts_ended ON members (status, contracts_ended_at)
        WHERE contracts_ended_at IS NOT NULL;
      DROP INDEX members_by_restorable_until;
      CREATE INDEX members_by_restorable_until ON members (status, restorable_until)
        WHERE restorable_until IS NOT NULL;
      DROP INDEX members_by_invoices_held;
      CREATE INDEX members_by_invoices_held ON members (status, holds_invoice_data, anonymized_at)
        WHERE anonymized_at IS NOT NULL;
    `,
  },
  {
    version: 6,
    name: "where the keys live",
    sql: `
      -- One row once the keys live in a key store file of their own (sqliteStore's keys option): that
      -- key store's id. The log then opens only beside it, never alone, where it would find no key
      -- and mint new ones for values sealed under the old.
      CREATE TABLE key_store (
        key_store_id TEXT NOT NULL,
        recorded_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 7,
    name: "invoices held after a purge too",
    sql: `
      -- A purge, like an anonymization, keeps the invoice data the law requires until its retention
      -- ends (R37), so invoicesHeldSince finds purged members too, by coalesce(anonymized_at,
      -- purged_at) (one of the two is set). The index holds just the members it can find: those
      -- with invoice data, anonymized or purged. status leads, as in the other retention indexes:
      -- an index on the date alone loses to members_by_last_activity's (status = ?) until ANALYZE.
      DROP INDEX members_by_invoices_held;
      CREATE INDEX members_by_invoices_held ON members (status, coalesce(anonymized_at, purged_at))
        WHERE holds_invoice_data = 1 AND status IN ('anonymized', 'purged');
    `,
  },
  {
    version: 8,
    name: "retention indexes carry the member id",
    sql: `
      -- A retention run plans from member ids alone (Directory.retentionMemberIds). With the id in
      -- the index of each retention query over all tenants, a page of ids comes from the index
      -- alone (a covering index), without a look-up of each member's row in the table: a dry run
      -- over 100,000 members reads a few megabytes of index instead of the whole table, and plans
      -- in half the time (docs/performance.md). Each index keeps its columns and its WHERE; the
      -- id comes last, so the queries search them by status and date as before.
      DROP INDEX members_by_last_activity;
      CREATE INDEX members_by_last_activity ON members (status, last_activity_at, member_id);
      DROP INDEX members_by_last_contact;
      CREATE INDEX members_by_last_contact ON members (status, customer, last_contact_at, member_id);
      DROP INDEX members_by_contracts_ended;
      CREATE INDEX members_by_contracts_ended ON members (status, contracts_ended_at, member_id)
        WHERE contracts_ended_at IS NOT NULL;
      DROP INDEX members_by_restorable_until;
      CREATE INDEX members_by_restorable_until ON members (status, restorable_until, member_id)
        WHERE restorable_until IS NOT NULL;
    `,
  },
]

/**
 * The migrations of a key store file (`sqliteStore`'s `keys` option): the
 * `keys` table as the log's own migration 1 made it, and the key store's
 * random id, which the log records so that it opens beside this key store only.
 * They are recorded in a ledger of their own (`lethe_key_store_migrations`),
 * so a log file is never taken for a key store, nor a key store for a log.
 *
 * @example
 * ```ts
 * keyStoreMigrations.at(-1)?.version // the key store schema version this code writes
 * ```
 */
export const keyStoreMigrations: ReadonlyArray<Migration> = [
  {
    version: 1,
    name: "keys apart from the log",
    sql: `
      CREATE TABLE keys (
        key_id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL,
        member_id TEXT NOT NULL,
        category TEXT NOT NULL,
        wrapped_key TEXT,
        kek_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        destroyed_at INTEGER,
        CHECK ((wrapped_key IS NULL) = (destroyed_at IS NOT NULL))
      );
      CREATE INDEX keys_by_member ON keys (member_id, key_id);
      CREATE TABLE key_store (key_store_id TEXT NOT NULL);
      INSERT INTO key_store (key_store_id) VALUES (lower(hex(randomblob(16))));
    `,
  },
  {
    version: 2,
    name: "the directory's personal columns beside the keys",
    sql: `
      -- A member's name, e-mail and search text, as the directory row holds them (the log's members
      -- row keeps them NULL): kept only as long as key store backups, never in a log backup (R42).
      -- No row when all three are NULL (a forgotten, purged or anonymized member).
      CREATE TABLE member_personal (
        member_id TEXT PRIMARY KEY,
        name TEXT,
        email TEXT,
        search_text TEXT
      );
      -- Set once the log's members rows hold no personal column any more (they were moved here).
      ALTER TABLE key_store ADD COLUMN personal_moved_at INTEGER;
      -- The position and hash of the last event appended by the last write that changed a personal
      -- row. This file commits before the log: a log that does not hold that event lost commits (a
      -- crash between the two, or a restore from a backup), and the personal rows are checked against
      -- its members (personal.ts).
      ALTER TABLE key_store ADD COLUMN log_position INTEGER;
      ALTER TABLE key_store ADD COLUMN log_hash TEXT;
    `,
  },
]

/**
 * Which kind of file a schema is: its migration ledger, and what the file is
 * called in errors.
 */
export interface SchemaKind {
  readonly ledger: string
  readonly what: string
}

/** The log file (events, directory, snapshots, and its keys unless they live apart). */
export const logSchema: SchemaKind = { ledger: "lethe_migrations", what: "Lethe database" }

/** A key store file of its own (`sqliteStore`'s `keys` option). */
export const keyStoreSchema: SchemaKind = { ledger: "lethe_key_store_migrations", what: "Lethe key store" }

const createLedger = (kind: SchemaKind) => `
  CREATE TABLE IF NOT EXISTS ${kind.ledger} (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  )
`

/** Tables of the file other than SQLite's own. */
const userTables = (db: Database.Database): ReadonlyArray<string> =>
  db
    .prepare<[], { name: string }>(
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
    )
    .all()
    .map((row) => row.name)

/**
 * Throws `StoreError` if the file holds tables but no migration ledger: it is
 * some other program's database, and Lethe must not write into it. Reads only.
 *
 * @example
 * ```ts
 * ensureLetheDatabase(db, "lethe.db") // throws for a file another program made
 * ```
 */
export const ensureLetheDatabase = (
  db: Database.Database,
  filename: string,
  kind: SchemaKind = logSchema,
): void => {
  const tables = userTables(db)
  if (tables.length > 0 && !tables.includes(kind.ledger))
    throw new StoreError({
      operation: "open",
      detail: `${filename} is not a ${kind.what} (it has tables ${tables.slice(0, 5).join(", ")}${tables.length > 5 ? ", ..." : ""} and no ${kind.ledger})`,
    })
}

/**
 * Versions of `list` not yet applied to `db` (all of them for an empty file).
 * Reads only.
 *
 * @example
 * ```ts
 * pendingMigrations(db, migrations) // [] for an up-to-date file
 * ```
 */
export const pendingMigrations = (
  db: Database.Database,
  list: ReadonlyArray<Migration>,
  kind: SchemaKind = logSchema,
): ReadonlyArray<number> => {
  if (!userTables(db).includes(kind.ledger)) return list.map((migration) => migration.version)
  const applied = new Set(
    db
      .prepare<[], { version: number }>(`SELECT version FROM ${kind.ledger}`)
      .all()
      .map((row) => row.version),
  )
  return list.filter((migration) => !applied.has(migration.version)).map((migration) => migration.version)
}

/**
 * Brings the schema of `db` up to the last of `list`, in one `BEGIN IMMEDIATE`
 * transaction, and returns the versions it applied (none when the file is up
 * to date). A file migrated by newer code (a version this code does not know)
 * is refused with `StoreError` and left unchanged.
 *
 * @example
 * ```ts
 * migrate(db, "lethe.db", migrations, Date.now()) // [1] on a new file, [] afterwards
 * ```
 */
export const migrate = (
  db: Database.Database,
  filename: string,
  list: ReadonlyArray<Migration>,
  now: number,
  kind: SchemaKind = logSchema,
): ReadonlyArray<number> => {
  // An up-to-date file is opened without the write lock, so opening never queues behind the
  // writers of a busy file (SQLite's busy handler is not fair: a waiter can starve).
  if (checkedPending(db, filename, list, kind).length === 0) return []
  try {
    return db
      .transaction((): ReadonlyArray<number> => {
        // Again under the lock (another process may have migrated meanwhile), before the ledger
        // is created: a file of another program must be refused untouched.
        const pending = new Set(checkedPending(db, filename, list, kind))
        db.exec(createLedger(kind))
        const record = db.prepare(`INSERT INTO ${kind.ledger} (version, name, applied_at) VALUES (?, ?, ?)`)
        const applying = list.filter((migration) => pending.has(migration.version))
        for (const migration of applying) {
          db.exec(migration.sql)
          record.run(migration.version, migration.name, now)
        }
        return applying.map((migration) => migration.version)
      })
      .immediate()
  } catch (error) {
    // Still locked when the busy timeout ran out: by another process that was migrating and has
    // finished, or by writers of a file that is up to date by now.
    if (isBusy(error) && checkedPending(db, filename, list, kind).length === 0) return []
    throw error
  }
}

/**
 * Whether `error` is SQLite refusing a lock another connection holds
 * (`SQLITE_BUSY` and its extended codes).
 *
 * @example
 * ```ts
 * isBusy(error) // true: another connection holds the lock; wait, then try again
 * ```
 */
export const isBusy = (error: unknown): boolean =>
  error instanceof Database.SqliteError && error.code.startsWith("SQLITE_BUSY")

/**
 * The versions of `list` the file has not applied, read without a write lock;
 * throws `StoreError`, leaving the file unchanged, for a file of another
 * program or one migrated by newer code (a version this code does not know).
 */
const checkedPending = (
  db: Database.Database,
  filename: string,
  list: ReadonlyArray<Migration>,
  kind: SchemaKind,
): ReadonlyArray<number> => {
  ensureLetheDatabase(db, filename, kind)
  const pending = pendingMigrations(db, list, kind)
  if (!userTables(db).includes(kind.ledger)) return pending
  const known = new Set(list.map((migration) => migration.version))
  const unknown = db
    .prepare<[], { version: number }>(`SELECT version FROM ${kind.ledger}`)
    .all()
    .map((row) => row.version)
    .filter((version) => !known.has(version))
  if (unknown.length > 0)
    throw new StoreError({
      operation: "open",
      detail: `${filename} has schema version ${Math.max(...unknown)}, newer than this @lethe/store-sqlite knows (${Math.max(0, ...known)}): upgrade the package`,
    })
  return pending
}
