//! CSV exports for spreadsheets: a segment's lines and a logged segment's entries, streamed,
//! RFC 4180, and equal field by field to the JSON the API answers for the same rows.

use serde_json::{json, Value};

use crate::db_test;
use crate::helpers::{assert_json, assert_problem, TestApp};
use crate::logging::{seed, segment_with};

/// The body of a CSV download, checked for its headers, parsed into records by column name.
async fn csv_records(
    app: &TestApp,
    path: &str,
    file_name: &str,
) -> Vec<std::collections::HashMap<String, String>> {
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "{path}");
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    let disposition = response.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.starts_with("attachment") && disposition.contains(file_name), "{disposition}");
    let body = response.bytes().await.unwrap();
    let mut reader = csv::Reader::from_reader(&body[..]);
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|record| {
            let record = record.unwrap();
            headers.iter().zip(record.iter()).map(|(h, v)| (h.to_owned(), v.to_owned())).collect()
        })
        .collect()
}

/// A JSON value as its CSV cell: null empty, strings bare, the rest as JSON writes them.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Every JSON item of a list, page after page.
async fn all_items(app: &TestApp, path: &str) -> Vec<Value> {
    let (mut items, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}?limit=1000&cursor={c}"),
            None => format!("{path}?limit=1000"),
        };
        let page = assert_json(app.get(&url).await, 200).await;
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return items,
        }
    }
}

db_test!(segment_lines_export_as_csv_equal_to_the_line_view, |app| {
    seed(&app).await;
    // Names that need quoting, and enough lines to span several pages of the export.
    let mut items = vec![json!({"no": "Q1", "type": "person", "name": "Nordmann, \"Kari\" Ærlig"})];
    items.extend(
        (0..2499).map(|i| json!({"no": format!("N{i:04}"), "type": "person", "name": format!("Person {i}")})),
    );
    for chunk in items.chunks(1000) {
        assert_json(app.post("/v1/contacts/bulk", &json!({"items": chunk})).await, 200).await;
    }
    let segment = segment_with(&app, &["C1", "P1", "P2", "Q1"]).await;
    let nos: Vec<String> = (0..2499).map(|i| format!("N{i:04}")).collect();
    let lines = json!({"contact_nos": nos});
    assert_json(app.post(&format!("/v1/segments/{segment}/lines"), &lines).await, 201).await;
    let line = all_items(&app, &format!("/v1/segments/{segment}/lines")).await[1]["id"].as_i64().unwrap();
    let changes = json!({"subject": "Just for you", "cost": "9.90", "personal_note": "line one\nline two",
        "evaluation": "positive", "duration_min": 15});
    assert_json(app.patch(&format!("/v1/segments/{segment}/lines/{line}"), &changes).await, 200).await;
    let p1 = assert_json(app.get("/v1/contacts?no=P1").await, 200).await["items"][0]["id"].clone();
    assert_json(app.patch(&format!("/v1/contacts/{p1}"), &json!({"privacy_blocked": true})).await, 200).await;

    let segment_no = assert_json(app.get(&format!("/v1/segments/{segment}")).await, 200).await["no"].clone();
    let records = csv_records(
        &app,
        &format!("/v1/segments/{segment}/lines.csv"),
        &format!("{}-lines.csv", cell(&segment_no)),
    )
    .await;
    let json_lines = all_items(&app, &format!("/v1/segments/{segment}/lines")).await;
    assert_eq!(records.len(), 2503);
    assert_eq!(records.len(), json_lines.len());
    for (record, line) in records.iter().zip(&json_lines) {
        for field in [
            "id",
            "contact_no",
            "contact_name",
            "contact_company_no",
            "contact_company_name",
            "contact_email",
            "description",
            "subject",
            "interaction_template_code",
            "language_code",
            "correspondence_type",
            "date",
            "salesperson_code",
            "cost",
            "duration_min",
            "personal_note",
            "evaluation",
            "attempt_failed",
            "document_kind",
            "has_personal_document",
        ] {
            assert_eq!(record[field], cell(&line[field]), "{field} of line {}", line["id"]);
        }
        let overridden: Vec<String> = line["overridden"].as_array().unwrap().iter().map(cell).collect();
        assert_eq!(record["overridden"], overridden.join(";"));
        let warnings: Vec<String> =
            line["warnings"].as_array().unwrap().iter().map(|w| cell(&w["code"])).collect();
        assert_eq!(record["warnings"], warnings.join(";"));
    }
    let edited = records.iter().find(|r| r["id"] == line.to_string()).unwrap();
    assert_eq!((edited["subject"].as_str(), edited["cost"].as_str()), ("Just for you", "9.90"));
    assert_eq!(edited["overridden"], "subject;cost;duration_min");
    assert_eq!(edited["personal_note"], "line one\nline two");
    assert!(records.iter().any(|r| r["contact_name"] == "Nordmann, \"Kari\" Ærlig"));
    let p2 = records.iter().find(|r| r["contact_no"] == "P2").unwrap();
    assert_eq!(p2["warnings"], "no_email", "P2 has no email");
    let p1 = records.iter().find(|r| r["contact_no"] == "P1").unwrap();
    assert_eq!(
        (p1["contact_company_name"].as_str(), p1["warnings"].as_str()),
        ("Acme AS", "privacy_blocked")
    );

    assert_problem(app.get("/v1/segments/999999/lines.csv").await, 404, "not-found").await;
});

db_test!(logged_segment_entries_export_as_csv_equal_to_the_entry_list, |app| {
    seed(&app).await;
    let segment = segment_with(&app, &["C1", "P1", "P2"]).await;
    let logged = assert_json(app.post(&format!("/v1/segments/{segment}/log"), &json!({})).await, 201).await;
    let logged = &logged["logged_segment"];
    let path = format!("/v1/logged-segments/{}/entries", logged["id"]);
    let records =
        csv_records(&app, &format!("{path}.csv"), &format!("{}-entries.csv", cell(&logged["no"]))).await;
    let entries = all_items(&app, &path).await;
    assert_eq!(records.len(), 3);
    for (record, entry) in records.iter().zip(&entries) {
        let fields = entry.as_object().unwrap();
        assert_eq!(record.len(), fields.len(), "one column per field");
        for (field, value) in fields {
            if field.ends_with("_at") || field == "time_of_interaction" {
                // The same instant; JSON and CSV may print its fraction differently.
                let parse = |text: &str| chrono::DateTime::parse_from_rfc3339(text).ok();
                assert_eq!(parse(&record[field]), parse(&cell(value)), "{field}");
            } else {
                assert_eq!(record[field], cell(value), "{field} of entry {}", entry["entry_no"]);
            }
        }
    }
    assert_problem(app.get("/v1/logged-segments/999999/entries.csv").await, 404, "not-found").await;
});

db_test!(an_empty_segment_exports_its_header_row_alone, |app| {
    let segment = assert_json(app.post("/v1/segments", &json!({"description": "Empty"})).await, 201).await;
    let response = app.get(&format!("/v1/segments/{}/lines.csv", segment["id"])).await;
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    assert_eq!(body, format!("{}\n", crm_segments::segments::lines::model::LineCsvRecord::COLUMNS.join(",")));
    assert!(body.starts_with("id,contact_no,contact_name,"));
});
