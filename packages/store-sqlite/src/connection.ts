/**
 * One better-sqlite3 connection shared by the store's parts: opening
 * (pragmas, migrations), the closed check, the translation of driver errors
 * into `StoreUnavailable` (a file that cannot be opened, a write lock held
 * past the busy timeout) or `StoreError` (anything else), and the checkpoint
 * that empties the WAL after an erasure.
 *
 * better-sqlite3 is synchronous: each SPI call runs to its end in one turn of
 * the event loop, so calls on one connection never interleave. Other
 * connections (other stores on the same file, other processes) are kept out
 * by SQLite's locks: every write is a `BEGIN IMMEDIATE` transaction, which
 * waits up to `busy_timeout` for the single write lock. Opening waits for
 * other connections' locks as long in all, including where SQLite refuses
 * at once instead of waiting (see `openingStep`).
 *
 * @module
 */
import { StoreError, StoreUnavailable } from "@lethe/core"
import { isLetheStoreError } from "@lethe/core/spi"
import Database from "better-sqlite3"
import {
  ensureLetheDatabase,
  isBusy,
  keyStoreMigrations,
  keyStoreSchema,
  migrate,
  migrations,
  pendingMigrations,
} from "./migrations.js"
import { movePersonalApart, personalMoved, repairPersonal } from "./personal.js"

/**
 * How long a write waits for another connection's write lock, and an open
 * for other connections' locks in all, before failing with `StoreUnavailable`.
 */
export const busyTimeoutMs = 5_000

/**
 * What `sqliteStore` opens.
 *
 * @example
 * ```ts
 * const options: SqliteStoreOptions = { filename: "./lethe.db", synchronous: "normal" }
 * ```
 */
export interface SqliteStoreOptions {
  /** The database file, created if it does not exist. */
  readonly filename: string
  /**
   * `"full"` (the default): each commit is synced to disk and survives a power
   * loss. `"normal"`: faster; survives a crash of the process, but a power
   * loss may lose the last commits.
   */
  readonly synchronous?: "full" | "normal"
  /**
   * Open an existing, fully migrated file for reading only (an auditor's
   * copy): no pragma, no migration, nothing written; every write rejects with
   * `StoreError`.
   */
  readonly readonly?: boolean
  /**
   * Keep the data keys in a file of their own, apart from the log (events,
   * directory, snapshots), so that the two are backed up on different
   * schedules: log backups as long as the business wants (sealed values are
   * ciphertext without the keys), key store backups for at most N days
   * (docs/operations.md, "Backups", R42). Created if it does not exist. The
   * directory's clear columns (each member's name, e-mail and search text)
   * live in it too, so the log file holds no personal value in clear; a log
   * written before that has them moved on its first read-write open. The
   * log records the key store's id on the first open, and from then on opens
   * beside that key store only, never alone; a log that still holds keys of
   * its own is refused until `moveKeysApart` has moved them.
   *
   * @example
   * ```ts
   * sqliteStore({ filename: "./lethe.db", keys: { filename: "./lethe-keys.db" } })
   * ```
   */
  readonly keys?: { readonly filename: string }
}

const detailOf = (error: unknown): string => {
  if (error instanceof Database.SqliteError) return `${error.code}: ${error.message}`
  return error instanceof Error ? error.message : String(error)
}

/**
 * Whether the database cannot be used now, for a reason outside the call:
 * the file cannot be opened (`SQLITE_CANTOPEN`: missing, a directory, no
 * permission, its directory missing) or another connection held the write
 * lock past `busyTimeoutMs` (`SQLITE_BUSY`). Either way nothing was written:
 * `BEGIN IMMEDIATE` takes the lock before the first write.
 */
const isUnavailable = (error: unknown): boolean =>
  error instanceof Database.SqliteError
    ? error.code.startsWith("SQLITE_CANTOPEN") || error.code.startsWith("SQLITE_BUSY")
    : // better-sqlite3 checks the directory itself, before SQLite is asked.
      error instanceof TypeError &&
      /Cannot open database because the directory does not exist/.test(error.message)

/**
 * Errors Lethe defines pass through; a file that cannot be opened or a lock
 * held too long becomes `StoreUnavailable`; anything else (a driver's error)
 * becomes a `StoreError`.
 */
const translate = (operation: string, error: unknown): Error => {
  if (isLetheStoreError(error)) return error
  const detail = detailOf(error)
  return isUnavailable(error)
    ? new StoreUnavailable({ store: "sqlite", operation, detail })
    : new StoreError({ operation, detail })
}

/**
 * Whether `error` is SQLite refusing a row because of a UNIQUE or PRIMARY KEY constraint.
 *
 * @example
 * ```ts
 * if (isUniqueViolation(error)) throw new ConcurrencyConflict({ streamId, expected, actual })
 * ```
 */
export const isUniqueViolation = (error: unknown): boolean =>
  error instanceof Database.SqliteError &&
  (error.code === "SQLITE_CONSTRAINT_UNIQUE" || error.code === "SQLITE_CONSTRAINT_PRIMARYKEY")

const openDatabase = (options: SqliteStoreOptions): Database.Database => {
  const synchronous = options.synchronous ?? "full"
  if (synchronous !== "full" && synchronous !== "normal")
    throw new StoreError({
      operation: "open",
      detail: `synchronous must be "full" or "normal", got ${String(synchronous)}`,
    })
  if (options.readonly === true) return openReadonly(options.filename)
  // `timeout` sets SQLite's busy timeout as the connection opens, before any statement runs.
  const db = new Database(options.filename, { timeout: busyTimeoutMs })
  try {
    const step = openingStep(db)
    // Before anything writes: a file of another program is refused untouched.
    step(() => ensureLetheDatabase(db, options.filename))
    // A new file's switch to WAL is where SQLite refuses at once: see `openingStep`.
    step(() => db.pragma("journal_mode = WAL"))
    step(() => db.pragma(`synchronous = ${synchronous.toUpperCase()}`))
    // Freed space is overwritten with zeros, so erased values do not linger in the file (R29).
    step(() => db.pragma("secure_delete = ON"))
    step(() => db.pragma("foreign_keys = ON"))
    step(() => migrate(db, options.filename, migrations, Date.now()))
    db.pragma(`busy_timeout = ${busyTimeoutMs}`)
    return db
  } catch (error) {
    db.close()
    throw error
  }
}

/**
 * The log's record of where its keys live: the id of its key store, or
 * undefined while they live in the log file itself. `schema` is the log's
 * schema name on `db` (`main` alone, `log` beside a key store).
 */
const recordedKeyStore = (db: Database.Database, schema: string): string | undefined =>
  db.prepare<[], { id: string }>(`SELECT key_store_id AS id FROM ${schema}.key_store LIMIT 1`).get()?.id

/** Throws `StoreError` for a log whose keys live in a key store of their own: it never opens alone. */
const ensureKeysInLog = (db: Database.Database, filename: string): void => {
  const keyStore = recordedKeyStore(db, "main")
  if (keyStore !== undefined)
    throw new StoreError({
      operation: "open",
      detail: `${filename} keeps its keys in the key store ${keyStore}: open it with the keys option (sqliteStore({ filename, keys: { filename } }))`,
    })
}

/**
 * The key store file, created and migrated if needed, as the connection's
 * main database, with the log file (already migrated by `openDatabase`)
 * attached as `log`. Unqualified table names resolve to main first: `keys`
 * is the key store's, and every other table (found in the log only) the log's.
 *
 * Why the key store is main: one write transaction covers both files, and
 * in WAL mode SQLite commits them one after the other, main first (there is
 * no super-journal tying WAL files together). A crash in between leaves the
 * keys committed and the log not: an orphan key (never used by an event, or
 * reused by the next attempt) or an erasure marker without its event, which
 * the core tolerates (docs/design.md §3.4); never an event whose key was lost.
 */
const openBesideKeyStore = (options: SqliteStoreOptions, keysFilename: string): Database.Database => {
  const readonly = options.readonly === true
  const synchronous = (options.synchronous ?? "full").toUpperCase()
  const db = readonly
    ? new Database(keysFilename, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs })
    : new Database(keysFilename, { timeout: busyTimeoutMs })
  try {
    const step = openingStep(db)
    step(() => ensureLetheDatabase(db, keysFilename, keyStoreSchema))
    if (readonly) {
      const pending = step(() => pendingMigrations(db, keyStoreMigrations, keyStoreSchema))
      if (pending.length > 0)
        throw new StoreError({
          operation: "open",
          detail: `${keysFilename} needs key store migrations ${pending.join(", ")}: open it once read-write to migrate`,
        })
      if (!step(() => personalMoved(db)))
        throw new StoreError({
          operation: "open",
          detail: `${keysFilename} does not hold the directory's personal columns yet (they are still in ${options.filename}): open the pair once read-write to move them`,
        })
    } else {
      step(() => db.pragma("journal_mode = WAL"))
      step(() => db.pragma(`synchronous = ${synchronous}`))
      step(() => db.pragma("secure_delete = ON"))
      step(() => migrate(db, keysFilename, keyStoreMigrations, Date.now(), keyStoreSchema))
    }
    // An attached file opens with the main file's flags: read-only beside a read-only key store.
    step(() => db.prepare("ATTACH DATABASE ? AS log").run(options.filename))
    if (!readonly) {
      step(() => db.pragma(`log.synchronous = ${synchronous}`))
      step(() => db.pragma("log.secure_delete = ON"))
    }
    db.pragma("foreign_keys = ON")
    return db
  } catch (error) {
    db.close()
    throw error
  }
}

/** The key store's own id, from its `key_store` table. */
const keyStoreId = (db: Database.Database): string =>
  db.prepare<[], { id: string }>("SELECT key_store_id AS id FROM main.key_store LIMIT 1").get()?.id ?? ""

/**
 * Checks that the attached log belongs with this key store, and records the
 * key store's id in a log that has none yet (the first open of a new pair).
 * Throws `StoreError` for a log paired with another key store, or one that
 * still holds keys of its own (`moveKeysApart` moves them).
 */
const pairWithLog = (
  db: Database.Database,
  options: SqliteStoreOptions,
  keysFilename: string,
  now: number,
): void => {
  const id = keyStoreId(db)
  const check = (): boolean => {
    const recorded = recordedKeyStore(db, "log")
    if (recorded !== undefined && recorded !== id)
      throw new StoreError({
        operation: "open",
        detail: `${options.filename} keeps its keys in the key store ${recorded}, not in ${keysFilename} (${id})`,
      })
    const held = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM log.keys").get()?.n ?? 0
    if (held > 0)
      throw new StoreError({
        operation: "open",
        detail: `${options.filename} holds ${held} keys of its own: move them into ${keysFilename} first (moveKeysApart)`,
      })
    return recorded !== undefined
  }
  if (check() || options.readonly === true) return
  db.transaction(() => {
    if (!check())
      db.prepare("INSERT INTO log.key_store (key_store_id, recorded_at) VALUES (?, ?)").run(id, now)
  }).immediate()
}

/**
 * The open's part of keeping the directory's personal columns apart (see
 * `personal.ts`): moves them out of a log written before they lived apart,
 * then, if the log lost writes the key store kept (a crash between the two
 * commits, a log restored from a backup), removes the personal rows of
 * members it does not show active, under the write lock (taken only then),
 * and checkpoints the key store's WAL to zero bytes after removing one.
 * `step` is the open's.
 */
const keepPersonalApart = (db: Database.Database, step: <A>(run: () => A) => A, now: number): void => {
  step(() => movePersonalApart(db, now))
  if (step(() => repairPersonal(db)) > 0) db.pragma("main.wal_checkpoint(TRUNCATE)")
}

/**
 * The log file migrated, and closed again: its migrations name their tables
 * unqualified, so they run with the log as the main database, before it is
 * attached beside its key store.
 */
const migrateLog = (options: SqliteStoreOptions): void => {
  openDatabase(options).close()
}

/**
 * Opens the key store file with the log attached, both migrated, without
 * pairing them; for `moveKeysApart`. Internal: not exported from the package.
 */
export const openKeyStoreAndLog = (
  options: SqliteStoreOptions & { readonly keys: { readonly filename: string } },
): Database.Database => {
  try {
    migrateLog(options)
    return openBesideKeyStore(options, options.keys.filename)
  } catch (error) {
    throw translate("open", error)
  }
}

const openReadonly = (filename: string): Database.Database => {
  const db = new Database(filename, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs })
  try {
    const step = openingStep(db)
    step(() => ensureLetheDatabase(db, filename))
    const pending = step(() => pendingMigrations(db, migrations))
    if (pending.length > 0)
      throw new StoreError({
        operation: "open",
        detail: `${filename} needs schema migrations ${pending.join(", ")}: open it once read-write to migrate`,
      })
    db.pragma(`busy_timeout = ${busyTimeoutMs}`)
    return db
  } catch (error) {
    db.close()
    throw error
  }
}

/** Blocks the thread for `ms` milliseconds, as SQLite's own busy handler does. */
const sleep = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/**
 * How the steps of one open (`step(() => ...)`, each a statement or a
 * transaction) share one budget of `busyTimeoutMs` for waiting on other
 * connections' locks.
 *
 * SQLite waits for a lock itself (the busy handler, given what is left of the
 * budget before each step) in most cases, but answers SQLITE_BUSY at once
 * where waiting could deadlock: a connection that holds a read lock and wants
 * the write lock that another connection holds. Switching a new file to WAL
 * is such a statement (it reads the file's first page, then rewrites it), and
 * processes opening a new file together run it together: the one that takes
 * the write lock first wins, the others were refused without waiting. A
 * refused step took nothing and changed nothing (it was one statement, or a
 * transaction rolled back), so it runs again after a pause (1, 2, 4... up to
 * 50 ms); the winner has switched the file meanwhile, and the step finds
 * nothing left to do. Once the budget is spent, the last SQLITE_BUSY stands,
 * and `Connection.open` turns it into `StoreUnavailable`.
 */
const openingStep = (db: Database.Database) => {
  const deadline = Date.now() + busyTimeoutMs
  return <A>(run: () => A): A => {
    for (let attempt = 0; ; attempt++) {
      db.pragma(`busy_timeout = ${Math.max(0, deadline - Date.now())}`)
      try {
        return run()
      } catch (error) {
        const left = deadline - Date.now()
        if (!isBusy(error) || left <= 0) throw error
        sleep(Math.min(2 ** attempt, 50, left))
      }
    }
  }
}

/**
 * The store's connection. Every SPI call goes through `run` (or `write`),
 * which refuses calls after `close()` and turns driver errors into
 * `StoreUnavailable` or `StoreError` naming the operation.
 *
 * @example
 * ```ts
 * const connection = Connection.open({ filename: "lethe.db" })
 * const count = connection.run("events.readAll", (db) => db.prepare("SELECT count(*) AS n FROM events").get())
 * connection.close()
 * ```
 */
export class Connection {
  readonly #db: Database.Database
  /** Erasures under way (`erasing`), and whether one of their steps asked for a checkpoint. */
  #erasures = 0
  #checkpointDue = false
  readonly #statements = new Map<string, Database.Statement>()
  #writes = 0
  /**
   * Whether the directory's personal columns live in the key store file
   * (`keys` option), the log's members rows holding them NULL (see `personal.ts`).
   */
  readonly personalApart: boolean

  private constructor(db: Database.Database, personalApart = false) {
    this.#db = db
    this.personalApart = personalApart
  }

  /** The number of the write transaction under way (or the last one): 1, 2, 3... per connection. */
  get writes(): number {
    return this.#writes
  }

  /**
   * Opens (or creates) the file, sets the pragmas and migrates the schema,
   * waiting up to `busyTimeoutMs` in all for other connections' locks (other
   * processes opening, migrating or writing the same file). Throws
   * `StoreError` (operation "open") for a file that is not a Lethe database
   * or has a newer schema, `StoreUnavailable` for a file that cannot be
   * opened or stays locked past that time.
   */
  static open(options: SqliteStoreOptions): Connection {
    try {
      if (options.keys === undefined) {
        const db = openDatabase(options)
        try {
          ensureKeysInLog(db, options.filename)
        } catch (error) {
          db.close()
          throw error
        }
        return new Connection(db)
      }
      if (options.keys.filename === options.filename)
        throw new StoreError({ operation: "open", detail: "the key store must be another file than the log" })
      migrateLog(options)
      const db = openBesideKeyStore(options, options.keys.filename)
      try {
        const step = openingStep(db)
        step(() => pairWithLog(db, options, options.keys?.filename ?? "", Date.now()))
        if (options.readonly !== true) keepPersonalApart(db, step, Date.now())
        db.pragma(`busy_timeout = ${busyTimeoutMs}`)
      } catch (error) {
        db.close()
        throw error
      }
      return new Connection(db, true)
    } catch (error) {
      throw translate("open", error)
    }
  }

  /** `fn` on the open database; a thrown driver error becomes `StoreUnavailable` or `StoreError` for `operation`. */
  run<A>(operation: string, fn: (db: Database.Database) => A): A {
    if (!this.#db.open) throw new StoreError({ operation, detail: "store is closed" })
    try {
      return fn(this.#db)
    } catch (error) {
      throw translate(operation, error)
    }
  }

  /** `fn` in one `BEGIN IMMEDIATE` transaction: committed if it returns, rolled back if it throws. */
  write<A>(operation: string, fn: (db: Database.Database) => A): A {
    return this.run(operation, (db) => {
      if (!db.inTransaction) this.#writes++
      return db.transaction(() => fn(db)).immediate()
    })
  }

  /** `fn` in one read transaction, so every statement in it sees the same snapshot. */
  read<A>(operation: string, fn: (db: Database.Database) => A): A {
    return this.run(operation, (db) => db.transaction(() => fn(db)).deferred())
  }

  /**
   * Prepares `texts` now, when the store opens, so that the first command
   * does not pay for parsing them (about 0.05 ms a statement).
   */
  prepare(texts: Iterable<string>): void {
    for (const text of texts) this.statement(text)
  }

  /** The prepared statement for `sql`, prepared once per store. */
  statement<P extends Array<unknown> | object = Array<unknown>, R = unknown>(
    sql: string,
  ): Database.Statement<P, R> {
    let prepared = this.#statements.get(sql)
    if (prepared === undefined) {
      prepared = this.#db.prepare(sql)
      this.#statements.set(sql, prepared)
    }
    return prepared as unknown as Database.Statement<P, R>
  }

  /**
   * Copies every WAL frame into the database file and truncates the WAL to
   * zero bytes, so erased values survive in neither (R29). Called after a
   * commit that erased something. If another connection still reads an older
   * snapshot after `busy_timeout`, the WAL cannot be emptied yet: the next
   * checkpoint (at the latest when the last connection closes) does it.
   */
  checkpoint(operation: string): void {
    if (this.#erasures > 0) {
      this.#checkpointDue = true
      return
    }
    this.run(operation, (db) => db.pragma("wal_checkpoint(TRUNCATE)"))
  }

  /**
   * Runs `steps` (one erasure's, `LetheStore.erasing`) with the checkpoints
   * they call for taken once, when they settle: every erasure's bytes, this
   * one's and those of any erasure running meanwhile, are then out of the WAL.
   */
  async erasing<A>(steps: () => Promise<A>): Promise<A> {
    this.#erasures++
    try {
      return await steps()
    } finally {
      this.#erasures--
      if (this.#checkpointDue) {
        this.#checkpointDue = false
        this.run("erasing", (db) => db.pragma("wal_checkpoint(TRUNCATE)"))
      }
    }
  }

  /** Closes the database; later calls reject with `StoreError`. Closing twice is a no-op. */
  close(): void {
    if (this.#db.open) this.#db.close()
  }
}
