-- SQLite cannot change a CHECK constraint: the table is rebuilt. Lines refer to it by name, so
-- the new table takes the old name back; no line refers to an action before this migration.
CREATE TABLE criteria_actions_next (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    segment_id BIGINT NOT NULL REFERENCES segments (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('add', 'remove', 'refine')),
    source TEXT NOT NULL,
    source_ref TEXT,
    filter TEXT,
    options TEXT NOT NULL,
    lines_added BIGINT NOT NULL,
    lines_removed BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO criteria_actions_next SELECT * FROM criteria_actions;
DROP TABLE criteria_actions;
ALTER TABLE criteria_actions_next RENAME TO criteria_actions;
CREATE UNIQUE INDEX criteria_actions_segment_seq ON criteria_actions (segment_id, seq);
