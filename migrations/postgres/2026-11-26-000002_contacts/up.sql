CREATE TABLE salespeople (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE mailing_groups (
    code TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE TABLE industry_groups (
    code TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE TABLE business_relations (
    code TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE TABLE job_responsibilities (
    code TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE contacts (
    id BIGSERIAL PRIMARY KEY,
    no TEXT NOT NULL,
    contact_type TEXT NOT NULL CHECK (contact_type IN ('company', 'person')),
    name TEXT NOT NULL,
    -- lower-cased name, written by the service, so `q` is case-insensitive alike on both backends
    search_name TEXT NOT NULL,
    first_name TEXT,
    middle_name TEXT,
    surname TEXT,
    company_id BIGINT REFERENCES contacts (id),
    job_title TEXT,
    address TEXT,
    address_2 TEXT,
    city TEXT,
    post_code TEXT,
    county TEXT,
    country_code TEXT,
    phone TEXT,
    mobile_phone TEXT,
    email TEXT,
    language_code TEXT,
    salesperson_code TEXT REFERENCES salespeople (code),
    territory_code TEXT,
    correspondence_type TEXT CHECK (correspondence_type IN ('hard_copy', 'email')),
    exclude_from_segment BOOLEAN NOT NULL,
    privacy_blocked BOOLEAN NOT NULL,
    external_id TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (contact_type = 'person' OR company_id IS NULL)
);
CREATE UNIQUE INDEX contacts_no ON contacts (no);
CREATE UNIQUE INDEX contacts_external_id ON contacts (external_id);
CREATE INDEX contacts_company_id ON contacts (company_id);
CREATE INDEX contacts_city ON contacts (city);
CREATE INDEX contacts_post_code ON contacts (post_code);
CREATE INDEX contacts_salesperson_code ON contacts (salesperson_code);
CREATE INDEX contacts_updated_at ON contacts (updated_at, id);

CREATE TABLE contact_mailing_groups (
    contact_id BIGINT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    mailing_group_code TEXT NOT NULL REFERENCES mailing_groups (code),
    PRIMARY KEY (contact_id, mailing_group_code)
);
CREATE INDEX contact_mailing_groups_code ON contact_mailing_groups (mailing_group_code, contact_id);
CREATE TABLE contact_industry_groups (
    contact_id BIGINT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    industry_group_code TEXT NOT NULL REFERENCES industry_groups (code),
    PRIMARY KEY (contact_id, industry_group_code)
);
CREATE INDEX contact_industry_groups_code ON contact_industry_groups (industry_group_code, contact_id);
CREATE TABLE contact_business_relations (
    contact_id BIGINT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    business_relation_code TEXT NOT NULL REFERENCES business_relations (code),
    PRIMARY KEY (contact_id, business_relation_code)
);
CREATE INDEX contact_business_relations_code ON contact_business_relations (business_relation_code, contact_id);
CREATE TABLE contact_job_responsibilities (
    contact_id BIGINT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    job_responsibility_code TEXT NOT NULL REFERENCES job_responsibilities (code),
    PRIMARY KEY (contact_id, job_responsibility_code)
);
CREATE INDEX contact_job_responsibilities_code ON contact_job_responsibilities (job_responsibility_code, contact_id);
