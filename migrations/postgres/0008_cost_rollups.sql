-- Costs summed per model and per deliverable, each by currency and UTC
-- day: what the entries that count in totals (live and charged) add up to. Kept by every write in the same transaction (a delta
-- per changed entry), checked by `verify` against the entries, and read
-- by totals that have no tag, kind or model filter, so grouping a large
-- ledger by these keys reads a few thousand rows instead of every entry.
-- `keyed` is 0 for entries without the key (a NULL model), so an absent
-- key and any text stay apart in the primary key.
CREATE TABLE cost_rollups (
    dimension TEXT NOT NULL,
    keyed BIGINT NOT NULL,
    group_key TEXT NOT NULL,
    cost_currency TEXT NOT NULL,
    day BIGINT NOT NULL,
    micros BIGINT NOT NULL,
    entries BIGINT NOT NULL,
    unpriced BIGINT NOT NULL,
    PRIMARY KEY (dimension, keyed, group_key, cost_currency, day)
);
INSERT INTO cost_rollups (dimension, keyed, group_key, cost_currency, day, micros, entries, unpriced)
SELECT 'model', CASE WHEN model IS NULL THEN 0 ELSE 1 END, COALESCE(model, ''), cost_currency, day,
       COALESCE(SUM(cost_micros), 0), COUNT(*), COUNT(*) - COUNT(cost_micros)
FROM entries WHERE is_void = 0 AND charged = 1
GROUP BY CASE WHEN model IS NULL THEN 0 ELSE 1 END, COALESCE(model, ''), cost_currency, day;
INSERT INTO cost_rollups (dimension, keyed, group_key, cost_currency, day, micros, entries, unpriced)
SELECT 'deliverable', CASE WHEN deliverable IS NULL THEN 0 ELSE 1 END, COALESCE(deliverable, ''), cost_currency, day,
       COALESCE(SUM(cost_micros), 0), COUNT(*), COUNT(*) - COUNT(cost_micros)
FROM entries WHERE is_void = 0 AND charged = 1
GROUP BY CASE WHEN deliverable IS NULL THEN 0 ELSE 1 END, COALESCE(deliverable, ''), cost_currency, day;
