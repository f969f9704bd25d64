DROP TABLE attempt_tallies;
