-- An append-only audit log (issue 12): who read personal data, and who changed scores,
-- records, users and settings. Keep equivalent to migrations/sqlite.
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    -- Nobody when the system acted (a job) or the actor was anonymous.
    actor_id TEXT,
    -- What was done, e.g. user.read, user.update, score.adjust, period.close.
    action TEXT NOT NULL,
    -- What it was done to: user, work_order, scheme, record, …, and its id.
    target_kind TEXT NOT NULL,
    target_id TEXT,
    -- A JSON object with what matters (the fields changed, never a password).
    detail TEXT
);
CREATE INDEX audit_log_at ON audit_log(at, id);
CREATE INDEX audit_log_actor_at ON audit_log(actor_id, at, id);
CREATE INDEX audit_log_target ON audit_log(target_kind, target_id, at);
-- Entries are never changed or removed, whatever code runs.
CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
