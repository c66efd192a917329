//! The merge field names, one scheme for Word MERGEFIELDs and template variables:
//! `<source>_<field>` in snake case (`contact_name`, `line_subject`, `salesperson_email`).

/// Every merge field a document may use, grouped by where the value comes from.
pub const MERGE_FIELDS: &[&str] = &[
    // The contact.
    "contact_name",
    "contact_first_name",
    "contact_surname",
    "contact_company_name",
    "contact_job_title",
    "contact_address",
    "contact_address_2",
    "contact_post_code",
    "contact_city",
    "contact_county",
    "contact_country_code",
    "contact_email",
    "contact_phone",
    // The segment line (its effective values).
    "line_subject",
    "line_description",
    "line_date",
    "line_personal_note",
    // The line's salesperson.
    "salesperson_name",
    "salesperson_email",
    "salesperson_phone",
    // The segment header.
    "segment_no",
    "segment_description",
];

/// Whether `name` is a merge field (exact, case-sensitive: callers canonicalise first).
pub fn is_known(name: &str) -> bool {
    MERGE_FIELDS.contains(&name)
}

/// The names of `found` that are not merge fields, in the order given.
pub fn unknown(found: &[String]) -> Vec<String> {
    found.iter().filter(|name| !is_known(name)).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_snake_case() {
        let mut names = MERGE_FIELDS.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), MERGE_FIELDS.len());
        assert!(MERGE_FIELDS
            .iter()
            .all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')));
    }
}
