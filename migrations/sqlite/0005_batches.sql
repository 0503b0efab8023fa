-- Entries of an import or a pool carry its id, so a whole batch is found
-- (to list or void it) through one index.
ALTER TABLE entries ADD COLUMN batch_id TEXT;
CREATE INDEX entries_by_batch ON entries (batch_id) WHERE batch_id IS NOT NULL;
-- Imports, pools, their voids and the corrections imports make are few
-- among the events: found through a small index instead of a scan of the log.
CREATE INDEX events_batches ON events (kind, seq)
    WHERE kind IN ('import_recorded', 'pool_added', 'batch_voided', 'amount_corrected');
-- The spelling of each tag name by its case-folded form (for names
-- already in the ledger the most used spelling, else the first logged), so logging finds the ledger's spelling of a name with one look-up
-- instead of a search of every entry. Derived from the entries as they are
-- written (and rebuilt by replaying them); a hint, not part of the record.
CREATE TABLE tag_spellings (
    field TEXT NOT NULL,
    folded TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (field, folded)
) WITHOUT ROWID;
-- A bare column beside MAX() comes from the row that holds the maximum.
INSERT INTO tag_spellings (field, folded, name)
    SELECT 'client', folded, name FROM (
        SELECT gencost_fold(client) AS folded, client AS name, COUNT(*) AS uses
        FROM entries WHERE client IS NOT NULL GROUP BY client
    ) GROUP BY folded HAVING uses = MAX(uses);
INSERT INTO tag_spellings (field, folded, name)
    SELECT 'project', folded, name FROM (
        SELECT gencost_fold(project) AS folded, project AS name, COUNT(*) AS uses
        FROM entries WHERE project IS NOT NULL GROUP BY project
    ) GROUP BY folded HAVING uses = MAX(uses);
INSERT INTO tag_spellings (field, folded, name)
    SELECT 'deliverable', folded, name FROM (
        SELECT gencost_fold(deliverable) AS folded, deliverable AS name, COUNT(*) AS uses
        FROM entries WHERE deliverable IS NOT NULL GROUP BY deliverable
    ) GROUP BY folded HAVING uses = MAX(uses);
