-- The node's ledger and its witness state, the same model as the SQLite
-- store's (its migrations 4 and 5): entries with the tlog hashes their
-- append stored, the log's size, the node's signed checkpoints, the latest
-- checkpoint cosigned per partner log and the suspended partner logs.

-- One row per entry. hashes holds tlog.StoredHashes of the append that
-- added it, 32 bytes each; concerns the party ids that may receive its
-- opening, one per line; object the seq of the version it records (0 for
-- none), not a foreign key, since a version may be deleted and its entry
-- must stay.
CREATE TABLE ledger_entries (
	idx      bigint PRIMARY KEY,
	salt     bytea  NOT NULL CHECK (length(salt) = 32),
	entry    bytea  NOT NULL,
	hashes   bytea  NOT NULL,
	concerns text   NOT NULL,
	object   bigint NOT NULL
);

CREATE INDEX ledger_entries_object ON ledger_entries (object) WHERE object <> 0;

-- The log's size, and the last object seq given out before the ledger
-- existed: versions stored until then have no entry. Every append locks
-- this row (SELECT … FOR UPDATE) to read the size, so appends are
-- serialized whichever process makes them.
CREATE TABLE ledger_state (
	one            integer PRIMARY KEY CHECK (one = 1),
	size           bigint  NOT NULL,
	objects_before bigint  NOT NULL
);

INSERT INTO ledger_state (one, size, objects_before)
	VALUES (1, 0, (SELECT coalesce(max(seq), 0) FROM objects));

CREATE TABLE ledger_checkpoints (
	size   bigint PRIMARY KEY,
	note   bytea  NOT NULL,
	signed bigint NOT NULL
);

CREATE TABLE witnessed_checkpoints (
	origin text  PRIMARY KEY,
	note   bytea NOT NULL
);

CREATE TABLE suspended_logs (
	origin    text   PRIMARY KEY,
	since     bigint NOT NULL,
	reason    text   NOT NULL,
	evidence  bytea  NOT NULL,
	witnessed bytea  NOT NULL
);
