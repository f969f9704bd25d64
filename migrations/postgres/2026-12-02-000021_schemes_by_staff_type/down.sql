DROP INDEX scoring_schemes_active;
CREATE UNIQUE INDEX scoring_schemes_active ON scoring_schemes(cadre_category, period_kind) WHERE active;
