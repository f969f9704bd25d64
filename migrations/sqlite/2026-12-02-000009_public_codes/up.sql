-- Public codes: village codes unique whatever their case (they are looked up that way, in
-- /v/{code}), and the hash of each work order's 6-digit 查询码.
-- Keep equivalent to migrations/postgres (a test compares tables, columns, types and nullability).
CREATE UNIQUE INDEX org_units_code_lower ON org_units(lower(code));

-- Hex SHA-256 of '{order id}:{查询码}'; none for orders filed before 查询码 existed.
ALTER TABLE work_orders ADD COLUMN query_code_hash TEXT;
