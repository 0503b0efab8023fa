-- What fal reported it billed for a run (units, billed endpoint, the unit
-- price applied), as JSON text; NULL until the run is settled.
ALTER TABLE entries ADD COLUMN billing TEXT;
-- fal's unit prices by endpoint and the UTC day `pricing sync` read them,
-- as exact decimal text: reference data like the exchange rates (not
-- events; they survive reset), so every editor of a shared ledger prices
-- billed units alike.
CREATE TABLE unit_prices (
    endpoint TEXT NOT NULL,
    day INTEGER NOT NULL,
    unit_price TEXT NOT NULL,
    unit TEXT NOT NULL,
    currency TEXT NOT NULL,
    PRIMARY KEY (endpoint, day)
) WITHOUT ROWID;
-- Runs of a model with a confirmed cost or a duration, newest first: the
-- learned figures (historical price, typical run time) read one range of
-- it. It replaces the index of confirmed costs alone.
DROP INDEX entries_model_actuals;
CREATE INDEX entries_model_runs ON entries (model, logged_seq) WHERE is_void = 0 AND (actual_micros IS NOT NULL OR duration_ms IS NOT NULL);
