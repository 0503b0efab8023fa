-- Totals by kind, client and project (and the running total, which sums
-- the kinds) read the cost rollups instead of three covering indexes. Those
-- indexes were keyed (tag, currency, day, ...): an imported or logged entry
-- of any day lands in the middle of its tag's range, a random insert in
-- each of three indexes per entry, which was most of what a large import
-- spent. The rollups take one upsert per (tag, currency, day) touched per
-- chunk instead. A filter by client or project still finds its entries
-- through an index keyed by the folded name and the log position, which
-- grows at one end per name.
DROP INDEX entries_project_costs;
DROP INDEX entries_client_costs;
DROP INDEX entries_kind_costs;
CREATE INDEX entries_by_client ON entries (lower(client), logged_seq);
CREATE INDEX entries_by_project ON entries (lower(project), logged_seq);
INSERT INTO cost_rollups (dimension, keyed, group_key, cost_currency, day, micros, entries, unpriced)
SELECT 'kind', 1, kind, cost_currency, day,
       COALESCE(SUM(cost_micros), 0), COUNT(*), COUNT(*) - COUNT(cost_micros)
FROM entries WHERE is_void = 0 AND charged = 1
GROUP BY kind, cost_currency, day;
INSERT INTO cost_rollups (dimension, keyed, group_key, cost_currency, day, micros, entries, unpriced)
SELECT 'client', CASE WHEN client IS NULL THEN 0 ELSE 1 END, COALESCE(client, ''), cost_currency, day,
       COALESCE(SUM(cost_micros), 0), COUNT(*), COUNT(*) - COUNT(cost_micros)
FROM entries WHERE is_void = 0 AND charged = 1
GROUP BY CASE WHEN client IS NULL THEN 0 ELSE 1 END, COALESCE(client, ''), cost_currency, day;
INSERT INTO cost_rollups (dimension, keyed, group_key, cost_currency, day, micros, entries, unpriced)
SELECT 'project', CASE WHEN project IS NULL THEN 0 ELSE 1 END, COALESCE(project, ''), cost_currency, day,
       COALESCE(SUM(cost_micros), 0), COUNT(*), COUNT(*) - COUNT(cost_micros)
FROM entries WHERE is_void = 0 AND charged = 1
GROUP BY CASE WHEN project IS NULL THEN 0 ELSE 1 END, COALESCE(project, ''), cost_currency, day;
