-- The terms the node works under (doc/ledger.md, "Terms"): each signed
-- agreement version it adopted or moved to, and each node key it signed
-- with, in the order recorded, each with the index of the ledger entry
-- (agreement adopted or amended, key rotated) written in the same
-- transaction. The latest row is what the node last recorded; a start or
-- an amendment under other terms adds a row and an entry.

-- previous is the version this one amended, 0 when adopted. digest is
-- SHA-256 of the signed content (RFC 8785), document the signed agreement
-- as YAML with its signatures, verified again whenever it is read.
CREATE TABLE agreements (
	seq       INTEGER PRIMARY KEY AUTOINCREMENT,
	agreement TEXT    NOT NULL CHECK (agreement <> ''),
	version   INTEGER NOT NULL CHECK (version > 0),
	previous  INTEGER NOT NULL CHECK (previous >= 0),
	digest    BLOB    NOT NULL CHECK (length(digest) = 32),
	document  BLOB    NOT NULL,
	entry     INTEGER NOT NULL CHECK (entry >= 0),
	recorded  INTEGER NOT NULL -- microseconds since the epoch
) STRICT;

-- key is the signed-note verifier key.
CREATE TABLE node_keys (
	seq      INTEGER PRIMARY KEY AUTOINCREMENT,
	key      TEXT    NOT NULL CHECK (key <> ''),
	entry    INTEGER NOT NULL CHECK (entry >= 0),
	recorded INTEGER NOT NULL
) STRICT;
