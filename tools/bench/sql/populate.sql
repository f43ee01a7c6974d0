-- populate.sql — 1,000,000 synthetic domains in irisgate's intel schema (run.sh creates the
-- schema first with `irisgate import`, so the tables are irisgate's own migrations).
--
-- Sharing is skewed the way real infrastructure is: value index = floor(u^3 * K) with u a
-- per-field hash of the domain number, so a few values (big hosters, registrars) are shared by
-- tens of thousands of domains and most by a handful. Two values are planted for the
-- benchmark: ip 10.50.50.50, shared by exactly 50 domains, and name server
-- ns1.shared10k.example, shared by exactly 10,000. 5% of the domains were fetched again later
-- and moved IP: their old IP link is history (not current). Pivot ids are field base + value
-- index, so each field's links are inserted in key order. Create dates spread over 9,000 days
-- back from 2025-10-01 (mind the parentheses: || binds tighter than % in SQLite).
-- pivots.stored_count is computed from the links at the end, as ingest would have kept it.
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -1000000;
PRAGMA temp_store = FILE;
BEGIN;

-- Keep irisgate's schema, not the fixture's rows.
DELETE FROM domain_pivots; DELETE FROM pivots; DELETE FROM domain_history; DELETE FROM risk_history;
DELETE FROM domain_raw; DELETE FROM ips; DELETE FROM name_servers; DELETE FROM mail_servers;
DELETE FROM contacts; DELETE FROM emails; DELETE FROM ssl; DELETE FROM risk_components;
DELETE FROM tracking_codes; DELETE FROM tags; DELETE FROM domains;

CREATE TEMP TABLE n(i INTEGER PRIMARY KEY);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 1000000)
INSERT INTO n SELECT i FROM c;

-- u(i, a) = ((i * a) % 1000003) / 1000003.0, a different multiplier per field.
INSERT INTO domains(domain_id, domain, tld, active, create_date, expiration_date, first_seen,
                    registrar, risk_score, source, first_fetched, last_fetched)
SELECT 1000 + i, 'bench' || i || '.com', 'com', i % 10 <> 0,
       date('2025-10-01', '-' || (((i * 7919) % 1000003) % 9000) || ' days'),
       date('2025-10-01', '+' || (i % 700) || ' days'),
       strftime('%Y-%m-%dT%H:%M:%SZ', '2025-10-01', '-' || (((i * 7919) % 1000003) % 9000) || ' days'),
       'Registrar ' || CAST(pow(((i * 15485863) % 1000003) / 1000003.0, 3) * 200 AS INTEGER) || ', Inc.',
       CASE WHEN i % 17 = 0 THEN NULL
            ELSE CAST(pow(((i * 104729) % 1000003) / 1000003.0, 2) * 101 AS INTEGER) END,
       'iris-investigate', '2025-09-01 00:00:00',
       CASE WHEN i % 20 = 0 THEN '2025-10-02 00:00:00' ELSE '2025-10-01 00:00:00' END
FROM n;

CREATE TEMP TABLE links(pivot_id INTEGER, domain_id INTEGER);
-- ip: base 0, 300,000 values; name servers: base 1e6, pairs over 50,000; registrar: 2e6;
-- ssl_hash: 3e6, 600,000; google_analytics (half the domains): 4e6; email_domain: 5e6.
INSERT INTO links SELECT CAST(pow(((i * 2654435) % 1000003) / 1000003.0, 3) * 300000 AS INTEGER), 1000 + i FROM n;
INSERT INTO links SELECT 1000000 + 2 * CAST(pow(((i * 40503) % 1000003) / 1000003.0, 3) * 25000 AS INTEGER), 1000 + i FROM n;
INSERT INTO links SELECT 1000001 + 2 * CAST(pow(((i * 40503) % 1000003) / 1000003.0, 3) * 25000 AS INTEGER), 1000 + i FROM n;
INSERT INTO links SELECT 2000000 + CAST(pow(((i * 15485863) % 1000003) / 1000003.0, 3) * 200 AS INTEGER), 1000 + i FROM n;
INSERT INTO links SELECT 3000000 + CAST(pow(((i * 7368787) % 1000003) / 1000003.0, 3) * 600000 AS INTEGER), 1000 + i FROM n;
INSERT INTO links SELECT 4000000 + CAST(pow(((i * 99991) % 1000003) / 1000003.0, 3) * 200000 AS INTEGER), 1000 + i FROM n WHERE i % 2 = 0;
INSERT INTO links SELECT 5000000 + CAST(pow(((i * 3571) % 1000003) / 1000003.0, 3) * 100000 AS INTEGER), 1000 + i FROM n;
-- the planted values
INSERT INTO links SELECT 9000001, 1000 + i FROM n WHERE i % 20000 = 7;        -- 50 domains
INSERT INTO links SELECT 9000002, 1000 + i FROM n WHERE i % 100 = 3;          -- 10,000 domains

INSERT INTO domain_pivots(pivot_id, domain_id, first_seen, last_seen)
SELECT l.pivot_id, l.domain_id, '2025-09-01 00:00:00', d.last_fetched
FROM links l JOIN domains d ON d.domain_id = l.domain_id ORDER BY l.pivot_id, l.domain_id;
-- the moved domains' old IP (history: last_seen before last_fetched)
INSERT OR IGNORE INTO domain_pivots(pivot_id, domain_id, first_seen, last_seen)
SELECT 299999 - (domain_id % 1000), domain_id, '2025-09-01 00:00:00', '2025-10-01 00:00:00'
FROM domains WHERE last_fetched = '2025-10-02 00:00:00';

INSERT INTO pivots(pivot_id, field, value, count, count_at)
SELECT pivot_id,
       CASE pivot_id / 1000000 WHEN 0 THEN 'ip' WHEN 1 THEN 'nameserver_host' WHEN 2 THEN 'registrar'
            WHEN 3 THEN 'ssl_hash' WHEN 4 THEN 'google_analytics' WHEN 5 THEN 'email_domain'
            ELSE CASE pivot_id WHEN 9000001 THEN 'ip' ELSE 'nameserver_host' END END,
       CASE pivot_id / 1000000
            WHEN 0 THEN '172.' || (pivot_id >> 16) || '.' || ((pivot_id >> 8) & 255) || '.' || (pivot_id & 255)
            WHEN 1 THEN 'ns' || (pivot_id % 2 + 1) || '.host' || ((pivot_id % 1000000) / 2) || '.net'
            WHEN 2 THEN 'Registrar ' || (pivot_id % 1000000) || ', Inc.'
            WHEN 3 THEN printf('%040x', pivot_id * 2654435761)
            WHEN 4 THEN 'UA-' || (pivot_id % 1000000) || '-1'
            WHEN 5 THEN 'mail' || (pivot_id % 1000000) || '.org'
            ELSE CASE pivot_id WHEN 9000001 THEN '10.50.50.50' ELSE 'ns1.shared10k.example' END END,
       -- Iris knows more domains than we stored: its count is larger.
       count(*) * 3, '2025-10-01 00:00:00'
FROM domain_pivots GROUP BY pivot_id;
-- What ingest keeps in the same transaction as the links: the stored domains that hold the
-- value now (current links), by docs/schema.md's definition. A value only history holds
-- (an IP the moved domains left) keeps the default 0.
UPDATE pivots SET stored_count = c.n
FROM (SELECT dp.pivot_id, count(*) AS n FROM domain_pivots dp
      JOIN domains d ON d.domain_id = dp.domain_id
      WHERE dp.last_seen = d.last_fetched GROUP BY dp.pivot_id) c
WHERE c.pivot_id = pivots.pivot_id;

COMMIT;
ANALYZE;
PRAGMA wal_checkpoint(TRUNCATE);
