-- Federation, the same model as the SQLite store's (its migration 8):
-- where each pull from a partner node resumes (the X-TAXII-Date-Added-Last
-- of the last page stored, per partner node and collection), each link's
-- last reported health, and the alerts raised about partners (agreement
-- violations, replayed pages, suspended links). Times are microseconds
-- since the epoch, 0 for never.

CREATE TABLE cursors (
	node        text   COLLATE "C" NOT NULL,
	collection  text   COLLATE "C" NOT NULL,
	added_after bigint NOT NULL,
	updated     bigint NOT NULL,
	PRIMARY KEY (node, collection)
);

CREATE TABLE links (
	node         text    COLLATE "C" PRIMARY KEY,
	party        text    NOT NULL,
	log          text    NOT NULL, -- the partner's log name
	state        text    NOT NULL,
	last_attempt bigint  NOT NULL,
	last_success bigint  NOT NULL,
	caught_up    bigint  NOT NULL,
	behind       bigint  NOT NULL,
	pending      boolean NOT NULL,
	stored       bigint  NOT NULL,
	duplicates   bigint  NOT NULL,
	refused      bigint  NOT NULL,
	errors       bigint  NOT NULL,
	last_error   text    NOT NULL,
	suspended    text    NOT NULL,
	updated      bigint  NOT NULL
);

-- Alerts are added under the write lock, so ids are given out and
-- committed in order, and a reader paging by id misses none.
CREATE TABLE alerts (
	id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	time   bigint NOT NULL,
	party  text   NOT NULL,
	node   text   NOT NULL,
	kind   text   NOT NULL,
	object text   NOT NULL,
	detail text   NOT NULL,
	entry  bigint NOT NULL -- the ledger entry's index, -1 for none
);
