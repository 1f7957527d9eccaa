/**
 * The PostgreSQL schema as numbered migrations, applied on open in one
 * transaction under a transaction-level advisory lock on the schema's name:
 * two processes opening at once take turns (the second waits, then finds the
 * schema applied), and a failed migration leaves the database as it was.
 *
 * The tables and indexes are the SQLite adapter's, with `jsonb` event data
 * (a snapshot's state is `text`: see migration 4), `bigint` positions and
 * times, `boolean` flags, ids in the "C" collation (so `ORDER BY member_id`
 * is code-unit order, as in the other adapters), and two additions for
 * concurrent writers: the `positions` sequence and the `transaction_id` of
 * each event (see `event-store.ts`).
 *
 * A migration, once released, never changes: a schema change is a new
 * migration at the end of the list.
 *
 * @module
 */
import { StoreError } from "@lethe/core"
import type { Database, SqlClient } from "./client.js"

/** One step of the schema, for one schema name. */
export interface Migration {
  /** 1, 2, 3...: applied in this order, each once. */
  readonly version: number
  readonly name: string
  /** The statements, run in order, for the schema `schema`. */
  readonly statements: (schema: Schema) => ReadonlyArray<string>
}

/** A validated schema name, its quoted form and its advisory lock keys. */
export interface Schema {
  readonly name: string
  /** The name as a quoted SQL identifier. */
  readonly sql: string
  /** Advisory lock class (first key) of this schema's locks; second keys below. */
  readonly lockClass: number
}

/** Second advisory lock keys under `Schema.lockClass`. Stream locks use a class of their own. */
export const lockKeys = { migrations: 1, positions: 2 } as const

/** A 32-bit FNV-1a hash, as a signed int4: the same in every process. */
const int4Hash = (text: string): number => {
  let hash = 0x811c9dc5
  for (const byte of new TextEncoder().encode(text)) hash = Math.imul(hash ^ byte, 0x01000193)
  return hash | 0
}

/**
 * Checks a schema name: a lower-case SQL identifier of at most 63 bytes.
 * Throws `StoreError` (operation "open") otherwise.
 *
 * @example
 * ```ts
 * toSchema("lethe").sql // '"lethe"'
 * toSchema("Robert'); DROP") // throws StoreError
 * ```
 */
export const toSchema = (name: string): Schema => {
  if (typeof name !== "string" || !/^[a-z_][a-z0-9_]{0,62}$/.test(name) || name.startsWith("pg_"))
    throw new StoreError({
      operation: "open",
      detail: `schema must be a lower-case identifier ([a-z_][a-z0-9_]*, at most 63 characters, not pg_*), got ${JSON.stringify(name)}`,
    })
  return { name, sql: `"${name}"`, lockClass: int4Hash(`lethe:${name}`) }
}

/** Advisory lock class of the per-stream append locks of `schema`. */
export const streamLockClass = (schema: Schema): number => int4Hash(`lethe-streams:${schema.name}`)

const fail = (code: string, message: string, detail: string) =>
  `RAISE EXCEPTION USING ERRCODE = '${code}', MESSAGE = ${message}, DETAIL = ${detail}`

/** Migration 2's statement reading the stream's version into v_current (superseded by `lastVersion`). */
const maxVersion = (schema: Schema): string =>
  `SELECT coalesce(max(version), 0) INTO v_current FROM ${schema.sql}.events WHERE stream_id = p_stream_id;`

/**
 * Migration 5's: the stream's last entry of `events_stream_version`, read
 * backwards. PL/pgSQL keeps one generic plan per statement for the session,
 * planned for no stream in particular; for `max(version)` that plan may
 * aggregate every entry of the stream (cheapest when the average stream is
 * short), so appends to a long stream grew with its history. An ordered
 * `LIMIT 1` has no plan cheaper than reading the index backwards, for any
 * stream.
 */
const lastVersion = (schema: Schema): string =>
  `v_current := coalesce((SELECT version FROM ${schema.sql}.events WHERE stream_id = p_stream_id
              ORDER BY version DESC LIMIT 1), 0);`

/**
 * The whole append in one statement, so one round trip and one commit.
 * Checks first, all read-only: the stream lock and the version (LE001, read
 * by `currentVersion`), the e-mail (LE002), the keys (LE003 taken, LE004
 * destroyed). Then the transaction id is assigned and positions drawn under
 * the short mutex before anything is written, so transaction ids and
 * positions stay in the same order (readAll relies on it); then events, keys
 * and the directory row. `create` is "CREATE" or "CREATE OR REPLACE".
 */
const appendFunction = (schema: Schema, create: string, currentVersion: string): string => {
  const s = schema.sql
  return `${create} FUNCTION ${s}.append(
        p_stream_id text, p_expected text, p_events jsonb, p_member jsonb, p_messages jsonb, p_keys jsonb,
        OUT o_version bigint, OUT o_position bigint)
      LANGUAGE plpgsql VOLATILE AS $fn$
      DECLARE
        n integer := jsonb_array_length(p_events);
        n_keys integer := coalesce(jsonb_array_length(p_keys), 0);
        v_current bigint;
        v_first bigint;
        v_holder text;
        v_destroyed boolean;
        v_inserted integer;
        k record;
      BEGIN
        PERFORM pg_advisory_xact_lock(${streamLockClass(schema)}, hashtext(p_stream_id));
        ${currentVersion}
        -- In parentheses: IF would end its condition at the CASE's first THEN.
        IF NOT (CASE p_expected
            WHEN 'any' THEN true
            WHEN 'no_stream' THEN v_current = 0
            WHEN 'stream_exists' THEN v_current > 0
            ELSE v_current = p_expected::bigint END) THEN
          ${fail("LE001", "format('stream %s is at version %s', p_stream_id, v_current)", "v_current::text")};
        END IF;
        IF p_member IS NOT NULL AND p_member->>'emailKey' IS NOT NULL THEN
          SELECT member_id INTO v_holder FROM ${s}.members
            WHERE tenant_id = p_member->>'tenantId' AND email_key = p_member->>'emailKey'
              AND member_id <> p_member->>'memberId'
            LIMIT 1;
          IF FOUND THEN
            ${fail("LE002", "'e-mail key taken'", "v_holder")};
          END IF;
        END IF;
        FOR k IN SELECT e.value->>'keyId' AS key_id, e.ord FROM jsonb_array_elements(coalesce(p_keys, '[]')) WITH ORDINALITY AS e(value, ord) ORDER BY e.ord LOOP
          SELECT destroyed_at IS NOT NULL INTO v_destroyed FROM ${s}.keys WHERE key_id = k.key_id;
          IF FOUND AND v_destroyed THEN
            ${fail("LE004", "'key destroyed'", "k.key_id")};
          END IF;
          IF FOUND OR EXISTS (SELECT 1 FROM jsonb_array_elements(p_keys) WITH ORDINALITY AS o(value, ord)
                              WHERE o.ord < k.ord AND o.value->>'keyId' = k.key_id) THEN
            ${fail("LE003", "'key exists'", "k.key_id")};
          END IF;
        END LOOP;

        o_position := 0;
        IF n > 0 THEN
          PERFORM pg_advisory_lock(${schema.lockClass}, ${lockKeys.positions});
          PERFORM pg_current_xact_id();
          SELECT min(p) INTO v_first
            FROM (SELECT nextval('${s}.positions') AS p FROM generate_series(1, n)) AS drawn;
          PERFORM pg_advisory_unlock(${schema.lockClass}, ${lockKeys.positions});
          INSERT INTO ${s}.events (position, stream_id, version, type, data, metadata, recorded_at, hash, prev_hash, sealed_keys)
            SELECT v_first + e.ord - 1, p_stream_id, v_current + e.ord,
                   e.value->>'type', e.value->'data', e.value->'metadata',
                   (e.value->>'recordedAt')::bigint, e.value->>'hash', e.value->>'prevHash',
                   NULLIF(ARRAY(SELECT jsonb_array_elements_text(e.value->'sealedKeys')), '{}')
            FROM jsonb_array_elements(p_events) WITH ORDINALITY AS e(value, ord);
          o_position := v_first + n - 1;
        END IF;
        o_version := v_current + n;

        IF n_keys > 0 THEN
          INSERT INTO ${s}.keys (key_id, tenant_id, member_id, category, wrapped_key, kek_id, created_at)
            SELECT e.value->>'keyId', e.value->>'tenantId', e.value->>'memberId', e.value->>'category',
                   e.value->>'wrappedKey', e.value->>'kekId', (e.value->>'createdAt')::bigint
            FROM jsonb_array_elements(p_keys) AS e(value)
            ON CONFLICT (key_id) DO NOTHING;
          GET DIAGNOSTICS v_inserted = ROW_COUNT;
          -- A keys.put of the same id committed since the check: rare, and refused all the same.
          IF v_inserted < n_keys THEN
            ${fail("LE003", "'key exists'", "''")};
          END IF;
        END IF;

        IF p_member IS NOT NULL THEN
          INSERT INTO ${s}.members (member_id, tenant_id, status, name, email, email_key, restore_key,
              search_text, restricted, customer, registered_at, last_activity_at, last_contact_at,
              contracts_ended_at, forgotten_at, restorable_until, anonymized_at, purged_at,
              holds_invoice_data, version)
            VALUES (p_member->>'memberId', p_member->>'tenantId', p_member->>'status', p_member->>'name',
              p_member->>'email', p_member->>'emailKey', p_member->>'restoreKey', p_member->>'searchText',
              (p_member->>'restricted')::boolean, (p_member->>'customer')::boolean,
              (p_member->>'registeredAt')::bigint, (p_member->>'lastActivityAt')::bigint,
              (p_member->>'lastContactAt')::bigint, (p_member->>'contractsEndedAt')::bigint,
              (p_member->>'forgottenAt')::bigint, (p_member->>'restorableUntil')::bigint,
              (p_member->>'anonymizedAt')::bigint, (p_member->>'purgedAt')::bigint,
              (p_member->>'holdsInvoiceData')::boolean, (p_member->>'version')::bigint)
            ON CONFLICT (member_id) DO UPDATE SET tenant_id = excluded.tenant_id, status = excluded.status,
              name = excluded.name, email = excluded.email, email_key = excluded.email_key,
              restore_key = excluded.restore_key, search_text = excluded.search_text,
              restricted = excluded.restricted, customer = excluded.customer,
              registered_at = excluded.registered_at, last_activity_at = excluded.last_activity_at,
              last_contact_at = excluded.last_contact_at, contracts_ended_at = excluded.contracts_ended_at,
              forgotten_at = excluded.forgotten_at, restorable_until = excluded.restorable_until,
              anonymized_at = excluded.anonymized_at, purged_at = excluded.purged_at,
              holds_invoice_data = excluded.holds_invoice_data, version = excluded.version;
          DELETE FROM ${s}.member_requests
            WHERE member_id = p_member->>'memberId' AND ordinal >= jsonb_array_length(p_member->'openRequests');
          INSERT INTO ${s}.member_requests (member_id, ordinal, request_id, kind, received_at, due_by)
            SELECT p_member->>'memberId', r.ord - 1, r.value->>'requestId', r.value->>'kind',
                   (r.value->>'receivedAt')::bigint, (r.value->>'dueBy')::bigint
            FROM jsonb_array_elements(p_member->'openRequests') WITH ORDINALITY AS r(value, ord)
            ON CONFLICT (member_id, ordinal) DO UPDATE SET request_id = excluded.request_id,
              kind = excluded.kind, received_at = excluded.received_at, due_by = excluded.due_by;
          -- The first owner recorded for a message id stays.
          INSERT INTO ${s}.messages (message_id, member_id, tenant_id, sent_at)
            SELECT e.value->>'messageId', e.value->>'memberId', e.value->>'tenantId', (e.value->>'sentAt')::bigint
            FROM jsonb_array_elements(coalesce(p_messages, '[]')) WITH ORDINALITY AS e(value, ord) ORDER BY e.ord
            ON CONFLICT (message_id) DO NOTHING;
        END IF;
      END
      $fn$`
}

/**
 * A batch of appends in one statement (migration 6), so one round trip and
 * one commit: the stream locks of all its requests in hash order (two batches
 * never deadlock), then the position mutex, held while `append` runs for each
 * request in order (the mutex is a session lock, taken again and released by
 * each `append`: the batch's hold outlasts theirs), so the batch's
 * transaction id and all its positions come under one hold. If a request
 * fails, the block's work is undone, the positions drawn are handed back (the
 * mutex is still held: nobody drew since), the mutex is released and the
 * error raised again as it was (SQLSTATE, message, detail, constraint), with
 * the failing request's index in its HINT ("request 3"). A cancelled
 * statement skips the handler; the client then releases the session's
 * advisory locks, and the positions drawn are lost, as a single append's.
 */
const appendBatchFunction = (schema: Schema): string => {
  const s = schema.sql
  return `CREATE FUNCTION ${s}.append_batch(p_requests jsonb)
    RETURNS TABLE (o_version bigint, o_position bigint)
    LANGUAGE plpgsql VOLATILE AS $fn$
    DECLARE
      v_next bigint;
      v_request integer := -1;
      r record;
      v_state text;
      v_message text;
      v_detail text;
      v_constraint text;
    BEGIN
      PERFORM pg_advisory_xact_lock(${streamLockClass(schema)}, streams.h)
        FROM (SELECT DISTINCT hashtext(e.value->>'streamId') AS h
              FROM jsonb_array_elements(p_requests) AS e(value) ORDER BY 1) AS streams;
      PERFORM pg_advisory_lock(${schema.lockClass}, ${lockKeys.positions});
      SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END INTO v_next FROM ${s}.positions;
      BEGIN
        FOR r IN SELECT e.value, e.ord FROM jsonb_array_elements(p_requests) WITH ORDINALITY AS e(value, ord)
                 ORDER BY e.ord LOOP
          v_request := r.ord - 1;
          SELECT a.o_version, a.o_position INTO o_version, o_position
            FROM ${s}.append(r.value->>'streamId', r.value->>'expected', r.value->'events',
                             r.value->'member', r.value->'messages', r.value->'keys') AS a;
          RETURN NEXT;
        END LOOP;
      EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
          v_detail = PG_EXCEPTION_DETAIL, v_constraint = CONSTRAINT_NAME;
        PERFORM setval('${s}.positions', v_next, false);
        PERFORM pg_advisory_unlock(${schema.lockClass}, ${lockKeys.positions});
        RAISE EXCEPTION USING ERRCODE = v_state, MESSAGE = v_message, DETAIL = v_detail,
          CONSTRAINT = v_constraint, HINT = format('request %s', v_request);
      END;
      PERFORM pg_advisory_unlock(${schema.lockClass}, ${lockKeys.positions});
    END
    $fn$`
}

/**
 * Every migration, in order. Indexes follow the Directory's queries (see
 * `directory.ts`), as in the SQLite adapter.
 */
export const migrations: ReadonlyArray<Migration> = [
  {
    version: 1,
    name: "events, keys and directory",
    statements: (schema) => {
      const s = schema.sql
      return [
        // Positions are handed out by append_events, in transaction id order (see event-store.ts).
        `CREATE SEQUENCE ${s}.positions AS bigint START 1 CACHE 1`,
        `CREATE TABLE ${s}.events (
          position bigint PRIMARY KEY,
          stream_id text COLLATE "C" NOT NULL,
          version bigint NOT NULL,
          type text NOT NULL,
          data jsonb NOT NULL,
          metadata jsonb NOT NULL,
          recorded_at bigint NOT NULL,
          hash text NOT NULL,
          prev_hash text NOT NULL,
          transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
          CONSTRAINT events_stream_version UNIQUE (stream_id, version)
        )`,
        `CREATE TABLE ${s}.keys (
          key_id text COLLATE "C" PRIMARY KEY,
          tenant_id text NOT NULL,
          member_id text COLLATE "C" NOT NULL,
          category text NOT NULL,
          wrapped_key text,
          kek_id text NOT NULL,
          created_at bigint NOT NULL,
          destroyed_at bigint,
          CHECK ((wrapped_key IS NULL) = (destroyed_at IS NOT NULL))
        )`,
        `CREATE INDEX keys_by_member ON ${s}.keys (member_id, key_id)`,
        `CREATE TABLE ${s}.members (
          member_id text COLLATE "C" PRIMARY KEY,
          tenant_id text COLLATE "C" NOT NULL,
          status text NOT NULL,
          name text,
          email text,
          email_key text COLLATE "C",
          restore_key text COLLATE "C",
          search_text text,
          restricted boolean NOT NULL,
          customer boolean NOT NULL,
          registered_at bigint NOT NULL,
          last_activity_at bigint NOT NULL,
          last_contact_at bigint NOT NULL,
          contracts_ended_at bigint,
          forgotten_at bigint,
          restorable_until bigint,
          anonymized_at bigint,
          purged_at bigint,
          holds_invoice_data boolean NOT NULL,
          version bigint NOT NULL
        )`,
        `CREATE INDEX members_by_email_key ON ${s}.members (tenant_id, email_key, status, member_id) WHERE email_key IS NOT NULL`,
        `CREATE INDEX members_by_restore_key ON ${s}.members (tenant_id, restore_key, status, member_id) WHERE restore_key IS NOT NULL`,
        `CREATE INDEX members_by_tenant_status ON ${s}.members (tenant_id, status, member_id)`,
        `CREATE INDEX members_by_contracts_ended ON ${s}.members (status, contracts_ended_at)`,
        `CREATE INDEX members_by_last_activity ON ${s}.members (status, last_activity_at)`,
        `CREATE INDEX members_by_last_contact ON ${s}.members (status, customer, last_contact_at)`,
        `CREATE INDEX members_by_restorable_until ON ${s}.members (status, restorable_until)`,
        `CREATE INDEX members_by_invoices_held ON ${s}.members (status, holds_invoice_data, anonymized_at)`,
        `CREATE TABLE ${s}.member_requests (
          member_id text COLLATE "C" NOT NULL REFERENCES ${s}.members (member_id) ON DELETE CASCADE,
          ordinal integer NOT NULL,
          request_id text NOT NULL,
          kind text NOT NULL,
          received_at bigint NOT NULL,
          due_by bigint NOT NULL,
          PRIMARY KEY (member_id, ordinal)
        )`,
        `CREATE INDEX member_requests_by_due ON ${s}.member_requests (due_by, member_id)`,
        `CREATE TABLE ${s}.messages (
          message_id text COLLATE "C" PRIMARY KEY,
          member_id text COLLATE "C" NOT NULL,
          tenant_id text NOT NULL,
          sent_at bigint NOT NULL
        )`,
        // Waits for the stream's append lock (held to the end of the transaction), then reads the
        // stream's version with a fresh snapshot, which sees the previous holder's commit.
        `CREATE FUNCTION ${s}.lock_stream(p_stream_id text) RETURNS bigint
          LANGUAGE plpgsql VOLATILE AS $fn$
          BEGIN
            PERFORM pg_advisory_xact_lock(${streamLockClass(schema)}, hashtext(p_stream_id));
            RETURN coalesce((SELECT max(version) FROM ${s}.events WHERE stream_id = p_stream_id), 0);
          END
          $fn$`,
        // The transaction id is assigned and the positions are drawn under one short mutex, so
        // transaction ids and positions are in the same order; readAll relies on it. The mutex is
        // a session lock released at once, not held until commit: appends still commit in parallel.
        `CREATE FUNCTION ${s}.append_events(p_stream_id text, p_first_version bigint, p_events jsonb)
          RETURNS bigint LANGUAGE plpgsql VOLATILE AS $fn$
          DECLARE
            n integer := jsonb_array_length(p_events);
            first_position bigint;
          BEGIN
            PERFORM pg_advisory_lock(${schema.lockClass}, ${lockKeys.positions});
            PERFORM pg_current_xact_id();
            SELECT min(p) INTO first_position
              FROM (SELECT nextval('${s}.positions') AS p FROM generate_series(1, n)) AS drawn;
            PERFORM pg_advisory_unlock(${schema.lockClass}, ${lockKeys.positions});
            INSERT INTO ${s}.events (position, stream_id, version, type, data, metadata, recorded_at, hash, prev_hash)
              SELECT first_position + e.ord - 1, p_stream_id, p_first_version + e.ord - 1,
                     e.value->>'type', e.value->'data', e.value->'metadata',
                     (e.value->>'recordedAt')::bigint, e.value->>'hash', e.value->>'prevHash'
              FROM jsonb_array_elements(p_events) WITH ORDINALITY AS e(value, ord);
            RETURN first_position + n - 1;
          END
          $fn$`,
      ]
    },
  },
  {
    version: 2,
    name: "one-statement append, sealed key ids per event, one e-mail per tenant",
    statements: (schema) => {
      const s = schema.sql
      return [
        // The key ids of the sealed values an event holds, NULL when none: an erasure reads and
        // rewrites only these rows (through events_sealed), however long the activity history.
        `ALTER TABLE ${s}.events ADD COLUMN sealed_keys text[]`,
        `UPDATE ${s}.events SET sealed_keys = NULLIF(ARRAY(
          SELECT DISTINCT v->>'keyId' FROM jsonb_path_query(data,
            'strict $.** ? (@.type() == "object" && @._tag == "Sealed" && @.keyId.type() == "string"
              && @.category.type() == "string" && @.digest.type() == "string")') AS v
          ORDER BY 1), '{}')`,
        `CREATE INDEX events_sealed ON ${s}.events (stream_id, version) WHERE sealed_keys IS NOT NULL`,
        // The append checks it first (EmailTaken names the holder); the index makes it hold for
        // concurrent writers, who do not see each other's uncommitted rows.
        `CREATE UNIQUE INDEX members_one_email ON ${s}.members (tenant_id, email_key) WHERE email_key IS NOT NULL`,
        // Superseded by append(): a process of the previous release fails loudly rather than
        // write events without their sealed key ids.
        `DROP FUNCTION ${s}.append_events(text, bigint, jsonb)`,
        `DROP FUNCTION ${s}.lock_stream(text)`,
        // The whole append in one statement (see appendFunction).
        appendFunction(schema, "CREATE", maxVersion(schema)),
      ]
    },
  },
  {
    version: 3,
    name: "e-mail look-ups keep their own index",
    // Unlike SQLite's (whose migration 3 drops it), PostgreSQL's planner may read members_one_email
    // (partial, unique) as no better than members_by_tenant_status and filter a whole tenant for
    // one e-mail: findByEmail keeps its covering index. IF NOT EXISTS restores it where an earlier
    // draft of this migration, which dropped it, ran.
    statements: (schema) => [
      `CREATE INDEX IF NOT EXISTS members_by_email_key ON ${schema.sql}.members (tenant_id, email_key, status, member_id) WHERE email_key IS NOT NULL`,
    ],
  },
  {
    version: 4,
    name: "member snapshots",
    statements: (schema) => [
      // At most one per member, the latest version written. The state is text, not jsonb: jsonb
      // reorders keys and respells numbers, and a snapshot must read back as it was written. A
      // removed snapshot leaves its row with state NULL: its version is the floor at or below
      // which no snapshot of the member is kept again.
      `CREATE TABLE ${schema.sql}.snapshots (
        member_id text COLLATE "C" PRIMARY KEY,
        tenant_id text COLLATE "C" NOT NULL,
        version bigint NOT NULL,
        head text NOT NULL,
        state text,
        taken_at bigint NOT NULL
      )`,
    ],
  },
  {
    version: 5,
    name: "append reads the stream's version from its last index entry",
    // The same function, but for the statement reading the stream's version (see lastVersion).
    statements: (schema) => [appendFunction(schema, "CREATE OR REPLACE", lastVersion(schema))],
  },
  {
    version: 6,
    name: "one-statement batch append",
    statements: (schema) => [appendBatchFunction(schema)],
  },
  {
    version: 7,
    name: "retention indexes leave out members without the date",
    // As SQLite's migration 5: a member without the date is found by no retention query (each
    // compares the date), so a registration writes three index entries fewer.
    statements: (schema) => {
      const s = schema.sql
      return [
        `DROP INDEX ${s}.members_by_contracts_ended`,
        `CREATE INDEX members_by_contracts_ended ON ${s}.members (status, contracts_ended_at)
          WHERE contracts_ended_at IS NOT NULL`,
        `DROP INDEX ${s}.members_by_restorable_until`,
        `CREATE INDEX members_by_restorable_until ON ${s}.members (status, restorable_until)
          WHERE restorable_until IS NOT NULL`,
        `DROP INDEX ${s}.members_by_invoices_held`,
        `CREATE INDEX members_by_invoices_held ON ${s}.members (status, holds_invoice_data, anonymized_at)
          WHERE anonymized_at IS NOT NULL`,
      ]
    },
  },
  {
    version: 8,
    name: "where the keys live",
    // One row once the keys live in a key store schema of their own (postgresStore's keys option):
    // that key store's id. The log then opens only beside it, never alone, where it would find no
    // key and mint new ones for values sealed under the old.
    statements: (schema) => [
      `CREATE TABLE ${schema.sql}.key_store (key_store_id text NOT NULL, recorded_at bigint NOT NULL)`,
    ],
  },
  {
    version: 9,
    name: "invoices held after a purge too",
    // As SQLite's migration 7: a purge, like an anonymization, keeps the invoice data the law
    // requires until its retention ends (R37), so invoicesHeldSince finds purged members too, by
    // coalesce(anonymized_at, purged_at) (one of the two is set). The index holds just the members
    // it can find: those with invoice data, anonymized or purged. Unlike SQLite's, status does not
    // lead: the WHERE implies the query's status test, so the planner drops it and ranges over the
    // date alone; with status first it costs two ranges, and once the table is analyzed (without
    // statistics of the expression: PostgreSQL ignores a partial index's) it prefers to filter the
    // members in member_id order through the primary key.
    statements: (schema) => {
      const s = schema.sql
      return [
        `DROP INDEX ${s}.members_by_invoices_held`,
        `CREATE INDEX members_by_invoices_held ON ${s}.members (coalesce(anonymized_at, purged_at))
          WHERE holds_invoice_data AND status IN ('anonymized', 'purged')`,
      ]
    },
  },
]

/**
 * The migrations of a key store schema (`postgresStore`'s `keys` option):
 * the `keys` table as the log's migration 1 made it, and the key store's
 * random id, which the log records so that it opens beside this key store
 * only. They are recorded in a ledger of their own
 * (`lethe_key_store_migrations`), so a log schema is never taken for a key
 * store, nor a key store for a log.
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
    statements: (schema) => {
      const s = schema.sql
      return [
        `CREATE TABLE ${s}.keys (
          key_id text COLLATE "C" PRIMARY KEY,
          tenant_id text NOT NULL,
          member_id text COLLATE "C" NOT NULL,
          category text NOT NULL,
          wrapped_key text,
          kek_id text NOT NULL,
          created_at bigint NOT NULL,
          destroyed_at bigint,
          CHECK ((wrapped_key IS NULL) = (destroyed_at IS NOT NULL))
        )`,
        `CREATE INDEX keys_by_member ON ${s}.keys (member_id, key_id)`,
        `CREATE TABLE ${s}.key_store (key_store_id text NOT NULL)`,
        `INSERT INTO ${s}.key_store (key_store_id) VALUES (md5(random()::text || clock_timestamp()::text))`,
      ]
    },
  },
  {
    version: 2,
    name: "the directory's personal columns beside the keys",
    statements: (schema) => {
      const s = schema.sql
      return [
        // A member's name, e-mail and search text, as the directory row holds them (the log's members
        // row keeps them NULL), when the key store is in the log's database: kept only as long as key
        // store backups, never in a dump of the log (R42). No row when all three are NULL.
        `CREATE TABLE ${s}.member_personal (
          member_id text COLLATE "C" PRIMARY KEY,
          name text,
          email text,
          search_text text
        )`,
        // Set once the log's members rows hold no personal column any more (they were moved here).
        `ALTER TABLE ${s}.key_store ADD COLUMN personal_moved_at bigint`,
        // The oid of the log's members table the personal rows were last checked against: a log
        // restored from a dump is a new table, and the rows of members it does not show active go.
        `ALTER TABLE ${s}.key_store ADD COLUMN log_members bigint`,
      ]
    },
  },
]

/** Which kind of schema: its migration ledger, and what it is called in errors. */
export interface SchemaKind {
  readonly ledger: string
  readonly what: string
}

/** The log's schema (events, directory, snapshots, and its keys unless they live apart). */
export const logSchema: SchemaKind = { ledger: "lethe_migrations", what: "Lethe schema" }

/** A key store schema of its own (`postgresStore`'s `keys` option). */
export const keyStoreSchema: SchemaKind = { ledger: "lethe_key_store_migrations", what: "Lethe key store" }

const ledger = (schema: Schema, kind: SchemaKind = logSchema) => `${schema.sql}.${kind.ledger}`

/**
 * Brings `schema` up to the last of `list`, in one transaction under an
 * advisory lock, and returns the versions it applied (none when up to date).
 * A schema holding tables but no ledger (another program's) and a schema
 * migrated by newer code are refused with `StoreError`, unchanged.
 *
 * @example
 * ```ts
 * await migrate(db, toSchema("lethe"), migrations, Date.now()) // [1] the first time, [] afterwards
 * ```
 */
export const migrate = async (
  db: Database,
  schema: Schema,
  list: ReadonlyArray<Migration>,
  now: number,
  kind: SchemaKind = logSchema,
): Promise<ReadonlyArray<number>> =>
  db.transaction(async (tx: SqlClient) => {
    await tx.query("SELECT pg_advisory_xact_lock($1, $2)", [schema.lockClass, lockKeys.migrations])
    // No wait for the disk at this commit: a crash may lose only this migration (applied again on
    // the next open), since any later commit that waits for the disk flushes it too.
    await tx.query("SET LOCAL synchronous_commit = off")
    await tx.query(`CREATE SCHEMA IF NOT EXISTS ${schema.sql}`)
    const { rows: tables } = await tx.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name",
      [schema.name],
    )
    const names = tables.map((row) => String(row.table_name))
    if (names.length > 0 && !names.includes(kind.ledger))
      throw new StoreError({
        operation: "open",
        detail: `schema ${schema.name} is not a ${kind.what} (it has tables ${names.slice(0, 5).join(", ")}${names.length > 5 ? ", ..." : ""} and no ${kind.ledger})`,
      })
    await tx.query(`CREATE TABLE IF NOT EXISTS ${ledger(schema, kind)} (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at bigint NOT NULL
    )`)
    const { rows } = await tx.query(`SELECT version FROM ${ledger(schema, kind)}`)
    const applied = new Set(rows.map((row) => Number(row.version)))
    const known = new Set(list.map((migration) => migration.version))
    const unknown = [...applied].filter((version) => !known.has(version))
    if (unknown.length > 0)
      throw new StoreError({
        operation: "open",
        detail: `schema ${schema.name} has schema version ${Math.max(...unknown)}, newer than this @lethe/store-postgres knows (${Math.max(0, ...known)}): upgrade the package`,
      })
    const pending = list.filter((migration) => !applied.has(migration.version))
    for (const migration of pending) {
      for (const statement of migration.statements(schema)) await tx.query(statement)
      await tx.query(`INSERT INTO ${ledger(schema, kind)} (version, name, applied_at) VALUES ($1, $2, $3)`, [
        migration.version,
        migration.name,
        now,
      ])
    }
    return pending.map((migration) => migration.version)
  })
