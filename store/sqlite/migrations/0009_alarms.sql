-- The case scheduler: the alarms it has fired (reminders, breaches,
-- escalations of the treaty cases' deadlines), each once, across
-- restarts. A key is stable per deadline (casework.Alarm.Key).

CREATE TABLE fired_alarms (
	key     TEXT    PRIMARY KEY,
	case_id TEXT    NOT NULL, -- '' for stale and cadence alarms
	due     INTEGER NOT NULL, -- microseconds since the epoch
	fired   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
