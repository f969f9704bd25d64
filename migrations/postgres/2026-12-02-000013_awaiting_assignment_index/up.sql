-- The desk's 待派单 list: submitted orders oldest first, walked in order instead of sorted.
CREATE INDEX work_orders_awaiting ON work_orders(created_at, id) WHERE status = 'submitted';
