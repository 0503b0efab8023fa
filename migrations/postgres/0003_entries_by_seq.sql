-- Entries are found by request id through a 64-bit key of it
-- (store/request_key.rs: the first eight bytes of its SHA-256, signed big
-- endian) rather than through the text, as on SQLite. Uniqueness of
-- (source, request id) is the ledger's rule, checked under the write lock by
-- every command that logs. Entries at the same time list in log order, and
-- verify reads the view in log order, as SQLite stores it. (PostgreSQL's
-- indexes point at rows by a 6-byte address already, so the table keeps its
-- shape.)
ALTER TABLE entries ADD COLUMN request_key BIGINT;
UPDATE entries
SET request_key = ('x' || left(encode(sha256(convert_to(request_id, 'UTF8')), 'hex'), 16))::bit(64)::bigint
WHERE request_id IS NOT NULL;
DROP INDEX entries_by_request;
CREATE INDEX entries_by_request ON entries (request_key) WHERE request_key IS NOT NULL;
CREATE UNIQUE INDEX entries_by_seq ON entries (logged_seq);
DROP INDEX entries_by_time;
CREATE INDEX entries_by_time ON entries (occurred_at, logged_seq);
