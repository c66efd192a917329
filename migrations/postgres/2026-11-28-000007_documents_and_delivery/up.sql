-- Which line an entry was logged from (NULL for an interaction logged by hand): the document
-- snapshot below joins entries to their lines with it.
ALTER TABLE interaction_log_entries ADD COLUMN segment_line_id BIGINT;

-- A personalised document of one segment line: it replaces the template's document for that
-- contact only. At most one per line; the line's segment is frozen once logged, so a logged
-- entry's document never changes under it.
CREATE TABLE segment_line_documents (
    id BIGSERIAL PRIMARY KEY,
    segment_line_id BIGINT NOT NULL REFERENCES segment_lines (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('docx', 'html', 'text')),
    file_name TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    merge_fields TEXT NOT NULL,
    content BYTEA NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX segment_line_documents_line ON segment_line_documents (segment_line_id);

-- What an entry's document is made of, frozen when it was logged: the immutable document
-- version (a template attachment version or the line's own document) and every merge value.
-- Rendering is deterministic, so the entry's document is the same bytes whenever it is read,
-- however the template, its attachments or the contact change later.
CREATE TABLE entry_documents (
    entry_id BIGINT PRIMARY KEY REFERENCES interaction_log_entries (id) ON DELETE CASCADE,
    attachment_id BIGINT REFERENCES template_attachments (id),
    line_document_id BIGINT REFERENCES segment_line_documents (id),
    kind TEXT NOT NULL CHECK (kind IN ('docx', 'html', 'text')),
    send_as_attachment BOOLEAN NOT NULL,
    contact_name TEXT,
    contact_first_name TEXT,
    contact_surname TEXT,
    contact_company_name TEXT,
    contact_job_title TEXT,
    contact_address TEXT,
    contact_address_2 TEXT,
    contact_post_code TEXT,
    contact_city TEXT,
    contact_county TEXT,
    contact_country_code TEXT,
    contact_email TEXT,
    contact_phone TEXT,
    line_subject TEXT,
    line_description TEXT,
    line_date TEXT,
    line_personal_note TEXT,
    salesperson_name TEXT,
    salesperson_email TEXT,
    salesperson_phone TEXT,
    segment_no TEXT,
    segment_description TEXT,
    CHECK ((attachment_id IS NULL) <> (line_document_id IS NULL))
);
CREATE INDEX entry_documents_attachment ON entry_documents (attachment_id);
CREATE INDEX entry_documents_line_document ON entry_documents (line_document_id);

-- Delivery of an email or hard-copy entry: attempts, the last error, when it was sent, and
-- while it waits to be (re)tried, when it is due. Rows with a due time are the outbox that the
-- delivery workers drain (PostgreSQL: FOR UPDATE SKIP LOCKED, so replicas never share a row).
CREATE TABLE entry_deliveries (
    entry_id BIGINT PRIMARY KEY REFERENCES interaction_log_entries (id) ON DELETE CASCADE,
    attempts BIGINT NOT NULL,
    last_error TEXT,
    sent_at TIMESTAMP,
    due_at TIMESTAMP
);
CREATE INDEX entry_deliveries_due ON entry_deliveries (due_at) WHERE due_at IS NOT NULL;
