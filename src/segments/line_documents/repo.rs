//! SQL of line documents: at most one per line, written only while the segment is open.

use chrono::Utc;
use diesel::prelude::*;

use super::model::LineDocument;
use crate::db::schema::{segment_line_documents as documents, segment_lines};
use crate::db::{self, Conn};
use crate::error::ApiError;
use crate::segments::repo::open_segment;
use crate::templates::attachments::model::NewAttachment;

/// Stores the line's document, replacing the one it had; answers it and whether it is new.
/// The segment's row is taken first (409 when logged), so the write cannot race a log.
pub fn put(
    conn: &mut Conn,
    segment_id: i64,
    line_id: i64,
    new: &NewAttachment,
) -> Result<(LineDocument, bool), ApiError> {
    db::write_transaction(conn, |conn| {
        open_segment(conn, segment_id)?;
        live_line(conn, segment_id, line_id)?;
        let replaced =
            diesel::delete(documents::table.filter(documents::segment_line_id.eq(line_id))).execute(conn)?;
        let merge_fields = serde_json::to_string(&new.merge_fields.all).map_err(ApiError::internal)?;
        let now = Utc::now().naive_utc();
        let id: i64 = diesel::insert_into(documents::table)
            .values((
                documents::segment_line_id.eq(line_id),
                documents::kind.eq(new.kind),
                documents::file_name.eq(&new.file_name),
                documents::size_bytes.eq(new.content.len() as i64),
                documents::sha256.eq(&new.sha256),
                documents::merge_fields.eq(merge_fields),
                documents::content.eq(&new.content[..]),
                documents::created_at.eq(now),
            ))
            .returning(documents::id)
            .get_result(conn)?;
        touch_line(conn, line_id)?;
        let row = documents::table.find(id).select(LineDocument::as_select()).first(conn)?;
        Ok((row, replaced == 0))
    })
}

/// Removes the line's document: the line merges the template's again.
pub fn delete(conn: &mut Conn, segment_id: i64, line_id: i64) -> Result<(), ApiError> {
    db::write_transaction(conn, |conn| {
        open_segment(conn, segment_id)?;
        live_line(conn, segment_id, line_id)?;
        let deleted =
            diesel::delete(documents::table.filter(documents::segment_line_id.eq(line_id))).execute(conn)?;
        if deleted == 0 {
            return Err(ApiError::not_found(format!("a document of line {line_id}")));
        }
        touch_line(conn, line_id)
    })
}

/// 404 unless the line is a live line of the segment.
fn live_line(conn: &mut Conn, segment_id: i64, line_id: i64) -> Result<(), ApiError> {
    let found: bool = diesel::select(diesel::dsl::exists(
        segment_lines::table
            .filter(segment_lines::id.eq(line_id))
            .filter(segment_lines::segment_id.eq(segment_id))
            .filter(segment_lines::removed_by_action_id.is_null()),
    ))
    .get_result(conn)?;
    if found {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("line {line_id} of segment {segment_id}")))
    }
}

/// A new line version: the line's view (and ETag) shows which document it merges.
fn touch_line(conn: &mut Conn, line_id: i64) -> Result<(), ApiError> {
    diesel::update(segment_lines::table.find(line_id))
        .set((
            segment_lines::version.eq(segment_lines::version + 1),
            segment_lines::updated_at.eq(Utc::now().naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}
