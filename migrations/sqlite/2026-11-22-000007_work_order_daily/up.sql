-- Compliance counts kept per local day and group, so that a period's rates are a sum over
-- its days instead of a pass over a town's whole history (DESIGN §2.4; issue 4's benchmark).
-- Every write to an order takes its old contribution away and adds the new one, in the same
-- transaction. The days are local to the time zone named in settings (work_order_daily_tz);
-- the server rebuilds this table when that differs from its configuration.
-- Keep equivalent to migrations/postgres (a test compares tables, columns, types and nullability).
CREATE TABLE work_order_daily (
    village_id TEXT NOT NULL REFERENCES org_units(id),
    day DATE NOT NULL,
    -- '' for none: a key column, where NULLs would never be equal.
    unit_id TEXT NOT NULL,
    assignee_id TEXT NOT NULL,
    assigned BIGINT NOT NULL,
    accepted_within_24h BIGINT NOT NULL,
    created BIGINT NOT NULL,
    created_resolved BIGINT NOT NULL,
    first_resolved BIGINT NOT NULL,
    first_resolved_on_time BIGINT NOT NULL,
    reopened BIGINT NOT NULL,
    rated BIGINT NOT NULL,
    rated_satisfied BIGINT NOT NULL,
    rating_sum BIGINT NOT NULL,
    overdue_resolved BIGINT NOT NULL,
    resolution_seconds BIGINT NOT NULL,
    PRIMARY KEY (village_id, day, unit_id, assignee_id)
);
-- Scores read every group's days of a period at once.
CREATE INDEX work_order_daily_day ON work_order_daily(day, assignee_id);
-- Compliance counts open orders past due per group: only open orders, by subtree.
CREATE INDEX work_orders_open_path ON work_orders(org_path, due_at, unit_id, village_id, assignee_id)
    WHERE status IN ('submitted', 'assigned', 'in_progress', 'reopened');
