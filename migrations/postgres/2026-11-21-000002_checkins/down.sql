DROP TABLE stays;
DROP TABLE checkin_photos;
DROP TABLE checkins;
DROP TABLE media;
ALTER TABLE users DROP COLUMN usual_device_id;
