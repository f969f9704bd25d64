-- 一票否决 as a process (issue 11): the areas are a list the admin keeps, with Chinese names,
-- seeded with the four of the source material (names as the label table has them); a veto
-- counts only once a second supervisor approved it, and is withdrawn by a request and a
-- second supervisor's approval.
-- Keep equivalent to migrations/sqlite (a test compares tables, columns, types and nullability).
CREATE TABLE veto_areas (
    -- `^[a-z][a-z0-9_]{1,39}$`; never changes once vetoes name it.
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    -- An inactive area takes no new vetoes; those already made keep it.
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO veto_areas (code, name, active, created_at) VALUES
    ('family_planning', '计划生育', TRUE, '2026-12-02 00:00:00'),
    ('public_security', '社会治安', TRUE, '2026-12-02 00:00:00'),
    ('work_safety', '安全生产', TRUE, '2026-12-02 00:00:00'),
    ('integrity', '党风廉政', TRUE, '2026-12-02 00:00:00');

-- The second signature: a veto counts from its approval until its withdrawal is approved.
ALTER TABLE scoring_vetoes ADD COLUMN approved_by TEXT;
ALTER TABLE scoring_vetoes ADD COLUMN approved_at TIMESTAMP;
ALTER TABLE scoring_vetoes ADD COLUMN withdrawal_reason TEXT;
ALTER TABLE scoring_vetoes ADD COLUMN withdrawal_requested_by TEXT;
ALTER TABLE scoring_vetoes ADD COLUMN withdrawal_requested_at TIMESTAMP;
ALTER TABLE scoring_vetoes ADD COLUMN withdrawn_by TEXT;
ALTER TABLE scoring_vetoes ADD COLUMN withdrawn_at TIMESTAMP;
-- Vetoes made before took effect at once: they stand as approved by whoever made them.
UPDATE scoring_vetoes SET approved_by = created_by, approved_at = created_at;
-- Lists of one cadre's vetoes, in id order (by period: scoring_vetoes_period).
CREATE INDEX scoring_vetoes_user ON scoring_vetoes(user_id, id);
