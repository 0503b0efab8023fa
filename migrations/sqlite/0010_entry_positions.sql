-- An import logs its rows a thousand to an event (`entries_imported`), so
-- an entry's place in log order is no longer the seq of its own event:
-- `logged_seq` becomes `position`. Existing entries keep their numbers: each
-- entry takes its event's seq, or the number after the last one given when
-- that is higher (so an import event's rows number on from its seq).
ALTER TABLE entries RENAME COLUMN logged_seq TO position;
