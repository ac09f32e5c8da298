-- Federation: the collections shared with each partner party ('read', or
-- 'write' for its inbox), and what the node disclosed to partner nodes,
-- the same model as the SQLite store's (its migration 6). Nothing is
-- shared by default. A disclosure is recorded once per (party, node,
-- object id, version, digest of what was released), with the index of the
-- ledger entry that records it, so that a partner reading the same version
-- again adds nothing to the ledger. Party and node ids compare as bytes
-- (COLLATE "C"), as SQLite compares them, whatever the database's locale.

CREATE TABLE shares (
	party      text   COLLATE "C" NOT NULL,
	collection bigint NOT NULL REFERENCES collections (pk),
	access     text   NOT NULL CHECK (access IN ('read', 'write')),
	PRIMARY KEY (party, collection, access)
);

CREATE TABLE disclosures (
	party        text   COLLATE "C" NOT NULL,
	object_id    text   NOT NULL,
	version      text   NOT NULL,
	node         text   COLLATE "C" NOT NULL,
	digest       bytea  NOT NULL CHECK (length(digest) = 32),
	ledger_index bigint NOT NULL,
	PRIMARY KEY (party, object_id, version, node, digest)
);

CREATE INDEX disclosures_object ON disclosures (object_id);
