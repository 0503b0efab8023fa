-- An import logs its rows a thousand to an event (`entries_imported`), so
-- an entry's place in log order is no longer the seq of its own event:
-- `logged_seq` becomes `position`. Existing entries keep their numbers (an
-- entry logged by its own event takes that event's seq, as before); the rows
-- of an import event take one number each from their event's seq on.
ALTER TABLE entries RENAME COLUMN logged_seq TO position;
ALTER INDEX entries_by_seq RENAME TO entries_by_position;
