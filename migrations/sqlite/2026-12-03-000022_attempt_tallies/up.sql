-- Attempts counted against a limit (failed logins, registrations, anonymous reports, wrong
-- 查询码), kept in the database so that every server behind a load balancer counts the same
-- attempts. One row per limiter and key (a phone, an address, a phone@address pair); a
-- window starts at its first counted attempt.
-- Keep equivalent to migrations/postgres (a test compares tables, columns, types and nullability).
CREATE TABLE attempt_tallies (
    limiter TEXT NOT NULL,
    key TEXT NOT NULL,
    window_start TIMESTAMP NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (limiter, key)
);
-- The background jobs forget windows that ended.
CREATE INDEX attempt_tallies_window_start ON attempt_tallies(window_start);
