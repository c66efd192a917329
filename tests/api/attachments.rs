//! Template documents over HTTP: raw and multipart uploads, versions, the default, merge fields,
//! downloads, and every kind of bad upload refused with nothing stored.

use std::io::{Cursor, Write};

use diesel::prelude::*;
use reqwest::{Method, Response};
use serde_json::{json, Value};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::db_test;
use crate::helpers::{assert_json, assert_problem, TestApp};
use crm_segments::db::schema::{template_attachments, template_current_attachments};
use crm_segments::http::upload::FORM_ALLOWANCE;

pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const BOUNDARY: &str = "crm-test-boundary-7MA4YWxkTrZu0gW";

const CONTENT_TYPES_XML: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
<Override PartName="/word/header1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"/>
</Types>"#;

const RELS_XML: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>
</Relationships>"#;

/// A body with a simple field, a complex field whose instruction is split over two runs, and a
/// field no one knows.
const DOCUMENT_XML: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>
<w:p><w:r><w:t xml:space="preserve">Dear </w:t></w:r>
<w:fldSimple w:instr=" MERGEFIELD contact_name \* MERGEFORMAT "><w:r><w:t>«contact_name»</w:t></w:r></w:fldSimple></w:p>
<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r>
<w:r><w:instrText xml:space="preserve"> MERGEFIELD Line_Sub</w:instrText></w:r>
<w:r><w:instrText xml:space="preserve">ject \* MERGEFORMAT </w:instrText></w:r>
<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>«line_subject»</w:t></w:r>
<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>
<w:p><w:fldSimple w:instr=" MERGEFIELD favourite_colour "><w:r><w:t>«favourite_colour»</w:t></w:r></w:fldSimple></w:p>
</w:body></w:document>"#;

const HEADER_XML: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:hdr xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:p><w:fldSimple w:instr=" MERGEFIELD salesperson_name "><w:r><w:t>«salesperson_name»</w:t></w:r></w:fldSimple></w:p>
</w:hdr>"#;

const FOOTER_XML: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:ftr xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:p>
<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> MERGEFIELD segment_no </w:instrText></w:r>
<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>«segment_no»</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>
</w:p></w:ftr>"#;

/// A zip package of these parts, deflated.
pub fn package(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for (name, content) in parts {
        zip.start_file(*name, options).unwrap();
        zip.write_all(content).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// A minimal Word letter: body, a header and a footer with fields, content types and relationships.
pub fn letter() -> Vec<u8> {
    package(&[
        ("[Content_Types].xml", CONTENT_TYPES_XML.as_bytes()),
        ("_rels/.rels", RELS_XML.as_bytes()),
        ("word/document.xml", DOCUMENT_XML.as_bytes()),
        ("word/header1.xml", HEADER_XML.as_bytes()),
        ("word/footer1.xml", FOOTER_XML.as_bytes()),
    ])
}

/// A form part: its name, for a file part `(file name, content type)`, and its bytes.
type Part<'a> = (&'a str, Option<(&'a str, &'a str)>, &'a [u8]);

/// A `multipart/form-data` body.
fn form(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file, content) in parts {
        write!(body, "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"").unwrap();
        if let Some((file_name, content_type)) = file {
            write!(body, "; filename=\"{file_name}\"\r\nContent-Type: {content_type}").unwrap();
        }
        body.extend_from_slice(b"\r\n\r\n");
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    write!(body, "--{BOUNDARY}--\r\n").unwrap();
    body
}

pub async fn create_template(app: &TestApp, code: &str) {
    let response = app
        .request_as(Method::POST, "/v1/interaction-templates", Some(&app.admin_key))
        .json(&json!({"code": code, "description": "Letter"}))
        .send()
        .await
        .unwrap();
    assert_json(response, 201).await;
}

fn attachments(code: &str) -> String {
    format!("/v1/interaction-templates/{code}/attachments")
}

/// Uploads `bytes` as the raw body with `content_type`; `query` without the leading `?`.
pub async fn upload_raw(
    app: &TestApp,
    code: &str,
    query: &str,
    content_type: Option<&str>,
    bytes: Vec<u8>,
) -> Response {
    let request =
        app.request_as(Method::POST, &format!("{}?{query}", attachments(code)), Some(&app.admin_key));
    let request = match content_type {
        Some(content_type) => request.header("content-type", content_type),
        None => request,
    };
    request.body(bytes).send().await.unwrap()
}

async fn upload_form(app: &TestApp, code: &str, body: Vec<u8>) -> Response {
    app.request_as(Method::POST, &attachments(code), Some(&app.admin_key))
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn list(app: &TestApp, code: &str) -> Vec<Value> {
    assert_json(app.get(&attachments(code)).await, 200).await["items"].as_array().unwrap().clone()
}

async fn download(app: &TestApp, code: &str, id: &Value) -> Response {
    app.get(&format!("{}/{id}", attachments(code))).await
}

/// Versions stored, and current documents.
fn stored(app: &TestApp) -> (i64, i64) {
    let mut conn = app.conn();
    (
        template_attachments::table.count().get_result(&mut *conn).unwrap(),
        template_current_attachments::table.count().get_result(&mut *conn).unwrap(),
    )
}

fn strings(value: &Value) -> Vec<&str> {
    value.as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect()
}

db_test!(a_word_document_uploaded_raw_lists_its_merge_fields_and_downloads_unchanged, |app| {
    create_template(&app, "LETTER").await;
    let bytes = letter();
    let response = upload_raw(
        &app,
        "LETTER",
        "language_code=en&file_name=Brief%20%C3%BC.docx",
        Some(DOCX),
        bytes.clone(),
    )
    .await;
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let body = assert_json(response, 201).await;
    assert_eq!(location, format!("{}/{}", attachments("LETTER"), body["id"]));
    assert_eq!(body["language_code"], "en");
    assert_eq!(body["default"], true, "a template's first document is its default");
    assert_eq!(body["kind"], "docx");
    assert_eq!(body["version"], 1);
    assert_eq!(body["size"], bytes.len());
    assert_eq!(body["file_name"], "Brief ü.docx");
    assert_eq!(body["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(
        strings(&body["merge_fields"]),
        ["contact_name", "favourite_colour", "line_subject", "salesperson_name", "segment_no"]
    );
    assert_eq!(strings(&body["unknown_merge_fields"]), ["favourite_colour"]);

    let items = list(&app, "LETTER").await;
    assert_eq!(items, vec![body.clone()]);

    let response = download(&app, "LETTER", &body["id"]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], DOCX);
    let disposition = response.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert!(disposition.contains("Brief%20%C3%BC.docx"), "{disposition}");
    let tag = response.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(response.bytes().await.unwrap().to_vec(), bytes);
    let cached = app
        .request(Method::GET, &format!("{}/{}", attachments("LETTER"), body["id"]))
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);
    assert!(cached.bytes().await.unwrap().is_empty());
});

db_test!(a_multipart_upload_stores_html_with_its_template_variables, |app| {
    create_template(&app, "WELCOME").await;
    let html =
        b"<p>Hello {{ contact_name }}, {% if segment_no %}{{ segment_no }}{% endif %} {{ shoe_size }} {{ contact.city }}</p>";
    let body = form(&[
        ("language_code", None, b"de"),
        ("default", None, b"true"),
        ("file", Some(("welcome.html", "text/html; charset=utf-8")), html),
    ]);
    let send = || {
        app.request_as(Method::POST, &attachments("WELCOME"), Some(&app.admin_key))
            .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
            .header("idempotency-key", "upload-1")
            .body(body.clone())
            .send()
    };
    let first = assert_json(send().await.unwrap(), 201).await;
    assert_eq!(first["language_code"], "de");
    assert_eq!(first["kind"], "html");
    assert_eq!(first["file_name"], "welcome.html");
    assert_eq!(first["default"], true);
    // Fields are flat names: `contact.city` reads an unknown `contact`.
    assert_eq!(strings(&first["merge_fields"]), ["contact", "contact_name", "segment_no", "shoe_size"]);
    assert_eq!(strings(&first["unknown_merge_fields"]), ["contact", "shoe_size"]);
    // A retry with the same Idempotency-Key is answered from the first upload.
    let replay = assert_json(send().await.unwrap(), 201).await;
    assert_eq!(replay["id"], first["id"]);
    assert_eq!(stored(&app), (1, 1));

    let response = download(&app, "WELCOME", &first["id"]).await;
    assert_eq!(response.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.bytes().await.unwrap().as_ref(), html);
});

db_test!(a_second_upload_of_a_language_is_a_new_version_and_the_old_one_still_downloads, |app| {
    create_template(&app, "NOTE").await;
    let first = assert_json(
        upload_raw(
            &app,
            "NOTE",
            "language_code=en",
            Some("text/plain"),
            b"Hi {{ contact_first_name }}".to_vec(),
        )
        .await,
        201,
    )
    .await;
    let second = assert_json(
        upload_raw(
            &app,
            "NOTE",
            "language_code=en",
            Some("text/plain"),
            b"Hello {{ contact_name }}".to_vec(),
        )
        .await,
        201,
    )
    .await;
    assert_ne!(first["id"], second["id"]);
    assert_eq!(second["version"], 2);
    assert_eq!(second["file_name"], "document.txt");
    assert_eq!(second["default"], true, "a new version keeps its language's default");
    let items = list(&app, "NOTE").await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], second["id"]);
    assert_eq!(stored(&app), (2, 1));

    let old = download(&app, "NOTE", &first["id"]).await;
    assert_eq!(old.status(), 200);
    assert_eq!(old.bytes().await.unwrap().as_ref(), b"Hi {{ contact_first_name }}");
    let new = download(&app, "NOTE", &second["id"]).await;
    assert_eq!(new.bytes().await.unwrap().as_ref(), b"Hello {{ contact_name }}");
    // An older version is not the language's document: it cannot be deleted as one.
    let response = app
        .request_as(Method::DELETE, &format!("{}/{}", attachments("NOTE"), first["id"]), Some(&app.admin_key))
        .send()
        .await
        .unwrap();
    assert_problem(response, 409, "attachment-not-current").await;
});

db_test!(setting_the_default_moves_it_and_the_default_is_deleted_last, |app| {
    create_template(&app, "MULTI").await;
    let text = |s: &str| s.as_bytes().to_vec();
    let en =
        assert_json(upload_raw(&app, "MULTI", "language_code=en", Some("text/plain"), text("en")).await, 201)
            .await;
    let de = assert_json(
        upload_raw(&app, "MULTI", "language_code=de&default=false", Some("text/plain"), text("de")).await,
        201,
    )
    .await;
    assert_eq!((en["default"].clone(), de["default"].clone()), (json!(true), json!(false)));
    let fr = assert_json(
        upload_raw(&app, "MULTI", "language_code=fr&default=true", Some("text/plain"), text("fr")).await,
        201,
    )
    .await;
    assert_eq!(fr["default"], true);
    let defaults: Vec<(String, bool)> = list(&app, "MULTI")
        .await
        .iter()
        .map(|i| (i["language_code"].as_str().unwrap().to_owned(), i["default"].as_bool().unwrap()))
        .collect();
    assert_eq!(defaults, [("de".into(), false), ("en".into(), false), ("fr".into(), true)]);

    let delete = |id: Value| {
        app.request_as(Method::DELETE, &format!("{}/{id}", attachments("MULTI")), Some(&app.admin_key)).send()
    };
    assert_problem(delete(fr["id"].clone()).await.unwrap(), 409, "attachment-is-default").await;
    assert_eq!(delete(de["id"].clone()).await.unwrap().status(), 204);
    assert_eq!(delete(en["id"].clone()).await.unwrap().status(), 204);
    assert_eq!(delete(fr["id"].clone()).await.unwrap().status(), 204, "the last document may go");
    assert!(list(&app, "MULTI").await.is_empty());
    assert_eq!(stored(&app), (3, 0));
    // Deleted documents' versions stay readable by id.
    assert_eq!(download(&app, "MULTI", &de["id"]).await.bytes().await.unwrap().as_ref(), b"de");
    // Uploading the language again continues its versions.
    let again = assert_json(
        upload_raw(&app, "MULTI", "language_code=de", Some("text/plain"), text("de2")).await,
        201,
    )
    .await;
    assert_eq!((again["version"].clone(), again["default"].clone()), (json!(2), json!(true)));
});

db_test!(strict_uploads_refuse_unknown_merge_fields_and_store_nothing, |app| {
    create_template(&app, "STRICT").await;
    let problem = assert_problem(
        upload_raw(&app, "STRICT", "language_code=en&strict=true", Some(DOCX), letter()).await,
        422,
        "unknown-merge-fields",
    )
    .await;
    let errors = problem["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{problem}");
    assert_eq!(errors[0]["code"], "unknown_merge_field");
    assert!(errors[0]["message"].as_str().unwrap().contains("favourite_colour"), "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("favourite_colour"));
    assert_eq!(stored(&app), (0, 0));

    let known = b"{{ contact_name }} {{ salesperson_email }} {{ line_personal_note }}".to_vec();
    let body = assert_json(
        upload_raw(&app, "STRICT", "language_code=en&strict=true", Some("text/plain"), known).await,
        201,
    )
    .await;
    assert!(strings(&body["unknown_merge_fields"]).is_empty());
});

db_test!(broken_word_documents_are_refused_and_nothing_is_stored, |app| {
    create_template(&app, "BROKEN").await;
    let types = ("[Content_Types].xml", CONTENT_TYPES_XML.as_bytes());
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("not a zip", b"PK this is not a zip archive".to_vec()),
        ("no document.xml", package(&[types, ("word/header1.xml", HEADER_XML.as_bytes())])),
        ("no content types", package(&[("word/document.xml", DOCUMENT_XML.as_bytes())])),
        ("malformed body", package(&[types, ("word/document.xml", b"<w:document><w:body></w:document>")])),
    ];
    for (case, bytes) in cases {
        let problem = assert_problem(
            upload_raw(&app, "BROKEN", "language_code=en", Some(DOCX), bytes).await,
            422,
            "invalid-docx",
        )
        .await;
        assert!(!problem["detail"].as_str().unwrap().is_empty(), "{case}");
        assert_eq!(stored(&app), (0, 0), "{case}");
    }
});

db_test!(zip_bombs_are_refused_and_nothing_is_stored, |app| {
    create_template(&app, "BOMB").await;
    let required = [
        ("[Content_Types].xml", CONTENT_TYPES_XML.as_bytes()),
        ("word/document.xml", DOCUMENT_XML.as_bytes()),
    ];

    let mut many: Vec<(String, Vec<u8>)> =
        (0..1001).map(|i| (format!("word/media/{i}.bin"), vec![b'x'])).collect();
    many.extend(required.iter().map(|(n, c)| ((*n).to_owned(), c.to_vec())));
    let parts: Vec<(&str, &[u8])> = many.iter().map(|(n, c)| (n.as_str(), c.as_slice())).collect();
    let problem = assert_problem(
        upload_raw(&app, "BOMB", "language_code=en", Some(DOCX), package(&parts)).await,
        422,
        "docx-too-large",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("entries"), "{problem}");

    // 101 MiB of zeros deflate to about 100 KiB: small to send, too large to unpack.
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options =
        SimpleFileOptions::default().compression_method(CompressionMethod::Deflated).large_file(true);
    for (name, content) in required {
        zip.start_file(name, options).unwrap();
        zip.write_all(content).unwrap();
    }
    zip.start_file("word/media/zeros.bin", options).unwrap();
    let megabyte = vec![0_u8; 1024 * 1024];
    for _ in 0..101 {
        zip.write_all(&megabyte).unwrap();
    }
    let bomb = zip.finish().unwrap().into_inner();
    assert!(bomb.len() < 1024 * 1024, "the bomb is {} bytes", bomb.len());
    let problem = assert_problem(
        upload_raw(&app, "BOMB", "language_code=en", Some(DOCX), bomb).await,
        422,
        "docx-too-large",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("unpacks"), "{problem}");
    assert_eq!(stored(&app), (0, 0));
});

db_test!(
    other_content_types_are_415_and_files_past_the_limit_413,
    settings = |s| s.attachment_max_bytes = 2048,
    |app| {
        create_template(&app, "LIMITS").await;
        for content_type in [Some("application/pdf"), Some("text/plain; charset=latin1"), None] {
            let response =
                upload_raw(&app, "LIMITS", "language_code=en", content_type, b"%PDF-1.4".to_vec()).await;
            assert_problem(response, 415, "unsupported-media-type").await;
        }
        let png =
            form(&[("language_code", None, b"en"), ("file", Some(("logo.png", "image/png")), b"\x89PNG")]);
        assert_problem(upload_form(&app, "LIMITS", png).await, 415, "unsupported-media-type").await;

        let big = vec![b'a'; 3000];
        assert_problem(
            upload_raw(&app, "LIMITS", "language_code=en", Some("text/plain"), big.clone()).await,
            413,
            "payload-too-large",
        )
        .await;
        let big_form =
            form(&[("language_code", None, b"en"), ("file", Some(("big.txt", "text/plain")), &big)]);
        assert_problem(upload_form(&app, "LIMITS", big_form).await, 413, "payload-too-large").await;
        // Within the limit the same kind of upload is stored.
        let small = form(&[
            ("language_code", None, b"en"),
            ("file", Some(("small.txt", "application/octet-stream")), b"hi"),
        ]);
        let body = assert_json(upload_form(&app, "LIMITS", small).await, 201).await;
        assert_eq!((body["kind"].clone(), body["file_name"].clone()), (json!("text"), json!("small.txt")));
        assert_eq!(stored(&app), (1, 1));
    }
);

db_test!(text_that_is_not_utf8_or_not_a_template_is_refused, |app| {
    create_template(&app, "TEXT").await;
    let response =
        upload_raw(&app, "TEXT", "language_code=en", Some("text/plain"), b"caf\xe9 au lait".to_vec()).await;
    assert_problem(response, 422, "invalid-utf8").await;
    let response =
        upload_raw(&app, "TEXT", "language_code=en", Some("text/html"), b"<p>{{ contact_name</p>".to_vec())
            .await;
    assert_problem(response, 422, "invalid-template").await;
    let response = upload_raw(&app, "TEXT", "language_code=en", Some("text/plain"), Vec::new()).await;
    assert_problem(response, 422, "validation-failed").await;
    assert_eq!(stored(&app), (0, 0));
});

db_test!(uploads_need_a_known_template_a_language_and_the_admin_scope, |app| {
    let response = upload_raw(&app, "NOPE", "language_code=en", Some("text/plain"), b"hi".to_vec()).await;
    assert_problem(response, 404, "not-found").await;
    assert_problem(app.get(&attachments("NOPE")).await, 404, "not-found").await;

    create_template(&app, "T1").await;
    create_template(&app, "T2").await;
    let problem = assert_problem(
        upload_raw(&app, "T1", "", Some("text/plain"), b"hi".to_vec()).await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "language_code");
    let form_without_file = form(&[("language_code", None, b"en")]);
    let problem =
        assert_problem(upload_form(&app, "T1", form_without_file).await, 422, "validation-failed").await;
    assert_eq!(problem["errors"][0]["field"], "file");
    let response = app
        .request(Method::POST, &format!("{}?language_code=en", attachments("T1")))
        .header("content-type", "text/plain")
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_problem(response, 403, "forbidden").await;
    assert_eq!(stored(&app), (0, 0));

    // A version is addressed under its own template only.
    let body = assert_json(
        upload_raw(&app, "T1", "language_code=en", Some("text/plain"), b"hi".to_vec()).await,
        201,
    )
    .await;
    assert_problem(download(&app, "T2", &body["id"]).await, 404, "not-found").await;
    assert_problem(download(&app, "T1", &json!(999_999)).await, 404, "not-found").await;
});

db_test!(deleting_a_template_deletes_its_documents, |app| {
    create_template(&app, "GONE").await;
    upload_raw(&app, "GONE", "language_code=en", Some(DOCX), letter()).await;
    upload_raw(&app, "GONE", "language_code=en", Some("text/plain"), b"v2".to_vec()).await;
    assert_eq!(stored(&app), (2, 1));
    let response = app
        .request_as(Method::DELETE, "/v1/interaction-templates/GONE", Some(&app.admin_key))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(stored(&app), (0, 0));
});

db_test!(
    an_upload_with_an_idempotency_key_is_bounded_by_the_document_limit_not_the_json_one,
    settings = |s| {
        s.body_limit = 1024;
        s.attachment_max_bytes = 8192;
    },
    |app| {
        create_template(&app, "KEYED").await;
        let send = |key: &'static str, size: usize| {
            app.request_as(
                Method::POST,
                &format!("{}?language_code=en", attachments("KEYED")),
                Some(&app.admin_key),
            )
            .header("content-type", "text/plain")
            .header("idempotency-key", key)
            .body(vec![b'a'; size])
            .send()
        };
        let body = assert_json(send("within", 5000).await.unwrap(), 201).await;
        assert_eq!(body["size"], 5000);
        assert_problem(send("past", 9000).await.unwrap(), 413, "payload-too-large").await;
        // Past the document limit and a form's allowance together, the idempotency layer refuses
        // the body before reading it whole (the handler would say "file" and its own limit).
        let far = 8192 + FORM_ALLOWANCE;
        let problem =
            assert_problem(send("far-past", far + 1).await.unwrap(), 413, "payload-too-large").await;
        let detail = problem["detail"].as_str().unwrap();
        assert_eq!(detail, format!("the body exceeds the limit of {far} bytes"), "{problem}");
        assert_eq!(stored(&app), (1, 1));
    }
);
