//! Contact rows and the wire types (the writable state a write compares lives in `state.rs`).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::contacts;
use crate::db::write_time::WriteTime;
use crate::domain::patch;
use crate::domain::text::email_blank_or_null;
use crate::domain::text::BoundedText;
use crate::domain::{ContactType, CorrespondenceType};
use crate::http::conditional::etag;
use crate::http::json::JsonObject;

/// A row of `contacts`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = contacts)]
pub struct Contact {
    pub id: i64,
    pub no: String,
    pub contact_type: ContactType,
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
    pub correspondence_type: Option<CorrespondenceType>,
    pub exclude_from_segment: bool,
    pub privacy_blocked: bool,
    pub external_id: Option<String>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The columns a write sets; an update writes them all but `created_at` (see `write.rs`).
// NULL rather than DEFAULT for None: SQLite can then take many rows in one VALUES list.
// Serialized as the JSON rows of an insert (`write::insert_rows`), which binds the version and
// timestamps once per statement.
#[derive(Debug, Clone, Insertable, Serialize)]
#[diesel(table_name = contacts, treat_none_as_default_value = false)]
pub struct ContactRowValues {
    pub no: String,
    pub contact_type: ContactType,
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
    pub correspondence_type: Option<CorrespondenceType>,
    pub exclude_from_segment: bool,
    pub privacy_blocked: bool,
    pub external_id: Option<String>,
    #[serde(skip)]
    pub version: i64,
    #[serde(skip)]
    pub created_at: WriteTime,
    #[serde(skip)]
    pub updated_at: WriteTime,
}

/// An existing contact's new values, written by an upsert on `id`.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = contacts, treat_none_as_default_value = false)]
pub struct ContactUpdateRow {
    pub id: i64,
    #[diesel(embed)]
    pub values: ContactRowValues,
}

/// The contact's text fields by their bounds in characters, each stated only here: the wire
/// types, the state and the OpenAPI document take them from these types.
pub type Name = BoundedText<100>;
/// `first_name`, `middle_name`, `surname`.
pub type NamePart = BoundedText<30>;
pub type JobTitle = BoundedText<30>;
pub type Address = BoundedText<100>;
pub type Address2 = BoundedText<50>;
pub type City = BoundedText<30>;
pub type PostCode = BoundedText<20>;
pub type County = BoundedText<30>;
pub type CountryCode = BoundedText<10>;
/// `phone`, `mobile_phone`.
pub type Phone = BoundedText<30>;
/// Checked as an address as well (`BoundedText::check_email`).
pub type Email = BoundedText<80>;
pub type LanguageCode = BoundedText<10>;
pub type SalespersonCode = BoundedText<20>;
pub type TerritoryCode = BoundedText<20>;
pub type ExternalId = BoundedText<100>;

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
    #[schema(inline)]
    pub name: Option<Name>,
    #[schema(inline)]
    pub first_name: Option<NamePart>,
    #[schema(inline)]
    pub middle_name: Option<NamePart>,
    #[schema(inline)]
    pub surname: Option<NamePart>,
    /// Persons only: the `no` of an existing company contact.
    #[schema(max_length = 20)]
    pub company_no: Option<String>,
    #[schema(inline)]
    pub job_title: Option<JobTitle>,
    #[schema(inline)]
    pub address: Option<Address>,
    #[schema(inline)]
    pub address_2: Option<Address2>,
    #[schema(inline)]
    pub city: Option<City>,
    #[schema(inline)]
    pub post_code: Option<PostCode>,
    #[schema(inline)]
    pub county: Option<County>,
    /// ISO 3166 alpha-2 recommended, not enforced.
    #[schema(inline)]
    pub country_code: Option<CountryCode>,
    #[schema(inline)]
    pub phone: Option<Phone>,
    #[schema(inline)]
    pub mobile_phone: Option<Phone>,
    #[schema(schema_with = email_blank_or_null)]
    pub email: Option<Email>,
    #[schema(inline)]
    pub language_code: Option<LanguageCode>,
    /// Must name an existing salesperson.
    #[schema(inline)]
    pub salesperson_code: Option<SalespersonCode>,
    #[schema(inline)]
    pub territory_code: Option<TerritoryCode>,
    /// The contact's preferred channel.
    pub correspondence_type: Option<CorrespondenceType>,
    /// Criteria actions skip the contact unless told `ignore_exclusion`.
    pub exclude_from_segment: Option<bool>,
    /// Never added to a segment, logged or delivered to.
    pub privacy_blocked: Option<bool>,
    /// Unique when set: the key of ERP integrations.
    #[schema(inline)]
    pub external_id: Option<ExternalId>,
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
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
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
    #[schema(inline)]
    pub name: Option<Option<Name>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(inline)]
    pub first_name: Option<Option<NamePart>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(inline)]
    pub middle_name: Option<Option<NamePart>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(inline)]
    pub surname: Option<Option<NamePart>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 20)]
    pub company_no: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(inline)]
    pub job_title: Option<Option<JobTitle>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(inline)]
    pub address: Option<Option<Address>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(inline)]
    pub address_2: Option<Option<Address2>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(inline)]
    pub city: Option<Option<City>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(inline)]
    pub post_code: Option<Option<PostCode>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(inline)]
    pub county: Option<Option<County>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(inline)]
    pub country_code: Option<Option<CountryCode>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(inline)]
    pub phone: Option<Option<Phone>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(inline)]
    pub mobile_phone: Option<Option<Phone>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(schema_with = email_blank_or_null)]
    pub email: Option<Option<Email>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(inline)]
    pub language_code: Option<Option<LanguageCode>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(inline)]
    pub salesperson_code: Option<Option<SalespersonCode>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(inline)]
    pub territory_code: Option<Option<TerritoryCode>>,
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
    #[schema(inline)]
    pub external_id: Option<Option<ExternalId>>,
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

/// The codes a contact is linked to, each list sorted and without repeats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactLinks {
    pub mailing_groups: Vec<String>,
    pub industry_groups: Vec<String>,
    pub business_relations: Vec<String>,
    pub job_responsibilities: Vec<String>,
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
            contact_type: row.contact_type,
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
            correspondence_type: row.correspondence_type,
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
