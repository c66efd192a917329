DROP TABLE entry_deliveries;
DROP TABLE entry_documents;
DROP TABLE segment_line_documents;
ALTER TABLE interaction_log_entries DROP COLUMN segment_line_id;
