DROP TRIGGER segment_lines_totals_delete ON segment_lines;
DROP TRIGGER segment_lines_totals_update ON segment_lines;
DROP TRIGGER segment_lines_totals_insert ON segment_lines;
DROP FUNCTION segment_line_totals_apply();
DROP TABLE segment_line_totals;
