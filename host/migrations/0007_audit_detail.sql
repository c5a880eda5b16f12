-- What an audit row says beyond its action and target: the fields a change named, the
-- username a failed sign-in tried. Names only, never a value that could be secret.
ALTER TABLE audit_log ADD COLUMN detail TEXT NULL;

-- How many calls the row stands for. Calls refused with 429 from one address are counted on
-- one row per burst instead of one row each, so a flood cannot grow the log.
ALTER TABLE audit_log ADD COLUMN repeats INTEGER NOT NULL DEFAULT 1 CHECK (repeats >= 1);
