-- 民情工单: work orders, their append-only timeline, their photos, and daily code counters.
-- Keep equivalent to migrations/sqlite (a test compares tables, columns, types and nullability).
CREATE TABLE work_orders (
    id TEXT PRIMARY KEY NOT NULL,
    -- Human code, e.g. MQ-20261121-0007; also the Open311 service_request_id.
    code TEXT NOT NULL UNIQUE,
    -- Only a hash: the token itself is shown once, to the reporter.
    tracking_token_hash TEXT NOT NULL,
    category TEXT NOT NULL REFERENCES categories(code),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    village_id TEXT NOT NULL REFERENCES org_units(id),
    -- The village's materialised path, for subtree filters without a join.
    org_path TEXT COLLATE "C" NOT NULL,
    lat DOUBLE PRECISION,
    lon DOUBLE PRECISION,
    address TEXT,
    source TEXT NOT NULL,
    reporter_id TEXT REFERENCES users(id),
    reporter_name TEXT,
    reporter_phone TEXT,
    created_by TEXT REFERENCES users(id),
    status TEXT NOT NULL,
    resolved_on_spot BOOLEAN NOT NULL,
    unit_id TEXT REFERENCES org_units(id),
    assignee_id TEXT REFERENCES users(id),
    commitment TEXT,
    assigned_at TIMESTAMP,
    accepted_at TIMESTAMP,
    due_at TIMESTAMP,
    -- The first committed deadline; extensions move due_at only, compliance uses this.
    original_due_at TIMESTAMP,
    first_resolved_at TIMESTAMP,
    resolved_at TIMESTAMP,
    rating INTEGER,
    rated_at TIMESTAMP,
    reopen_count INTEGER NOT NULL,
    -- Hash of the request as first received, for idempotent client ids.
    request_hash TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX work_orders_path_created ON work_orders(org_path, created_at, id);
CREATE INDEX work_orders_created ON work_orders(created_at, id);
CREATE INDEX work_orders_path_due ON work_orders(org_path, due_at);
CREATE INDEX work_orders_unit_created ON work_orders(unit_id, created_at);
CREATE INDEX work_orders_assignee_created ON work_orders(assignee_id, created_at);
CREATE INDEX work_orders_village_created ON work_orders(village_id, created_at);
CREATE INDEX work_orders_category_created ON work_orders(category, created_at);
CREATE INDEX work_orders_reporter_created ON work_orders(reporter_id, created_at);
-- The overdue queue and the deadline jobs read only open orders, in deadline order.
CREATE INDEX work_orders_open_due ON work_orders(due_at, id)
    WHERE status IN ('submitted', 'assigned', 'in_progress', 'reopened');

CREATE TABLE work_order_events (
    id TEXT PRIMARY KEY NOT NULL,
    work_order_id TEXT NOT NULL REFERENCES work_orders(id),
    at TIMESTAMP NOT NULL,
    actor_id TEXT REFERENCES users(id),
    -- user, reporter (anonymous, by token) or system.
    actor_kind TEXT NOT NULL,
    kind TEXT NOT NULL,
    note TEXT,
    -- JSON with what the step set (due time, unit, rating…).
    data TEXT,
    -- JSON array of media ids.
    photo_ids TEXT
);
CREATE INDEX work_order_events_order_at ON work_order_events(work_order_id, at);

CREATE TABLE work_order_photos (
    work_order_id TEXT NOT NULL REFERENCES work_orders(id),
    media_id TEXT NOT NULL REFERENCES media(id),
    PRIMARY KEY (work_order_id, media_id)
);
CREATE INDEX work_order_photos_media_id ON work_order_photos(media_id);

CREATE TABLE daily_counters (
    name TEXT PRIMARY KEY NOT NULL,
    value BIGINT NOT NULL
);
