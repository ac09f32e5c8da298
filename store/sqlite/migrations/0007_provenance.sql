-- Provenance of stored object versions (doc/architecture.md, "Origin
-- signatures"): signatures holds the version's provenance record (package
-- provenance's JSON: the originator's signature, and who redacted what),
-- NULL when it has none; from_party and from_node name the partner the
-- version was received from, '' for a version the node originated;
-- ledger_index is, for a received version, the index of the ledger entry
-- that records its receipt, written when the entry is appended in the same
-- transaction; NULL for versions the node originated, and for versions
-- stored before this migration.
ALTER TABLE objects ADD COLUMN signatures BLOB;
ALTER TABLE objects ADD COLUMN from_party TEXT NOT NULL DEFAULT '';
ALTER TABLE objects ADD COLUMN from_node TEXT NOT NULL DEFAULT '';
ALTER TABLE objects ADD COLUMN ledger_index INTEGER;
