-- 销号 as a decision (DESIGN §2.6): a problem record's standing, and every step of the
-- exchange between the cadre and the verifying supervisor, kept append-only.
-- Keep equivalent to migrations/postgres (a test compares tables, columns, types and nullability).
-- `expired` is never stored: an open record reads as expired once its rectify-by date passed.
ALTER TABLE scoring_records ADD COLUMN status TEXT NOT NULL DEFAULT 'open';
-- Records rectified before verification existed were cleared at once.
UPDATE scoring_records SET status = 'cleared' WHERE cleared_at IS NOT NULL;

CREATE TABLE record_events (
    id TEXT PRIMARY KEY NOT NULL,
    record_id TEXT NOT NULL REFERENCES scoring_records(id),
    at TIMESTAMP NOT NULL,
    actor_id TEXT NOT NULL REFERENCES users(id),
    -- rectified, approved or sent_back
    action TEXT NOT NULL,
    note TEXT,
    evidence TEXT,
    -- A JSON array of media ids (rectified only).
    photo_ids TEXT
);
CREATE INDEX record_events_record ON record_events(record_id, at, id);
