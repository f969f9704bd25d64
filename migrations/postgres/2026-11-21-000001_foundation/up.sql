-- Foundation: settings, org tree with village boundaries, users, village assignments, refresh tokens.
-- Keep equivalent to migrations/sqlite (a test compares tables, columns, types and nullability).
CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE org_units (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    parent_id TEXT REFERENCES org_units(id),
    code TEXT UNIQUE,
    -- '/<root id>/…/<own id>/': a subtree is every unit whose path starts with this one's.
    path TEXT COLLATE "C" NOT NULL,
    boundary TEXT,
    min_lon DOUBLE PRECISION,
    min_lat DOUBLE PRECISION,
    max_lon DOUBLE PRECISION,
    max_lat DOUBLE PRECISION,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX org_units_parent_id ON org_units(parent_id, id);
CREATE INDEX org_units_path ON org_units(path);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    phone TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    org_unit_id TEXT REFERENCES org_units(id),
    cadre_category TEXT,
    staff_type TEXT,
    rater_group TEXT,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX users_org_unit_id ON users(org_unit_id, id);
CREATE INDEX users_role ON users(role, id);

CREATE TABLE user_villages (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    village_id TEXT NOT NULL REFERENCES org_units(id),
    PRIMARY KEY (user_id, village_id)
);
CREATE INDEX user_villages_village_id ON user_villages(village_id);

CREATE TABLE refresh_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    family_id TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    revoked_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX refresh_tokens_family_id ON refresh_tokens(family_id);
