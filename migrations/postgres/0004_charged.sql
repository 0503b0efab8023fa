-- Whether an entry counts in totals: a failed or cancelled generation
-- counts only when the provider charged it (an actual was confirmed);
-- otherwise it stays on record and is shown apart. Derived, like is_void,
-- and in the cost indexes' predicate, so totals still stream one covering
-- index.
ALTER TABLE entries ADD COLUMN charged INTEGER NOT NULL DEFAULT 1;
UPDATE entries SET charged = 0 WHERE status <> 'succeeded' AND actual_micros IS NULL;
DROP INDEX entries_project_costs;
DROP INDEX entries_client_costs;
CREATE INDEX entries_project_costs ON entries (project, cost_currency, day, occurred_at, cost_micros) WHERE is_void = 0 AND charged = 1;
CREATE INDEX entries_client_costs ON entries (client, cost_currency, day, occurred_at, cost_micros) WHERE is_void = 0 AND charged = 1;
-- The few runs not charged, counted apart.
CREATE INDEX entries_not_charged ON entries (occurred_at) WHERE is_void = 0 AND charged = 0;
