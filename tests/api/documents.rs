//! Segment documents: which language and document a line merges (Business Central's rule), a
//! line's own document, and what logging with delivery checks, freezes and queues.

use diesel::prelude::*;
use reqwest::{Method, Response};
use serde_json::{json, Value};

use crate::attachments::{create_template, letter, upload_raw, DOCX};
use crate::db_test;
use crate::helpers::{assert_json, assert_problem, TestApp};
use crm_segments::db::schema::{
    entry_deliveries, entry_documents, interaction_log_entries, segment_line_documents,
};

/// Template LTR with a Word letter in `en` (its default) and an HTML body in `nb`, and contacts
/// speaking nb, de and none.
/// An entry document row: attachment version, line document, kind, contact name.
type Frozen = (Option<i64>, Option<i64>, String, Option<String>);

pub async fn seed(app: &TestApp) -> (i64, i64) {
    create_template(app, "LTR").await;
    let en = assert_json(upload_raw(app, "LTR", "language_code=en", Some(DOCX), letter()).await, 201).await;
    let nb_body = b"<p>Hei {{ contact_name }}</p>".to_vec();
    let nb =
        assert_json(upload_raw(app, "LTR", "language_code=nb", Some("text/html"), nb_body).await, 201).await;
    assert_eq!(en["default"], true);
    let items = json!({"items": [
        {"no": "A", "type": "person", "name": "Astrid", "language_code": "nb", "email": "astrid@example.no"},
        {"no": "B", "type": "person", "name": "Bernd", "language_code": "de", "email": "bernd@example.de"},
        {"no": "C", "type": "person", "name": "Chris", "email": "chris@example.com"},
    ]});
    assert_json(app.post("/v1/contacts/bulk", &items).await, 200).await;
    (en["id"].as_i64().unwrap(), nb["id"].as_i64().unwrap())
}

pub async fn segment(app: &TestApp, header: Value) -> i64 {
    let mut body = json!({"description": "Letters", "interaction_template_code": "LTR"});
    body.as_object_mut().unwrap().extend(header.as_object().unwrap().clone());
    let id = assert_json(app.post("/v1/segments", &body).await, 201).await["id"].as_i64().unwrap();
    assert_json(
        app.post(&format!("/v1/segments/{id}/lines"), &json!({"contact_nos": ["A", "B", "C"]})).await,
        201,
    )
    .await;
    id
}

pub async fn lines(app: &TestApp, segment: i64) -> Vec<Value> {
    let page = assert_json(app.get(&format!("/v1/segments/{segment}/lines")).await, 200).await;
    page["items"].as_array().unwrap().clone()
}

/// (language, document kind, template attachment id) of each line, in line order.
fn choices(lines: &[Value]) -> Vec<(Value, Value, Value)> {
    lines
        .iter()
        .map(|l| {
            (l["language_code"].clone(), l["document_kind"].clone(), l["template_attachment_id"].clone())
        })
        .collect()
}

pub async fn put_document(
    app: &TestApp,
    segment: i64,
    line: i64,
    content_type: &str,
    bytes: Vec<u8>,
) -> Response {
    app.request(Method::PUT, &format!("/v1/segments/{segment}/lines/{line}/document"))
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .unwrap()
}

db_test!(a_line_merges_the_language_business_central_would_choose, |app| {
    let (en, nb) = seed(&app).await;
    // The header speaks Swedish, which the template has no document in.
    let id = segment(&app, json!({"language_code": "sv"})).await;
    let l = lines(&app, id).await;
    // A: her language has a document. B and C: the header's has none, so the default's.
    assert_eq!(
        choices(&l),
        [
            (json!("nb"), json!("html"), json!(nb)),
            (json!("en"), json!("docx"), json!(en)),
            (json!("en"), json!("docx"), json!(en)),
        ]
    );
    // A header language with a document wins over the default for contacts without one.
    assert_json(app.patch(&format!("/v1/segments/{id}"), &json!({"language_code": "nb"})).await, 200).await;
    let l = lines(&app, id).await;
    assert_eq!(choices(&l)[1], (json!("nb"), json!("html"), json!(nb)));
    // A language set on the line wins, even one without a document: then the line has none and
    // says it cannot be delivered.
    let c = l[2]["id"].as_i64().unwrap();
    let line = assert_json(
        app.patch(&format!("/v1/segments/{id}/lines/{c}"), &json!({"language_code": "fr"})).await,
        200,
    )
    .await;
    assert_eq!((line["language_code"].clone(), line["document_kind"].clone()), (json!("fr"), Value::Null));
    assert!(line["warnings"].as_array().unwrap().iter().any(|w| w["code"] == "no_document"), "{line}");
    // A new default document moves the lines that follow it; the line ETag changes with it.
    let b = l[1]["id"].as_i64().unwrap();
    let before = app.get(&format!("/v1/segments/{id}/lines/{b}")).await.headers()["etag"].clone();
    assert_json(app.patch(&format!("/v1/segments/{id}"), &json!({"language_code": null})).await, 200).await;
    let de = b"Hallo {{ contact_name }}".to_vec();
    let de =
        assert_json(upload_raw(&app, "LTR", "language_code=de", Some("text/plain"), de).await, 201).await;
    let after = app.get(&format!("/v1/segments/{id}/lines/{b}")).await;
    assert_ne!(after.headers()["etag"], before);
    let line = assert_json(after, 200).await;
    assert_eq!(choices(&[line])[0], (json!("de"), json!("text"), de["id"].clone()));
});

db_test!(a_line_document_replaces_the_templates_for_that_contact_only, |app| {
    seed(&app).await;
    let id = segment(&app, json!({})).await;
    let l = lines(&app, id).await;
    let a = l[0]["id"].as_i64().unwrap();
    let body = b"<p>Only for {{ contact_first_name }} {{ secret }}</p>".to_vec();
    let created = assert_json(put_document(&app, id, a, "text/html", body.clone()).await, 201).await;
    assert_eq!(created["merge_fields"], json!(["contact_first_name", "secret"]));
    assert_eq!(created["unknown_merge_fields"], json!(["secret"]));
    let replaced = assert_json(put_document(&app, id, a, DOCX, letter()).await, 200).await;
    assert_eq!(replaced["kind"], "docx");
    let l = lines(&app, id).await;
    assert_eq!(
        (
            l[0]["has_personal_document"].clone(),
            l[0]["document_kind"].clone(),
            l[0]["template_attachment_id"].clone()
        ),
        (json!(true), json!("docx"), Value::Null)
    );
    assert_eq!(
        (l[1]["has_personal_document"].clone(), l[1]["document_kind"].clone()),
        (json!(false), json!("docx"))
    );
    let stored: i64 = segment_line_documents::table.count().get_result(&mut *app.conn()).unwrap();
    assert_eq!(stored, 1);
    // Back to the template's.
    let path = format!("/v1/segments/{id}/lines/{a}/document");
    assert_eq!(app.delete(&path).await.status(), 204);
    assert_eq!(lines(&app, id).await[0]["document_kind"], "html");
    assert_problem(app.delete(&path).await, 404, "not-found").await;
});

db_test!(bad_line_documents_are_refused_and_nothing_is_stored, |app| {
    seed(&app).await;
    let id = segment(&app, json!({})).await;
    let a = lines(&app, id).await[0]["id"].as_i64().unwrap();
    assert_problem(
        put_document(&app, id, a, "application/pdf", b"%PDF".to_vec()).await,
        415,
        "unsupported-media-type",
    )
    .await;
    assert_problem(put_document(&app, id, a, DOCX, b"not a zip".to_vec()).await, 422, "invalid-docx").await;
    assert_problem(
        put_document(&app, id, a, "text/plain", b"{{ oops".to_vec()).await,
        422,
        "invalid-template",
    )
    .await;
    assert_problem(put_document(&app, id, a, "text/plain", Vec::new()).await, 422, "validation-failed").await;
    let strict = app
        .request(Method::PUT, &format!("/v1/segments/{id}/lines/{a}/document?strict=true"))
        .header("content-type", "text/plain")
        .body("{{ favourite_colour }}")
        .send()
        .await
        .unwrap();
    assert_problem(strict, 422, "unknown-merge-fields").await;
    assert_problem(put_document(&app, id, 999_999, "text/plain", b"x".to_vec()).await, 404, "not-found")
        .await;
    let stored: i64 = segment_line_documents::table.count().get_result(&mut *app.conn()).unwrap();
    assert_eq!(stored, 0);
    // A logged segment's lines are frozen, their documents too.
    assert_json(app.post(&format!("/v1/segments/{id}/log"), &json!({})).await, 201).await;
    assert_problem(put_document(&app, id, a, "text/plain", b"x".to_vec()).await, 409, "segment-logged").await;
    assert_problem(app.delete(&format!("/v1/segments/{id}/lines/{a}/document")).await, 409, "segment-logged")
        .await;
});

// No worker: the test reads the outbox as logging left it.
db_test!(
    delivering_needs_a_document_fit_for_each_line_and_queues_every_one,
    settings = |s| s.delivery.enabled = false,
    |app| {
        seed(&app).await;
        // Email without attachment: A's nb document is HTML (fine), B's and C's default is Word
        // (no email body). A hard-copy line with an HTML document cannot be printed; a line in a
        // language without document has nothing to deliver.
        let id = segment(&app, json!({"correspondence_type": "email"})).await;
        let l = lines(&app, id).await;
        let (a, b, c) =
            (l[0]["id"].as_i64().unwrap(), l[1]["id"].as_i64().unwrap(), l[2]["id"].as_i64().unwrap());
        let patch = |line: i64, body: Value| {
            let app = &app;
            async move {
                assert_json(app.patch(&format!("/v1/segments/{id}/lines/{line}"), &body).await, 200).await
            }
        };
        patch(a, json!({"correspondence_type": "hard_copy"})).await;
        patch(c, json!({"language_code": "fr"})).await;
        let problem = assert_problem(
            app.post(&format!("/v1/segments/{id}/log"), &json!({"deliver": true})).await,
            422,
            "segment-not-loggable",
        )
        .await;
        let faults: Vec<(String, String)> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["field"].as_str().unwrap().to_owned(), e["code"].as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(
            faults,
            [
                (format!("lines/{a}"), "no_letter".to_owned()),
                (format!("lines/{b}"), "no_email_body".to_owned()),
                (format!("lines/{c}"), "no_document".to_owned()),
            ],
            "{problem}"
        );
        let (docs, queued): (i64, i64) = (
            entry_documents::table.count().get_result(&mut *app.conn()).unwrap(),
            entry_deliveries::table.count().get_result(&mut *app.conn()).unwrap(),
        );
        assert_eq!((docs, queued), (0, 0));
        // Fixed: A gets a Word letter of her own, the segment sends Word as attachment, C speaks nb.
        assert_json(put_document(&app, id, a, DOCX, letter()).await, 201).await;
        assert_json(
            app.patch(&format!("/v1/segments/{id}"), &json!({"send_as_attachment": true})).await,
            200,
        )
        .await;
        patch(c, json!({"language_code": "nb"})).await;
        let logged =
            assert_json(app.post(&format!("/v1/segments/{id}/log"), &json!({"deliver": true})).await, 201)
                .await;
        let logged_id = logged["logged_segment"]["id"].as_i64().unwrap();
        let entries =
            assert_json(app.get(&format!("/v1/logged-segments/{logged_id}/entries")).await, 200).await;
        let entries = entries["items"].as_array().unwrap();
        assert!(entries.iter().all(|e| e["delivery_status"] == "pending"), "{entries:?}");
        let frozen: Vec<Frozen> = entry_documents::table
            .order(entry_documents::entry_id)
            .select((
                entry_documents::attachment_id,
                entry_documents::line_document_id,
                entry_documents::kind,
                entry_documents::contact_name,
            ))
            .load(&mut *app.conn())
            .unwrap();
        assert_eq!(frozen.len(), 3);
        assert!(frozen[0].0.is_none() && frozen[0].1.is_some(), "A's own document: {frozen:?}");
        assert_eq!((frozen[1].2.as_str(), frozen[2].2.as_str()), ("docx", "html"));
        assert_eq!(frozen[2].3.as_deref(), Some("Chris"));
        let queued: i64 = entry_deliveries::table.count().get_result(&mut *app.conn()).unwrap();
        assert_eq!(queued, 3);
        // Only a failed delivery can be resent; then it is pending and due again, attempts afresh.
        let first = entries[0]["id"].as_i64().unwrap();
        let resend = format!("/v1/interaction-log-entries/{first}/resend");
        assert_problem(app.post(&resend, &json!({})).await, 409, "entry-not-failed").await;
        diesel::update(interaction_log_entries::table.find(first))
            .set(interaction_log_entries::delivery_status.eq("failed"))
            .execute(&mut *app.conn())
            .unwrap();
        diesel::update(entry_deliveries::table.find(first))
            .set((
                entry_deliveries::attempts.eq(5_i64),
                entry_deliveries::last_error.eq("451 try later"),
                entry_deliveries::due_at.eq(None::<chrono::NaiveDateTime>),
            ))
            .execute(&mut *app.conn())
            .unwrap();
        let failed = assert_json(app.get(&format!("/v1/interaction-log-entries/{first}")).await, 200).await;
        assert_eq!(
            (
                failed["delivery_status"].clone(),
                failed["delivery_attempts"].clone(),
                failed["delivery_error"].clone()
            ),
            (json!("failed"), json!(5), json!("451 try later"))
        );
        let requeued = assert_json(app.post(&resend, &json!({})).await, 202).await;
        assert_eq!(
            (
                requeued["delivery_status"].clone(),
                requeued["delivery_attempts"].clone(),
                requeued["delivery_error"].clone()
            ),
            (json!("pending"), json!(0), Value::Null)
        );
        assert_eq!(requeued["has_document"], true);
        let due: Option<chrono::NaiveDateTime> = entry_deliveries::table
            .find(first)
            .select(entry_deliveries::due_at)
            .first(&mut *app.conn())
            .unwrap();
        assert!(due.is_some());
        assert_problem(
            app.post("/v1/interaction-log-entries/999999/resend", &json!({})).await,
            404,
            "not-found",
        )
        .await;
    }
);

/// The text of `word/document.xml` in a Word package.
fn document_xml(docx: &[u8]) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(docx)).unwrap();
    let mut xml = String::new();
    std::io::Read::read_to_string(&mut archive.by_name("word/document.xml").unwrap(), &mut xml).unwrap();
    xml
}

/// The names and bytes of a zip's files.
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let mut content = Vec::new();
            std::io::Read::read_to_end(&mut file, &mut content).unwrap();
            (file.name().unwrap().into_owned(), content)
        })
        .collect()
}

db_test!(previews_merge_each_line_and_logged_documents_stay_the_same_bytes, |app| {
    seed(&app).await;
    let id = segment(&app, json!({"subject": "Spring <offer> & more"})).await;
    let l = lines(&app, id).await;
    let (a, b, c) =
        (l[0]["id"].as_i64().unwrap(), l[1]["id"].as_i64().unwrap(), l[2]["id"].as_i64().unwrap());
    // B's line: a hard-copy letter (Word, the default document) with a personal note.
    assert_json(
        app.patch(&format!("/v1/segments/{id}/lines/{b}"), &json!({"correspondence_type": "hard_copy"}))
            .await,
        200,
    )
    .await;
    // A speaks nb: the HTML body, escaped.
    let preview = app.get(&format!("/v1/segments/{id}/lines/{a}/document")).await;
    assert_eq!(preview.status(), 200);
    assert!(preview.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert_eq!(preview.text().await.unwrap(), "<p>Hei Astrid</p>");
    // B: the Word letter with B's values, the fields gone.
    let preview = app.get(&format!("/v1/segments/{id}/lines/{b}/document")).await;
    assert_eq!(preview.headers()["content-type"], DOCX);
    let xml = document_xml(&preview.bytes().await.unwrap());
    assert!(xml.contains("Bernd") && xml.contains("Spring &lt;offer&gt; &amp; more"), "{xml}");
    assert!(!xml.contains("MERGEFIELD contact_name"), "{xml}");
    // The whole segment as one zip: a file per line, in line order.
    let all = app.get(&format!("/v1/segments/{id}/documents")).await;
    assert_eq!(all.headers()["content-type"], "application/zip");
    let files = unzip(&all.bytes().await.unwrap());
    let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["00001-A.html", "00002-B.docx", "00003-C.docx"]);
    assert!(document_xml(&files[2].1).contains("Chris"));
    // A line without a document, an unknown line or segment: 404.
    assert_json(
        app.patch(&format!("/v1/segments/{id}/lines/{c}"), &json!({"language_code": "fr"})).await,
        200,
    )
    .await;
    assert_problem(app.get(&format!("/v1/segments/{id}/lines/{c}/document")).await, 404, "not-found").await;
    assert_problem(app.get(&format!("/v1/segments/{id}/lines/999999/document")).await, 404, "not-found")
        .await;
    assert_problem(app.get("/v1/segments/999999/documents").await, 404, "not-found").await;

    // Logged: each entry's document is what the preview was, and stays so whatever changes.
    let logged = assert_json(app.post(&format!("/v1/segments/{id}/log"), &json!({})).await, 201).await;
    let logged_id = logged["logged_segment"]["id"].as_i64().unwrap();
    let entries = assert_json(app.get(&format!("/v1/logged-segments/{logged_id}/entries")).await, 200).await;
    let entries = entries["items"].as_array().unwrap().clone();
    assert_eq!(
        entries.iter().map(|e| e["has_document"].as_bool().unwrap()).collect::<Vec<_>>(),
        [true, true, false]
    );
    let entry_b = entries[1]["id"].as_i64().unwrap();
    let path = format!("/v1/interaction-log-entries/{entry_b}/document");
    let first = app.get(&path).await;
    let tag = first.headers()["etag"].clone();
    let first = first.bytes().await.unwrap();
    assert_eq!(first, files[1].1, "the logged letter is the preview's bytes");
    let bernd = entries[1]["contact_id"].as_i64().unwrap();
    assert_json(app.patch(&format!("/v1/contacts/{bernd}"), &json!({"name": "Someone Else"})).await, 200)
        .await;
    let other = crate::attachments::package(&[
        (
            "[Content_Types].xml",
            b"<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>",
        ),
        (
            "word/document.xml",
            b"<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"/>",
        ),
    ]);
    assert_json(upload_raw(&app, "LTR", "language_code=en", Some(DOCX), other).await, 201).await;
    assert_eq!(app.get(&path).await.bytes().await.unwrap(), first, "byte for byte after the changes");
    let cached = app.request(Method::GET, &path).header("if-none-match", tag).send().await.unwrap();
    assert_eq!(cached.status(), 304);
    let entry_c = entries[2]["id"].as_i64().unwrap();
    assert_problem(
        app.get(&format!("/v1/interaction-log-entries/{entry_c}/document")).await,
        404,
        "not-found",
    )
    .await;
    // The logged segment's letters: its one hard-copy entry.
    let letters = app.get(&format!("/v1/logged-segments/{logged_id}/documents")).await;
    let letters = unzip(&letters.bytes().await.unwrap());
    assert_eq!(letters.len(), 1);
    assert_eq!((letters[0].0.as_str(), &letters[0].1), ("00001-B.docx", &first.to_vec()));
});

db_test!(
    a_line_document_past_the_limit_is_413_and_nothing_is_stored,
    settings = |s| s.attachment_max_bytes = 2048,
    |app| {
        seed(&app).await;
        let id = segment(&app, json!({})).await;
        let a = lines(&app, id).await[0]["id"].as_i64().unwrap();
        let big = "x".repeat(4096).into_bytes();
        assert_problem(put_document(&app, id, a, "text/plain", big).await, 413, "payload-too-large").await;
        let stored: i64 = segment_line_documents::table.count().get_result(&mut *app.conn()).unwrap();
        assert_eq!(stored, 0);
        assert_json(put_document(&app, id, a, "text/plain", b"small {{ contact_name }}".to_vec()).await, 201)
            .await;
    }
);

db_test!(a_line_whose_own_template_has_documents_freezes_its_document, |app| {
    seed(&app).await;
    create_template(&app, "CALL").await;
    let id = segment(&app, json!({"interaction_template_code": "CALL"})).await;
    let l = lines(&app, id).await;
    assert!(l.iter().all(|line| line["document_kind"].is_null()), "CALL has no documents");
    let c = l[2]["id"].as_i64().unwrap();
    let patch = json!({"interaction_template_code": "LTR"});
    assert_json(app.patch(&format!("/v1/segments/{id}/lines/{c}"), &patch).await, 200).await;
    let logged = assert_json(app.post(&format!("/v1/segments/{id}/log"), &json!({})).await, 201).await;
    let logged_id = logged["logged_segment"]["id"].as_i64().unwrap();
    let entries = assert_json(app.get(&format!("/v1/logged-segments/{logged_id}/entries")).await, 200).await;
    let has: Vec<bool> =
        entries["items"].as_array().unwrap().iter().map(|e| e["has_document"].as_bool().unwrap()).collect();
    assert_eq!(has, [false, false, true]);
});
