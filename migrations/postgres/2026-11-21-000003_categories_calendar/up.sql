-- Work-order categories (also the Open311 services) and the working-day calendar.
-- Keep equivalent to migrations/sqlite (a test compares tables, columns, types and nullability).
CREATE TABLE categories (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    -- `group` is a reserved word in SQL.
    category_group TEXT NOT NULL,
    -- The deadline an order gets when the supervisor gives none, shown to the reporter.
    default_due_working_days INTEGER NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Only the exceptions: official holidays (days off) and 调休 make-up workdays (weekend days worked).
CREATE TABLE calendar_days (
    day DATE PRIMARY KEY NOT NULL,
    year INTEGER NOT NULL,
    kind TEXT NOT NULL
);
CREATE INDEX calendar_days_year ON calendar_days(year);
