-- Federation: the collections shared with each partner party ('read', or
-- 'write' for its inbox), and what the node disclosed to partner nodes.
-- Nothing is shared by default. A disclosure is recorded once per (party,
-- node, object id, version, digest of what was released), with the index
-- of the ledger entry that records it, so that a partner reading the same
-- version again adds nothing to the ledger.

CREATE TABLE shares (
	party      TEXT    NOT NULL,
	collection INTEGER NOT NULL REFERENCES collections (pk),
	access     TEXT    NOT NULL CHECK (access IN ('read', 'write')),
	PRIMARY KEY (party, collection, access)
) STRICT, WITHOUT ROWID;

CREATE TABLE disclosures (
	party        TEXT    NOT NULL,
	object_id    TEXT    NOT NULL,
	version      TEXT    NOT NULL,
	node         TEXT    NOT NULL,
	digest       BLOB    NOT NULL,
	ledger_index INTEGER NOT NULL,
	PRIMARY KEY (party, object_id, version, node, digest)
) STRICT, WITHOUT ROWID;

CREATE INDEX disclosures_object ON disclosures (object_id);
