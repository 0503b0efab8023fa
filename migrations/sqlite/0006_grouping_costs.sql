-- A covering cost index by kind, same shape and predicate as the project
-- index, so the running total's external and pool parts (a total grouped
-- by kind) stream one index instead of scanning every entry. Model and
-- deliverable get none yet: each index is paid for on every write.
CREATE INDEX entries_kind_costs ON entries (kind, cost_currency, day, occurred_at, cost_micros) WHERE is_void = 0 AND charged = 1;
