//! The PostgreSQL server restarted (and crashed) under traffic, and turned read-only: a private
//! cluster of the test's own, so that the server other tests use is left alone.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use serde_json::{json, Value};

use super::{
    assert_names_no_internals, cannot_run, contact, database_internals, free_port, is_root, run, temp_path,
};
use crate::helpers::{assert_json, assert_problem, TestApp};

/// PostgreSQL's server programs: Debian's `/usr/lib/postgresql/<major>/bin` (the newest),
/// else `pg_config --bindir`.
fn postgres_bin() -> Option<PathBuf> {
    let mut majors: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| Some((entry.file_name().to_str()?.parse().ok()?, entry.path().join("bin"))))
        .filter(|(_, bin): &(u32, PathBuf)| bin.join("pg_ctl").exists())
        .collect();
    majors.sort();
    if let Some((_, bin)) = majors.pop() {
        return Some(bin);
    }
    let output = Command::new("pg_config").arg("--bindir").output().ok()?;
    let bin = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    bin.join("pg_ctl").exists().then_some(bin)
}

/// A PostgreSQL server of the test's own: a fresh cluster in a temporary directory, on a free
/// port, its socket in that directory; run as `postgres` when the test runs as root (initdb
/// refuses root). Stopped and removed on drop, also when the test fails.
struct PrivatePostgres {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl PrivatePostgres {
    fn start() -> Result<PrivatePostgres, String> {
        let bin = postgres_bin().ok_or("no PostgreSQL server programs (pg_ctl, initdb) were found")?;
        let dir = temp_path("crm-pg");
        std::fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut server = PrivatePostgres { dir, bin, port: 0, as_postgres: is_root() };
        if server.as_postgres {
            run(Command::new("chown").arg("postgres:").arg(&server.dir))?;
        }
        let data = server.data();
        run(server.command("initdb").arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ]))?;
        // A port found free may be taken before the server binds it: try another.
        let mut last = String::new();
        for _ in 0..3 {
            server.port = free_port();
            match server.start_server() {
                Ok(()) => return Ok(server),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        command.current_dir(&self.dir);
        command
    }

    fn pg_ctl(&self, args: &[&str]) -> Result<(), String> {
        run(self.command("pg_ctl").arg("-D").arg(self.data()).args(args))
    }

    /// Starts the server and waits until it accepts connections.
    fn start_server(&self) -> Result<(), String> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("server.log");
        self.pg_ctl(&["-w", "-t", "30", "-l", log.to_str().unwrap(), "-o", &options, "start"])
    }

    /// Stops the server: `fast` as an orchestrator restarting it does (every session is
    /// terminated), `immediate` as a crash (no shutdown; the next start recovers).
    fn stop_server(&self, mode: &str) -> Result<(), String> {
        self.pg_ctl(&["-w", "-t", "30", "-m", mode, "stop"])
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable", self.port)
    }

    /// Runs each statement on its own (ALTER SYSTEM refuses a transaction block).
    fn execute(&self, statements: &[&str]) {
        let mut conn = PgConnection::establish(&self.url()).unwrap();
        for sql in statements {
            diesel::connection::SimpleConnection::batch_execute(&mut conn, sql).unwrap();
        }
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["-w", "-m", "immediate", "stop"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One answer the traffic got: when its request started and ended (since the traffic began),
/// what was asked, and what came back.
#[derive(Debug)]
struct Answer {
    started: Duration,
    ended: Duration,
    request: String,
    status: u16,
    content_type: String,
    retry_after: Option<String>,
    body: String,
}

/// Requests in a loop from `tasks` tasks until `stop`: a page of contacts, a new contact (its
/// number starting with `prefix`), and the readiness probe, each recorded.
fn traffic(
    app: &TestApp,
    prefix: &'static str,
    tasks: usize,
    stop: Arc<AtomicBool>,
    answers: Arc<Mutex<Vec<Answer>>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let began = Instant::now();
    (0..tasks)
        .map(|task| {
            let (client, base, key) = (app.client.clone(), app.address.clone(), app.write_key.clone());
            let (stop, answers) = (stop.clone(), answers.clone());
            tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    i += 1;
                    let request = match i % 3 {
                        0 => client.get(format!("{base}/v1/contacts?limit=5")),
                        1 => client.post(format!("{base}/v1/contacts")).json(&json!({
                            "no": format!("{prefix}{task}-{i}"), "type": "person", "name": "Traffic"
                        })),
                        _ => client.get(format!("{base}/readyz")),
                    };
                    let started = began.elapsed();
                    let request = request.bearer_auth(&key).timeout(Duration::from_secs(30)).build().unwrap();
                    let asked = format!("{} {}", request.method(), request.url().path());
                    let response = client.execute(request).await;
                    let response = response.unwrap_or_else(|e| panic!("{asked} got no answer: {e}"));
                    let header = |name: &str| {
                        response.headers().get(name).map(|v| v.to_str().unwrap_or_default().to_owned())
                    };
                    let (content_type, retry_after) =
                        (header("content-type").unwrap_or_default(), header("retry-after"));
                    let status = response.status().as_u16();
                    let body = response.text().await.unwrap_or_default();
                    answers.lock().unwrap().push(Answer {
                        started,
                        ended: began.elapsed(),
                        request: asked,
                        status,
                        content_type,
                        retry_after,
                        body,
                    });
                    // A few hundred requests a second in all: enough to meet every state of
                    // the server, without starving the tests running beside this one.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        })
        .collect()
}

/// How long the pool waits for a connection (`DB_POOL_TIMEOUT_SECS`) in the restart test, and
/// how long the server stays down: longer, so that requests time out waiting as well as find
/// their connection gone.
const POOL_TIMEOUT: Duration = Duration::from_secs(2);
const DOWN_FOR: Duration = Duration::from_secs(4);
/// The service must serve again this soon after the server accepts connections: r2d2 retries
/// connecting with a backoff of at most half the pool timeout.
const RECOVERY_BOUND: Duration = Duration::from_secs(4);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_under_traffic_answers_503_without_internals_and_recovers_by_itself() {
    let test = "a_postgres_restart_under_traffic_answers_503_without_internals_and_recovers_by_itself";
    let pg = match PrivatePostgres::start() {
        Ok(pg) => pg,
        Err(why) => return cannot_run(test, &why),
    };
    let app = TestApp::spawn_on(&pg.url(), |s| s.pool_timeout = POOL_TIMEOUT).await;
    let forbidden = database_internals(&[pg.port.to_string(), pg.dir.display().to_string()]);
    // Restarted as an orchestrator does, then after a crash.
    restart_under_traffic(&app, &pg, "fast", &forbidden).await;
    restart_under_traffic(&app, &pg, "immediate", &forbidden).await;

    // A server that accepts reads only (a standby after a failover, `default_transaction_read_only`):
    // changes answer 503 `database-read-only`, reads go on, and changes work once it accepts them.
    let app = &app;
    let create = |no: String| async move { app.post("/v1/contacts", &contact(&no)).await };
    pg.execute(&["ALTER SYSTEM SET default_transaction_read_only = on", "SELECT pg_reload_conf()"]);
    let read_only = eventually(|i| create(format!("RO{i}")), |status| status == 503).await;
    let problem = assert_problem(read_only, 503, "database-read-only").await;
    assert_names_no_internals(&problem, &forbidden);
    for i in 0..4 {
        let refused = create(format!("RO-again{i}")).await;
        assert_eq!(refused.headers()["retry-after"], "30");
        assert_problem(refused, 503, "database-read-only").await;
    }
    assert_json(app.get("/v1/contacts?limit=5").await, 200).await;
    pg.execute(&[
        "SET default_transaction_read_only = off",
        "ALTER SYSTEM RESET default_transaction_read_only",
        "SELECT pg_reload_conf()",
    ]);
    eventually(|i| create(format!("RW{i}")), |status| status == 201).await;
    for i in 0..4 {
        assert_json(create(format!("RW-again{i}")).await, 201).await;
    }
}

/// Stops the server (`pg_ctl stop -m <mode>`) under traffic for [`DOWN_FOR`], starts it again,
/// and checks every answer: successes before, 503 without internals while down, successes again
/// within [`RECOVERY_BOUND`] of the server accepting connections.
async fn restart_under_traffic(
    app: &TestApp,
    pg: &PrivatePostgres,
    mode: &'static str,
    forbidden: &[String],
) {
    let stop = Arc::new(AtomicBool::new(false));
    let answers = Arc::new(Mutex::new(Vec::new()));
    let began = Instant::now();
    let tasks = traffic(app, mode, 4, stop.clone(), answers.clone());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let stopping_at = began.elapsed();
    pg.stop_server(mode).unwrap();
    let down_at = began.elapsed();
    tokio::time::sleep(DOWN_FOR).await;
    let starting_at = began.elapsed();
    pg.start_server().unwrap();
    let up_at = began.elapsed();
    tokio::time::sleep(RECOVERY_BOUND + Duration::from_secs(2)).await;
    stop.store(true, Ordering::SeqCst);
    for task in tasks {
        task.await.unwrap();
    }

    let answers = std::mem::take(&mut *answers.lock().unwrap());
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    for answer in &answers {
        // Never a 500 or anything else: a success, or 503 with Retry-After and a problem
        // document that names nothing of the database.
        if answer.status < 300 {
            continue;
        }
        assert_eq!(answer.status, 503, "{answer:?}");
        assert_eq!(answer.content_type, "application/problem+json", "{answer:?}");
        let retry_after =
            answer.retry_after.as_deref().unwrap_or_else(|| panic!("no Retry-After: {answer:?}"));
        assert!(retry_after.parse::<u64>().is_ok_and(|s| s >= 1), "{answer:?}");
        let problem: Value = serde_json::from_str(&answer.body).unwrap();
        assert_eq!((problem["status"].as_u64(), problem["code"].as_str()), (Some(503), Some("unavailable")));
        assert_names_no_internals(&problem, forbidden);
        *kinds.entry(problem["detail"].as_str().unwrap().to_owned()).or_default() += 1;
        // Only once the server was stopping; and no request waits much longer than the pool
        // timeout.
        assert!(answer.ended > stopping_at, "failed before the stop: {answer:?}");
        assert!(answer.ended - answer.started < POOL_TIMEOUT + Duration::from_secs(5), "{answer:?}");
    }
    let before: Vec<_> = answers.iter().filter(|a| a.ended < stopping_at).collect();
    let during: Vec<_> = answers.iter().filter(|a| a.started > down_at && a.ended < starting_at).collect();
    let after: Vec<_> = answers.iter().filter(|a| a.started > up_at + RECOVERY_BOUND).collect();
    assert!(before.len() >= 10 && before.iter().all(|a| a.status < 300), "{before:?}");
    assert!(!during.is_empty() && during.iter().all(|a| a.status == 503), "{during:?}");
    // Recovered by itself: everything succeeds again, reads, writes and the probe.
    assert!(after.len() >= 10, "{} requests after recovery", after.len());
    for answer in &after {
        assert!(answer.status < 300, "not recovered {:?} after the restart: {answer:?}", RECOVERY_BOUND);
    }
    for request in ["GET /v1/contacts", "POST /v1/contacts", "GET /readyz"] {
        assert!(after.iter().any(|a| a.request == request), "{request} was not asked after the restart");
    }
    // Both ways of failing were met: a pooled connection the server closed, and no
    // connection to be had (refused) within the pool timeout.
    let lost = kinds.keys().any(|detail| detail.contains("lost") || detail.contains("does not answer"));
    let none = kinds.keys().any(|detail| detail.contains("no database connection"));
    assert!(lost && none, "{kinds:?}");
    let recovered = answers
        .iter()
        .filter(|a| a.started > up_at && a.status < 300)
        .map(|a| a.ended - up_at)
        .min()
        .unwrap();
    println!(
        "-m {mode}: {} requests, {} answered 503 ({kinds:?}); the first success came {recovered:?} after the server was up",
        answers.len(),
        answers.iter().filter(|a| a.status == 503).count()
    );
}

/// Asks `request(i)` for i = 0, 1, ... until its status passes `wanted` (at most 10 s, every
/// 100 ms); answers that response.
async fn eventually<F, Fut>(request: F, wanted: impl Fn(u16) -> bool) -> reqwest::Response
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = reqwest::Response>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    for i in 0.. {
        let response = request(i).await;
        let status = response.status().as_u16();
        if wanted(status) {
            return response;
        }
        assert!(status < 500 || status == 503, "{status}: {}", response.text().await.unwrap());
        assert!(Instant::now() < deadline, "still {status} after 10 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    unreachable!()
}
