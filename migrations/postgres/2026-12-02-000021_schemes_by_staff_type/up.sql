-- A category may have several active schemes for one kind of period when they score
-- different staff types (在编 / 社区指导员 / 不在编); the service keeps them from overlapping.
DROP INDEX scoring_schemes_active;
CREATE INDEX scoring_schemes_active ON scoring_schemes(cadre_category, period_kind) WHERE active;
