-- For reads from a replica: per caller, the primary's WAL position after
-- its latest write. Until a replica has replayed past it, that caller's
-- reads go to the primary, so no caller misses its own writes, whichever
-- process serves it.
CREATE TABLE read_marks (
	caller text   PRIMARY KEY,
	lsn    pg_lsn NOT NULL
);
