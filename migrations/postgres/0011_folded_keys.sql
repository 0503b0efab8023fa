-- Names match by one rule on every backend (Unicode NFC, then default full
-- case folding): each tag's folded key is stored beside it, derived from it
-- like `day` and checked by `verify`. Filters compare keys with `=`, prefix
-- suggestions with `LIKE` on them, and the tag rollups are keyed by them.
-- No index: a full scan comparing a stored key costs what `lower()` did,
-- and per-tag indexes cost a large import far more than they saved. The
-- keys, the spellings and the tag rollups are filled by the migration's
-- second step (`store/folded_keys.rs`), which folds in Rust: neither
-- backend's `lower()` is that rule.
ALTER TABLE entries ADD COLUMN client_key TEXT;
ALTER TABLE entries ADD COLUMN project_key TEXT;
ALTER TABLE entries ADD COLUMN deliverable_key TEXT;
