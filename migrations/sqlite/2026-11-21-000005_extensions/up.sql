-- Requests to extend a work order's deadline; only a supervisor's approval moves due_at.
-- Keep equivalent to migrations/postgres (a test compares tables, columns, types and nullability).
CREATE TABLE work_order_extensions (
    id TEXT PRIMARY KEY NOT NULL,
    work_order_id TEXT NOT NULL REFERENCES work_orders(id),
    requested_by TEXT NOT NULL REFERENCES users(id),
    requested_at TIMESTAMP NOT NULL,
    due_at TIMESTAMP NOT NULL,
    reason TEXT NOT NULL,
    -- pending, approved or rejected.
    status TEXT NOT NULL,
    decided_by TEXT REFERENCES users(id),
    decided_at TIMESTAMP
);
CREATE INDEX work_order_extensions_order ON work_order_extensions(work_order_id, requested_at);
