DROP TABLE refresh_tokens;
DROP TABLE user_villages;
DROP TABLE users;
DROP TABLE org_units;
DROP TABLE settings;
