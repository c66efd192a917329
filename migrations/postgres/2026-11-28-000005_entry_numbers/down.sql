DROP INDEX logged_segments_segment;
DELETE FROM number_series WHERE code = 'interaction_log_entry';
