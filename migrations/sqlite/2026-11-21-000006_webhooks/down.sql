DROP TABLE work_order_alerts;
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
