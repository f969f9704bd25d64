-- A supervisor's confirmation of an order a cadre resolved on the spot: until confirmed (or
-- closed by the reporter's rating of 60 or more) it does not count as collected by the cadre.
-- Keep equivalent to migrations/sqlite (a test compares tables, columns, types and nullability).
ALTER TABLE work_orders ADD COLUMN confirmed_at TIMESTAMP;
ALTER TABLE work_orders ADD COLUMN confirmed_by TEXT;
