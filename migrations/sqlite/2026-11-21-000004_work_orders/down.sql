DROP TABLE daily_counters;
DROP TABLE work_order_photos;
DROP TABLE work_order_events;
DROP TABLE work_orders;
