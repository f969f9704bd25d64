ALTER TABLE work_orders DROP COLUMN query_code_hash;
DROP INDEX org_units_code_lower;
