-- What fal reported it billed for a run (units, billed endpoint, the unit
-- price applied), as JSON text; NULL until the run is settled.
ALTER TABLE entries ADD COLUMN billing TEXT;
-- fal's unit prices by endpoint and the UTC day `pricing sync` read them,
-- as exact decimal text: reference data like the exchange rates (not
-- events; they survive reset), so every editor of a shared ledger prices
-- billed units alike.
CREATE TABLE unit_prices (
    endpoint TEXT NOT NULL,
    day BIGINT NOT NULL,
    unit_price TEXT NOT NULL,
    unit TEXT NOT NULL,
    currency TEXT NOT NULL,
    PRIMARY KEY (endpoint, day)
);
