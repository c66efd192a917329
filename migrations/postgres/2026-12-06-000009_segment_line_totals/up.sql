-- What a segment's totals need, kept as its lines change, so that reading a header or the
-- segment list costs the same with a million lines as with ten. A line's effective cost is
-- COALESCE(its own, the header's, its effective template's, 0) (`segments::effective`), so per
-- segment and per template the line names itself ('' for "the header's") it keeps the sum of
-- the overriding values and the count of lines that inherit; the total is then
-- sum(overridden + inheriting * COALESCE(header's, template's, 0)) over a handful of rows, and
-- stays exact when the header or a template changes, without touching the lines.
CREATE TABLE segment_line_totals (
    segment_id BIGINT NOT NULL REFERENCES segments (id) ON DELETE CASCADE,
    interaction_template_code TEXT NOT NULL,
    lines_inheriting_cost BIGINT NOT NULL,
    lines_inheriting_duration BIGINT NOT NULL,
    overridden_cost_cents BIGINT NOT NULL,
    overridden_duration_min BIGINT NOT NULL,
    PRIMARY KEY (segment_id, interaction_template_code)
);

-- Kept by statement-level triggers over the transition tables: one aggregate per statement
-- however many lines it writes, so a criteria action over 500,000 lines pays one GROUP BY,
-- not a trigger call per row. Only live lines (not removed by a criteria action) count.
CREATE FUNCTION segment_line_totals_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO segment_line_totals AS t
        SELECT segment_id, COALESCE(interaction_template_code, ''),
               count(*) FILTER (WHERE cost_cents IS NULL), count(*) FILTER (WHERE duration_min IS NULL),
               COALESCE(sum(cost_cents), 0), COALESCE(sum(duration_min), 0)
        FROM new_lines WHERE removed_by_action_id IS NULL
        GROUP BY 1, 2
        ON CONFLICT (segment_id, interaction_template_code) DO UPDATE SET
            lines_inheriting_cost = t.lines_inheriting_cost + excluded.lines_inheriting_cost,
            lines_inheriting_duration = t.lines_inheriting_duration + excluded.lines_inheriting_duration,
            overridden_cost_cents = t.overridden_cost_cents + excluded.overridden_cost_cents,
            overridden_duration_min = t.overridden_duration_min + excluded.overridden_duration_min;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE segment_line_totals AS t SET
            lines_inheriting_cost = t.lines_inheriting_cost - d.lines_inheriting_cost,
            lines_inheriting_duration = t.lines_inheriting_duration - d.lines_inheriting_duration,
            overridden_cost_cents = t.overridden_cost_cents - d.overridden_cost_cents,
            overridden_duration_min = t.overridden_duration_min - d.overridden_duration_min
        FROM (
            SELECT segment_id, COALESCE(interaction_template_code, '') AS interaction_template_code,
                   count(*) FILTER (WHERE cost_cents IS NULL) AS lines_inheriting_cost,
                   count(*) FILTER (WHERE duration_min IS NULL) AS lines_inheriting_duration,
                   COALESCE(sum(cost_cents), 0) AS overridden_cost_cents,
                   COALESCE(sum(duration_min), 0) AS overridden_duration_min
            FROM old_lines WHERE removed_by_action_id IS NULL
            GROUP BY 1, 2
        ) d
        WHERE t.segment_id = d.segment_id AND t.interaction_template_code = d.interaction_template_code;
    ELSE
        -- The difference between the old and the new rows; groups where nothing that counts
        -- changed (a note, a date, the version) net to zero and write nothing.
        INSERT INTO segment_line_totals AS t
        SELECT segment_id, code, sum(n_cost), sum(n_duration), sum(cost), sum(duration)
        FROM (
            SELECT segment_id, COALESCE(interaction_template_code, '') AS code,
                   CASE WHEN cost_cents IS NULL THEN 1 ELSE 0 END AS n_cost,
                   CASE WHEN duration_min IS NULL THEN 1 ELSE 0 END AS n_duration,
                   COALESCE(cost_cents, 0) AS cost, COALESCE(duration_min, 0) AS duration
            FROM new_lines WHERE removed_by_action_id IS NULL
            UNION ALL
            SELECT segment_id, COALESCE(interaction_template_code, ''),
                   CASE WHEN cost_cents IS NULL THEN -1 ELSE 0 END,
                   CASE WHEN duration_min IS NULL THEN -1 ELSE 0 END,
                   -COALESCE(cost_cents, 0), -COALESCE(duration_min, 0)
            FROM old_lines WHERE removed_by_action_id IS NULL
        ) delta
        GROUP BY 1, 2
        HAVING sum(n_cost) <> 0 OR sum(n_duration) <> 0 OR sum(cost) <> 0 OR sum(duration) <> 0
        ON CONFLICT (segment_id, interaction_template_code) DO UPDATE SET
            lines_inheriting_cost = t.lines_inheriting_cost + excluded.lines_inheriting_cost,
            lines_inheriting_duration = t.lines_inheriting_duration + excluded.lines_inheriting_duration,
            overridden_cost_cents = t.overridden_cost_cents + excluded.overridden_cost_cents,
            overridden_duration_min = t.overridden_duration_min + excluded.overridden_duration_min;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER segment_lines_totals_insert AFTER INSERT ON segment_lines
    REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION segment_line_totals_apply();
CREATE TRIGGER segment_lines_totals_update AFTER UPDATE ON segment_lines
    REFERENCING OLD TABLE AS old_lines NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION segment_line_totals_apply();
CREATE TRIGGER segment_lines_totals_delete AFTER DELETE ON segment_lines
    REFERENCING OLD TABLE AS old_lines FOR EACH STATEMENT EXECUTE FUNCTION segment_line_totals_apply();

INSERT INTO segment_line_totals
SELECT segment_id, COALESCE(interaction_template_code, ''),
       count(*) FILTER (WHERE cost_cents IS NULL), count(*) FILTER (WHERE duration_min IS NULL),
       COALESCE(sum(cost_cents), 0), COALESCE(sum(duration_min), 0)
FROM segment_lines WHERE removed_by_action_id IS NULL
GROUP BY 1, 2;
