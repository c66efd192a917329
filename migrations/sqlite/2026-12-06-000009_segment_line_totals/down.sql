DROP TRIGGER segment_lines_totals_update;
DROP TRIGGER segment_lines_totals_delete;
DROP TRIGGER segment_lines_totals_insert;
DROP TABLE segment_line_totals;
