DROP INDEX work_order_daily_day;
DROP INDEX work_orders_open_path;
DROP TABLE work_order_daily;
