-- The terms the node works under, the same model as the SQLite store's (its
-- migration 11): each signed agreement version the node adopted or moved
-- to, and each node key it signed with, in the order recorded, each with
-- the index of the ledger entry written in the same transaction. Times are
-- microseconds since the epoch.

-- previous is the version this one amended, 0 when adopted. digest is
-- SHA-256 of the signed content (RFC 8785), document the signed agreement
-- as YAML with its signatures, verified again whenever it is read.
CREATE TABLE agreements (
	seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	agreement text   COLLATE "C" NOT NULL CHECK (agreement <> ''),
	version   bigint NOT NULL CHECK (version > 0),
	previous  bigint NOT NULL CHECK (previous >= 0),
	digest    bytea  NOT NULL CHECK (length(digest) = 32),
	document  bytea  NOT NULL,
	entry     bigint NOT NULL CHECK (entry >= 0),
	recorded  bigint NOT NULL
);

-- key is the signed-note verifier key.
CREATE TABLE node_keys (
	seq      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	key      text   COLLATE "C" NOT NULL CHECK (key <> ''),
	entry    bigint NOT NULL CHECK (entry >= 0),
	recorded bigint NOT NULL
);
