//! Logging a segment over HTTP: entries from effective values, the frozen segment, every fault
//! at once with nothing written, exactly once under concurrent calls, logged segments and the
//! interaction log.

use chrono::Utc;
use diesel::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};

use crate::db_test;
use crate::helpers::{assert_json, assert_problem, contact_nos, TestApp};
use crm_segments::db::schema::{interaction_log_entries, logged_segments, segments};

/// A template MAIL (email, 2.50, 15 min), a salesperson SP1, and four contacts: `C1` (company,
/// email), `P1` (person of C1, email), `P2` (person of C1, no email), `P3` (no email).
pub async fn seed(app: &TestApp) {
    let admin = |method: Method, path: &str| app.request_as(method, path, Some(&app.admin_key));
    let group = json!({"code": "NEWSL", "description": "Newsletters"});
    assert_json(admin(Method::POST, "/v1/interaction-groups").json(&group).send().await.unwrap(), 201).await;
    let template = json!({"code": "MAIL", "description": "Mailing", "interaction_group_code": "NEWSL",
        "unit_cost": "2.50", "unit_duration_min": 15, "correspondence_type": "email"});
    assert_json(admin(Method::POST, "/v1/interaction-templates").json(&template).send().await.unwrap(), 201)
        .await;
    // The template's email body, so that its email lines can be delivered.
    let body = "<p>Dear {{ contact_name }},</p><p>{{ line_subject }}</p>";
    let upload = admin(Method::POST, "/v1/interaction-templates/MAIL/attachments?language_code=en")
        .header("Content-Type", "text/html")
        .body(body);
    assert_json(upload.send().await.unwrap(), 201).await;
    let salesperson = json!({"code": "SP1", "name": "Sally"});
    assert_json(admin(Method::POST, "/v1/salespeople").json(&salesperson).send().await.unwrap(), 201).await;
    let items = json!({"items": [
        {"no": "C1", "type": "company", "name": "Acme AS", "email": "post@acme.no"},
        {"no": "P1", "type": "person", "name": "Kari", "company_no": "C1", "email": "kari@acme.no"},
        {"no": "P2", "type": "person", "name": "Ola", "company_no": "C1"},
        {"no": "P3", "type": "person", "name": "Per"},
    ]});
    assert_json(app.post("/v1/contacts/bulk", &items).await, 200).await;
}

/// An open segment with a description and template MAIL and lines for the given contact nos.
pub async fn segment_with(app: &TestApp, nos: &[&str]) -> i64 {
    let body = json!({"description": "Spring mailing", "interaction_template_code": "MAIL", "salesperson_code": "SP1"});
    let segment = assert_json(app.post("/v1/segments", &body).await, 201).await["id"].as_i64().unwrap();
    if !nos.is_empty() {
        let lines = json!({"contact_nos": nos});
        assert_json(app.post(&format!("/v1/segments/{segment}/lines"), &lines).await, 201).await;
    }
    segment
}

async fn log(app: &TestApp, segment: i64, body: Value) -> reqwest::Response {
    app.post(&format!("/v1/segments/{segment}/log"), &body).await
}

async fn entries(app: &TestApp, logged: &Value) -> Vec<Value> {
    let page =
        assert_json(app.get(&format!("/v1/logged-segments/{logged}/entries?limit=1000")).await, 200).await;
    page["items"].as_array().unwrap().clone()
}

db_test!(logging_writes_an_entry_per_line_from_the_effective_values_and_freezes_the_segment, |app| {
    seed(&app).await;
    let segment = segment_with(&app, &["C1", "P1", "P3"]).await;
    let lines = assert_json(app.get(&format!("/v1/segments/{segment}/lines")).await, 200).await;
    let first = lines["items"][0]["id"].as_i64().unwrap();
    let patch = json!({"subject": "Personal", "cost": "9.00", "evaluation": "positive"});
    assert_json(app.patch(&format!("/v1/segments/{segment}/lines/{first}"), &patch).await, 200).await;
    let result = assert_json(log(&app, segment, json!({})).await, 201).await;
    let logged = &result["logged_segment"];
    assert_eq!(logged["no"], "LSEG00001");
    assert_eq!(logged["segment_no"], "SEG00001");
    assert_eq!(logged["no_of_interactions"], 3);
    assert_eq!(logged["user"], "writer");
    assert_eq!(result["follow_up_segment"], Value::Null);
    let entries = entries(&app, &logged["id"]).await;
    let nos: Vec<i64> = entries.iter().map(|e| e["entry_no"].as_i64().unwrap()).collect();
    assert_eq!(nos, [1, 2, 3]);
    let kari = &entries[1];
    assert_eq!((kari["contact_no"].as_str(), kari["contact_company_no"].as_str()), (Some("P1"), Some("C1")));
    assert_eq!(kari["contact_company_name"], "Acme AS");
    assert_eq!(kari["description"], "Spring mailing");
    assert_eq!(kari["interaction_template_code"], "MAIL");
    assert_eq!(kari["interaction_group_code"], "NEWSL");
    assert_eq!(kari["salesperson_code"], "SP1");
    assert_eq!((kari["cost"].as_str(), kari["duration_min"].as_i64()), (Some("2.50"), Some(15)));
    assert_eq!(kari["correspondence_type"], "email");
    assert_eq!(
        (kari["information_flow"].as_str(), kari["initiated_by"].as_str()),
        (Some("outbound"), Some("us"))
    );
    assert_eq!(kari["date"], Utc::now().date_naive().to_string());
    assert_eq!(
        (kari["segment_no"].as_str(), kari["logged_segment_id"].as_i64()),
        (Some("SEG00001"), logged["id"].as_i64())
    );
    assert_eq!(
        (kari["delivery_status"].as_str(), kari["canceled"].as_bool()),
        (Some("not_applicable"), Some(false))
    );
    // The override of the first line went into its entry.
    assert_eq!(
        (entries[0]["subject"].as_str(), entries[0]["cost"].as_str()),
        (Some("Personal"), Some("9.00"))
    );
    assert_eq!(entries[0]["evaluation"], "positive");
    // Frozen: read-only, linked to its logged segment; every write is 409.
    let header = assert_json(app.get(&format!("/v1/segments/{segment}")).await, 200).await;
    assert_eq!(header["status"], "logged");
    for response in [
        app.patch(&format!("/v1/segments/{segment}"), &json!({"subject": "x"})).await,
        app.post(&format!("/v1/segments/{segment}/lines"), &json!({"contact_nos": ["P2"]})).await,
        app.patch(&format!("/v1/segments/{segment}/lines/{first}"), &json!({"subject": "x"})).await,
        app.delete(&format!("/v1/segments/{segment}/lines/{first}")).await,
        app.post(
            &format!("/v1/segments/{segment}/criteria-actions"),
            &json!({"action": "add", "filter": {"all": []}}),
        )
        .await,
        app.delete(&format!("/v1/segments/{segment}")).await,
        log(&app, segment, json!({})).await,
    ] {
        assert_problem(response, 409, "segment-logged").await;
    }
    // The log is the record: a contact with entries cannot be deleted.
    let contact = kari["contact_id"].as_i64().unwrap();
    assert_problem(app.delete(&format!("/v1/contacts/{contact}")).await, 409, "contact-has-interactions")
        .await;
    let mine = assert_json(app.get(&format!("/v1/contacts/{contact}/interactions")).await, 200).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
});

db_test!(logging_refuses_every_fault_at_once_and_writes_nothing, |app| {
    seed(&app).await;
    let empty = assert_json(app.post("/v1/segments", &json!({})).await, 201).await["id"].as_i64().unwrap();
    let problem = assert_problem(log(&app, empty, json!({})).await, 422, "segment-not-loggable").await;
    let codes: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["required", "empty_segment"]);
    // A privacy-blocked contact, a line without template, and with deliver an email line
    // without address (P2's company prefers nothing; the template says email).
    let segment = segment_with(&app, &["C1", "P2", "P3"]).await;
    let lines = assert_json(app.get(&format!("/v1/segments/{segment}/lines")).await, 200).await;
    let ids: Vec<i64> =
        lines["items"].as_array().unwrap().iter().map(|l| l["id"].as_i64().unwrap()).collect();
    let p3 = lines["items"][2]["contact_id"].as_i64().unwrap();
    assert_json(app.patch(&format!("/v1/contacts/{p3}"), &json!({"privacy_blocked": true})).await, 200).await;
    assert_json(
        app.patch(&format!("/v1/segments/{segment}"), &json!({"interaction_template_code": null})).await,
        200,
    )
    .await;
    assert_json(
        app.patch(
            &format!("/v1/segments/{segment}/lines/{}", ids[0]),
            &json!({"interaction_template_code": "MAIL"}),
        )
        .await,
        200,
    )
    .await;
    let problem =
        assert_problem(log(&app, segment, json!({"deliver": true})).await, 422, "segment-not-loggable").await;
    let faults: Vec<(String, String)> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap().to_owned(), e["code"].as_str().unwrap().to_owned()))
        .collect();
    let expected = [
        (format!("lines/{}", ids[1]), "no_template".to_owned()),
        (format!("lines/{}", ids[2]), "no_template".to_owned()),
        (format!("lines/{}", ids[2]), "privacy_blocked".to_owned()),
    ];
    assert_eq!(faults, expected, "{problem}");
    // Each fault says in words what its code means, naming the line and its contact.
    let messages: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["message"].as_str().unwrap()).collect();
    let expected = [
        format!("line {} (contact P2): the line has no interaction template", ids[1]),
        format!("line {} (contact P3): the line has no interaction template", ids[2]),
        format!("line {} (contact P3): the contact is privacy blocked", ids[2]),
    ];
    assert_eq!(messages, expected, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("3 line fault(s)"), "{problem}");
    // Without deliver, an email line without address is fine; with it, it is a fault.
    assert_json(
        app.patch(&format!("/v1/segments/{segment}"), &json!({"interaction_template_code": "MAIL"})).await,
        200,
    )
    .await;
    assert_json(app.patch(&format!("/v1/contacts/{p3}"), &json!({"privacy_blocked": false})).await, 200)
        .await;
    let problem =
        assert_problem(log(&app, segment, json!({"deliver": true})).await, 422, "segment-not-loggable").await;
    let codes: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["no_email", "no_email"]);
    let written: i64 = interaction_log_entries::table.count().get_result(&mut *app.conn()).unwrap();
    let logged: i64 = logged_segments::table.count().get_result(&mut *app.conn()).unwrap();
    let status: String =
        segments::table.find(segment).select(segments::status).first(&mut *app.conn()).unwrap();
    assert_eq!((written, logged, status.as_str()), (0, 0, "open"));
    // Fixed: logs, with the email lines queued for delivery.
    let ok = assert_json(log(&app, segment, json!({})).await, 201).await;
    assert_eq!(ok["logged_segment"]["no_of_interactions"], 3);
});

db_test!(a_follow_up_copies_the_header_and_contacts_and_cancel_restore_flip_every_entry, |app| {
    seed(&app).await;
    let segment = segment_with(&app, &["C1", "P1"]).await;
    let result =
        assert_json(log(&app, segment, json!({"create_follow_up": true, "deliver": true})).await, 201).await;
    let follow_up = &result["follow_up_segment"];
    assert_eq!(follow_up["description"], "Follow-up on segment SEG00001");
    assert_eq!(follow_up["status"], "open");
    assert_eq!(follow_up["interaction_template_code"], "MAIL");
    assert_eq!(follow_up["no_of_lines"], 2);
    let logged = result["logged_segment"]["id"].clone();
    let queued = entries(&app, &logged).await;
    // Queued; this app has no SMTP server, so its worker may have failed them already.
    assert!(queued.iter().all(|e| e["delivery_status"] != "not_applicable"), "{queued:?}");
    let again =
        assert_json(app.post(&format!("/v1/logged-segments/{logged}/follow-up"), &json!({})).await, 201)
            .await;
    assert_eq!(again["no_of_lines"], 2);
    // A segment of its own each time: open, neither the logged one nor the first follow-up.
    assert_eq!(again["status"], "open");
    let again_id = again["id"].as_i64().unwrap();
    assert!(again_id != segment && Some(again_id) != follow_up["id"].as_i64(), "{again}");
    for _ in 0..2 {
        let canceled =
            assert_json(app.post(&format!("/v1/logged-segments/{logged}/cancel"), &json!({})).await, 200)
                .await;
        assert_eq!(canceled["canceled"], true);
    }
    assert!(entries(&app, &logged).await.iter().all(|e| e["canceled"] == true));
    let canceled = assert_json(app.get("/v1/logged-segments?canceled=true").await, 200).await;
    assert_eq!(canceled["items"].as_array().unwrap().len(), 1);
    let today = Utc::now().date_naive();
    let from_today =
        assert_json(app.get(&format!("/v1/logged-segments?date_from={today}&date_to={today}")).await, 200)
            .await;
    assert_eq!(from_today["items"].as_array().unwrap().len(), 1);
    let tomorrow = today.succ_opt().unwrap();
    let later = assert_json(app.get(&format!("/v1/logged-segments?date_from={tomorrow}")).await, 200).await;
    assert_eq!(later["items"].as_array().unwrap().len(), 0);
    assert_json(app.post(&format!("/v1/logged-segments/{logged}/restore"), &json!({})).await, 200).await;
    let restored = entries(&app, &logged).await;
    assert!(restored.iter().all(|e| e["canceled"] == false));
    // Only evaluation, attempt_failed, comment and canceled change; only canceled entries go.
    let entry = restored[0]["id"].as_i64().unwrap();
    let path = format!("/v1/interaction-log-entries/{entry}");
    assert_problem(app.patch(&path, &json!({"subject": "x"})).await, 422, "invalid-body").await;
    assert_problem(app.delete(&path).await, 409, "entry-not-canceled").await;
    let changed = assert_json(
        app.patch(&path, &json!({"evaluation": "negative", "comment": "Called back", "canceled": true}))
            .await,
        200,
    )
    .await;
    assert_eq!(
        (changed["evaluation"].as_str(), changed["comment"].as_str()),
        (Some("negative"), Some("Called back"))
    );
    assert_eq!(app.delete(&path).await.status(), 204);
    assert_eq!(app.get(&path).await.status(), 404);
    let listed =
        assert_json(app.get("/v1/interaction-log-entries?segment_no=SEG00001&company_no=C1").await, 200)
            .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
});

db_test!(concurrent_logs_of_one_segment_log_it_once, |app| {
    seed(&app).await;
    let segment = segment_with(&app, &["C1", "P1", "P2", "P3"]).await;
    let calls = (0..4).map(|_| log(&app, segment, json!({})));
    let statuses: Vec<u16> =
        futures_util::future::join_all(calls).await.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 3, "{statuses:?}");
    let written: i64 = interaction_log_entries::table.count().get_result(&mut *app.conn()).unwrap();
    let logged: i64 = logged_segments::table.count().get_result(&mut *app.conn()).unwrap();
    assert_eq!((written, logged), (4, 1));
    // Entry numbers keep increasing across logs.
    let second = segment_with(&app, &["C1"]).await;
    let result = assert_json(log(&app, second, json!({})).await, 201).await;
    assert_eq!(entries(&app, &result["logged_segment"]["id"]).await[0]["entry_no"], 5);
    assert_eq!(result["logged_segment"]["no"], "LSEG00002");
});

/// Another server process on the app's database, killed when dropped.
pub struct SecondServer {
    child: std::process::Child,
    pub address: String,
}

impl SecondServer {
    pub async fn start(app: &TestApp) -> SecondServer {
        Self::start_with(app, &[]).await
    }

    pub async fn start_with(app: &TestApp, env: &[(&str, &str)]) -> SecondServer {
        Self::spawn(app, env, std::process::Stdio::inherit()).await
    }

    /// A server whose stderr the test reads with [`SecondServer::wait_for_stderr`].
    pub async fn start_watched(app: &TestApp, env: &[(&str, &str)]) -> SecondServer {
        Self::spawn(app, env, std::process::Stdio::piped()).await
    }

    async fn spawn(app: &TestApp, env: &[(&str, &str)], stderr: std::process::Stdio) -> SecondServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_crm-segments"))
            .arg("serve")
            .env("DATABASE_URL", app.database_url())
            .env("BIND", format!("127.0.0.1:{port}"))
            .env("CRM_ADMIN_KEY", &app.admin_key)
            .env("LOG_LEVEL", "error")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let address = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if app.client.get(format!("{address}/readyz")).send().await.is_ok_and(|r| r.status() == 200) {
                return SecondServer { child, address };
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("the second server did not start");
    }
}

impl SecondServer {
    /// Waits (at most 60 s) until the server writes a line containing `needle` on stderr.
    pub async fn wait_for_stderr(&mut self, needle: &'static str) {
        use std::io::BufRead;
        let stderr = self.child.stderr.take().expect("started with start_watched");
        let found = tokio::task::spawn_blocking(move || {
            std::io::BufReader::new(stderr).lines().map_while(Result::ok).any(|line| line.contains(needle))
        });
        let found = tokio::time::timeout(std::time::Duration::from_secs(60), found).await;
        assert!(matches!(found, Ok(Ok(true))), "the server never wrote {needle:?}");
    }

    /// SIGTERM, as an orchestrator stops a container; answers how the process exited.
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success(), "kill -TERM {pid} failed");
        for _ in 0..600 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the server did not exit within 30 s of SIGTERM");
    }

    /// SIGKILL: no shutdown, no rollback by the process itself.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for SecondServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(pg_tests), ignore = "TEST_DATABASE_URL is not set")]
async fn two_server_processes_on_one_postgres_log_a_segment_once() {
    let app = TestApp::spawn(crate::helpers::Db::Postgres).await;
    seed(&app).await;
    let segment = segment_with(&app, &["C1", "P1", "P2", "P3"]).await;
    let other = SecondServer::start(&app).await;
    let calls = (0..4).map(|i| {
        let base = if i % 2 == 0 { app.address.clone() } else { other.address.clone() };
        app.client
            .post(format!("{base}/v1/segments/{segment}/log"))
            .bearer_auth(&app.admin_key)
            .json(&json!({}))
            .send()
    });
    let statuses: Vec<u16> = futures_util::future::join_all(calls)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 3, "{statuses:?}");
    let written: i64 = interaction_log_entries::table.count().get_result(&mut *app.conn()).unwrap();
    let logged: i64 = logged_segments::table.count().get_result(&mut *app.conn()).unwrap();
    assert_eq!((written, logged), (4, 1));
}

db_test!(a_fault_after_the_entries_are_written_leaves_nothing_and_the_segment_open, |app| {
    seed(&app).await;
    let segment = segment_with(&app, &["C1", "P1", "P2"]).await;
    let faulty = SecondServer::start_with(&app, &[("CRM_TEST_FAULT", "after_log_entries")]).await;
    let response = app
        .client
        .post(format!("{}/v1/segments/{segment}/log", faulty.address))
        .bearer_auth(&app.admin_key)
        .json(&json!({"create_follow_up": true}))
        .send()
        .await
        .unwrap();
    assert_problem(response, 500, "internal").await;
    let written: i64 = interaction_log_entries::table.count().get_result(&mut *app.conn()).unwrap();
    let logged: i64 = logged_segments::table.count().get_result(&mut *app.conn()).unwrap();
    let status: String =
        segments::table.find(segment).select(segments::status).first(&mut *app.conn()).unwrap();
    let all_segments: i64 = segments::table.count().get_result(&mut *app.conn()).unwrap();
    assert_eq!((written, logged, status.as_str(), all_segments), (0, 0, "open", 1));
    // The same segment then logs normally, numbered from 1: the failed attempt took nothing.
    let result = assert_json(log(&app, segment, json!({})).await, 201).await;
    assert_eq!(result["logged_segment"]["no"], "LSEG00001");
    assert_eq!(entries(&app, &result["logged_segment"]["id"]).await[0]["entry_no"], 1);
});

db_test!(reusing_a_logged_segment_adds_its_contacts_as_one_undoable_action_and_counts_what_it_skips, |app| {
    seed(&app).await;
    let logged_from = segment_with(&app, &["C1", "P1", "P2", "P3"]).await;
    let result = assert_json(log(&app, logged_from, json!({})).await, 201).await;
    let logged = result["logged_segment"]["id"].as_i64().unwrap();
    let entries = entries(&app, &json!(logged)).await;
    let contact = |no: &str| entries.iter().find(|e| e["contact_no"] == no).unwrap().clone();
    // Since logging: P1 is privacy blocked, P2 excluded, P3's entry canceled.
    let p1 = contact("P1")["contact_id"].clone();
    let p2 = contact("P2")["contact_id"].clone();
    assert_json(app.patch(&format!("/v1/contacts/{p1}"), &json!({"privacy_blocked": true})).await, 200).await;
    assert_json(app.patch(&format!("/v1/contacts/{p2}"), &json!({"exclude_from_segment": true})).await, 200)
        .await;
    let p3_entry = contact("P3")["id"].clone();
    assert_json(
        app.patch(&format!("/v1/interaction-log-entries/{p3_entry}"), &json!({"canceled": true})).await,
        200,
    )
    .await;
    let target = segment_with(&app, &[]).await;
    let path = format!("/v1/segments/{target}/reuse-logged-segment");
    let reused = assert_json(app.post(&path, &json!({"logged_segment_id": logged})).await, 201).await;
    assert_eq!(reused["action"]["source"], "logged_segment");
    assert_eq!(reused["action"]["source_ref"], logged.to_string());
    assert_eq!(reused["action"]["lines_added"], 1);
    assert_eq!(
        reused["skipped"],
        json!({"privacy_blocked": 1, "excluded": 1, "canceled": 1, "already_in_segment": 0})
    );
    let lines = assert_json(app.get(&format!("/v1/segments/{target}/lines")).await, 200).await;
    assert_eq!(lines["items"][0]["contact_no"], "C1");
    // With the options, excluded and canceled come too (in entry order); C1 is already there.
    let all = json!({"logged_segment_id": logged, "ignore_exclusion": true, "include_canceled": true});
    let more = assert_json(app.post(&path, &all).await, 201).await;
    assert_eq!(more["action"]["lines_added"], 2);
    assert_eq!(more["skipped"]["already_in_segment"], 1);
    let lines = assert_json(app.get(&format!("/v1/segments/{target}/lines")).await, 200).await;
    let nos: Vec<&str> =
        lines["items"].as_array().unwrap().iter().map(|l| l["contact_no"].as_str().unwrap()).collect();
    assert_eq!(nos, ["C1", "P2", "P3"]);
    // Undoable like any action; an unknown logged segment is 422 and writes nothing.
    assert_json(app.post(&format!("/v1/segments/{target}/criteria-actions/undo"), &json!({})).await, 200)
        .await;
    assert_eq!(assert_json(app.get(&format!("/v1/segments/{target}")).await, 200).await["no_of_lines"], 1);
    assert_problem(app.post(&path, &json!({"logged_segment_id": 999_999})).await, 422, "validation-failed")
        .await;
    assert_problem(
        app.post(
            &format!("/v1/segments/{logged_from}/reuse-logged-segment"),
            &json!({"logged_segment_id": logged}),
        )
        .await,
        409,
        "segment-logged",
    )
    .await;
});

db_test!(one_interaction_logged_by_hand_takes_the_line_defaults_and_the_next_entry_no, |app| {
    seed(&app).await;
    let contact = json!({"no": "P9", "type": "person", "name": "Siri", "salesperson_code": "SP1"});
    let contact = assert_json(app.post("/v1/contacts", &contact).await, 201).await["id"].as_i64().unwrap();
    let response = app
        .post(
            "/v1/interaction-log-entries",
            &json!({"contact_id": contact, "interaction_template_code": "MAIL"}),
        )
        .await;
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let entry = assert_json(response, 201).await;
    assert_eq!(location, format!("/v1/interaction-log-entries/{}", entry["id"]));
    // Everything the request leaves out comes as for a segment line: the template's
    // description, group, type, cost and duration, the contact's salesperson, today.
    let today = Utc::now().date_naive().to_string();
    for (field, value) in [
        ("entry_no", json!(1)),
        ("contact_no", json!("P9")),
        ("description", json!("Mailing")),
        ("interaction_template_code", json!("MAIL")),
        ("interaction_group_code", json!("NEWSL")),
        ("correspondence_type", json!("email")),
        ("cost", json!("2.50")),
        ("duration_min", json!(15)),
        ("salesperson_code", json!("SP1")),
        ("date", json!(today)),
        ("information_flow", json!("outbound")),
        ("segment_no", Value::Null),
        ("logged_segment_id", Value::Null),
        ("user", json!("writer")),
        ("delivery_status", json!("not_applicable")),
        ("comment", Value::Null),
    ] {
        assert_eq!(entry[field], value, "{field}: {entry}");
    }
    // What the request says wins; the next entry continues the series, and a segment logged
    // afterwards continues after it.
    let call = json!({"contact_id": contact, "interaction_template_code": "MAIL", "date": "2026-03-01",
        "description": "Called back", "subject": "Renewal", "comment": "Wants a quote", "cost": "1.00",
        "duration_min": 5, "correspondence_type": "hard_copy", "salesperson_code": null, "evaluation": "positive",
        "attempt_failed": true});
    let entry = assert_json(app.post("/v1/interaction-log-entries", &call).await, 201).await;
    for (field, value) in [
        ("entry_no", json!(2)),
        ("description", json!("Called back")),
        ("subject", json!("Renewal")),
        ("comment", json!("Wants a quote")),
        ("cost", json!("1.00")),
        ("duration_min", json!(5)),
        ("correspondence_type", json!("hard_copy")),
        ("salesperson_code", json!("SP1")),
        ("date", json!("2026-03-01")),
        ("evaluation", json!("positive")),
        ("attempt_failed", json!(true)),
    ] {
        assert_eq!(entry[field], value, "{field}: {entry}");
    }
    let segment = segment_with(&app, &["C1"]).await;
    let result = assert_json(log(&app, segment, json!({})).await, 201).await;
    assert_eq!(entries(&app, &result["logged_segment"]["id"]).await[0]["entry_no"], 3);
    let history = assert_json(app.get(&format!("/v1/contacts/{contact}/interactions")).await, 200).await;
    assert_eq!(history["items"].as_array().unwrap().len(), 2);
});

db_test!(one_interaction_refuses_every_fault_at_once_and_writes_nothing, |app| {
    seed(&app).await;
    let blocked = json!({"no": "B1", "type": "person", "name": "Hidden", "privacy_blocked": true});
    let blocked = assert_json(app.post("/v1/contacts", &blocked).await, 201).await["id"].as_i64().unwrap();
    let cases = [
        (
            json!({"contact_id": 999_999, "interaction_template_code": "GHOST", "salesperson_code": "NOBODY",
            "comment": "x".repeat(251), "duration_min": -1}),
            vec![
                ("contact_id", "unknown_contact"),
                ("interaction_template_code", "unknown_code"),
                ("salesperson_code", "unknown_code"),
                ("comment", "too_long"),
                ("duration_min", "out_of_range"),
            ],
        ),
        (
            json!({"contact_id": blocked, "interaction_template_code": "MAIL"}),
            vec![("contact_id", "privacy_blocked")],
        ),
    ];
    for (body, expected) in cases {
        let problem =
            assert_problem(app.post("/v1/interaction-log-entries", &body).await, 422, "validation-failed")
                .await;
        let errors = problem["errors"].as_array().unwrap();
        for (field, code) in expected {
            assert!(
                errors.iter().any(|e| e["field"] == field && e["code"] == code),
                "{field} {code}: {problem}"
            );
        }
    }
    // Fields an entry takes from elsewhere, and unknown ones, are refused by name.
    for extra in [json!({"segment_no": "SEG00001"}), json!({"entry_no": 7}), json!({"user": "me"})] {
        let mut body = json!({"contact_id": blocked, "interaction_template_code": "MAIL"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let response = app.post("/v1/interaction-log-entries", &body).await;
        assert_eq!(response.status().as_u16(), 422, "{body}");
    }
    let written: i64 = interaction_log_entries::table.count().get_result(&mut *app.conn()).unwrap();
    assert_eq!(written, 0);
    // Nothing was taken from the number series either.
    let contact = assert_json(app.get("/v1/contacts?limit=1").await, 200).await["items"][0]["id"].clone();
    let entry = json!({"contact_id": contact, "interaction_template_code": "MAIL"});
    assert_eq!(assert_json(app.post("/v1/interaction-log-entries", &entry).await, 201).await["entry_no"], 1);
});

db_test!(a_retry_with_the_same_idempotency_key_answers_the_first_log, |app| {
    seed(&app).await;
    let segment = segment_with(&app, &["C1", "P1"]).await;
    let send = |key: &'static str| {
        app.request(Method::POST, &format!("/v1/segments/{segment}/log"))
            .header("idempotency-key", key)
            .json(&json!({"create_follow_up": true}))
            .send()
    };
    let first = assert_json(send("log-once-1").await.unwrap(), 201).await;
    let retry = assert_json(send("log-once-1").await.unwrap(), 201).await;
    assert_eq!(first, retry);
    // Another key is another request: the segment is logged already.
    assert_problem(send("log-once-2").await.unwrap(), 409, "segment-logged").await;
    let written: i64 = interaction_log_entries::table.count().get_result(&mut *app.conn()).unwrap();
    let logged: i64 = logged_segments::table.count().get_result(&mut *app.conn()).unwrap();
    let all_segments: i64 = segments::table.count().get_result(&mut *app.conn()).unwrap();
    assert_eq!((written, logged, all_segments), (2, 1, 2));
    // The same for one interaction logged by hand.
    assert!(first["follow_up_segment"]["id"].is_i64(), "{first}");
    let contact_id = assert_json(app.get("/v1/contacts?limit=1").await, 200).await["items"][0]["id"].clone();
    let body = json!({"contact_id": contact_id, "interaction_template_code": "MAIL"});
    let once = |key: &'static str| {
        app.request(Method::POST, "/v1/interaction-log-entries")
            .header("idempotency-key", key)
            .json(&body)
            .send()
    };
    let a = assert_json(once("call-1").await.unwrap(), 201).await;
    let b = assert_json(once("call-1").await.unwrap(), 201).await;
    assert_eq!(a, b);
    let written: i64 = interaction_log_entries::table.count().get_result(&mut *app.conn()).unwrap();
    assert_eq!(written, 3);
});

db_test!(concurrent_logs_of_different_segments_number_entries_uniquely_and_without_gaps, |app| {
    seed(&app).await;
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(segment_with(&app, &["C1", "P1", "P2", "P3", "C1"]).await);
    }
    let calls = ids.iter().map(|segment| log(&app, *segment, json!({})));
    let results = futures_util::future::join_all(calls).await;
    let mut logged_nos = Vec::new();
    for response in results {
        logged_nos
            .push(assert_json(response, 201).await["logged_segment"]["no"].as_str().unwrap().to_owned());
    }
    logged_nos.sort();
    assert_eq!(logged_nos, ["LSEG00001", "LSEG00002", "LSEG00003", "LSEG00004"]);
    let numbers: Vec<(i64, i64)> = interaction_log_entries::table
        .select((
            interaction_log_entries::entry_no,
            interaction_log_entries::logged_segment_id.assume_not_null(),
        ))
        .order(interaction_log_entries::entry_no)
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(numbers.iter().map(|n| n.0).collect::<Vec<_>>(), (1..=20).collect::<Vec<_>>());
    // Each log took one contiguous block, in its lines' order.
    for block in numbers.chunks(5) {
        assert!(block.iter().all(|n| n.1 == block[0].1), "{numbers:?}");
    }
});

/// Counts of entries and logged segments, and the segment's status.
pub fn log_state(app: &TestApp, segment: i64) -> (i64, i64, String) {
    let written: i64 = interaction_log_entries::table.count().get_result(&mut *app.conn()).unwrap();
    let logged: i64 = logged_segments::table.count().get_result(&mut *app.conn()).unwrap();
    let status: String =
        segments::table.find(segment).select(segments::status).first(&mut *app.conn()).unwrap();
    (written, logged, status)
}

db_test!(a_server_killed_while_logging_leaves_the_segment_fully_logged_or_fully_open, |app| {
    seed(&app).await;
    // Killed inside the transaction, after the entries are written: nothing of it remains.
    let segment = segment_with(&app, &["C1", "P1", "P2"]).await;
    let mut server =
        SecondServer::start_watched(&app, &[("CRM_TEST_FAULT", "pause:after_log_entries")]).await;
    let call = app
        .client
        .post(format!("{}/v1/segments/{segment}/log", server.address))
        .bearer_auth(&app.admin_key)
        .json(&json!({"create_follow_up": true}))
        .send();
    let call = tokio::spawn(call);
    server.wait_for_stderr("CRM_TEST_FAULT: paused at after_log_entries").await;
    server.kill();
    assert!(call.await.unwrap().is_err(), "the killed server cannot have answered");
    assert_eq!(log_state(&app, segment), (0, 0, "open".to_owned()));
    // After a restart the segment logs normally, numbered as if nothing had happened.
    let restarted = SecondServer::start(&app).await;
    let response = app
        .client
        .post(format!("{}/v1/segments/{segment}/log", restarted.address))
        .bearer_auth(&app.admin_key)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let result = assert_json(response, 201).await;
    assert_eq!(result["logged_segment"]["no"], "LSEG00001");
    assert_eq!(log_state(&app, segment), (3, 1, "logged".to_owned()));

    // A large segment killed at a moment nobody chose: all or nothing.
    for batch in 0..10 {
        let items: Vec<Value> = (0..1000)
            .map(|i| json!({"no": format!("K{batch:02}{i:04}"), "type": "person", "name": format!("Kill {i}")}))
            .collect();
        assert_json(app.post("/v1/contacts/bulk", &json!({"items": items})).await, 200).await;
    }
    let large = segment_with(&app, &[]).await;
    let add = json!({"action": "add", "filter": {"field": "no", "op": "starts_with", "value": "K"}});
    assert_json(app.post(&format!("/v1/segments/{large}/criteria-actions"), &add).await, 201).await;
    let mut server = SecondServer::start(&app).await;
    let call = app
        .client
        .post(format!("{}/v1/segments/{large}/log", server.address))
        .bearer_auth(&app.admin_key)
        .json(&json!({}))
        .send();
    let call = tokio::spawn(call);
    let delay = u64::from(std::process::id() % 7) * 40 + 20;
    tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    server.kill();
    // The answer, if any came before the kill: its status, or the client's error.
    let answer = call.await.unwrap().map(|r| r.status().as_u16()).map_err(|e| e.to_string());
    let answered = answer.as_ref().is_ok_and(|status| *status == 201);
    let (written, logged, status) = log_state(&app, large);
    eprintln!("killed {delay} ms into logging 10,000 lines: the segment is {status}, the answer {answer:?}");
    match status.as_str() {
        "logged" => assert_eq!((written, logged), (10_003, 2), "killed after {delay} ms; answer {answer:?}"),
        _ => assert_eq!(
            (written, logged, answered),
            (3, 1, false),
            "killed after {delay} ms; answer {answer:?}"
        ),
    }
    // The next attempt, on a restarted server, finishes what was not done and nothing twice.
    let restarted = SecondServer::start(&app).await;
    let response = app
        .client
        .post(format!("{}/v1/segments/{large}/log", restarted.address))
        .bearer_auth(&app.admin_key)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!([201, 409].contains(&response.status().as_u16()));
    assert_eq!(log_state(&app, large), (10_003, 2, "logged".to_owned()));
});

db_test!(the_interaction_history_filter_selects_on_entries_a_log_wrote, |app| {
    seed(&app).await;
    let logged_one = segment_with(&app, &["C1", "P1"]).await;
    let result = assert_json(log(&app, logged_one, json!({})).await, 201).await;
    let (logged_id, segment_no) =
        (result["logged_segment"]["id"].clone(), result["logged_segment"]["segment_no"].clone());
    let p3 = assert_json(app.get("/v1/contacts?q=per").await, 200).await["items"][0]["id"].clone();
    let call = json!({"contact_id": p3, "interaction_template_code": "MAIL", "evaluation": "positive"});
    assert_json(app.post("/v1/interaction-log-entries", &call).await, 201).await;
    // Who a filter on the log picks, previewed as an add on a fresh segment.
    let target = segment_with(&app, &[]).await;
    let picks = |filter: Value| {
        let app = &app;
        async move {
            let body = json!({"action": "add", "filter": filter});
            let preview = app.post(&format!("/v1/segments/{target}/criteria-actions/preview"), &body).await;
            contact_nos(&assert_json(preview, 200).await).into_iter().collect::<Vec<_>>()
        }
    };
    let logged_in = |field: &str, value: &Value| json!({"interactions": {"exists": true, "where": {"field": field, "op": "eq", "value": value}}});
    assert_eq!(picks(logged_in("segment_no", &segment_no)).await, ["C1", "P1"]);
    assert_eq!(picks(logged_in("logged_segment_id", &logged_id)).await, ["C1", "P1"]);
    assert_eq!(picks(logged_in("evaluation", &json!("positive"))).await, ["P3"]);
    assert_eq!(picks(logged_in("interaction_group_code", &json!("NEWSL"))).await, ["C1", "P1", "P3"]);
    let never_logged = json!({"interactions": {"exists": false}});
    assert_eq!(picks(never_logged).await, ["P2"]);
    // Canceling the logged segment cancels its entries, which a filter on `canceled` sees.
    assert_json(app.post(&format!("/v1/logged-segments/{logged_id}/cancel"), &json!({})).await, 200).await;
    let live =
        json!({"interactions": {"exists": true, "where": {"field": "canceled", "op": "eq", "value": false}}});
    assert_eq!(picks(live).await, ["P3"]);
});

db_test!(the_interaction_history_filter_reads_every_field_a_log_writes, |app| {
    // Found by cargo-mutants: each entry field a filter names must read its own column.
    seed(&app).await;
    let admin = |method: Method, path: &str| app.request_as(method, path, Some(&app.admin_key));
    let template = json!({"code": "LTR", "description": "Letter", "correspondence_type": "hard_copy"});
    assert_json(admin(Method::POST, "/v1/interaction-templates").json(&template).send().await.unwrap(), 201)
        .await;
    let salesperson = json!({"code": "SP2", "name": "Sam"});
    assert_json(admin(Method::POST, "/v1/salespeople").json(&salesperson).send().await.unwrap(), 201).await;
    // Logged segment A: MAIL (group NEWSL, email) by SP1 for C1 and P1, P1's line evaluated.
    let a = segment_with(&app, &["C1", "P1"]).await;
    let lines = assert_json(app.get(&format!("/v1/segments/{a}/lines")).await, 200).await;
    let p1_line = lines["items"].as_array().unwrap().iter().find(|l| l["contact_no"] == "P1").unwrap()["id"]
        .as_i64()
        .unwrap();
    let patch = json!({"evaluation": "positive"});
    assert_json(app.patch(&format!("/v1/segments/{a}/lines/{p1_line}"), &patch).await, 200).await;
    let a_logged = assert_json(log(&app, a, json!({})).await, 201).await["logged_segment"]["id"].clone();
    // Logged segment B: LTR (no group, hard copy) by SP2 for P2.
    let body =
        json!({"description": "Letters", "interaction_template_code": "LTR", "salesperson_code": "SP2"});
    let b = assert_json(app.post("/v1/segments", &body).await, 201).await["id"].as_i64().unwrap();
    assert_json(app.post(&format!("/v1/segments/{b}/lines"), &json!({"contact_nos": ["P2"]})).await, 201)
        .await;
    let b_logged = assert_json(log(&app, b, json!({})).await, 201).await["logged_segment"].clone();

    let fresh = segment_with(&app, &[]).await;
    let has = |field: &str, op: &str, value: Value| json!({"interactions": {"exists": true, "where": {"field": field, "op": op, "value": value}}});
    let selected = |filter: Value| crate::criteria::selected(&app, fresh, filter);
    use crate::criteria::set;
    assert_eq!(selected(has("interaction_template_code", "eq", json!("LTR"))).await, set(&["P2"]));
    assert_eq!(selected(has("interaction_group_code", "eq", json!("NEWSL"))).await, set(&["C1", "P1"]));
    assert_eq!(selected(has("segment_no", "eq", b_logged["segment_no"].clone())).await, set(&["P2"]));
    assert_eq!(selected(has("logged_segment_id", "eq", a_logged)).await, set(&["C1", "P1"]));
    assert_eq!(selected(has("logged_segment_id", "in", json!([b_logged["id"]]))).await, set(&["P2"]));
    assert_eq!(selected(has("evaluation", "eq", json!("positive"))).await, set(&["P1"]));
    assert_eq!(selected(has("salesperson_code", "eq", json!("SP2"))).await, set(&["P2"]));
    assert_eq!(selected(has("correspondence_type", "eq", json!("hard_copy"))).await, set(&["P2"]));
    assert_eq!(selected(has("correspondence_type", "eq", json!("email"))).await, set(&["C1", "P1"]));
});

db_test!(logging_gives_the_segment_a_new_version_and_entity_tag, |app| {
    // Found by cargo-mutants: nothing read the segment's version after a log. A tag it had
    // before must not come back (a client's cached copy would otherwise pass `If-None-Match`).
    seed(&app).await;
    let segment = segment_with(&app, &["C1", "P1"]).await;
    let path = format!("/v1/segments/{segment}");
    let tag_of = |response: &reqwest::Response| response.headers()["etag"].to_str().unwrap().to_owned();
    let mut seen = vec![tag_of(&app.get(&path).await)];
    let renamed = app
        .request(Method::PATCH, &path)
        .header("If-Match", &seen[0])
        .json(&json!({"subject": "Spring"}))
        .send()
        .await
        .unwrap();
    seen.push(tag_of(&renamed));
    let versions = |app: &TestApp| -> i64 {
        segments::table.find(segment).select(segments::version).first(&mut *app.conn()).unwrap()
    };
    let before = versions(&app);
    assert_json(log(&app, segment, json!({})).await, 201).await;
    assert_eq!(versions(&app), before + 1);
    let after = tag_of(&app.get(&path).await);
    assert!(!seen.contains(&after), "{after} reused: {seen:?}");
    let cached = app.request(Method::GET, &path).header("If-None-Match", &seen[1]).send().await.unwrap();
    assert_eq!(cached.status(), 200);
});
