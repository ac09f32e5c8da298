-- The case scheduler, the same model as the SQLite store's (its migration
-- 9): the alarms it has fired (reminders, breaches, escalations of the
-- treaty cases' deadlines), each once, across restarts. A key is stable
-- per deadline (casework.Alarm.Key). Times are microseconds since the
-- epoch.

CREATE TABLE fired_alarms (
	key     text   COLLATE "C" PRIMARY KEY,
	case_id text   NOT NULL, -- '' for stale and cadence alarms
	due     bigint NOT NULL,
	fired   bigint NOT NULL
);
