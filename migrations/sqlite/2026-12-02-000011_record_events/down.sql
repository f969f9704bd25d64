DROP TABLE record_events;
ALTER TABLE scoring_records DROP COLUMN status;
