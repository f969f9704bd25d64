-- 人工录入 (DESIGN §2.6, `metric: "manual"`): a value a supervisor entered for a cadre, a
-- period and a manual indicator's code, with its reason and evidence; it counts once a
-- second supervisor approved it. Entering it again replaces the value and clears the
-- approval, so there is one row per cadre, period and code.
-- Keep equivalent to migrations/sqlite (a test compares tables, columns, types and nullability).
CREATE TABLE manual_values (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    period TEXT NOT NULL,
    code TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    reason TEXT NOT NULL,
    -- A JSON array of media ids (the entering supervisor's own uploads).
    photo_ids TEXT NOT NULL,
    entered_by TEXT NOT NULL REFERENCES users(id),
    entered_at TIMESTAMP NOT NULL,
    approved_by TEXT REFERENCES users(id),
    approved_at TIMESTAMP,
    UNIQUE (user_id, period, code)
);
-- Scoring reads a period's approved values; lists filter by period and by status.
CREATE INDEX manual_values_period ON manual_values(period, approved_at);
