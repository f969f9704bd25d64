DROP TABLE manual_values;
