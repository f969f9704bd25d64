-- 夜学 / 夜议 as group sessions and the 工作日志 with its 批阅 (DESIGN §2.1).
-- Keep equivalent to migrations/postgres (a test compares tables, columns, types and nullability).

CREATE TABLE night_sessions (
    id TEXT PRIMARY KEY NOT NULL,
    -- night_study or night_discussion
    kind TEXT NOT NULL,
    -- A village, or the town hall or a village committee: any org unit with a boundary.
    place_id TEXT NOT NULL REFERENCES org_units(id),
    -- The place's materialised path, for subtree filters without a join.
    org_path TEXT NOT NULL,
    organiser_id TEXT NOT NULL REFERENCES users(id),
    topic TEXT NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    -- The local date the session counts for (after midnight: the night before).
    night_date DATE NOT NULL,
    -- 纪要; a session without minutes by the end of the next day is incomplete.
    minutes TEXT,
    minutes_at TIMESTAMP,
    -- 夜议: the villagers present, a JSON array of names, and how many came.
    villager_names TEXT,
    villager_count INTEGER,
    -- When the deadline for minutes passed without them and attendance went to review.
    incomplete_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX night_sessions_path_starts ON night_sessions(org_path, starts_at, id);
CREATE INDEX night_sessions_organiser_starts ON night_sessions(organiser_id, starts_at, id);
-- The deadline job looks only at sessions still waiting for minutes.
CREATE INDEX night_sessions_waiting ON night_sessions(night_date)
    WHERE minutes IS NULL AND incomplete_at IS NULL;

CREATE TABLE night_session_photos (
    session_id TEXT NOT NULL REFERENCES night_sessions(id),
    media_id TEXT NOT NULL REFERENCES media(id),
    PRIMARY KEY (session_id, media_id)
);
CREATE INDEX night_session_photos_media ON night_session_photos(media_id);

-- An attendee's check-in names its session; one check-in per attendee and session. (No
-- REFERENCES: SQLite could not drop the column again.)
ALTER TABLE checkins ADD COLUMN session_id TEXT;
CREATE UNIQUE INDEX checkins_session_attendee ON checkins(session_id, user_id);

CREATE TABLE work_logs (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    -- The cadre's unit path when written, for the leaders' subtree filters.
    org_path TEXT NOT NULL,
    log_date DATE NOT NULL,
    content TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX work_logs_user_date ON work_logs(user_id, log_date);
CREATE INDEX work_logs_path_date ON work_logs(org_path, log_date);
-- Scoring counts the days with a log of everyone in a period.
CREATE INDEX work_logs_date_user ON work_logs(log_date, user_id);

CREATE TABLE work_log_photos (
    log_id TEXT NOT NULL REFERENCES work_logs(id),
    media_id TEXT NOT NULL REFERENCES media(id),
    PRIMARY KEY (log_id, media_id)
);
CREATE INDEX work_log_photos_media ON work_log_photos(media_id);

-- Every earlier version of a log, kept when it is edited on its day.
CREATE TABLE work_log_revisions (
    id TEXT PRIMARY KEY NOT NULL,
    log_id TEXT NOT NULL REFERENCES work_logs(id),
    content TEXT NOT NULL,
    -- A JSON array of the media ids the version had.
    photo_ids TEXT NOT NULL,
    written_at TIMESTAMP NOT NULL,
    replaced_at TIMESTAMP NOT NULL
);
CREATE INDEX work_log_revisions_log ON work_log_revisions(log_id, replaced_at);

-- 批阅: a leader's comments on a log.
CREATE TABLE work_log_comments (
    id TEXT PRIMARY KEY NOT NULL,
    log_id TEXT NOT NULL REFERENCES work_logs(id),
    author_id TEXT NOT NULL REFERENCES users(id),
    text TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX work_log_comments_log ON work_log_comments(log_id, created_at, id);
