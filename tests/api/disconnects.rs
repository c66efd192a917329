//! Clients that go away mid-request: a bulk sync or a log either commits whole or not at all.
//! Requests are written by hand on a TCP socket, so that the client can stop in the middle of
//! a body or close before the answer, as a crashed integration does.

use std::time::Duration;

use diesel::prelude::*;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::db_test;
use crate::helpers::{assert_json, TestApp};
use crate::logging::{seed, segment_with};
use crm_segments::db::schema::{contacts, interaction_log_entries};

/// Writes `POST path` with `body` (declared whole in Content-Length) up to `sent` bytes of the
/// body, then closes the connection without reading the answer.
async fn post_and_hang_up(app: &TestApp, path: &str, body: &[u8], sent: usize) {
    let address = app.address.trim_start_matches("http://");
    let mut socket = TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        app.write_key,
        body.len()
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(&body[..sent]).await.unwrap();
    socket.flush().await.unwrap();
    socket.shutdown().await.unwrap();
    drop(socket);
}

/// Watches `count` for `settle` with no change (at most 20 s), checking each value it takes
/// with `allowed`; answers the last.
async fn settled(mut count: impl FnMut() -> i64, allowed: impl Fn(i64) -> bool, settle: Duration) -> i64 {
    let (started, mut last, mut since) = (std::time::Instant::now(), count(), std::time::Instant::now());
    loop {
        assert!(allowed(last), "a half-written state was visible: {last}");
        if since.elapsed() >= settle || started.elapsed() > Duration::from_secs(20) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = count();
        if now != last {
            (last, since) = (now, std::time::Instant::now());
        }
    }
}

fn bulk_body(prefix: &str, n: usize) -> Vec<u8> {
    let items: Vec<_> = (0..n)
        .map(|i| json!({"no": format!("{prefix}{i:04}"), "type": "person", "name": format!("Person {i}")}))
        .collect();
    serde_json::to_vec(&json!({"items": items})).unwrap()
}

db_test!(a_bulk_sync_whose_client_goes_away_writes_all_of_it_or_nothing, |app| {
    let count = || contacts::table.count().get_result::<i64>(&mut *app.conn()).unwrap();

    // Gone in the middle of the body: the request never was whole, nothing is written.
    let body = bulk_body("H", 1000);
    post_and_hang_up(&app, "/v1/contacts/bulk", &body, body.len() / 2).await;
    assert_eq!(settled(count, |n| n == 0, Duration::from_millis(500)).await, 0);

    // Gone once the body is sent, before the answer: the batch commits whole or not at all.
    let body = bulk_body("W", 1000);
    post_and_hang_up(&app, "/v1/contacts/bulk", &body, body.len()).await;
    let written = settled(count, |n| n == 0 || n == 1000, Duration::from_secs(1)).await;
    // The same batch again (bulk syncs run one at a time): all created or all unchanged, and
    // then all there. A mixture would be a half-written first batch.
    let again =
        assert_json(app.post("/v1/contacts/bulk", &serde_json::from_slice(&body).unwrap()).await, 200).await;
    let statuses: std::collections::BTreeSet<String> = again["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(statuses.len(), 1, "{statuses:?}");
    assert_eq!(count(), 1000);
    println!("a bulk sync's client went away after the body: {written} of 1000 contacts seen written, then {statuses:?}");
});

db_test!(a_log_whose_client_goes_away_logs_every_line_or_none, |app| {
    seed(&app).await;
    let nos: Vec<String> = (0..2000).map(|i| format!("L{i:04}")).collect();
    for chunk in nos.chunks(1000) {
        let items: Vec<_> = chunk
            .iter()
            .map(|no| json!({"no": no, "type": "person", "name": no, "email": "x@example.no"}))
            .collect();
        assert_json(app.post("/v1/contacts/bulk", &json!({"items": items})).await, 200).await;
    }
    let segment = segment_with(&app, &[]).await;
    let lines = json!({"contact_nos": nos});
    assert_json(app.post(&format!("/v1/segments/{segment}/lines"), &lines).await, 201).await;

    let body = serde_json::to_vec(&json!({})).unwrap();
    post_and_hang_up(&app, &format!("/v1/segments/{segment}/log"), &body, body.len()).await;
    let entries = || interaction_log_entries::table.count().get_result::<i64>(&mut *app.conn()).unwrap();
    let written = settled(entries, |n| n == 0 || n == 2000, Duration::from_secs(1)).await;
    // The same log again (a log takes the segment first): 201 if the first was not written,
    // 409 if it was; either way every line is logged exactly once.
    let again = app.post(&format!("/v1/segments/{segment}/log"), &json!({})).await;
    let status = again.status().as_u16();
    assert!(status == 201 || status == 409, "{status}");
    assert_eq!(entries(), 2000);
    let header = assert_json(app.get(&format!("/v1/segments/{segment}")).await, 200).await;
    assert_eq!(header["status"], "logged");
    println!("a log's client went away after the request: {written} of 2000 entries seen, the log again answered {status}");
});
