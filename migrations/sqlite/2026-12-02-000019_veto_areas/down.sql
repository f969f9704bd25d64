DROP INDEX scoring_vetoes_user;
ALTER TABLE scoring_vetoes DROP COLUMN withdrawn_at;
ALTER TABLE scoring_vetoes DROP COLUMN withdrawn_by;
ALTER TABLE scoring_vetoes DROP COLUMN withdrawal_requested_at;
ALTER TABLE scoring_vetoes DROP COLUMN withdrawal_requested_by;
ALTER TABLE scoring_vetoes DROP COLUMN withdrawal_reason;
ALTER TABLE scoring_vetoes DROP COLUMN approved_at;
ALTER TABLE scoring_vetoes DROP COLUMN approved_by;
DROP TABLE veto_areas;
