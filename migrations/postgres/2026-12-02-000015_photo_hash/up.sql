-- Evidence that cannot be recycled (DESIGN §2.2): photo hashes, repeated fixes, required photos.
-- Keep equivalent to migrations/sqlite (a test compares tables, columns, types and nullability).

-- A stored photo's difference hashes (domain::photo_hash): one 32-digit hex word per crop
-- window, its own first, comma-separated; empty for a blank photo. NULL for photos stored
-- before this migration: only identical bytes match those.
ALTER TABLE media ADD COLUMN photo_hashes TEXT;

-- A check-in photo's own hash (high and low 64 bits) and its eight 16-bit bands, each
-- indexed: a new photo looks up the band values within one bit of its own (multi-index
-- hashing), so every hash within the threshold is found without a scan.
ALTER TABLE checkin_photos ADD COLUMN hash_high BIGINT;
ALTER TABLE checkin_photos ADD COLUMN hash_low BIGINT;
ALTER TABLE checkin_photos ADD COLUMN band0 INTEGER;
ALTER TABLE checkin_photos ADD COLUMN band1 INTEGER;
ALTER TABLE checkin_photos ADD COLUMN band2 INTEGER;
ALTER TABLE checkin_photos ADD COLUMN band3 INTEGER;
ALTER TABLE checkin_photos ADD COLUMN band4 INTEGER;
ALTER TABLE checkin_photos ADD COLUMN band5 INTEGER;
ALTER TABLE checkin_photos ADD COLUMN band6 INTEGER;
ALTER TABLE checkin_photos ADD COLUMN band7 INTEGER;
CREATE INDEX checkin_photos_band0 ON checkin_photos(band0);
CREATE INDEX checkin_photos_band1 ON checkin_photos(band1);
CREATE INDEX checkin_photos_band2 ON checkin_photos(band2);
CREATE INDEX checkin_photos_band3 ON checkin_photos(band3);
CREATE INDEX checkin_photos_band4 ON checkin_photos(band4);
CREATE INDEX checkin_photos_band5 ON checkin_photos(band5);
CREATE INDEX checkin_photos_band6 ON checkin_photos(band6);
CREATE INDEX checkin_photos_band7 ON checkin_photos(band7);

-- repeated_position: a cadre's earlier check-ins at exactly the reported position.
CREATE INDEX checkins_user_fix ON checkins(user_id, reported_lat, reported_lon);

-- The check-in kinds a town requires a photo for, a JSON list of kinds; NULL follows the
-- server's MINQING_PHOTO_REQUIRED_KINDS.
ALTER TABLE org_units ADD COLUMN photo_required_kinds TEXT;
