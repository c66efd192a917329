//! SQL of the code tables. The five code-and-description tables share one definition,
//! expanded per table by `described_table!`; the rules around it are generic functions.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::model::{DescribedCode, NewDescribedCode, UpdateDescribedCode};
use crate::db::{self, Conn};
use crate::error::ApiError;
use crate::http::conditional::{check_version, IfMatch};
use crate::http::pagination::{into_code_page, CodePageRequest};

/// The statements of one code-and-description table.
pub trait DescribedTable {
    /// What one entry is called in messages (`mailing group`).
    const NOUN: &'static str;

    /// Up to `page.limit + 1` rows after `page.after`, ordered by code.
    fn select_page(conn: &mut Conn, page: &CodePageRequest) -> QueryResult<Vec<DescribedCode>>;
    fn select_one(conn: &mut Conn, code: &str) -> QueryResult<Option<DescribedCode>>;
    fn exists(conn: &mut Conn, code: &str) -> QueryResult<bool>;
    /// Reads the row for a write, locking it on PostgreSQL so that the version checked is the
    /// version written over (SQLite's `BEGIN IMMEDIATE` already excludes other writers).
    fn lock(conn: &mut Conn, code: &str) -> QueryResult<Option<DescribedCode>>;
    /// Inserts an entry at version 1.
    fn insert(conn: &mut Conn, new: &NewDescribedCode, now: NaiveDateTime) -> QueryResult<DescribedCode>;
    /// Writes a new description and `version`.
    fn update(
        conn: &mut Conn,
        code: &str,
        description: &str,
        version: i64,
        now: NaiveDateTime,
    ) -> QueryResult<DescribedCode>;
    /// The places that still refer to `code`, named for the 409 detail.
    fn usages(conn: &mut Conn, code: &str) -> QueryResult<Vec<&'static str>>;
    fn delete(conn: &mut Conn, code: &str) -> QueryResult<usize>;
}

/// Declares a marker type for a code-and-description table and its [`DescribedTable`]
/// statements; `used_by` lists every column that refers to the table's code.
macro_rules! described_table {
    ($(#[$doc:meta])* $marker:ident, $table:ident, $noun:literal,
     used_by: [$($place:literal => $link:ident :: $column:ident),+ $(,)?]) => {
        $(#[$doc])*
        pub struct $marker;

        impl $marker {
            /// The columns of [`DescribedCode`], in its field order.
            const COLUMNS: (
                crate::db::schema::$table::code,
                crate::db::schema::$table::description,
                crate::db::schema::$table::version,
                crate::db::schema::$table::created_at,
                crate::db::schema::$table::updated_at,
            ) = (
                crate::db::schema::$table::code,
                crate::db::schema::$table::description,
                crate::db::schema::$table::version,
                crate::db::schema::$table::created_at,
                crate::db::schema::$table::updated_at,
            );
        }

        impl DescribedTable for $marker {
            const NOUN: &'static str = $noun;

            fn select_page(conn: &mut Conn, page: &CodePageRequest) -> QueryResult<Vec<DescribedCode>> {
                use crate::db::schema::$table as t;
                let mut query =
                    t::table.select(Self::COLUMNS).order(t::code).limit(page.limit + 1).into_boxed();
                if let Some(after) = &page.after {
                    query = query.filter(t::code.gt(after));
                }
                query.load(conn)
            }

            fn select_one(conn: &mut Conn, code: &str) -> QueryResult<Option<DescribedCode>> {
                use crate::db::schema::$table as t;
                t::table.find(code).select(Self::COLUMNS).first(conn).optional()
            }

            fn exists(conn: &mut Conn, code: &str) -> QueryResult<bool> {
                use crate::db::schema::$table as t;
                diesel::select(diesel::dsl::exists(t::table.find(code))).get_result(conn)
            }

            fn lock(conn: &mut Conn, code: &str) -> QueryResult<Option<DescribedCode>> {
                use crate::db::schema::$table as t;
                let query = t::table.find(code).select(Self::COLUMNS);
                match conn {
                    Conn::Postgresql(c) => query.for_update().first(c).optional(),
                    Conn::Sqlite(c) => query.first(c).optional(),
                }
            }

            fn insert(conn: &mut Conn, new: &NewDescribedCode, now: NaiveDateTime) -> QueryResult<DescribedCode> {
                use crate::db::schema::$table as t;
                diesel::insert_into(t::table)
                    .values((
                        t::code.eq(&new.code),
                        t::description.eq(&new.description),
                        t::version.eq(1_i64),
                        t::created_at.eq(now),
                        t::updated_at.eq(now),
                    ))
                    .returning(Self::COLUMNS)
                    .get_result(conn)
            }

            fn update(
                conn: &mut Conn,
                code: &str,
                description: &str,
                version: i64,
                now: NaiveDateTime,
            ) -> QueryResult<DescribedCode> {
                use crate::db::schema::$table as t;
                diesel::update(t::table.find(code))
                    .set((t::description.eq(description), t::version.eq(version), t::updated_at.eq(now)))
                    .returning(Self::COLUMNS)
                    .get_result(conn)
            }

            fn usages(conn: &mut Conn, code: &str) -> QueryResult<Vec<&'static str>> {
                let mut places = Vec::new();
                $({
                    use crate::db::schema::$link;
                    let used: bool = diesel::select(diesel::dsl::exists(
                        $link::table.filter($link::$column.eq(code)),
                    ))
                    .get_result(conn)?;
                    if used {
                        places.push($place);
                    }
                })+
                Ok(places)
            }

            fn delete(conn: &mut Conn, code: &str) -> QueryResult<usize> {
                use crate::db::schema::$table as t;
                diesel::delete(t::table.find(code)).execute(conn)
            }
        }
    };
}

described_table!(
    /// `mailing_groups`: contacts of both types belong to any number.
    MailingGroups, mailing_groups, "mailing group",
    used_by: ["contacts (contact_mailing_groups)" => contact_mailing_groups::mailing_group_code]
);
described_table!(
    /// `industry_groups`: attached to companies.
    IndustryGroups, industry_groups, "industry group",
    used_by: ["contacts (contact_industry_groups)" => contact_industry_groups::industry_group_code]
);
described_table!(
    /// `business_relations`: attached to companies.
    BusinessRelations, business_relations, "business relation",
    used_by: ["contacts (contact_business_relations)" => contact_business_relations::business_relation_code]
);
described_table!(
    /// `job_responsibilities`: attached to persons.
    JobResponsibilities, job_responsibilities, "job responsibility",
    used_by: [
        "contacts (contact_job_responsibilities)" => contact_job_responsibilities::job_responsibility_code
    ]
);
described_table!(
    /// `interaction_groups`: group interaction templates.
    InteractionGroups, interaction_groups, "interaction group",
    used_by: [
        "interaction templates (interaction_templates.interaction_group_code)"
            => interaction_templates::interaction_group_code
    ]
);

/// One page of entries and the cursor of the next.
pub fn list<T: DescribedTable>(
    conn: &mut Conn,
    page: &CodePageRequest,
) -> Result<(Vec<DescribedCode>, Option<String>), ApiError> {
    let rows = T::select_page(conn, page)?;
    Ok(into_code_page(rows, page, |row| &row.code))
}

pub fn find<T: DescribedTable>(conn: &mut Conn, code: &str) -> Result<DescribedCode, ApiError> {
    T::select_one(conn, code)?.ok_or_else(|| not_found(T::NOUN, code))
}

/// 404 unless the entry exists.
pub fn require<T: DescribedTable>(conn: &mut Conn, code: &str) -> Result<(), ApiError> {
    if T::exists(conn, code)? {
        Ok(())
    } else {
        // Unquoted, unlike `not_found`: the detail the contact lists of an entry have always given.
        Err(ApiError::not_found(format!("{} {code}", T::NOUN)))
    }
}

/// Inserts an entry; a taken code is a 409 `already-exists` naming `code`.
pub fn create<T: DescribedTable>(conn: &mut Conn, new: &NewDescribedCode) -> Result<DescribedCode, ApiError> {
    Ok(T::insert(conn, new, Utc::now().naive_utc())?)
}

/// Applies a PATCH in one write transaction: 404, then a stale `If-Match` (412), then the
/// body's faults (422). A change that alters nothing leaves the row, its `version` and
/// `updated_at` alone.
pub fn update<T: DescribedTable>(
    conn: &mut Conn,
    code: &str,
    if_match: IfMatch,
    change: UpdateDescribedCode,
) -> Result<DescribedCode, ApiError> {
    db::write_transaction(conn, |conn| {
        let row = T::lock(conn, code)?.ok_or_else(|| not_found(T::NOUN, code))?;
        check_version(if_match, row.version)?;
        match change.validate()?.description {
            Some(description) if description != row.description => {
                Ok(T::update(conn, code, &description, row.version + 1, Utc::now().naive_utc())?)
            }
            _ => Ok(row),
        }
    })
}

pub fn delete<T: DescribedTable>(conn: &mut Conn, code: &str, if_match: IfMatch) -> Result<(), ApiError> {
    delete_unless_used(
        conn,
        T::NOUN,
        code,
        if_match,
        |conn| Ok(T::lock(conn, code)?.map(|row| row.version)),
        |conn| T::usages(conn, code),
        |conn| T::delete(conn, code),
    )
}

/// `<noun> "<code>" not found`.
pub fn not_found(noun: &str, code: &str) -> ApiError {
    ApiError::not_found(format!("{noun} {code:?}"))
}

/// Deletes an entry unless `If-Match` is stale (412) or something refers to it (409), checking
/// in the delete's own write transaction, with the row locked on PostgreSQL by `lock` (which
/// answers its version), so that neither a change nor a reference can slip in between the
/// checks and the delete.
pub fn delete_unless_used(
    conn: &mut Conn,
    noun: &str,
    code: &str,
    if_match: IfMatch,
    lock: impl FnOnce(&mut Conn) -> QueryResult<Option<i64>>,
    usages: impl FnOnce(&mut Conn) -> QueryResult<Vec<&'static str>>,
    delete: impl FnOnce(&mut Conn) -> QueryResult<usize>,
) -> Result<(), ApiError> {
    db::write_transaction(conn, |conn| {
        let version = lock(conn)?.ok_or_else(|| not_found(noun, code))?;
        check_version(if_match, version)?;
        let places = usages(conn)?;
        if !places.is_empty() {
            return Err(in_use(noun, code, &places.join(", ")));
        }
        match delete(conn) {
            Ok(0) => Err(not_found(noun, code)),
            Ok(_) => Ok(()),
            // On PostgreSQL a reference committed by another transaction after our check
            // still stops the delete, through the foreign key.
            Err(DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)) => {
                Err(in_use(noun, code, "a record created while it was being deleted"))
            }
            Err(e) => Err(e.into()),
        }
    })
}

fn in_use(noun: &str, code: &str, places: &str) -> ApiError {
    ApiError::conflict("in-use", format!("{noun} {code:?} cannot be deleted: it is used by {places}"))
}
