//! Contact rows, the writable state they are compared by, and the wire types.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::conditional::etag;
use crate::db::schema::contacts;
use crate::domain::{ContactType, CorrespondenceType};
use crate::json::JsonObject;
use crate::patch;
use crate::validation::Checker;

/// A row of `contacts`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = contacts)]
pub struct Contact {
    pub id: i64,
    pub no: String,
    pub contact_type: String,
    pub name: String,
    pub search_name: String,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub surname: Option<String>,
    pub company_id: Option<i64>,
    pub job_title: Option<String>,
    pub address: Option<String>,
    pub address_2: Option<String>,
    pub city: Option<String>,
    pub post_code: Option<String>,
    pub county: Option<String>,
    pub country_code: Option<String>,
    pub phone: Option<String>,
    pub mobile_phone: Option<String>,
    pub email: Option<String>,
    pub language_code: Option<String>,
    pub salesperson_code: Option<String>,
    pub territory_code: Option<String>,
    pub correspondence_type: Option<String>,
    pub exclude_from_segment: bool,
    pub privacy_blocked: bool,
    pub external_id: Option<String>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The columns a write sets; an update writes them all but `created_at` (see `write.rs`).
// NULL rather than DEFAULT for None: SQLite can then take many rows in one VALUES list.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = contacts, treat_none_as_default_value = false)]
pub struct ContactRowValues {
    pub no: String,
    pub contact_type: String,
    pub name: String,
    pub search_name: String,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub surname: Option<String>,
    pub company_id: Option<i64>,
    pub job_title: Option<String>,
    pub address: Option<String>,
    pub address_2: Option<String>,
    pub city: Option<String>,
    pub post_code: Option<String>,
    pub county: Option<String>,
    pub country_code: Option<String>,
    pub phone: Option<String>,
    pub mobile_phone: Option<String>,
    pub email: Option<String>,
    pub language_code: Option<String>,
    pub salesperson_code: Option<String>,
    pub territory_code: Option<String>,
    pub correspondence_type: Option<String>,
    pub exclude_from_segment: bool,
    pub privacy_blocked: bool,
    pub external_id: Option<String>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// An existing contact's new values, written by an upsert on `id`.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = contacts, treat_none_as_default_value = false)]
pub struct ContactUpdateRow {
    pub id: i64,
    #[diesel(embed)]
    pub values: ContactRowValues,
}

/// The codes a contact is linked to, each list sorted and without repeats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactLinks {
    pub mailing_groups: Vec<String>,
    pub industry_groups: Vec<String>,
    pub business_relations: Vec<String>,
    pub job_responsibilities: Vec<String>,
}

/// Everything a client can write about a contact; two equal states mean "unchanged".
#[derive(Debug, Clone, PartialEq)]
pub struct ContactState {
    /// None until the number series assigns one.
    pub no: Option<String>,
    pub contact_type: ContactType,
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub surname: Option<String>,
    pub company_no: Option<String>,
    pub job_title: Option<String>,
    pub address: Option<String>,
    pub address_2: Option<String>,
    pub city: Option<String>,
    pub post_code: Option<String>,
    pub county: Option<String>,
    pub country_code: Option<String>,
    pub phone: Option<String>,
    pub mobile_phone: Option<String>,
    pub email: Option<String>,
    pub language_code: Option<String>,
    pub salesperson_code: Option<String>,
    pub territory_code: Option<String>,
    pub correspondence_type: Option<CorrespondenceType>,
    pub exclude_from_segment: bool,
    pub privacy_blocked: bool,
    pub external_id: Option<String>,
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
            contact_type: ContactType::parse(&row.contact_type).unwrap_or(ContactType::Company),
            name: Some(row.name.clone()),
            first_name: row.first_name.clone(),
            middle_name: row.middle_name.clone(),
            surname: row.surname.clone(),
            company_no,
            job_title: row.job_title.clone(),
            address: row.address.clone(),
            address_2: row.address_2.clone(),
            city: row.city.clone(),
            post_code: row.post_code.clone(),
            county: row.county.clone(),
            country_code: row.country_code.clone(),
            phone: row.phone.clone(),
            mobile_phone: row.mobile_phone.clone(),
            email: row.email.clone(),
            language_code: row.language_code.clone(),
            salesperson_code: row.salesperson_code.clone(),
            territory_code: row.territory_code.clone(),
            correspondence_type: row.correspondence_type.as_deref().and_then(CorrespondenceType::parse),
            exclude_from_segment: row.exclude_from_segment,
            privacy_blocked: row.privacy_blocked,
            external_id: row.external_id.clone(),
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
            && (self.name.is_none() || self.name == self.derived_name());
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
        for field in [
            &mut self.name,
            &mut self.first_name,
            &mut self.middle_name,
            &mut self.surname,
            &mut self.company_no,
            &mut self.email,
            &mut self.salesperson_code,
            &mut self.external_id,
        ] {
            if field.as_deref().is_some_and(|v| v.trim().is_empty()) {
                *field = None;
            }
        }
        if !name_set && name_was_derived && self.contact_type == ContactType::Person {
            self.name = self.derived_name();
        }
    }

    /// Checks what can be checked without the database (references are checked by the repo).
    pub fn check(&self, c: &mut Checker) {
        if let Some(no) = &self.no {
            c.code("no", no);
        }
        match &self.name {
            Some(name) => c.max_len("name", Some(name), 100),
            None => c.add("name", "required", "name is required (for persons, or first_name / surname)"),
        }
        for (field, value, max) in [
            ("first_name", &self.first_name, 30),
            ("middle_name", &self.middle_name, 30),
            ("surname", &self.surname, 30),
            ("job_title", &self.job_title, 30),
            ("address", &self.address, 100),
            ("address_2", &self.address_2, 50),
            ("city", &self.city, 30),
            ("post_code", &self.post_code, 20),
            ("county", &self.county, 30),
            ("country_code", &self.country_code, 10),
            ("phone", &self.phone, 30),
            ("mobile_phone", &self.mobile_phone, 30),
            ("language_code", &self.language_code, 10),
            ("salesperson_code", &self.salesperson_code, 20),
            ("territory_code", &self.territory_code, 20),
            ("external_id", &self.external_id, 100),
        ] {
            c.max_len(field, value.as_deref(), max);
        }
        c.email("email", self.email.as_deref());
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
        now: NaiveDateTime,
    ) -> ContactRowValues {
        let name = self.name.clone().unwrap_or_default();
        ContactRowValues {
            no,
            contact_type: self.contact_type.as_str().to_owned(),
            search_name: name.to_lowercase(),
            name,
            first_name: self.first_name.clone(),
            middle_name: self.middle_name.clone(),
            surname: self.surname.clone(),
            company_id,
            job_title: self.job_title.clone(),
            address: self.address.clone(),
            address_2: self.address_2.clone(),
            city: self.city.clone(),
            post_code: self.post_code.clone(),
            county: self.county.clone(),
            country_code: self.country_code.clone(),
            phone: self.phone.clone(),
            mobile_phone: self.mobile_phone.clone(),
            email: self.email.clone(),
            language_code: self.language_code.clone(),
            salesperson_code: self.salesperson_code.clone(),
            territory_code: self.territory_code.clone(),
            correspondence_type: self.correspondence_type.map(|t| t.as_str().to_owned()),
            exclude_from_segment: self.exclude_from_segment,
            privacy_blocked: self.privacy_blocked,
            external_id: self.external_id.clone(),
            version,
            created_at: now,
            updated_at: now,
        }
    }
}

/// A contact to create. `no` comes from the number series (`CT000001`, ...) when omitted.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateContact {
    /// Unique; from the number series when omitted.
    #[schema(min_length = 1, max_length = 20, pattern = "^[^\\s/\\u0000-\\u001f\\u007f-\\u009f]+$")]
    pub no: Option<String>,
    #[serde(rename = "type")]
    pub contact_type: ContactType,
    /// Required for companies; for persons made of first/middle/surname when omitted.
    #[schema(max_length = 100)]
    pub name: Option<String>,
    #[schema(max_length = 30)]
    pub first_name: Option<String>,
    #[schema(max_length = 30)]
    pub middle_name: Option<String>,
    #[schema(max_length = 30)]
    pub surname: Option<String>,
    /// Persons only: the `no` of an existing company contact.
    #[schema(max_length = 20)]
    pub company_no: Option<String>,
    #[schema(max_length = 30)]
    pub job_title: Option<String>,
    #[schema(max_length = 100)]
    pub address: Option<String>,
    #[schema(max_length = 50)]
    pub address_2: Option<String>,
    #[schema(max_length = 30)]
    pub city: Option<String>,
    #[schema(max_length = 20)]
    pub post_code: Option<String>,
    #[schema(max_length = 30)]
    pub county: Option<String>,
    /// ISO 3166 alpha-2 recommended, not enforced.
    #[schema(max_length = 10)]
    pub country_code: Option<String>,
    #[schema(max_length = 30)]
    pub phone: Option<String>,
    #[schema(max_length = 30)]
    pub mobile_phone: Option<String>,
    #[schema(max_length = 80)]
    pub email: Option<String>,
    #[schema(max_length = 10)]
    pub language_code: Option<String>,
    /// Must name an existing salesperson.
    #[schema(max_length = 20)]
    pub salesperson_code: Option<String>,
    #[schema(max_length = 20)]
    pub territory_code: Option<String>,
    /// The contact's preferred channel.
    pub correspondence_type: Option<CorrespondenceType>,
    /// Criteria actions skip the contact unless told `ignore_exclusion`.
    pub exclude_from_segment: Option<bool>,
    /// Never added to a segment, logged or delivered to.
    pub privacy_blocked: Option<bool>,
    /// Unique when set: the key of ERP integrations.
    #[schema(max_length = 100)]
    pub external_id: Option<String>,
    pub mailing_group_codes: Option<Vec<String>>,
    /// Companies only.
    pub industry_group_codes: Option<Vec<String>>,
    /// Companies only.
    pub business_relation_codes: Option<Vec<String>>,
    /// Persons only.
    pub job_responsibility_codes: Option<Vec<String>>,
}

/// A change to a contact: an absent field stays as it is, `null` clears it (`no`, `type`,
/// the flags and the link lists cannot be null). Link lists replace the contact's links.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPatch {
    #[schema(min_length = 1, max_length = 20, pattern = "^[^\\s/\\u0000-\\u001f\\u007f-\\u009f]+$")]
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = String)]
    pub no: Option<Option<String>>,
    #[serde(rename = "type", default, deserialize_with = "patch::nullable")]
    #[schema(value_type = ContactType)]
    pub contact_type: Option<Option<ContactType>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 100)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 30)]
    pub first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 30)]
    pub middle_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 30)]
    pub surname: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 20)]
    pub company_no: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 30)]
    pub job_title: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 100)]
    pub address: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 50)]
    pub address_2: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 30)]
    pub city: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 20)]
    pub post_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 30)]
    pub county: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 10)]
    pub country_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 30)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 30)]
    pub mobile_phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 80)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 10)]
    pub language_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 20)]
    pub salesperson_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 20)]
    pub territory_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<CorrespondenceType>)]
    pub correspondence_type: Option<Option<CorrespondenceType>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = bool)]
    pub exclude_from_segment: Option<Option<bool>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = bool)]
    pub privacy_blocked: Option<Option<bool>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 100)]
    pub external_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Vec<String>)]
    pub mailing_group_codes: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Vec<String>)]
    pub industry_group_codes: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Vec<String>)]
    pub business_relation_codes: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Vec<String>)]
    pub job_responsibility_codes: Option<Option<Vec<String>>>,
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

/// A contact as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactResponse {
    pub id: i64,
    pub no: String,
    #[serde(rename = "type")]
    pub contact_type: ContactType,
    pub name: String,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub surname: Option<String>,
    pub company_no: Option<String>,
    /// Read-only: the company's name.
    pub company_name: Option<String>,
    pub job_title: Option<String>,
    pub address: Option<String>,
    pub address_2: Option<String>,
    pub city: Option<String>,
    pub post_code: Option<String>,
    pub county: Option<String>,
    pub country_code: Option<String>,
    pub phone: Option<String>,
    pub mobile_phone: Option<String>,
    pub email: Option<String>,
    pub language_code: Option<String>,
    pub salesperson_code: Option<String>,
    pub territory_code: Option<String>,
    pub correspondence_type: Option<CorrespondenceType>,
    pub exclude_from_segment: bool,
    pub privacy_blocked: bool,
    pub external_id: Option<String>,
    pub mailing_group_codes: Vec<String>,
    pub industry_group_codes: Vec<String>,
    pub business_relation_codes: Vec<String>,
    pub job_responsibility_codes: Vec<String>,
    /// Increases on every change; the ETag.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The ETag: this contact's version, and its company's (whose name it shows).
    #[serde(skip)]
    pub etag: String,
}

/// A contact row with what the response adds to it.
#[derive(Debug, Clone)]
pub struct ContactView {
    pub row: Contact,
    pub company_no: Option<String>,
    pub company_name: Option<String>,
    pub company_version: Option<i64>,
    pub links: ContactLinks,
}

impl From<ContactView> for ContactResponse {
    fn from(v: ContactView) -> Self {
        let ContactView { row, company_no, company_name, company_version, links } = v;
        let etag = match company_version {
            Some(company) => etag(&[row.version, company]),
            None => etag(&[row.version]),
        };
        ContactResponse {
            etag,
            id: row.id,
            no: row.no,
            contact_type: ContactType::parse(&row.contact_type).unwrap_or(ContactType::Company),
            name: row.name,
            first_name: row.first_name,
            middle_name: row.middle_name,
            surname: row.surname,
            company_no,
            company_name,
            job_title: row.job_title,
            address: row.address,
            address_2: row.address_2,
            city: row.city,
            post_code: row.post_code,
            county: row.county,
            country_code: row.country_code,
            phone: row.phone,
            mobile_phone: row.mobile_phone,
            email: row.email,
            language_code: row.language_code,
            salesperson_code: row.salesperson_code,
            territory_code: row.territory_code,
            correspondence_type: row.correspondence_type.as_deref().and_then(CorrespondenceType::parse),
            exclude_from_segment: row.exclude_from_segment,
            privacy_blocked: row.privacy_blocked,
            external_id: row.external_id,
            mailing_group_codes: links.mailing_groups,
            industry_group_codes: links.industry_groups,
            business_relation_codes: links.business_relations,
            job_responsibility_codes: links.job_responsibilities,
            version: row.version,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        }
    }
}

/// A page of contacts.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactList {
    pub items: Vec<ContactResponse>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Up to `BULK_MAX_ITEMS` (default 1000) contacts to create or update.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkContacts {
    #[schema(value_type = Vec<ContactPatch>)]
    pub items: Vec<JsonObject<ContactPatch>>,
}

/// What bulk sync did with one input item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BulkStatus {
    Created,
    Updated,
    Unchanged,
}

/// The outcome for the item at `index` of the request.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    pub index: usize,
    pub status: BulkStatus,
    pub id: i64,
    pub no: String,
}

/// One result per input item, in input order.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResponse {
    pub results: Vec<BulkResult>,
}
