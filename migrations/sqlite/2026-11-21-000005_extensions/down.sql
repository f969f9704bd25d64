DROP TABLE work_order_extensions;
