-- Totals by kind, client and project (and the running total, which sums
-- the kinds) read the cost rollups instead of three covering indexes. Those
-- indexes were keyed (tag, currency, day, ...): an imported or logged entry
-- of any day lands in the middle of its tag's range, a random insert in
-- each of three indexes per entry, which was most of what a large import
-- spent. The rollups take one upsert per (tag, currency, day) a write
-- transaction touched instead. A filter the rollups do not answer (a
-- model, two tags, a bound inside a day) reads the entries: the tag
-- filters match case-insensitively through lower(), which no plain index
-- serves, so the covering indexes were read whole for them anyway.
DROP INDEX entries_project_costs;
DROP INDEX entries_client_costs;
DROP INDEX entries_kind_costs;
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
