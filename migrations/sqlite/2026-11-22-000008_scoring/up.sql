-- Performance scoring (DESIGN §2.5–2.6): versioned schemes, democratic evaluation with
-- recusals, adjustments signed off by a second supervisor, vetoes, closed periods with their
-- frozen scores, and achievement / problem-trace records.
-- Keep equivalent to migrations/postgres (a test compares tables, columns, types and nullability).
CREATE TABLE scoring_schemes (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    cadre_category TEXT NOT NULL,
    period_kind TEXT NOT NULL,
    -- Bumped on every change; closed periods name the version they were scored with.
    version INTEGER NOT NULL,
    -- The canonical scheme JSON of the current version.
    body TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- One active scheme per cadre category and period kind.
CREATE UNIQUE INDEX scoring_schemes_active ON scoring_schemes(cadre_category, period_kind) WHERE active;

CREATE TABLE scoring_scheme_versions (
    scheme_id TEXT NOT NULL REFERENCES scoring_schemes(id),
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (scheme_id, version)
);

-- 民主测评: one rating per rater, ratee and period, updatable until the period closes.
CREATE TABLE scoring_ratings (
    period TEXT NOT NULL,
    ratee_id TEXT NOT NULL REFERENCES users(id),
    rater_id TEXT NOT NULL REFERENCES users(id),
    -- The rater's group when they rated.
    rater_group TEXT NOT NULL,
    score DOUBLE PRECISION NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (period, ratee_id, rater_id)
);

-- 回避: that rater may not rate that ratee.
CREATE TABLE scoring_recusals (
    rater_id TEXT NOT NULL REFERENCES users(id),
    ratee_id TEXT NOT NULL REFERENCES users(id),
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (rater_id, ratee_id)
);

-- 加分 / 扣分: count only once a second supervisor has approved them.
CREATE TABLE scoring_adjustments (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    period TEXT NOT NULL,
    -- Hundredths of a point; negative for a deduction.
    centipoints BIGINT NOT NULL,
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    approved_by TEXT REFERENCES users(id),
    approved_at TIMESTAMP
);
CREATE INDEX scoring_adjustments_period ON scoring_adjustments(period, user_id);

-- 一票否决.
CREATE TABLE scoring_vetoes (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    period TEXT NOT NULL,
    area TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX scoring_vetoes_period ON scoring_vetoes(period, user_id);

CREATE TABLE scoring_periods (
    period TEXT PRIMARY KEY NOT NULL,
    closed_at TIMESTAMP NOT NULL,
    closed_by TEXT NOT NULL REFERENCES users(id)
);

-- The frozen score rows of a closed period, exactly as they were shown.
CREATE TABLE score_snapshots (
    period TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    cadre_category TEXT NOT NULL,
    scheme_id TEXT NOT NULL REFERENCES scoring_schemes(id),
    scheme_version INTEGER NOT NULL,
    rank INTEGER NOT NULL,
    -- Consecutive closed periods in the bottom of the ranking, this one included.
    bottom_streak INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (period, user_id)
);
CREATE INDEX score_snapshots_rank ON score_snapshots(period, cadre_category, rank);

-- 实绩档案 (achievement) and 问题痕迹档案 (problem) records.
CREATE TABLE scoring_records (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    period TEXT NOT NULL,
    reason TEXT NOT NULL,
    rectify_by DATE,
    evidence TEXT,
    cleared_at TIMESTAMP,
    cleared_by TEXT REFERENCES users(id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX scoring_records_user ON scoring_records(user_id, id);
CREATE INDEX scoring_records_period ON scoring_records(period, kind);

-- Metrics per cadre and period read check-ins, stays and orders by local date.
CREATE INDEX checkins_night_user ON checkins(night_date, user_id, kind, status);
CREATE INDEX stays_night_user ON stays(night_date, user_id);
CREATE INDEX work_orders_created_by ON work_orders(created_by, created_at);
