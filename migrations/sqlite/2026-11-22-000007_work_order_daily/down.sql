DROP INDEX work_order_daily_day;
DROP TABLE work_order_open_due;
DROP TABLE work_order_daily;
