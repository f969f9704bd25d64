-- Each user's token epoch: access tokens carry the epoch they were issued in, and a password
-- reset, a disable or a role change raises it, so every older access token stops working
-- at once (refresh tokens and page sessions are revoked in the same transaction).
-- Keep equivalent to migrations/postgres (a test compares tables, columns, types and nullability).
ALTER TABLE users ADD COLUMN token_epoch INTEGER NOT NULL DEFAULT 0;
