-- Federation: where each pull from a partner node resumes (the
-- X-TAXII-Date-Added-Last of the last page stored, per partner node and
-- collection), each link's last reported health, and the alerts raised
-- about partners (agreement violations, replayed pages, suspended links).

CREATE TABLE cursors (
	node        TEXT    NOT NULL,
	collection  TEXT    NOT NULL,
	added_after INTEGER NOT NULL, -- microseconds since the epoch
	updated     INTEGER NOT NULL,
	PRIMARY KEY (node, collection)
) STRICT, WITHOUT ROWID;

CREATE TABLE links (
	node         TEXT    PRIMARY KEY,
	party        TEXT    NOT NULL,
	log          TEXT    NOT NULL, -- the partner's log name
	state        TEXT    NOT NULL,
	last_attempt INTEGER NOT NULL, -- 0: never
	last_success INTEGER NOT NULL,
	caught_up    INTEGER NOT NULL,
	behind       INTEGER NOT NULL,
	pending      INTEGER NOT NULL,
	stored       INTEGER NOT NULL,
	duplicates   INTEGER NOT NULL,
	refused      INTEGER NOT NULL,
	errors       INTEGER NOT NULL,
	last_error   TEXT    NOT NULL,
	suspended    TEXT    NOT NULL,
	updated      INTEGER NOT NULL
) STRICT;

CREATE TABLE alerts (
	id     INTEGER PRIMARY KEY,
	time   INTEGER NOT NULL,
	party  TEXT    NOT NULL,
	node   TEXT    NOT NULL,
	kind   TEXT    NOT NULL,
	object TEXT    NOT NULL,
	detail TEXT    NOT NULL,
	entry  INTEGER NOT NULL -- the ledger entry's index, -1 for none
) STRICT;
