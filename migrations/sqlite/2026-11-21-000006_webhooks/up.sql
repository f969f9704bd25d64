-- Webhooks, their durable outbox (one delivery per event and receiver), and the alerts
-- the background jobs have raised (each once per order and deadline).
-- Keep equivalent to migrations/postgres (a test compares tables, columns, types and nullability).
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    -- JSON array of event names, or ["*"].
    events TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE webhook_deliveries (
    -- Sent as X-Minqing-Delivery: the same on every retry, so receivers can drop repeats.
    id TEXT PRIMARY KEY NOT NULL,
    webhook_id TEXT NOT NULL REFERENCES webhooks(id),
    event TEXT NOT NULL,
    work_order_id TEXT NOT NULL REFERENCES work_orders(id),
    payload TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL,
    delivered_at TIMESTAMP,
    failed_at TIMESTAMP,
    last_status INTEGER,
    last_error TEXT
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(delivered_at, failed_at, next_attempt_at);

CREATE TABLE work_order_alerts (
    work_order_id TEXT NOT NULL REFERENCES work_orders(id),
    -- due_soon or overdue.
    kind TEXT NOT NULL,
    -- The deadline alerted about: a moved deadline is alerted again.
    due_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (work_order_id, kind, due_at)
);
