-- ECB euro reference rates by UTC day: units of `currency` per euro, as
-- exact decimal text.
CREATE TABLE fx_rates (
    currency TEXT NOT NULL,
    day BIGINT NOT NULL,
    rate TEXT NOT NULL,
    PRIMARY KEY (currency, day)
);

-- What an estimate was made with: the catalog price's verified date, and the
-- model's license status at that time.
ALTER TABLE entries ADD COLUMN price_version TEXT;
ALTER TABLE entries ADD COLUMN license TEXT;

-- The UTC day of each entry, written with the row, so totals converted at
-- each day's rate group by day straight from the covering cost indexes.
ALTER TABLE entries ADD COLUMN day BIGINT NOT NULL DEFAULT 0;
UPDATE entries SET day = (occurred_at - CASE WHEN occurred_at < 0 THEN 86399999999 ELSE 0 END) / 86400000000;
DROP INDEX entries_project_costs;
DROP INDEX entries_client_costs;
CREATE INDEX entries_project_costs ON entries (project, cost_currency, day, occurred_at, cost_micros) WHERE is_void = 0;
CREATE INDEX entries_client_costs ON entries (client, cost_currency, day, occurred_at, cost_micros) WHERE is_void = 0;

-- Confirmed costs by model: the median a model without a catalog price is
-- logged at (the historical tier) is read from here, not from a table scan;
-- in log order within each model, so new rows append instead of scattering.
CREATE INDEX entries_model_actuals ON entries (model, actual_currency, logged_seq, actual_micros) WHERE actual_micros IS NOT NULL AND is_void = 0;
