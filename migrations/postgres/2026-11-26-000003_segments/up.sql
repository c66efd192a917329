CREATE TABLE interaction_groups (
    code TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Money is stored in cents (BIGINT) so both backends compute it exactly.
CREATE TABLE interaction_templates (
    code TEXT PRIMARY KEY,
    interaction_group_code TEXT REFERENCES interaction_groups (code),
    description TEXT NOT NULL,
    information_flow TEXT NOT NULL CHECK (information_flow IN ('outbound', 'inbound')),
    initiated_by TEXT NOT NULL CHECK (initiated_by IN ('us', 'them')),
    unit_cost_cents BIGINT NOT NULL,
    unit_duration_min BIGINT NOT NULL,
    correspondence_type TEXT CHECK (correspondence_type IN ('hard_copy', 'email')),
    language_code TEXT,
    ignore_contact_correspondence_type BOOLEAN NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Header fields that a template can supply are NULL when not set explicitly: the effective
-- value is COALESCE(header, template), so choosing another template moves every default.
CREATE TABLE segments (
    id BIGSERIAL PRIMARY KEY,
    no TEXT NOT NULL,
    description TEXT,
    -- lower-cased description, written by the service, so `q` is case-insensitive on both backends
    search_description TEXT,
    status TEXT NOT NULL CHECK (status IN ('open', 'logged')),
    interaction_template_code TEXT REFERENCES interaction_templates (code),
    subject TEXT,
    language_code TEXT,
    correspondence_type TEXT CHECK (correspondence_type IN ('hard_copy', 'email')),
    ignore_contact_correspondence_type BOOLEAN,
    date DATE NOT NULL,
    salesperson_code TEXT REFERENCES salespeople (code),
    unit_cost_cents BIGINT,
    unit_duration_min BIGINT,
    send_as_attachment BOOLEAN NOT NULL,
    no_of_lines BIGINT NOT NULL,
    no_of_criteria_actions BIGINT NOT NULL,
    logged_segment_id BIGINT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX segments_no ON segments (no);
CREATE INDEX segments_status ON segments (status, id);

-- Every action that built a segment, in order, so undo can revert exactly what it did.
CREATE TABLE criteria_actions (
    id BIGSERIAL PRIMARY KEY,
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
CREATE UNIQUE INDEX criteria_actions_segment_seq ON criteria_actions (segment_id, seq);

-- A line stores only what it overrides (NULL = inherited from the header). A line removed by a
-- criteria action is marked with it, not deleted, so that undo restores it exactly.
CREATE TABLE segment_lines (
    id BIGSERIAL PRIMARY KEY,
    segment_id BIGINT NOT NULL REFERENCES segments (id) ON DELETE CASCADE,
    contact_id BIGINT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    description TEXT,
    subject TEXT,
    interaction_template_code TEXT REFERENCES interaction_templates (code),
    language_code TEXT,
    correspondence_type TEXT CHECK (correspondence_type IN ('hard_copy', 'email')),
    date DATE,
    salesperson_code TEXT REFERENCES salespeople (code),
    cost_cents BIGINT,
    duration_min BIGINT,
    personal_note TEXT,
    evaluation TEXT CHECK (evaluation IN ('very_positive', 'positive', 'neutral', 'negative', 'very_negative')),
    attempt_failed BOOLEAN NOT NULL,
    added_by_action_id BIGINT REFERENCES criteria_actions (id),
    removed_by_action_id BIGINT REFERENCES criteria_actions (id),
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX segment_lines_live ON segment_lines (segment_id, id) WHERE removed_by_action_id IS NULL;
CREATE INDEX segment_lines_segment_contact ON segment_lines (segment_id, contact_id);
CREATE INDEX segment_lines_contact ON segment_lines (contact_id);
CREATE INDEX segment_lines_added_by ON segment_lines (added_by_action_id);
CREATE INDEX segment_lines_removed_by ON segment_lines (removed_by_action_id);

CREATE TABLE saved_criteria (
    code TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE TABLE saved_criteria_actions (
    saved_criteria_code TEXT NOT NULL REFERENCES saved_criteria (code) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('add', 'remove', 'refine')),
    filter TEXT NOT NULL,
    options TEXT NOT NULL,
    PRIMARY KEY (saved_criteria_code, seq)
);

CREATE TABLE logged_segments (
    id BIGSERIAL PRIMARY KEY,
    no TEXT NOT NULL,
    segment_id BIGINT NOT NULL REFERENCES segments (id),
    segment_no TEXT NOT NULL,
    description TEXT NOT NULL,
    no_of_interactions BIGINT NOT NULL,
    user_name TEXT NOT NULL,
    canceled BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX logged_segments_no ON logged_segments (no);

-- Contact fields are copied at logging time; contact_id keeps the contact from being deleted.
CREATE TABLE interaction_log_entries (
    id BIGSERIAL PRIMARY KEY,
    entry_no BIGINT NOT NULL,
    contact_id BIGINT NOT NULL REFERENCES contacts (id),
    contact_no TEXT NOT NULL,
    contact_name TEXT NOT NULL,
    contact_company_no TEXT,
    contact_company_name TEXT,
    date DATE NOT NULL,
    time_of_interaction TIMESTAMP NOT NULL,
    description TEXT NOT NULL,
    subject TEXT,
    comment TEXT,
    interaction_template_code TEXT NOT NULL,
    interaction_group_code TEXT,
    language_code TEXT,
    information_flow TEXT NOT NULL,
    initiated_by TEXT NOT NULL,
    correspondence_type TEXT,
    salesperson_code TEXT,
    cost_cents BIGINT NOT NULL,
    duration_min BIGINT NOT NULL,
    evaluation TEXT,
    attempt_failed BOOLEAN NOT NULL,
    segment_no TEXT,
    logged_segment_id BIGINT REFERENCES logged_segments (id),
    user_name TEXT NOT NULL,
    delivery_status TEXT NOT NULL CHECK (delivery_status IN ('not_applicable', 'pending', 'sent', 'failed')),
    canceled BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX interaction_log_entries_entry_no ON interaction_log_entries (entry_no);
CREATE INDEX interaction_log_entries_contact ON interaction_log_entries (contact_id, id);
CREATE INDEX interaction_log_entries_logged_segment ON interaction_log_entries (logged_segment_id, id);
CREATE INDEX interaction_log_entries_template ON interaction_log_entries (interaction_template_code);
