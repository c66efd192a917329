//! Table definitions shared by both backends (kept by hand in step with `migrations/`).

diesel::table! {
    api_keys (id) {
        id -> BigInt,
        name -> Text,
        scope -> Text,
        key_hash -> Text,
        key_prefix -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    idempotency_records (id) {
        id -> BigInt,
        owner -> Text,
        idempotency_key -> Text,
        request_hash -> Text,
        response_status -> Nullable<Integer>,
        response_headers -> Nullable<Text>,
        response_body -> Nullable<Binary>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    number_series (code) {
        code -> Text,
        prefix -> Text,
        width -> Integer,
        last_no -> BigInt,
    }
}

diesel::table! {
    salespeople (code) {
        code -> Text,
        name -> Text,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    mailing_groups (code) {
        code -> Text,
        description -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    industry_groups (code) {
        code -> Text,
        description -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    business_relations (code) {
        code -> Text,
        description -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    job_responsibilities (code) {
        code -> Text,
        description -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    contacts (id) {
        id -> BigInt,
        no -> Text,
        contact_type -> Text,
        name -> Text,
        search_name -> Text,
        first_name -> Nullable<Text>,
        middle_name -> Nullable<Text>,
        surname -> Nullable<Text>,
        company_id -> Nullable<BigInt>,
        job_title -> Nullable<Text>,
        address -> Nullable<Text>,
        address_2 -> Nullable<Text>,
        city -> Nullable<Text>,
        post_code -> Nullable<Text>,
        county -> Nullable<Text>,
        country_code -> Nullable<Text>,
        phone -> Nullable<Text>,
        mobile_phone -> Nullable<Text>,
        email -> Nullable<Text>,
        language_code -> Nullable<Text>,
        salesperson_code -> Nullable<Text>,
        territory_code -> Nullable<Text>,
        correspondence_type -> Nullable<Text>,
        exclude_from_segment -> Bool,
        privacy_blocked -> Bool,
        external_id -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    contact_mailing_groups (contact_id, mailing_group_code) {
        contact_id -> BigInt,
        mailing_group_code -> Text,
    }
}

diesel::table! {
    contact_industry_groups (contact_id, industry_group_code) {
        contact_id -> BigInt,
        industry_group_code -> Text,
    }
}

diesel::table! {
    contact_business_relations (contact_id, business_relation_code) {
        contact_id -> BigInt,
        business_relation_code -> Text,
    }
}

diesel::table! {
    contact_job_responsibilities (contact_id, job_responsibility_code) {
        contact_id -> BigInt,
        job_responsibility_code -> Text,
    }
}

diesel::table! {
    interaction_groups (code) {
        code -> Text,
        description -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    interaction_templates (code) {
        code -> Text,
        interaction_group_code -> Nullable<Text>,
        description -> Text,
        information_flow -> Text,
        initiated_by -> Text,
        unit_cost_cents -> BigInt,
        unit_duration_min -> BigInt,
        correspondence_type -> Nullable<Text>,
        language_code -> Nullable<Text>,
        ignore_contact_correspondence_type -> Bool,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    segments (id) {
        id -> BigInt,
        no -> Text,
        description -> Nullable<Text>,
        search_description -> Nullable<Text>,
        status -> Text,
        interaction_template_code -> Nullable<Text>,
        subject -> Nullable<Text>,
        language_code -> Nullable<Text>,
        correspondence_type -> Nullable<Text>,
        ignore_contact_correspondence_type -> Nullable<Bool>,
        date -> Date,
        salesperson_code -> Nullable<Text>,
        unit_cost_cents -> Nullable<BigInt>,
        unit_duration_min -> Nullable<BigInt>,
        send_as_attachment -> Bool,
        no_of_lines -> BigInt,
        no_of_criteria_actions -> BigInt,
        logged_segment_id -> Nullable<BigInt>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    criteria_actions (id) {
        id -> BigInt,
        segment_id -> BigInt,
        seq -> BigInt,
        action -> Text,
        source -> Text,
        source_ref -> Nullable<Text>,
        filter -> Nullable<Text>,
        options -> Text,
        lines_added -> BigInt,
        lines_removed -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    segment_lines (id) {
        id -> BigInt,
        segment_id -> BigInt,
        contact_id -> BigInt,
        description -> Nullable<Text>,
        subject -> Nullable<Text>,
        interaction_template_code -> Nullable<Text>,
        language_code -> Nullable<Text>,
        correspondence_type -> Nullable<Text>,
        date -> Nullable<Date>,
        salesperson_code -> Nullable<Text>,
        cost_cents -> Nullable<BigInt>,
        duration_min -> Nullable<BigInt>,
        personal_note -> Nullable<Text>,
        evaluation -> Nullable<Text>,
        attempt_failed -> Bool,
        added_by_action_id -> Nullable<BigInt>,
        removed_by_action_id -> Nullable<BigInt>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    saved_criteria (code) {
        code -> Text,
        description -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    saved_criteria_actions (saved_criteria_code, seq) {
        saved_criteria_code -> Text,
        seq -> BigInt,
        action -> Text,
        filter -> Text,
        options -> Text,
    }
}

diesel::table! {
    logged_segments (id) {
        id -> BigInt,
        no -> Text,
        segment_id -> BigInt,
        segment_no -> Text,
        description -> Text,
        no_of_interactions -> BigInt,
        user_name -> Text,
        canceled -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    interaction_log_entries (id) {
        id -> BigInt,
        entry_no -> BigInt,
        contact_id -> BigInt,
        contact_no -> Text,
        contact_name -> Text,
        contact_company_no -> Nullable<Text>,
        contact_company_name -> Nullable<Text>,
        date -> Date,
        time_of_interaction -> Timestamp,
        description -> Text,
        subject -> Nullable<Text>,
        comment -> Nullable<Text>,
        interaction_template_code -> Text,
        interaction_group_code -> Nullable<Text>,
        language_code -> Nullable<Text>,
        information_flow -> Text,
        initiated_by -> Text,
        correspondence_type -> Nullable<Text>,
        salesperson_code -> Nullable<Text>,
        cost_cents -> BigInt,
        duration_min -> BigInt,
        evaluation -> Nullable<Text>,
        attempt_failed -> Bool,
        segment_no -> Nullable<Text>,
        logged_segment_id -> Nullable<BigInt>,
        user_name -> Text,
        delivery_status -> Text,
        canceled -> Bool,
        created_at -> Timestamp,
        segment_line_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    template_attachments (id) {
        id -> BigInt,
        interaction_template_code -> Text,
        language_code -> Text,
        version -> BigInt,
        kind -> Text,
        file_name -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        merge_fields -> Text,
        content -> Binary,
        created_at -> Timestamp,
    }
}

diesel::table! {
    template_current_attachments (interaction_template_code, language_code) {
        interaction_template_code -> Text,
        language_code -> Text,
        attachment_id -> BigInt,
        is_default -> Bool,
    }
}

diesel::table! {
    /// Kept by triggers on `segment_lines` (migration 000009): what the totals need per
    /// segment and per line template ('' for the header's).
    segment_line_totals (segment_id, interaction_template_code) {
        segment_id -> BigInt,
        interaction_template_code -> Text,
        lines_inheriting_cost -> BigInt,
        lines_inheriting_duration -> BigInt,
        overridden_cost_cents -> BigInt,
        overridden_duration_min -> BigInt,
    }
}

diesel::table! {
    segment_line_documents (id) {
        id -> BigInt,
        segment_line_id -> BigInt,
        kind -> Text,
        file_name -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        merge_fields -> Text,
        content -> Binary,
        created_at -> Timestamp,
    }
}

diesel::table! {
    entry_documents (entry_id) {
        entry_id -> BigInt,
        attachment_id -> Nullable<BigInt>,
        line_document_id -> Nullable<BigInt>,
        kind -> Text,
        send_as_attachment -> Bool,
        contact_name -> Nullable<Text>,
        contact_first_name -> Nullable<Text>,
        contact_surname -> Nullable<Text>,
        contact_company_name -> Nullable<Text>,
        contact_job_title -> Nullable<Text>,
        contact_address -> Nullable<Text>,
        contact_address_2 -> Nullable<Text>,
        contact_post_code -> Nullable<Text>,
        contact_city -> Nullable<Text>,
        contact_county -> Nullable<Text>,
        contact_country_code -> Nullable<Text>,
        contact_email -> Nullable<Text>,
        contact_phone -> Nullable<Text>,
        line_subject -> Nullable<Text>,
        line_description -> Nullable<Text>,
        line_date -> Nullable<Text>,
        line_personal_note -> Nullable<Text>,
        salesperson_name -> Nullable<Text>,
        salesperson_email -> Nullable<Text>,
        salesperson_phone -> Nullable<Text>,
        segment_no -> Nullable<Text>,
        segment_description -> Nullable<Text>,
    }
}

diesel::table! {
    entry_deliveries (entry_id) {
        entry_id -> BigInt,
        attempts -> BigInt,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
        due_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(contact_mailing_groups -> contacts (contact_id));
diesel::joinable!(contact_industry_groups -> contacts (contact_id));
diesel::joinable!(contact_business_relations -> contacts (contact_id));
diesel::joinable!(contact_job_responsibilities -> contacts (contact_id));
diesel::joinable!(contacts -> salespeople (salesperson_code));
diesel::joinable!(segment_lines -> segments (segment_id));
diesel::joinable!(segment_line_totals -> segments (segment_id));
diesel::joinable!(segment_lines -> contacts (contact_id));
diesel::joinable!(segments -> interaction_templates (interaction_template_code));
diesel::joinable!(interaction_templates -> interaction_groups (interaction_group_code));
diesel::joinable!(criteria_actions -> segments (segment_id));
diesel::joinable!(interaction_log_entries -> contacts (contact_id));
diesel::joinable!(interaction_log_entries -> logged_segments (logged_segment_id));
diesel::joinable!(template_attachments -> interaction_templates (interaction_template_code));
diesel::joinable!(template_current_attachments -> template_attachments (attachment_id));
diesel::joinable!(segment_line_documents -> segment_lines (segment_line_id));
diesel::joinable!(entry_documents -> interaction_log_entries (entry_id));
diesel::joinable!(entry_deliveries -> interaction_log_entries (entry_id));

diesel::allow_tables_to_appear_in_same_query!(
    api_keys,
    idempotency_records,
    number_series,
    salespeople,
    mailing_groups,
    industry_groups,
    business_relations,
    job_responsibilities,
    contacts,
    contact_mailing_groups,
    contact_industry_groups,
    contact_business_relations,
    contact_job_responsibilities,
    interaction_groups,
    interaction_templates,
    segments,
    criteria_actions,
    segment_lines,
    saved_criteria,
    saved_criteria_actions,
    logged_segments,
    interaction_log_entries,
    template_attachments,
    template_current_attachments,
    segment_line_documents,
    segment_line_totals,
    entry_documents,
    entry_deliveries,
);
