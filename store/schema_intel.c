/* schema_intel.c — the SQL texts of the intel tables' migrations (db.c applies each once, in
 * its own transaction): ig_schema_intel (version 2: tables and BI views) and
 * ig_schema_intel_v4 (history as intervals, every raw result, the fetch log, stored counts).
 * What the tables hold and how to query them is docs/schema.md; keep the two in step.
 * Conventions, for analysts as much as for code:
 *   - every domain is one row of `domains`, found by its lower-case name; other tables
 *     point at it by `domain_id`;
 *   - the current tables (ips, name_servers, ...) hold what the latest observation said;
 *     history (fetches, domain_raw, risk_history, and the intervals of domain_pivots and
 *     domain_history) is only extended;
 *   - our times are UTC text 'YYYY-MM-DD HH:MM:SS' (SQLite's datetime()); the vendor's
 *     dates stay as the vendor wrote them ('YYYY-MM-DD', or ISO 8601 for first_seen);
 *   - `pivots.field` is the Iris Investigate search parameter that pivots on the value.
 * Never edit a shipped text: a change is a new migration appended in db.c. */
#include "store_int.h"

const char ig_schema_intel[] =
    /* ---- one row per domain: the latest answer's scalar fields ---- */
    "CREATE TABLE domains ("
    "  domain_id INTEGER PRIMARY KEY,"
    "  domain TEXT NOT NULL UNIQUE,"
    "  tld TEXT,"
    "  active INTEGER,"                   /* 1, 0, or NULL when not sent */
    "  create_date TEXT,"                 /* YYYY-MM-DD */
    "  expiration_date TEXT,"             /* YYYY-MM-DD */
    "  first_seen TEXT,"                  /* vendor's first_seen, ISO 8601 */
    "  registrar TEXT,"
    "  registrar_status TEXT,"            /* comma-separated, as listed */
    "  registrant_name TEXT,"
    "  registrant_org TEXT,"
    "  website_title TEXT,"
    "  website_response INTEGER,"         /* HTTP status of the site */
    "  server_type TEXT,"
    "  redirect TEXT,"
    "  redirect_domain TEXT,"
    "  spf_info TEXT,"
    "  popularity_rank REAL,"
    "  alexa INTEGER,"
    "  risk_score INTEGER,"               /* 0-100 */
    "  data_updated TEXT,"                /* vendor's data_updated_timestamp */
    "  whois_url TEXT,"
    "  source TEXT NOT NULL,"             /* iris-investigate, iris-enrich, iris */
    "  first_fetched TEXT NOT NULL,"      /* when our store first saw the domain */
    "  last_fetched TEXT NOT NULL"        /* when the current rows were fetched */
    ");"
    "CREATE INDEX domains_last_fetched ON domains(last_fetched);"
    "CREATE INDEX domains_risk_score ON domains(risk_score);"
    "CREATE INDEX domains_create_date ON domains(create_date);"

    /* the latest result object exactly as the vendor sent it (new fields included) */
    "CREATE TABLE domain_raw ("
    "  domain_id INTEGER PRIMARY KEY REFERENCES domains(domain_id),"
    "  endpoint TEXT NOT NULL,"
    "  fetched_at TEXT NOT NULL,"
    "  json TEXT NOT NULL"
    ");"

    /* ---- current multi-valued attributes (replaced on every fetch) ---- */
    "CREATE TABLE ips ("
    "  domain_id INTEGER NOT NULL REFERENCES domains(domain_id),"
    "  position INTEGER NOT NULL,"        /* order in the answer, from 0 */
    "  address TEXT NOT NULL,"
    "  asn INTEGER,"                      /* the first ASN */
    "  asns TEXT,"                        /* every ASN, comma-separated */
    "  country_code TEXT,"                /* lower case */
    "  isp TEXT,"
    "  PRIMARY KEY (domain_id, position)"
    ") WITHOUT ROWID;"
    "CREATE INDEX ips_address ON ips(address);"

    "CREATE TABLE name_servers ("
    "  domain_id INTEGER NOT NULL REFERENCES domains(domain_id),"
    "  position INTEGER NOT NULL,"
    "  host TEXT NOT NULL,"
    "  domain TEXT,"
    "  ips TEXT,"                         /* comma-separated */
    "  PRIMARY KEY (domain_id, position)"
    ") WITHOUT ROWID;"
    "CREATE INDEX name_servers_host ON name_servers(host);"

    "CREATE TABLE mail_servers ("
    "  domain_id INTEGER NOT NULL REFERENCES domains(domain_id),"
    "  position INTEGER NOT NULL,"
    "  host TEXT NOT NULL,"
    "  domain TEXT,"
    "  priority INTEGER,"
    "  ips TEXT,"                         /* comma-separated */
    "  PRIMARY KEY (domain_id, position)"
    ") WITHOUT ROWID;"
    "CREATE INDEX mail_servers_host ON mail_servers(host);"

    "CREATE TABLE contacts ("
    "  domain_id INTEGER NOT NULL REFERENCES domains(domain_id),"
    "  role TEXT NOT NULL,"               /* registrant, admin, billing, technical */
    "  name TEXT, org TEXT, street TEXT, city TEXT, state TEXT, postal TEXT,"
    "  country TEXT,"                     /* lower case */
    "  phone TEXT, fax TEXT,"
    "  emails TEXT,"                      /* comma-separated */
    "  PRIMARY KEY (domain_id, role)"
    ") WITHOUT ROWID;"

    "CREATE TABLE emails ("
    "  domain_id INTEGER NOT NULL REFERENCES domains(domain_id),"
    "  source TEXT NOT NULL,"             /* registrant, admin, billing, technical, soa,
                                             additional_whois, ssl */
    "  email TEXT NOT NULL,"
    "  PRIMARY KEY (domain_id, source, email)"
    ") WITHOUT ROWID;"
    "CREATE INDEX emails_email ON emails(email);"

    "CREATE TABLE ssl ("
    "  domain_id INTEGER NOT NULL REFERENCES domains(domain_id),"
    "  position INTEGER NOT NULL,"
    "  hash TEXT,"                        /* SHA-1 hex */
    "  subject TEXT, organization TEXT, email TEXT,"
    "  common_name TEXT, issuer_common_name TEXT,"
    "  alt_names TEXT,"                   /* comma-separated */
    "  not_before TEXT, not_after TEXT,"  /* YYYY-MM-DD */
    "  duration INTEGER,"                 /* days */
    "  PRIMARY KEY (domain_id, position)"
    ") WITHOUT ROWID;"
    "CREATE INDEX ssl_hash ON ssl(hash);"

    "CREATE TABLE risk_components ("
    "  domain_id INTEGER NOT NULL REFERENCES domains(domain_id),"
    "  name TEXT NOT NULL,"               /* proximity, threat_profile, ..._malware, ... */
    "  risk_score INTEGER,"
    "  evidence TEXT,"                    /* comma-separated */
    "  threats TEXT,"                     /* comma-separated */
    "  PRIMARY KEY (domain_id, name)"
    ") WITHOUT ROWID;"

    "CREATE TABLE tracking_codes ("
    "  domain_id INTEGER NOT NULL REFERENCES domains(domain_id),"
    "  kind TEXT NOT NULL,"               /* the search parameter: adsense, ga4, ... */
    "  code TEXT NOT NULL,"
    "  PRIMARY KEY (domain_id, kind, code)"
    ") WITHOUT ROWID;"
    "CREATE INDEX tracking_codes_code ON tracking_codes(code);"

    "CREATE TABLE tags ("
    "  domain_id INTEGER NOT NULL REFERENCES domains(domain_id),"
    "  label TEXT NOT NULL,"
    "  scope TEXT,"
    "  tagged_at TEXT,"
    "  PRIMARY KEY (domain_id, label)"
    ") WITHOUT ROWID;"
    "CREATE INDEX tags_label ON tags(label);"

    /* ---- pivots: every (field, value) seen, its latest vendor count, its domains ---- */
    "CREATE TABLE pivots ("
    "  pivot_id INTEGER PRIMARY KEY,"
    "  field TEXT NOT NULL,"              /* Iris Investigate search parameter */
    "  value TEXT NOT NULL,"
    "  count INTEGER,"                    /* vendor's guided-pivot count; NULL if never sent */
    "  count_at TEXT,"                    /* when that count was observed */
    "  UNIQUE (field, value)"
    ");"

    /* history of domain <-> value: current when last_seen = domains.last_fetched */
    "CREATE TABLE domain_pivots ("
    "  pivot_id INTEGER NOT NULL REFERENCES pivots(pivot_id),"
    "  domain_id INTEGER NOT NULL REFERENCES domains(domain_id),"
    "  first_seen TEXT NOT NULL,"
    "  last_seen TEXT NOT NULL,"
    "  PRIMARY KEY (domain_id, pivot_id)" /* a domain's rows together: cheap to write */
    ") WITHOUT ROWID;"
    "CREATE INDEX domain_pivots_pivot ON domain_pivots(pivot_id, domain_id);"

    /* history of the scalar attributes that are not pivots */
    "CREATE TABLE domain_history ("
    "  domain_id INTEGER NOT NULL REFERENCES domains(domain_id),"
    "  attr TEXT NOT NULL,"               /* a column name of domains */
    "  value TEXT NOT NULL,"
    "  first_seen TEXT NOT NULL,"
    "  last_seen TEXT NOT NULL,"
    "  PRIMARY KEY (domain_id, attr, value)"
    ") WITHOUT ROWID;"

    /* one row per fetch that carried a risk score */
    "CREATE TABLE risk_history ("
    "  domain_id INTEGER NOT NULL REFERENCES domains(domain_id),"
    "  observed_at TEXT NOT NULL,"
    "  risk_score INTEGER,"
    "  proximity INTEGER,"
    "  threat_profile INTEGER,"
    "  threat_profile_malware INTEGER,"
    "  threat_profile_phishing INTEGER,"
    "  threat_profile_spam INTEGER,"
    "  PRIMARY KEY (domain_id, observed_at)"
    ") WITHOUT ROWID;"

    /* ---- views for BI ---- */
    "CREATE VIEW v_domains AS SELECT"
    "  d.domain_id, d.domain, d.tld, d.active, d.risk_score,"
    "  (SELECT risk_score FROM risk_components c WHERE c.domain_id = d.domain_id"
    "     AND c.name = 'proximity') AS risk_proximity,"
    "  (SELECT risk_score FROM risk_components c WHERE c.domain_id = d.domain_id"
    "     AND c.name = 'threat_profile') AS risk_threat_profile,"
    "  (SELECT risk_score FROM risk_components c WHERE c.domain_id = d.domain_id"
    "     AND c.name = 'threat_profile_malware') AS risk_malware,"
    "  (SELECT risk_score FROM risk_components c WHERE c.domain_id = d.domain_id"
    "     AND c.name = 'threat_profile_phishing') AS risk_phishing,"
    "  (SELECT risk_score FROM risk_components c WHERE c.domain_id = d.domain_id"
    "     AND c.name = 'threat_profile_spam') AS risk_spam,"
    "  d.create_date, d.expiration_date,"
    "  CAST(julianday('now') - julianday(d.create_date) AS INTEGER) AS age_days,"
    "  d.first_seen, d.registrar, d.registrant_name, d.registrant_org,"
    "  i.address AS ip, i.country_code AS ip_country_code, i.asn AS ip_asn, i.isp AS ip_isp,"
    "  (SELECT group_concat(host, ',') FROM (SELECT host FROM name_servers n"
    "     WHERE n.domain_id = d.domain_id ORDER BY position)) AS name_servers,"
    "  (SELECT count(*) FROM mail_servers m WHERE m.domain_id = d.domain_id) AS mx_count,"
    "  (SELECT hash FROM ssl s WHERE s.domain_id = d.domain_id ORDER BY position LIMIT 1)"
    "     AS ssl_hash,"
    "  d.website_title, d.server_type, d.redirect_domain, d.popularity_rank,"
    "  d.source, d.first_fetched, d.last_fetched"
    " FROM domains d LEFT JOIN ips i ON i.domain_id = d.domain_id AND i.position = 0;"

    "CREATE VIEW v_pivot_counts AS SELECT"
    "  p.field, p.value, p.count AS vendor_count, p.count_at,"
    "  (SELECT count(*) FROM domain_pivots dp JOIN domains d ON d.domain_id = dp.domain_id"
    "     WHERE dp.pivot_id = p.pivot_id AND dp.last_seen = d.last_fetched) AS stored_count,"
    "  (SELECT count(*) FROM domain_pivots dp WHERE dp.pivot_id = p.pivot_id) AS ever_count"
    " FROM pivots p;"

    /* every attribute value a domain gained or lost, with when */
    "CREATE VIEW v_domain_changes AS"
    " SELECT d.domain, p.field AS attr, p.value, dp.first_seen, dp.last_seen,"
    "  dp.last_seen = d.last_fetched AS current,"
    "  CASE WHEN dp.last_seen < d.last_fetched THEN 'removed'"
    "   WHEN dp.first_seen > d.first_fetched THEN 'added' ELSE 'initial' END AS change"
    " FROM domain_pivots dp JOIN pivots p ON p.pivot_id = dp.pivot_id"
    "  JOIN domains d ON d.domain_id = dp.domain_id"
    " UNION ALL"
    " SELECT d.domain, h.attr, h.value, h.first_seen, h.last_seen,"
    "  h.last_seen = d.last_fetched AS current,"
    "  CASE WHEN h.last_seen < d.last_fetched THEN 'removed'"
    "   WHEN h.first_seen > d.first_fetched THEN 'added' ELSE 'initial' END AS change"
    " FROM domain_history h JOIN domains d ON d.domain_id = h.domain_id;";

/* Migration 4 (user_version 4): history as intervals, every raw result kept, the fetch log,
 * maintained stored counts, and no secondary index that only repeats what pivots and
 * domain_pivots already answer. Existing rows are carried over: a link or history row of
 * version 3 (first and last sighting) becomes one interval; the fetch log is rebuilt from
 * every time version 3 recorded; the latest raw result of each domain is kept.
 * The views are dropped first (renaming a table rewrites the views that name it) and made
 * again at the end. irisgate_hash() is registered by db.c on the migrating connection. */
const char ig_schema_intel_v4[] =
    "DROP VIEW v_domains; DROP VIEW v_pivot_counts; DROP VIEW v_domain_changes;"

    /* Indexes whose lookups pivots + domain_pivots answer (ip, nameserver_host,
     * mailserver_host, email, ssl_hash, the tracking codes), and two nobody queries by. */
    "DROP INDEX ips_address; DROP INDEX name_servers_host; DROP INDEX mail_servers_host;"
    "DROP INDEX emails_email; DROP INDEX ssl_hash; DROP INDEX tracking_codes_code;"
    "DROP INDEX domains_last_fetched; DROP INDEX domains_create_date;"

    /* every distinct result a domain's answers held, as sent */
    "ALTER TABLE domain_raw RENAME TO domain_raw_v3;"
    "CREATE TABLE domain_raw ("
    "  raw_id INTEGER PRIMARY KEY,"
    "  domain_id INTEGER NOT NULL REFERENCES domains(domain_id),"
    "  endpoint TEXT NOT NULL,"          /* iris-investigate, iris-enrich, iris */
    "  hash INTEGER NOT NULL,"           /* of json, to find a result seen before */
    "  first_seen TEXT NOT NULL,"        /* the first fetch that sent these bytes */
    "  json TEXT NOT NULL"
    ");"
    "INSERT INTO domain_raw(domain_id, endpoint, hash, first_seen, json)"
    "  SELECT domain_id, endpoint, irisgate_hash(json), fetched_at, json FROM domain_raw_v3"
    "  ORDER BY domain_id;"
    "DROP TABLE domain_raw_v3;"
    "CREATE INDEX domain_raw_domain ON domain_raw(domain_id, hash);"
    "ALTER TABLE domains ADD COLUMN raw_id INTEGER REFERENCES domain_raw(raw_id);"
    "UPDATE domains SET raw_id ="
    "  (SELECT raw_id FROM domain_raw r WHERE r.domain_id = domains.domain_id);"

    /* one row per time our store saw a domain */
    "CREATE TABLE fetches ("
    "  domain_id INTEGER NOT NULL REFERENCES domains(domain_id),"
    "  observed_at TEXT NOT NULL,"
    "  endpoint TEXT NOT NULL,"
    "  raw_id INTEGER REFERENCES domain_raw(raw_id)," /* NULL: seen before version 4 */
    "  PRIMARY KEY (domain_id, observed_at)"
    ") WITHOUT ROWID;"
    "INSERT INTO fetches SELECT domain_id, last_fetched, source, raw_id FROM domains;"
    "INSERT OR IGNORE INTO fetches SELECT x.domain_id, x.t, d.source, NULL FROM ("
    "  SELECT domain_id, first_fetched AS t FROM domains"
    "  UNION SELECT domain_id, observed_at FROM risk_history"
    "  UNION SELECT domain_id, first_seen FROM domain_pivots"
    "  UNION SELECT domain_id, last_seen FROM domain_pivots"
    "  UNION SELECT domain_id, first_seen FROM domain_history"
    "  UNION SELECT domain_id, last_seen FROM domain_history"
    ") x JOIN domains d ON d.domain_id = x.domain_id;"

    /* links: one row per interval (a value that comes back is a new row) */
    "ALTER TABLE domain_pivots RENAME TO domain_pivots_v3;"
    "DROP INDEX domain_pivots_pivot;"
    "CREATE TABLE domain_pivots ("
    "  pivot_id INTEGER NOT NULL REFERENCES pivots(pivot_id),"
    "  domain_id INTEGER NOT NULL REFERENCES domains(domain_id),"
    "  first_seen TEXT NOT NULL,"
    "  last_seen TEXT NOT NULL,"
    "  PRIMARY KEY (domain_id, pivot_id, first_seen)"
    ") WITHOUT ROWID;"
    "INSERT INTO domain_pivots SELECT pivot_id, domain_id, first_seen, last_seen"
    "  FROM domain_pivots_v3 ORDER BY domain_id, pivot_id;"
    "DROP TABLE domain_pivots_v3;"
    "CREATE INDEX domain_pivots_pivot ON domain_pivots(pivot_id, domain_id);"

    /* the other attributes: one row per interval, written once an attribute changes */
    "ALTER TABLE domain_history RENAME TO domain_history_v3;"
    "CREATE TABLE domain_history ("
    "  domain_id INTEGER NOT NULL REFERENCES domains(domain_id),"
    "  attr TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  first_seen TEXT NOT NULL,"
    "  last_seen TEXT NOT NULL,"
    "  PRIMARY KEY (domain_id, attr, value, first_seen)"
    ") WITHOUT ROWID;"
    "INSERT INTO domain_history SELECT domain_id, attr, value, first_seen, last_seen"
    "  FROM domain_history_v3 ORDER BY domain_id, attr, value;"
    "DROP TABLE domain_history_v3;"

    /* how many stored domains currently hold each value, kept by ingest */
    "ALTER TABLE pivots ADD COLUMN stored_count INTEGER NOT NULL DEFAULT 0;"
    "UPDATE pivots SET stored_count = (SELECT count(*) FROM domain_pivots dp"
    "  JOIN domains d ON d.domain_id = dp.domain_id"
    "  WHERE dp.pivot_id = pivots.pivot_id AND dp.last_seen = d.last_fetched);"

    /* ---- views ---- */
    "CREATE VIEW v_domains AS SELECT"
    "  d.domain_id, d.domain, d.tld, d.active, d.risk_score,"
    "  (SELECT risk_score FROM risk_components c WHERE c.domain_id = d.domain_id"
    "     AND c.name = 'proximity') AS risk_proximity,"
    "  (SELECT risk_score FROM risk_components c WHERE c.domain_id = d.domain_id"
    "     AND c.name = 'threat_profile') AS risk_threat_profile,"
    "  (SELECT risk_score FROM risk_components c WHERE c.domain_id = d.domain_id"
    "     AND c.name = 'threat_profile_malware') AS risk_malware,"
    "  (SELECT risk_score FROM risk_components c WHERE c.domain_id = d.domain_id"
    "     AND c.name = 'threat_profile_phishing') AS risk_phishing,"
    "  (SELECT risk_score FROM risk_components c WHERE c.domain_id = d.domain_id"
    "     AND c.name = 'threat_profile_spam') AS risk_spam,"
    "  d.create_date, d.expiration_date,"
    "  CAST(julianday('now') - julianday(d.create_date) AS INTEGER) AS age_days,"
    "  d.first_seen, d.registrar, d.registrant_name, d.registrant_org,"
    "  i.address AS ip, i.country_code AS ip_country_code, i.asn AS ip_asn, i.isp AS ip_isp,"
    "  (SELECT group_concat(host, ',') FROM (SELECT host FROM name_servers n"
    "     WHERE n.domain_id = d.domain_id ORDER BY position)) AS name_servers,"
    "  (SELECT count(*) FROM mail_servers m WHERE m.domain_id = d.domain_id) AS mx_count,"
    "  (SELECT hash FROM ssl s WHERE s.domain_id = d.domain_id ORDER BY position LIMIT 1)"
    "     AS ssl_hash,"
    "  d.website_title, d.server_type, d.redirect_domain, d.popularity_rank,"
    "  d.source, d.first_fetched, d.last_fetched"
    " FROM domains d LEFT JOIN ips i ON i.domain_id = d.domain_id AND i.position = 0;"

    "CREATE VIEW v_pivot_counts AS SELECT"
    "  p.field, p.value, p.count AS vendor_count, p.count_at, p.stored_count,"
    "  (SELECT count(DISTINCT dp.domain_id) FROM domain_pivots dp"
    "     WHERE dp.pivot_id = p.pivot_id) AS ever_count"
    " FROM pivots p;"

    /* every interval of every value a domain held: when it came (NULL: there since our
     * first fetch) and when it went (the first fetch without it; NULL: still there) */
    "CREATE VIEW v_domain_changes AS"
    " SELECT d.domain, p.field AS attr, p.value, dp.first_seen, dp.last_seen,"
    "  dp.last_seen = d.last_fetched AS current,"
    "  CASE WHEN dp.last_seen < d.last_fetched THEN 'removed'"
    "   WHEN dp.first_seen > d.first_fetched THEN 'added' ELSE 'initial' END AS change,"
    "  CASE WHEN dp.first_seen > d.first_fetched THEN dp.first_seen END AS added_at,"
    "  (SELECT min(f.observed_at) FROM fetches f WHERE f.domain_id = dp.domain_id"
    "     AND f.observed_at > dp.last_seen) AS removed_at,"
    "  d.domain_id"
    " FROM domain_pivots dp JOIN pivots p ON p.pivot_id = dp.pivot_id"
    "  JOIN domains d ON d.domain_id = dp.domain_id"
    " UNION ALL"
    " SELECT d.domain, h.attr, h.value, h.first_seen, h.last_seen,"
    "  h.last_seen = d.last_fetched AS current,"
    "  CASE WHEN h.last_seen < d.last_fetched THEN 'removed'"
    "   WHEN h.first_seen > d.first_fetched THEN 'added' ELSE 'initial' END AS change,"
    "  CASE WHEN h.first_seen > d.first_fetched THEN h.first_seen END AS added_at,"
    "  (SELECT min(f.observed_at) FROM fetches f WHERE f.domain_id = h.domain_id"
    "     AND f.observed_at > h.last_seen) AS removed_at,"
    "  d.domain_id"
    " FROM domain_history h JOIN domains d ON d.domain_id = h.domain_id;";
