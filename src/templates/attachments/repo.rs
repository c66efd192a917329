//! SQL of template documents: versions in `template_attachments` (inserted, never updated) and
//! the current version of each language in `template_current_attachments`.

use chrono::Utc;
use diesel::prelude::*;

use super::model::{Attachment, AttachmentContent, CurrentAttachment, NewAttachment};
use crate::db::schema::{
    interaction_templates, template_attachments as versions, template_current_attachments as current,
};
use crate::db::{self, Conn};
use crate::error::ApiError;
use crate::http::pagination::{into_code_page, CodePageRequest};
use crate::templates::repo as templates;

/// One page of the template's current documents, ordered by language, each with its default flag.
pub fn list(
    conn: &mut Conn,
    code: &str,
    page: &CodePageRequest,
) -> Result<(Vec<CurrentAttachment>, Option<String>), ApiError> {
    if !templates::template_exists(conn, code)? {
        return Err(template_not_found(code));
    }
    let mut query = current::table
        .inner_join(versions::table)
        .filter(current::interaction_template_code.eq(code))
        .select((Attachment::as_select(), current::is_default))
        .order(current::language_code)
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(after) = &page.after {
        query = query.filter(current::language_code.gt(after.clone()));
    }
    let rows = query.load(conn)?;
    Ok(into_code_page(rows, page, |(row, _)| &row.language_code))
}

/// The bytes of any version of one of the template's documents, current or not.
pub fn content(conn: &mut Conn, code: &str, id: i64) -> Result<AttachmentContent, ApiError> {
    versions::table
        .filter(versions::id.eq(id))
        .filter(versions::interaction_template_code.eq(code))
        .select(AttachmentContent::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| attachment_not_found(code, id))
}

/// Stores an upload as the language's next version and makes it current, in one write
/// transaction: the template row is locked first, so uploads to one template take turns and
/// version numbers never collide. The default moves to it when asked, and the template's
/// first document is its default in any case (a template with documents has one default).
pub fn upload(conn: &mut Conn, code: &str, new: &NewAttachment) -> Result<CurrentAttachment, ApiError> {
    db::write_transaction(conn, |conn| {
        lock_template(conn, code)?;
        let last_version: Option<i64> = versions::table
            .filter(versions::interaction_template_code.eq(code))
            .filter(versions::language_code.eq(&new.language_code))
            .select(diesel::dsl::max(versions::version))
            .first(conn)?;
        let merge_fields = serde_json::to_string(&new.merge_fields.all).map_err(ApiError::internal)?;
        let id: i64 = diesel::insert_into(versions::table)
            .values((
                versions::interaction_template_code.eq(code),
                versions::language_code.eq(&new.language_code),
                versions::version.eq(last_version.unwrap_or(0) + 1),
                versions::kind.eq(new.kind),
                versions::file_name.eq(&new.file_name),
                versions::size_bytes.eq(new.content.len() as i64),
                versions::sha256.eq(&new.sha256),
                versions::merge_fields.eq(merge_fields),
                versions::content.eq(&new.content[..]),
                versions::created_at.eq(Utc::now().naive_utc()),
            ))
            .returning(versions::id)
            .get_result(conn)?;

        let of_template = current::table.filter(current::interaction_template_code.eq(code));
        let default_language: Option<String> = of_template
            .filter(current::is_default.eq(true))
            .select(current::language_code)
            .first(conn)
            .optional()?;
        let is_default = new.is_default || default_language.as_ref().is_none_or(|l| *l == new.language_code);
        if new.is_default && default_language.as_ref().is_some_and(|l| *l != new.language_code) {
            // Cleared before it is set, so the one-default index holds after each statement.
            diesel::update(of_template.filter(current::is_default.eq(true)))
                .set(current::is_default.eq(false))
                .execute(conn)?;
        }
        let pointer = of_template.filter(current::language_code.eq(&new.language_code));
        let moved = diesel::update(pointer)
            .set((current::attachment_id.eq(id), current::is_default.eq(is_default)))
            .execute(conn)?;
        if moved == 0 {
            diesel::insert_into(current::table)
                .values((
                    current::interaction_template_code.eq(code),
                    current::language_code.eq(&new.language_code),
                    current::attachment_id.eq(id),
                    current::is_default.eq(is_default),
                ))
                .execute(conn)?;
        }
        let row = versions::table.find(id).select(Attachment::as_select()).first(conn)?;
        Ok((row, is_default))
    })
}

/// Removes the current document of the language whose current version is `id`; its versions
/// stay readable by id. Refused while it is the default and other languages have documents
/// (409 `attachment-is-default`), and for a version that is not current (409
/// `attachment-not-current`).
pub fn delete_current(conn: &mut Conn, code: &str, id: i64) -> Result<(), ApiError> {
    db::write_transaction(conn, |conn| {
        lock_template(conn, code)?;
        let of_template = current::table.filter(current::interaction_template_code.eq(code));
        let pointer: Option<(String, bool)> = of_template
            .filter(current::attachment_id.eq(id))
            .select((current::language_code, current::is_default))
            .first(conn)
            .optional()?;
        let Some((language_code, is_default)) = pointer else {
            let version_exists: bool = diesel::select(diesel::dsl::exists(
                versions::table
                    .filter(versions::id.eq(id))
                    .filter(versions::interaction_template_code.eq(code)),
            ))
            .get_result(conn)?;
            return Err(if version_exists {
                ApiError::conflict(
                    "attachment-not-current",
                    format!(
                        "attachment {id} is an older version; delete the current document of its language"
                    ),
                )
            } else {
                attachment_not_found(code, id)
            });
        };
        if is_default {
            let documents: i64 = of_template.count().get_result(conn)?;
            if documents > 1 {
                return Err(ApiError::conflict(
                    "attachment-is-default",
                    format!(
                        "the {language_code:?} document is the template's default; make another \
                         document the default (upload it with default=true) before deleting this one"
                    ),
                ));
            }
        }
        diesel::delete(of_template.filter(current::language_code.eq(&language_code))).execute(conn)?;
        Ok(())
    })
}

/// Takes the template's row (uploads to one template take turns, so version numbers never
/// collide) and gives it a new version: its documents decide which language and document its
/// lines merge, and a line's ETag includes its template's version.
fn lock_template(conn: &mut Conn, code: &str) -> Result<(), ApiError> {
    templates::lock(conn, code)?.ok_or_else(|| template_not_found(code))?;
    diesel::update(interaction_templates::table.find(code))
        .set(interaction_templates::version.eq(interaction_templates::version + 1))
        .execute(conn)?;
    Ok(())
}

fn template_not_found(code: &str) -> ApiError {
    ApiError::not_found(format!("interaction template {code:?}"))
}

fn attachment_not_found(code: &str, id: i64) -> ApiError {
    ApiError::not_found(format!("attachment {id} of interaction template {code:?}"))
}
