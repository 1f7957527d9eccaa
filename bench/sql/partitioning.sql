-- Declarative partitioning of the events table by tenant, measured (issue 21; docs/operations.md,
-- "Many tenants: partitioning"). Run: psql "$LETHE_PG_URL" -f bench/sql/partitioning.sql
-- Builds, in a scratch schema dropped at the end, the same 400,000 events twice: in one table shaped
-- like Lethe's (primary key on position, unique (stream_id, version)) and in a table partitioned by
-- LIST on a tenant column, 16 tenants (the primary key must then include the tenant). Times the load
-- and the reads Lethe makes: a page of readAll in global order, a page of one tenant's events, and one
-- member's stream with and without its tenant. Prints medians of 30 runs, in milliseconds.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS lethe_partition_bench CASCADE;
CREATE SCHEMA lethe_partition_bench;
SET search_path = lethe_partition_bench;

CREATE TABLE plain (
  position bigint PRIMARY KEY,
  tenant text NOT NULL,
  stream_id text COLLATE "C" NOT NULL,
  version bigint NOT NULL,
  data jsonb NOT NULL,
  UNIQUE (stream_id, version)
);
CREATE TABLE parted (
  position bigint NOT NULL,
  tenant text NOT NULL,
  stream_id text COLLATE "C" NOT NULL,
  version bigint NOT NULL,
  data jsonb NOT NULL,
  PRIMARY KEY (tenant, position),
  UNIQUE (tenant, stream_id, version)
) PARTITION BY LIST (tenant);
DO $$ BEGIN
  FOR t IN 0..15 LOOP
    EXECUTE format('CREATE TABLE parted_%s PARTITION OF parted FOR VALUES IN (%L)', t, 'tenant-' || t);
  END LOOP;
END $$;
-- A global-order index per partition, for readAll across tenants (a primary key (tenant, position)
-- cannot serve ORDER BY position alone).
CREATE INDEX parted_position ON parted (position);

CREATE TABLE results (what text, ms double precision);

-- 400,000 events: 40,000 members of 10 events, members spread over the 16 tenants.
CREATE FUNCTION load(target text) RETURNS double precision LANGUAGE plpgsql AS $$
DECLARE started timestamptz := clock_timestamp();
BEGIN
  EXECUTE format($q$INSERT INTO %I (position, tenant, stream_id, version, data)
    SELECT g, 'tenant-' || ((g / 10) %% 16), 'member-' || (g / 10), (g %% 10) + 1,
           jsonb_build_object('at', g, 'kind', 'visit', 'clubId', 'club-' || (g %% 7))
    FROM generate_series(0, 399999) g$q$, target);
  RETURN extract(epoch FROM clock_timestamp() - started) * 1000;
END $$;

CREATE FUNCTION timed(what text, sql text, runs int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE started timestamptz; i int; dummy bigint;
BEGIN
  FOR i IN 1..runs LOOP
    started := clock_timestamp();
    EXECUTE replace(sql, '$i', i::text) INTO dummy;
    INSERT INTO results VALUES (what, extract(epoch FROM clock_timestamp() - started) * 1000);
  END LOOP;
END $$;

INSERT INTO results SELECT 'load 400,000 events: one table', load('plain');
INSERT INTO results SELECT 'load 400,000 events: 16 partitions by tenant', load('parted');
ANALYZE plain;
ANALYZE parted;

SELECT timed('readAll page (1,000 after a position): one table',
  'SELECT count(*) FROM (SELECT position FROM plain WHERE position > ($i * 9973) % 390000 ORDER BY position LIMIT 1000) p', 30);
SELECT timed('readAll page (1,000 after a position): 16 partitions',
  'SELECT count(*) FROM (SELECT position FROM parted WHERE position > ($i * 9973) % 390000 ORDER BY position LIMIT 1000) p', 30);
SELECT timed('one tenant''s page (1,000): one table',
  'SELECT count(*) FROM (SELECT position FROM plain WHERE tenant = ''tenant-' || '3'' AND position > ($i * 9973) % 300000 ORDER BY position LIMIT 1000) p', 30);
SELECT timed('one tenant''s page (1,000): 16 partitions',
  'SELECT count(*) FROM (SELECT position FROM parted WHERE tenant = ''tenant-' || '3'' AND position > ($i * 9973) % 300000 ORDER BY position LIMIT 1000) p', 30);
SELECT timed('a member''s stream: one table',
  'SELECT count(*) FROM plain WHERE stream_id = ''member-'' || (($i * 7919) % 40000)', 30);
SELECT timed('a member''s stream, tenant unknown: 16 partitions',
  'SELECT count(*) FROM parted WHERE stream_id = ''member-'' || (($i * 7919) % 40000)', 30);
SELECT timed('a member''s stream, tenant given: 16 partitions',
  'SELECT count(*) FROM parted WHERE tenant = ''tenant-'' || (((($i * 7919) % 40000)) % 16) AND stream_id = ''member-'' || (($i * 7919) % 40000)', 30);

SELECT what, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 3) AS median_ms, count(*) AS runs
FROM results GROUP BY what ORDER BY min(ctid);
DROP SCHEMA lethe_partition_bench CASCADE;
