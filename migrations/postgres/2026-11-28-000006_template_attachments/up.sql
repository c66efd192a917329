-- Template documents. Every upload is a version row that is never updated: later work lets
-- logged entries name a version by id. A separate pointer row says which version is a
-- language's current document, and which current document is the template's default.
CREATE TABLE template_attachments (
    id BIGSERIAL PRIMARY KEY,
    interaction_template_code TEXT NOT NULL REFERENCES interaction_templates (code) ON DELETE CASCADE,
    language_code TEXT NOT NULL,
    -- 1, 2, ... per template and language, in upload order.
    version BIGINT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('docx', 'html', 'text')),
    file_name TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    -- The merge fields the document uses, as a JSON array of names.
    merge_fields TEXT NOT NULL,
    content BYTEA NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX template_attachments_version
    ON template_attachments (interaction_template_code, language_code, version);

-- At most one current document per template and language; at most one default per template.
CREATE TABLE template_current_attachments (
    interaction_template_code TEXT NOT NULL REFERENCES interaction_templates (code) ON DELETE CASCADE,
    language_code TEXT NOT NULL,
    attachment_id BIGINT NOT NULL REFERENCES template_attachments (id) ON DELETE CASCADE,
    is_default BOOLEAN NOT NULL,
    PRIMARY KEY (interaction_template_code, language_code)
);
CREATE UNIQUE INDEX template_current_attachments_attachment ON template_current_attachments (attachment_id);
CREATE UNIQUE INDEX template_current_attachments_default
    ON template_current_attachments (interaction_template_code) WHERE is_default;
