//! What downloads answer with besides their bytes.

use actix_web::http::header::{
    Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};

/// `attachment; filename="..."; filename*=UTF-8''...`: an ASCII name for old clients, the
/// exact one for the others.
pub fn disposition(file_name: &str) -> ContentDisposition {
    let ascii: String =
        file_name.chars().map(|c| if c.is_ascii() && !c.is_ascii_control() { c } else { '_' }).collect();
    ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(ascii),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: file_name.as_bytes().to_vec(),
            }),
        ],
    }
}

/// A 200 for a CSV download named `file_name` (RFC 4180's media type, UTF-8).
pub fn csv_response(file_name: &str) -> actix_web::HttpResponseBuilder {
    let mut response = actix_web::HttpResponse::Ok();
    response.content_type("text/csv; charset=utf-8").insert_header(disposition(file_name));
    response
}
