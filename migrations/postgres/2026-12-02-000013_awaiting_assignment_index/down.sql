DROP INDEX work_orders_awaiting;
