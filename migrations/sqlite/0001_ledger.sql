-- The event log (the paper trail) and the view of entries derived from it.
-- Integers are micro-units of money or microseconds since the epoch (UTC).

CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    recorded_at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    entry_id TEXT,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
-- Changes to entries after they were logged; logged events are found by seq.
CREATE INDEX events_changes ON events (entry_id, seq) WHERE kind <> 'entry_logged';

CREATE TABLE entries (
    id TEXT NOT NULL PRIMARY KEY,
    logged_seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    source TEXT NOT NULL,
    model TEXT,
    description TEXT,
    client TEXT,
    project TEXT,
    deliverable TEXT,
    request_id TEXT,
    status TEXT NOT NULL,
    duration_ms INTEGER,
    params TEXT NOT NULL,
    estimate_micros INTEGER,
    estimate_currency TEXT NOT NULL,
    estimate_tier TEXT NOT NULL,
    actual_micros INTEGER,
    actual_currency TEXT,
    actual_confirmed_at INTEGER,
    void_reason TEXT,
    voided_at INTEGER,
    cost_micros INTEGER,
    cost_currency TEXT NOT NULL,
    cost_tier TEXT NOT NULL,
    is_void INTEGER NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX entries_by_request ON entries (request_id, source) WHERE request_id IS NOT NULL;
CREATE INDEX entries_by_time ON entries (occurred_at, id);
CREATE INDEX entries_project_costs ON entries (project, cost_currency, occurred_at, cost_micros) WHERE is_void = 0;
CREATE INDEX entries_client_costs ON entries (client, cost_currency, occurred_at, cost_micros) WHERE is_void = 0;
