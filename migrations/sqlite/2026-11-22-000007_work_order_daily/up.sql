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
-- Open orders per group and the local day they are due, kept the same way: the orders past
-- due now are those of earlier days plus today's whose time has passed. Days with no open
-- order left are deleted.
CREATE TABLE work_order_open_due (
    village_id TEXT NOT NULL REFERENCES org_units(id),
    due_day DATE NOT NULL,
    unit_id TEXT NOT NULL,
    assignee_id TEXT NOT NULL,
    open_orders BIGINT NOT NULL,
    PRIMARY KEY (village_id, due_day, unit_id, assignee_id)
);
