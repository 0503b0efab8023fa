-- Entries of an import or a pool carry its id, so a whole batch is found
-- (to list or void it) through one index.
ALTER TABLE entries ADD COLUMN batch_id TEXT;
CREATE INDEX entries_by_batch ON entries (batch_id) WHERE batch_id IS NOT NULL;
-- Imports, pools, their voids and the corrections imports make are few
-- among the events: found through a small index instead of a scan of the log.
CREATE INDEX events_batches ON events (kind, seq)
    WHERE kind IN ('import_recorded', 'pool_added', 'batch_voided', 'amount_corrected');
