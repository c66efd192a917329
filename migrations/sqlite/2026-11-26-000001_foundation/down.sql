DROP TABLE number_series;
DROP TABLE idempotency_records;
DROP TABLE api_keys;
