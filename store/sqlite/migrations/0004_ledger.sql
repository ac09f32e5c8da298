-- The node's ledger (doc/ledger.md): its entries, the hashes tlog stores for
-- its Merkle tree, its size and its signed checkpoints. Entries, hashes and
-- size are written in the transaction that stores the objects they record,
-- so the log and the objects never disagree, and the size is read in that
-- transaction, so one writer sequences the log.

-- One row per entry. The leaf (the commitment) is not stored: it is one
-- SHA-256 of the salt and the entry. hashes holds the hashes tlog stores
-- when the entry is appended (tlog.StoredHashes: the leaf hash, then one
-- interior hash per subtree the entry completes, at consecutive storage
-- indexes from tlog.StoredHashIndex(0, idx)), 32 bytes each: one row per
-- entry rather than one per hash halves the cost of an append. concerns
-- lists the party ids that may receive the entry's opening, one per line
-- ('' for none). object is the seq of the object version the entry records
-- (0 for none); it is not a foreign key, since a version may be deleted and
-- its entry must stay.
CREATE TABLE ledger_entries (
	idx      INTEGER PRIMARY KEY,
	salt     BLOB    NOT NULL CHECK (length(salt) = 32),
	entry    BLOB    NOT NULL,
	hashes   BLOB    NOT NULL,
	concerns TEXT    NOT NULL,
	object   INTEGER NOT NULL
) STRICT;

CREATE INDEX ledger_entries_object ON ledger_entries (object) WHERE object <> 0;

-- The log's size, and the last object seq given out before the ledger
-- existed: versions stored until then have no entry.
CREATE TABLE ledger_state (
	one            INTEGER PRIMARY KEY CHECK (one = 1),
	size           INTEGER NOT NULL,
	objects_before INTEGER NOT NULL
) STRICT;

INSERT INTO ledger_state (one, size, objects_before)
	VALUES (1, 0, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'objects'), 0));

-- The node's own signed checkpoints, by size; note holds the signed note
-- and any cosignature lines added to it later.
CREATE TABLE ledger_checkpoints (
	size   INTEGER PRIMARY KEY,
	note   BLOB    NOT NULL,
	signed INTEGER NOT NULL
) STRICT;
