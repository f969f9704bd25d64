ALTER TABLE work_orders DROP COLUMN confirmed_by;
ALTER TABLE work_orders DROP COLUMN confirmed_at;
