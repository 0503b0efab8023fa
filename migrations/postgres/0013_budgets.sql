-- Budgets as their events define them, and the thresholds each has
-- crossed per period: derived from the budget events like the entries
-- view, in the same transaction, and checked by `verify` against a replay.
-- A budget's sums are rows of cost_rollups (dimension 'budget', keyed by
-- the budget's folded name and the state of the cost).
CREATE TABLE budgets (
    budget_key TEXT NOT NULL PRIMARY KEY,
    definition TEXT NOT NULL,
    event_seq BIGINT NOT NULL
);
CREATE TABLE budget_alerts (
    budget_key TEXT NOT NULL,
    period_start BIGINT NOT NULL,
    threshold BIGINT NOT NULL,
    event_seq BIGINT NOT NULL,
    PRIMARY KEY (budget_key, period_start, threshold)
);
-- Webhooks are reference data, like synced prices: not chain events. The
-- secret signs deliveries (Standard Webhooks); after a rotation the
-- previous one signs too until previous_until.
CREATE TABLE webhooks (
    id TEXT NOT NULL PRIMARY KEY,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_until BIGINT,
    created_at BIGINT NOT NULL
);
-- The outbox: one row per delivery owed, written in the transaction that
-- records the alert, so a delivery is never lost to a crash. A sender
-- claims a row until claimed_until; one that dies leaves the claim to
-- expire and the row to be sent again (at least once: the id lets a
-- receiver drop repeats).
CREATE TABLE webhook_deliveries (
    id TEXT NOT NULL PRIMARY KEY,
    webhook TEXT NOT NULL,
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    claimed_until BIGINT,
    delivered_at BIGINT,
    failed_at BIGINT,
    last_error TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
-- A stamp per budget, changed (to a new random value) by every write that
-- changes the budget's sums on days older than a week, and under the empty
-- key by every import of exchange rates: a process keeps the converted sums
-- of a budget's older days while its stamps stay the same. A cache key,
-- not a figure: verify recomputes the sums themselves.
CREATE TABLE budget_stamps (
    budget_key TEXT NOT NULL PRIMARY KEY,
    stamp BIGINT NOT NULL
);
