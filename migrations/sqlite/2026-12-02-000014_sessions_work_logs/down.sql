DROP TABLE work_log_comments;
DROP TABLE work_log_revisions;
DROP TABLE work_log_photos;
DROP TABLE work_logs;
DROP INDEX checkins_session_attendee;
ALTER TABLE checkins DROP COLUMN session_id;
DROP TABLE night_session_photos;
DROP TABLE night_sessions;
