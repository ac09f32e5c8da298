-- Provenance of stored object versions, the same columns as the SQLite
-- store's (its migration 7): signatures holds the version's provenance
-- record (package provenance's JSON), NULL when it has none; from_party
-- and from_node name the partner the version was received from, '' for a
-- version the node originated; ledger_index is, for a received version,
-- the index of the ledger entry that records its receipt, written when
-- the entry is appended in the same transaction; NULL for versions the
-- node originated, and for versions stored before this migration.
-- Columns with a constant default are added without rewriting the table.
ALTER TABLE objects
	ADD COLUMN signatures   bytea,
	ADD COLUMN from_party   text NOT NULL DEFAULT '',
	ADD COLUMN from_node    text NOT NULL DEFAULT '',
	ADD COLUMN ledger_index bigint;
