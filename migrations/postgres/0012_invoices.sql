-- Invoices and credit notes, and the entries each invoice holds locked:
-- derived from the invoice events like the entries view, in the same
-- transaction, and checked by `verify` against a replay of those events.
-- A number is unique, and so is (series, year, seq): numbering never
-- reuses one, a voided invoice keeps its own.
CREATE TABLE invoices (
    number TEXT NOT NULL PRIMARY KEY,
    kind TEXT NOT NULL,
    series TEXT NOT NULL,
    year BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    client TEXT NOT NULL,
    refers_to TEXT,
    currency TEXT NOT NULL,
    total_micros BIGINT NOT NULL,
    lines BIGINT NOT NULL,
    event_seq BIGINT NOT NULL,
    void_reason TEXT
);
CREATE UNIQUE INDEX invoices_by_series ON invoices (series, year, seq);
-- One row per locked entry: the invoice that billed it, what has been
-- billed for it so far (an adjustment on a later invoice moves it on) and
-- the invoice that carried its latest adjustment.
CREATE TABLE invoice_locks (
    entry_id TEXT NOT NULL PRIMARY KEY,
    invoice TEXT NOT NULL,
    micros BIGINT,
    currency TEXT NOT NULL,
    adjusted_by TEXT
);
CREATE INDEX invoice_locks_by_invoice ON invoice_locks (invoice);
