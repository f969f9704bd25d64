-- Check-ins (四夜, stays, work logs), their photos, and stays (住夜).
-- Keep equivalent to migrations/sqlite (a test compares tables, columns, types and nullability).

-- The device a cadre usually checks in from (the first one seen); others are flagged.
ALTER TABLE users ADD COLUMN usual_device_id TEXT;

CREATE TABLE media (
    id TEXT PRIMARY KEY NOT NULL,
    -- SHA-256 of the stored (re-encoded) bytes; the file is stored under it.
    sha256 TEXT NOT NULL,
    uploader_id TEXT REFERENCES users(id),
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    bytes BIGINT NOT NULL,
    exif_taken_at TIMESTAMP,
    exif_lat DOUBLE PRECISION,
    exif_lon DOUBLE PRECISION,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX media_uploader_id ON media(uploader_id);

CREATE TABLE checkins (
    -- Made by the phone, so a retried upload finds the same row.
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    village_id TEXT NOT NULL REFERENCES org_units(id),
    -- The village's materialised path at the time, for subtree filters without a join.
    org_path TEXT COLLATE "C" NOT NULL,
    -- WGS-84, converted from what the phone reported.
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    crs TEXT NOT NULL,
    reported_lat DOUBLE PRECISION NOT NULL,
    reported_lon DOUBLE PRECISION NOT NULL,
    accuracy_m DOUBLE PRECISION NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    received_at TIMESTAMP NOT NULL,
    -- The local date the work counts for (after midnight: the night before).
    night_date DATE NOT NULL,
    device_id TEXT,
    mock_location BOOLEAN NOT NULL,
    note TEXT,
    household TEXT,
    status TEXT NOT NULL,
    -- JSON array of {code, value}.
    flags TEXT NOT NULL,
    -- Hash of the request as first received: the same id with another body is a conflict.
    request_hash TEXT NOT NULL,
    stay_id TEXT,
    reviewed_by TEXT REFERENCES users(id),
    reviewed_at TIMESTAMP,
    review_reason TEXT
);
CREATE INDEX checkins_user_recorded ON checkins(user_id, recorded_at, id);
CREATE INDEX checkins_village_recorded ON checkins(village_id, recorded_at, id);
CREATE INDEX checkins_path_recorded ON checkins(org_path, recorded_at, id);
CREATE INDEX checkins_status_recorded ON checkins(status, recorded_at, id);

CREATE TABLE checkin_photos (
    checkin_id TEXT NOT NULL REFERENCES checkins(id),
    media_id TEXT NOT NULL REFERENCES media(id),
    sha256 TEXT NOT NULL,
    PRIMARY KEY (checkin_id, media_id)
);
CREATE INDEX checkin_photos_sha256 ON checkin_photos(sha256);
CREATE INDEX checkin_photos_media_id ON checkin_photos(media_id);

CREATE TABLE stays (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    village_id TEXT NOT NULL REFERENCES org_units(id),
    org_path TEXT COLLATE "C" NOT NULL,
    night_date DATE NOT NULL,
    start_id TEXT NOT NULL REFERENCES checkins(id),
    end_id TEXT REFERENCES checkins(id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (user_id, night_date)
);
CREATE INDEX stays_path_night ON stays(org_path, night_date);
CREATE INDEX stays_village_night ON stays(village_id, night_date);
