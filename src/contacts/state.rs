//! The writable state of a contact: what a create, a PATCH or a bulk item makes of it, the
//! checks that need no database, the row values it is written as, and the planned write
//! (stored state and new state) that the checks and the write path take.

use super::model::{
    Address, Address2, City, Contact, ContactLinks, ContactPatch, ContactRowValues, CountryCode, County,
    CreateContact, Email, ExternalId, JobTitle, LanguageCode, Name, NamePart, Phone, PostCode,
    SalespersonCode, TerritoryCode,
};
use crate::db::write_time::WriteTime;
use crate::domain::patch;
use crate::domain::text::BoundedText;
use crate::domain::validation::Checker;
use crate::domain::{ContactType, CorrespondenceType};

/// A stored contact as a write found it.
#[derive(Debug, Clone)]
pub struct Existing {
    pub id: i64,
    pub version: i64,
    pub state: ContactState,
}

/// One contact to write: its new state, and the stored one when it exists.
#[derive(Debug)]
pub struct PlannedWrite {
    /// Prefix of field names in errors: "" for single requests, `items[3]` in bulk.
    pub field_prefix: String,
    pub existing: Option<Existing>,
    pub state: ContactState,
}

/// Everything a client can write about a contact; two equal states mean "unchanged".
#[derive(Debug, Clone, PartialEq)]
pub struct ContactState {
    /// None until the number series assigns one.
    pub no: Option<String>,
    pub contact_type: ContactType,
    pub name: Option<Name>,
    pub first_name: Option<NamePart>,
    pub middle_name: Option<NamePart>,
    pub surname: Option<NamePart>,
    pub company_no: Option<String>,
    pub job_title: Option<JobTitle>,
    pub address: Option<Address>,
    pub address_2: Option<Address2>,
    pub city: Option<City>,
    pub post_code: Option<PostCode>,
    pub county: Option<County>,
    pub country_code: Option<CountryCode>,
    pub phone: Option<Phone>,
    pub mobile_phone: Option<Phone>,
    pub email: Option<Email>,
    pub language_code: Option<LanguageCode>,
    pub salesperson_code: Option<SalespersonCode>,
    pub territory_code: Option<TerritoryCode>,
    pub correspondence_type: Option<CorrespondenceType>,
    pub exclude_from_segment: bool,
    pub privacy_blocked: bool,
    pub external_id: Option<ExternalId>,
    pub links: ContactLinks,
}

impl ContactState {
    pub fn new(contact_type: ContactType) -> Self {
        ContactState {
            no: None,
            contact_type,
            name: None,
            first_name: None,
            middle_name: None,
            surname: None,
            company_no: None,
            job_title: None,
            address: None,
            address_2: None,
            city: None,
            post_code: None,
            county: None,
            country_code: None,
            phone: None,
            mobile_phone: None,
            email: None,
            language_code: None,
            salesperson_code: None,
            territory_code: None,
            correspondence_type: None,
            exclude_from_segment: false,
            privacy_blocked: false,
            external_id: None,
            links: ContactLinks::default(),
        }
    }

    /// The state of a stored contact.
    pub fn of(row: &Contact, company_no: Option<String>, links: ContactLinks) -> Self {
        ContactState {
            no: Some(row.no.clone()),
            contact_type: row.contact_type,
            name: Some(Name::new(row.name.clone())),
            first_name: row.first_name.clone().map(BoundedText::new),
            middle_name: row.middle_name.clone().map(BoundedText::new),
            surname: row.surname.clone().map(BoundedText::new),
            company_no,
            job_title: row.job_title.clone().map(BoundedText::new),
            address: row.address.clone().map(BoundedText::new),
            address_2: row.address_2.clone().map(BoundedText::new),
            city: row.city.clone().map(BoundedText::new),
            post_code: row.post_code.clone().map(BoundedText::new),
            county: row.county.clone().map(BoundedText::new),
            country_code: row.country_code.clone().map(BoundedText::new),
            phone: row.phone.clone().map(BoundedText::new),
            mobile_phone: row.mobile_phone.clone().map(BoundedText::new),
            email: row.email.clone().map(BoundedText::new),
            language_code: row.language_code.clone().map(BoundedText::new),
            salesperson_code: row.salesperson_code.clone().map(BoundedText::new),
            territory_code: row.territory_code.clone().map(BoundedText::new),
            correspondence_type: row.correspondence_type,
            exclude_from_segment: row.exclude_from_segment,
            privacy_blocked: row.privacy_blocked,
            external_id: row.external_id.clone().map(BoundedText::new),
            links,
        }
    }

    /// A person's name made of its parts, as BC builds it.
    fn derived_name(&self) -> Option<String> {
        let parts: Vec<&str> = [&self.first_name, &self.middle_name, &self.surname]
            .into_iter()
            .filter_map(|p| p.as_deref().map(str::trim).filter(|p| !p.is_empty()))
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }

    /// Applies a change. A person's name follows its parts when it was derived from them
    /// and the change does not set it.
    pub fn apply(&mut self, change: ContactPatch, c: &mut Checker) {
        let name_was_derived = self.contact_type == ContactType::Person
            && (self.name.is_none() || self.name.as_deref() == self.derived_name().as_deref());
        let name_set = change.name.is_some();
        patch::apply_required(c, "type", &mut self.contact_type, change.contact_type);
        patch::apply_required(c, "no", &mut self.no, change.no.map(|no| no.map(Some)));
        patch::apply(&mut self.name, change.name);
        patch::apply(&mut self.first_name, change.first_name);
        patch::apply(&mut self.middle_name, change.middle_name);
        patch::apply(&mut self.surname, change.surname);
        patch::apply(&mut self.company_no, change.company_no);
        patch::apply(&mut self.job_title, change.job_title);
        patch::apply(&mut self.address, change.address);
        patch::apply(&mut self.address_2, change.address_2);
        patch::apply(&mut self.city, change.city);
        patch::apply(&mut self.post_code, change.post_code);
        patch::apply(&mut self.county, change.county);
        patch::apply(&mut self.country_code, change.country_code);
        patch::apply(&mut self.phone, change.phone);
        patch::apply(&mut self.mobile_phone, change.mobile_phone);
        patch::apply(&mut self.email, change.email);
        patch::apply(&mut self.language_code, change.language_code);
        patch::apply(&mut self.salesperson_code, change.salesperson_code);
        patch::apply(&mut self.territory_code, change.territory_code);
        patch::apply(&mut self.correspondence_type, change.correspondence_type);
        patch::apply(&mut self.external_id, change.external_id);
        patch::apply_required(
            c,
            "exclude_from_segment",
            &mut self.exclude_from_segment,
            change.exclude_from_segment,
        );
        patch::apply_required(c, "privacy_blocked", &mut self.privacy_blocked, change.privacy_blocked);
        let links = &mut self.links;
        for (field, target, codes) in [
            ("mailing_group_codes", &mut links.mailing_groups, change.mailing_group_codes),
            ("industry_group_codes", &mut links.industry_groups, change.industry_group_codes),
            ("business_relation_codes", &mut links.business_relations, change.business_relation_codes),
            ("job_responsibility_codes", &mut links.job_responsibilities, change.job_responsibility_codes),
        ] {
            patch::apply_required(c, field, target, codes);
            target.sort();
            target.dedup();
        }
        // Empty strings mean "no value" for optional text, so clients need not send null.
        clear_blank(&mut self.name);
        clear_blank(&mut self.first_name);
        clear_blank(&mut self.middle_name);
        clear_blank(&mut self.surname);
        clear_blank(&mut self.company_no);
        clear_blank(&mut self.email);
        clear_blank(&mut self.salesperson_code);
        clear_blank(&mut self.external_id);
        if !name_set && name_was_derived && self.contact_type == ContactType::Person {
            self.name = self.derived_name().map(Name::new);
        }
    }

    /// Checks what can be checked without the database (references are checked by the repo).
    pub fn check(&self, c: &mut Checker) {
        if let Some(no) = &self.no {
            c.code("no", no);
        }
        match &self.name {
            Some(name) => name.check("name", c),
            None => c.add("name", "required", "name is required (for persons, or first_name / surname)"),
        }
        check_text(c, "first_name", &self.first_name);
        check_text(c, "middle_name", &self.middle_name);
        check_text(c, "surname", &self.surname);
        check_text(c, "job_title", &self.job_title);
        check_text(c, "address", &self.address);
        check_text(c, "address_2", &self.address_2);
        check_text(c, "city", &self.city);
        check_text(c, "post_code", &self.post_code);
        check_text(c, "county", &self.county);
        check_text(c, "country_code", &self.country_code);
        check_text(c, "phone", &self.phone);
        check_text(c, "mobile_phone", &self.mobile_phone);
        check_text(c, "language_code", &self.language_code);
        check_text(c, "salesperson_code", &self.salesperson_code);
        check_text(c, "territory_code", &self.territory_code);
        check_text(c, "external_id", &self.external_id);
        if let Some(email) = &self.email {
            email.check_email("email", c);
        }
        if self.contact_type == ContactType::Company {
            if self.company_no.is_some() {
                c.add("company_no", "not_allowed", "a company cannot belong to a company");
            }
            if !self.links.job_responsibilities.is_empty() {
                c.add("job_responsibility_codes", "not_allowed", "job responsibilities belong to persons");
            }
        } else {
            if !self.links.industry_groups.is_empty() {
                c.add("industry_group_codes", "not_allowed", "industry groups belong to companies");
            }
            if !self.links.business_relations.is_empty() {
                c.add("business_relation_codes", "not_allowed", "business relations belong to companies");
            }
        }
    }

    /// The row values of this state; `no` and the company id are resolved by the caller.
    pub fn row_values(
        &self,
        no: String,
        company_id: Option<i64>,
        version: i64,
        now: &WriteTime,
    ) -> ContactRowValues {
        let name: String = self.name.clone().map(String::from).unwrap_or_default();
        ContactRowValues {
            no,
            contact_type: self.contact_type,
            search_name: name.to_lowercase(),
            name,
            first_name: self.first_name.clone().map(String::from),
            middle_name: self.middle_name.clone().map(String::from),
            surname: self.surname.clone().map(String::from),
            company_id,
            job_title: self.job_title.clone().map(String::from),
            address: self.address.clone().map(String::from),
            address_2: self.address_2.clone().map(String::from),
            city: self.city.clone().map(String::from),
            post_code: self.post_code.clone().map(String::from),
            county: self.county.clone().map(String::from),
            country_code: self.country_code.clone().map(String::from),
            phone: self.phone.clone().map(String::from),
            mobile_phone: self.mobile_phone.clone().map(String::from),
            email: self.email.clone().map(String::from),
            language_code: self.language_code.clone().map(String::from),
            salesperson_code: self.salesperson_code.clone().map(String::from),
            territory_code: self.territory_code.clone().map(String::from),
            correspondence_type: self.correspondence_type,
            exclude_from_segment: self.exclude_from_segment,
            privacy_blocked: self.privacy_blocked,
            external_id: self.external_id.clone().map(String::from),
            version,
            created_at: now.clone(),
            updated_at: now.clone(),
        }
    }
}

/// Reports the fault of an optional bounded text, if it has one.
fn check_text<const MAX: usize>(c: &mut Checker, field: &str, value: &Option<BoundedText<MAX>>) {
    if let Some(text) = value {
        text.check(field, c);
    }
}

/// Clears text that is empty or only blanks.
fn clear_blank<T: AsRef<str>>(field: &mut Option<T>) {
    if field.as_ref().is_some_and(|v| v.as_ref().trim().is_empty()) {
        *field = None;
    }
}

impl CreateContact {
    /// The state of a new contact: this input applied to an empty one.
    pub fn into_state(self, c: &mut Checker) -> ContactState {
        let mut state = ContactState::new(self.contact_type);
        state.apply(
            ContactPatch {
                no: self.no.map(Some),
                contact_type: Some(Some(self.contact_type)),
                name: self.name.map(Some),
                first_name: self.first_name.map(Some),
                middle_name: self.middle_name.map(Some),
                surname: self.surname.map(Some),
                company_no: self.company_no.map(Some),
                job_title: self.job_title.map(Some),
                address: self.address.map(Some),
                address_2: self.address_2.map(Some),
                city: self.city.map(Some),
                post_code: self.post_code.map(Some),
                county: self.county.map(Some),
                country_code: self.country_code.map(Some),
                phone: self.phone.map(Some),
                mobile_phone: self.mobile_phone.map(Some),
                email: self.email.map(Some),
                language_code: self.language_code.map(Some),
                salesperson_code: self.salesperson_code.map(Some),
                territory_code: self.territory_code.map(Some),
                correspondence_type: self.correspondence_type.map(Some),
                exclude_from_segment: self.exclude_from_segment.map(Some),
                privacy_blocked: self.privacy_blocked.map(Some),
                external_id: self.external_id.map(Some),
                mailing_group_codes: self.mailing_group_codes.map(Some),
                industry_group_codes: self.industry_group_codes.map(Some),
                business_relation_codes: self.business_relation_codes.map(Some),
                job_responsibility_codes: self.job_responsibility_codes.map(Some),
            },
            c,
        );
        state
    }
}
