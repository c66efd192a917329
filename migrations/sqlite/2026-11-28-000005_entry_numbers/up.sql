-- Interaction log entry numbers: a counter bumped in the logging transaction, so numbers are
-- unique and increasing also when several segments are logged at once.
INSERT INTO number_series (code, prefix, width, last_no) VALUES ('interaction_log_entry', '', 0, 0);
-- A segment is logged at most once.
CREATE UNIQUE INDEX logged_segments_segment ON logged_segments (segment_id);
