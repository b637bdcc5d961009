"""The embedded store's schema. One file, WAL; foreign keys declared (see SQLiteStore)."""

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS profiles (
    id INTEGER PRIMARY KEY,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    size INTEGER NOT NULL DEFAULT 0,
    merged_into INTEGER REFERENCES profiles(id),
    golden TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS identifiers (
    id INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    value TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    profile_id INTEGER REFERENCES profiles(id),
    generic INTEGER NOT NULL DEFAULT 0,
    blocked INTEGER NOT NULL DEFAULT 0,
    UNIQUE (type, value)
);
CREATE INDEX IF NOT EXISTS identifiers_profile ON identifiers(profile_id);
CREATE TABLE IF NOT EXISTS observations (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    record_key TEXT NOT NULL,
    ts TEXT NOT NULL,
    anchor_id INTEGER NOT NULL REFERENCES identifiers(id),
    UNIQUE (source, record_key)
);
CREATE INDEX IF NOT EXISTS observations_anchor ON observations(anchor_id);
CREATE TABLE IF NOT EXISTS links (
    a INTEGER NOT NULL REFERENCES identifiers(id),
    b INTEGER NOT NULL REFERENCES identifiers(id),
    rule TEXT NOT NULL,
    weight REAL NOT NULL,
    count INTEGER NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    sources TEXT NOT NULL,
    samples TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (a, b, rule)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS links_b ON links(b);
CREATE TABLE IF NOT EXISTS attributes (
    observation_id INTEGER NOT NULL REFERENCES observations(id),
    anchor_id INTEGER NOT NULL REFERENCES identifiers(id),
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    source TEXT NOT NULL,
    ts TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS attributes_anchor ON attributes(anchor_id);
CREATE TABLE IF NOT EXISTS events (
    observation_id INTEGER NOT NULL REFERENCES observations(id),
    anchor_id INTEGER NOT NULL REFERENCES identifiers(id),
    name TEXT NOT NULL,
    properties TEXT NOT NULL,
    ts TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_anchor ON events(anchor_id);
CREATE TABLE IF NOT EXISTS consent (
    observation_id INTEGER NOT NULL REFERENCES observations(id),
    anchor_id INTEGER NOT NULL REFERENCES identifiers(id),
    purpose TEXT NOT NULL,
    granted INTEGER NOT NULL,
    source TEXT NOT NULL,
    ts TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS consent_anchor ON consent(anchor_id);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ts TEXT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT NOT NULL,
    profiles_before TEXT NOT NULL,
    profiles_after TEXT NOT NULL,
    identifiers TEXT NOT NULL,
    link TEXT,
    details TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_profiles (
    profile_id INTEGER NOT NULL,
    seq INTEGER NOT NULL REFERENCES audit(seq),
    PRIMARY KEY (profile_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS overrides (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    a_type TEXT NOT NULL,
    a_value TEXT NOT NULL,
    b_type TEXT,
    b_value TEXT,
    actor TEXT NOT NULL,
    reason TEXT NOT NULL,
    ts TEXT NOT NULL,
    force INTEGER NOT NULL DEFAULT 0
);
-- segments, consent and erasure: saved segment rules, and the salted hashes of erased
-- identifiers that later ingest must not bring back (the salt is meta 'erasure_salt').
CREATE TABLE IF NOT EXISTS segments (
    name TEXT PRIMARY KEY,
    rule TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS suppressed_identifiers (
    hash TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    erased_at TEXT NOT NULL
) WITHOUT ROWID;
"""
